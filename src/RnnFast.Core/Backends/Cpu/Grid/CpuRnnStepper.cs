// The cpu backend's stepper: N streams of a unidirectional stack advanced one step with CpuRnnPlan's own kernels
// (CellForward.StepLayer: one input GEMM, the recurrent panels with the fused gate math on the worker pool, the LSTM
// projection), reading and writing the state in place in a HostRnnStepState. Allocation-free after the first step:
// the scratch is sized for MaxStreams up front and every buffer is pinned.
//   per layer l: gates (N,GP) = x_l (N,I_l) . W_ih^T + bias; h (N,H_out) -> hNext -> back into state.h[l]; c (N,H) in place.
namespace RnnFast.Backends.Cpu;

/// <summary>Streams on the managed CPU backend: the plan's packed weights (re-packed after an optimizer step) and kernels.</summary>
internal sealed unsafe class CpuRnnStepper : RnnStepper
{
    private readonly CpuRnnPlan _plan;
    private readonly AlignedFloats _gates;  // (MaxStreams, GP): the step's gate pre-activations
    private readonly AlignedFloats? _hh;    // (MaxStreams, GP): GRU's recurrent product (its n gate keeps W_hn h apart)
    private readonly AlignedFloats? _hRaw;  // (MaxStreams, H): LSTM projection input o*tanh(c)
    private readonly AlignedFloats _hNext;  // (MaxStreams, H_out): a layer's new h, copied into the state after the step
    private readonly AlignedFloats? _mid;   // (MaxStreams, H_out): a lower layer's output, the next layer's x (L > 1)

    /// <param name="plan">The plan whose weights and kernels each step uses.</param>
    /// <param name="maxStreams">The most streams one step advances.</param>
    public CpuRnnStepper(CpuRnnPlan plan, int maxStreams) : base(plan, maxStreams)
    {
        _plan = plan;
        var desc = Desc;
        long gp = GateLayout.For(desc).GP;
        _gates = CpuWeights.Pinned(maxStreams * gp);
        if (desc.Mode == RnnMode.Gru) _hh = CpuWeights.Pinned(maxStreams * gp);
        if (desc.ProjSize > 0) _hRaw = CpuWeights.Pinned((long)maxStreams * desc.HiddenSize);
        _hNext = CpuWeights.Pinned((long)maxStreams * desc.OutputHiddenSize);
        if (desc.NumLayers > 1) _mid = CpuWeights.Pinned((long)maxStreams * desc.OutputHiddenSize);
    }

    public override string ExecutedBy => _plan.Backend.Name;

    public override RnnStepState CreateState(int streams = 1)
    {
        CheckStreams(streams);
        return new HostRnnStepState(Desc, streams);
    }

    public override void Step(RnnStepState state, ReadOnlySpan<float> x, Span<float> y)
    {
        _plan.ThrowIfDisposed(); // a stepper made before its plan was disposed refuses too
        CheckStep(state, x, y);
        if (state is not HostRnnStepState hs)
            throw new ArgumentException($"state: a {state.GetType().Name} was not made by this stepper (use CreateState: the cpu backend steps a HostRnnStepState)", nameof(state));
        var w = _plan.CurrentWeights();
        var desc = Desc;
        var mode = desc.Mode;
        int N = hs.Streams, L = desc.NumLayers, Ho = desc.OutputHiddenSize, H = desc.HiddenSize;
        long gp = w.Dirs[0].Layout.GP, hState = (long)N * Ho, cState = (long)N * H;
        // this step's N rows of the scratch: (N,GP), (N,GP), (N,H), (N,H_out), (N,H_out)
        var gates = FloatBuf.Of(_gates).Slice(0, N * gp);
        var hh = FloatBuf.Of(_hh).SliceOrNull(0, N * gp);
        var hRaw = FloatBuf.Of(_hRaw).SliceOrNull(0, cState);
        var hNext = FloatBuf.Of(_hNext).Slice(0, hState);
        var mid = FloatBuf.Of(_mid).SliceOrNull(0, hState);
        var ph = FloatBuf.Of(hs.H);  // (L,N,H_out), pinned by HostRnnStepState
        var pc = FloatBuf.Of(hs.C);  // (L,N,H)
        fixed (float* px = x, py = y)
        {
            var xin = new FloatBuf(px, x.Length);
            for (int l = 0; l < L; l++)
            {
                var hl = ph.Slice(l * hState, hState);
                var cl = pc.SliceOrNull(l * cState, cState);
                var yl = l == L - 1 ? new FloatBuf(py, y.Length) : mid; // mid may be this layer's x too: StepLayer reads x before writing y
                CellForward.StepLayer(mode, w.Dirs[l], N, xin, gates, hh, hRaw, hl, hNext, cl, yl);
                Pointwise.Copy(hNext.Ptr, hl.Ptr, N * Ho);
                xin = yl;
            }
        }
        GC.KeepAlive(w); // the packed weights are read through pointers until here
        GC.KeepAlive(hs);
        GC.KeepAlive(this); // and this stepper's scratch
    }
}
