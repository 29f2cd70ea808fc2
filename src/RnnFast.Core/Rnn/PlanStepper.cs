// The stepper any plan has: each step is the plan's own Forward with T=1 over the N streams, so it runs on the plan's
// backend (oneDNN's primitive, OpenCL's kernels, cuDNN). On a device backend the state stays on the device between
// steps (the plan's h_n/c_n become the next h0/c0); only x goes up and y comes down. It allocates per step (tensors);
// the cpu backend has its own allocation-free stepper.
namespace RnnFast;

/// <summary>A stepper made of T=1 forwards of any plan; state kept as tensors on the plan's backend.</summary>
public sealed class PlanStepper : RnnStepper
{
    private readonly Backends.Backend _backend;

    /// <param name="plan">The plan that runs each step.</param>
    /// <param name="backend">Where the state lives (the plan's backend).</param>
    /// <param name="maxStreams">The most streams one step advances.</param>
    public PlanStepper(IRnnPlan plan, Backends.Backend backend, int maxStreams) : base(plan, maxStreams)
    {
        ArgumentNullException.ThrowIfNull(backend);
        _backend = backend;
    }

    /// <inheritdoc/>
    public override string ExecutedBy => _backend.Name;

    /// <inheritdoc/>
    public override RnnStepState CreateState(int streams = 1)
    {
        CheckStreams(streams);
        return new TensorStepState(Desc, streams, _backend);
    }

    /// <inheritdoc/>
    public override void Step(RnnStepState state, ReadOnlySpan<float> x, Span<float> y)
    {
        CheckStep(state, x, y);
        if (state is not TensorStepState ts)
            throw new ArgumentException("state: was not made by this stepper (use CreateState)", nameof(state));
        int N = state.Streams;
        var xt = Tensor.FromArray(x.ToArray(), 1, N, Desc.InputSize);
        if (!ts.H.IsHost) xt = xt.To(_backend);
        var r = Plan.Forward(new RnnInputs(xt, ts.H, ts.C), training: false);
        var output = r.Output.IsHost ? r.Output.HostArray : r.Output.ToArray();   // (1,N,H_out)
        output.AsSpan(0, y.Length).CopyTo(y);
        ts.H = r.HN;
        if (Desc.HasCellState) ts.C = r.CN;
    }

    /// <summary>h (L,N,H_out) and c (L,N,H) as tensors on the backend (device memory on a GPU backend).</summary>
    private sealed class TensorStepState : RnnStepState
    {
        private readonly Backends.Backend _backend;

        public TensorStepState(RnnDesc desc, int streams, Backends.Backend backend) : base(desc, streams)
        {
            _backend = backend;
            H = Zeros(desc.NumLayers, streams, desc.OutputHiddenSize);
            C = desc.HasCellState ? Zeros(desc.NumLayers, streams, desc.HiddenSize) : null;
        }

        public Tensor H;
        public Tensor? C;

        private Tensor Zeros(params int[] shape)
        {
            var t = Tensor.Zeros(shape);
            return _backend.Kind == Backends.BackendKind.Gpu ? t.To(_backend) : t;
        }

        public override void CopyStreamTo(int stream, Span<float> destination)
        {
            CheckStream(stream, destination.Length, nameof(destination));
            int L = Desc.NumLayers, N = Streams, Ho = Desc.OutputHiddenSize, Hc = Desc.HiddenSize, o = 0;
            var h = H.IsHost ? H.HostArray : H.ToArray();
            for (int l = 0; l < L; l++, o += Ho) h.AsSpan((l * N + stream) * Ho, Ho).CopyTo(destination[o..]);
            if (C == null) return;
            var c = C.IsHost ? C.HostArray : C.ToArray();
            for (int l = 0; l < L; l++, o += Hc) c.AsSpan((l * N + stream) * Hc, Hc).CopyTo(destination[o..]);
        }

        public override void CopyStreamFrom(int stream, ReadOnlySpan<float> source)
        {
            CheckStream(stream, source.Length, nameof(source));
            int L = Desc.NumLayers, N = Streams, Ho = Desc.OutputHiddenSize, Hc = Desc.HiddenSize, o = 0;
            var h = H.ToArray();
            for (int l = 0; l < L; l++, o += Ho) source.Slice(o, Ho).CopyTo(h.AsSpan((l * N + stream) * Ho, Ho));
            H = Place(Tensor.FromArray(h, L, N, Ho));
            if (C == null) return;
            var c = C.ToArray();
            for (int l = 0; l < L; l++, o += Hc) source.Slice(o, Hc).CopyTo(c.AsSpan((l * N + stream) * Hc, Hc));
            C = Place(Tensor.FromArray(c, L, N, Hc));
        }

        public override void Reset()
        {
            H = Zeros(Desc.NumLayers, Streams, Desc.OutputHiddenSize);
            if (C != null) C = Zeros(Desc.NumLayers, Streams, Desc.HiddenSize);
        }

        private Tensor Place(Tensor t) => _backend.Kind == Backends.BackendKind.Gpu ? t.To(_backend) : t;
    }
}
