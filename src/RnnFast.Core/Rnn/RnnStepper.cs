// Streaming on a plan's own backend: one time step for N independent streams of a unidirectional stack (cuDNN and
// oneDNN run T=1 as they run T=500). The state lives where the backend keeps it (RnnStepState: host arrays for the
// CPU backends, device tensors for GPU ones); many streams stepped together become one GEMM per layer.
//   x (N,I) -> layer 0 .. L-1 -> y (N,H_out); state: h (L,N,H_out), c (L,N,H) for LSTM.
namespace RnnFast;

/// <summary>
/// Advances N independent streams of a unidirectional RNN stack by one time step on the plan's backend. Create with
/// <see cref="IRnnPlan.CreateStepper"/>; one stepper is used by one thread at a time (make one per thread, they share
/// the plan's weights).
/// </summary>
public abstract class RnnStepper : IDisposable
{
    /// <summary>Checks the plan can stream (unidirectional) and records the sizes.</summary>
    protected RnnStepper(IRnnPlan plan, int maxStreams)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Desc.Bidirectional)
            throw new NotSupportedException("stepper: streaming needs a unidirectional stack (RnnDesc.Bidirectional is true: the reverse direction must see the whole sequence)");
        if (maxStreams < 1) throw new ArgumentOutOfRangeException(nameof(maxStreams), $"maxStreams: must be at least 1, got {maxStreams}");
        Plan = plan;
        Desc = plan.Desc;
        MaxStreams = maxStreams;
    }

    /// <summary>The plan whose weights this stepper reads.</summary>
    public IRnnPlan Plan { get; }

    /// <summary>The RNN stack being stepped.</summary>
    public RnnDesc Desc { get; }

    /// <summary>The most streams one <see cref="Step"/> advances (scratch is sized for it up front).</summary>
    public int MaxStreams { get; }

    /// <summary>The backend that executes each step (a stepper never hands work to another backend).</summary>
    public abstract string ExecutedBy { get; }

    /// <summary>Floats of one stream's state in host form: h of every layer (L*H_out), then c of every layer (L*H, LSTM).</summary>
    public int StateSize => Desc.NumLayers * Desc.OutputHiddenSize + (Desc.HasCellState ? Desc.NumLayers * Desc.HiddenSize : 0);

    /// <summary>A zero state for <paramref name="streams"/> streams (at most <see cref="MaxStreams"/>), kept where this backend keeps it.</summary>
    public virtual RnnStepState CreateState(int streams = 1)
    {
        CheckStreams(streams);
        return new HostRnnStepState(Desc, streams);
    }

    /// <summary>
    /// One step: <paramref name="x"/> (N,I) in, <paramref name="y"/> (N,H_out) out (the top layer's h), state advanced in
    /// place; N is <paramref name="state"/>'s stream count.
    /// </summary>
    public abstract void Step(RnnStepState state, ReadOnlySpan<float> x, Span<float> y);

    /// <summary>Throws unless the arguments of a step fit this stepper (one set of messages for every backend).</summary>
    protected void CheckStep(RnnStepState state, ReadOnlySpan<float> x, Span<float> y)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Streams > MaxStreams)
            throw new ArgumentException($"state: has {state.Streams} streams, this stepper was made for at most {MaxStreams}", nameof(state));
        if (!state.Desc.Equals(Desc))
            throw new ArgumentException("state: was made for another RNN description", nameof(state));
        int N = state.Streams;
        if (x.Length != N * Desc.InputSize)
            throw new ArgumentException($"x: expected (N={N}, I={Desc.InputSize}) = {N * Desc.InputSize} floats, found {x.Length}", nameof(x));
        if (y.Length != N * Desc.OutputHiddenSize)
            throw new ArgumentException($"y: expected (N={N}, H_out={Desc.OutputHiddenSize}) = {N * Desc.OutputHiddenSize} floats, found {y.Length}", nameof(y));
    }

    /// <summary>Throws unless 1 &lt;= <paramref name="streams"/> &lt;= <see cref="MaxStreams"/>.</summary>
    protected void CheckStreams(int streams)
    {
        if (streams < 1 || streams > MaxStreams)
            throw new ArgumentOutOfRangeException(nameof(streams), $"streams: must be in 1..{MaxStreams} (the stepper's MaxStreams), got {streams}");
    }

    /// <summary>Releases the stepper's scratch memory.</summary>
    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>
/// The recurrent state of N streams, kept where the stepper's backend keeps it. Read and write one stream's state in
/// host form (h of every layer, then c) to save, restore or move it between batches.
/// </summary>
public abstract class RnnStepState : IDisposable
{
    /// <summary>Records the description and stream count.</summary>
    protected RnnStepState(RnnDesc desc, int streams)
    {
        ArgumentNullException.ThrowIfNull(desc);
        Desc = desc;
        Streams = streams;
        StateSize = desc.NumLayers * desc.OutputHiddenSize + (desc.HasCellState ? desc.NumLayers * desc.HiddenSize : 0);
    }

    /// <summary>The RNN stack this state belongs to.</summary>
    public RnnDesc Desc { get; }

    /// <summary>N: the streams this state holds.</summary>
    public int Streams { get; }

    /// <summary>Floats of one stream's state in host form (see <see cref="RnnStepper.StateSize"/>).</summary>
    public int StateSize { get; }

    /// <summary>Writes stream <paramref name="stream"/>'s h of every layer, then its c, into <paramref name="destination"/> (StateSize floats).</summary>
    public abstract void CopyStreamTo(int stream, Span<float> destination);

    /// <summary>Sets stream <paramref name="stream"/>'s state from <paramref name="source"/> (StateSize floats, as CopyStreamTo writes it).</summary>
    public abstract void CopyStreamFrom(int stream, ReadOnlySpan<float> source);

    /// <summary>Every stream back to the zero state.</summary>
    public abstract void Reset();

    /// <summary>Throws unless <paramref name="stream"/> and the span fit this state.</summary>
    protected void CheckStream(int stream, int spanLength, string spanName)
    {
        if ((uint)stream >= (uint)Streams)
            throw new ArgumentOutOfRangeException(nameof(stream), $"stream: must be in 0..{Streams - 1}, got {stream}");
        if (spanLength != StateSize)
            throw new ArgumentException($"{spanName}: expected {StateSize} floats (h of {Desc.NumLayers} layers{(Desc.HasCellState ? ", then c" : "")}), found {spanLength}", spanName);
    }

    /// <summary>Releases the state's memory (device memory for GPU backends).</summary>
    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>State on the host: h (L,N,H_out) and c (L,N,H) in pinned arrays (the CPU backends step them in place).</summary>
public sealed class HostRnnStepState : RnnStepState
{
    /// <summary>A zero state for <paramref name="streams"/> streams.</summary>
    public HostRnnStepState(RnnDesc desc, int streams) : base(desc, streams)
    {
        if (streams < 1) throw new ArgumentOutOfRangeException(nameof(streams), $"streams: must be at least 1, got {streams}");
        int L = desc.NumLayers;
        H = GC.AllocateArray<float>(L * streams * desc.OutputHiddenSize, pinned: true);
        C = desc.HasCellState ? GC.AllocateArray<float>(L * streams * desc.HiddenSize, pinned: true) : null;
    }

    /// <summary>(L,N,H_out): each layer's h, stream-major within the layer (the layout of a plan's h0).</summary>
    public float[] H { get; }

    /// <summary>(L,N,H): each layer's c (LSTM), else null.</summary>
    public float[]? C { get; }

    /// <inheritdoc/>
    public override void CopyStreamTo(int stream, Span<float> destination)
    {
        CheckStream(stream, destination.Length, nameof(destination));
        int L = Desc.NumLayers, N = Streams, Ho = Desc.OutputHiddenSize, Hc = Desc.HiddenSize, o = 0;
        for (int l = 0; l < L; l++, o += Ho) H.AsSpan((l * N + stream) * Ho, Ho).CopyTo(destination[o..]);
        if (C != null)
            for (int l = 0; l < L; l++, o += Hc) C.AsSpan((l * N + stream) * Hc, Hc).CopyTo(destination[o..]);
    }

    /// <inheritdoc/>
    public override void CopyStreamFrom(int stream, ReadOnlySpan<float> source)
    {
        CheckStream(stream, source.Length, nameof(source));
        int L = Desc.NumLayers, N = Streams, Ho = Desc.OutputHiddenSize, Hc = Desc.HiddenSize, o = 0;
        for (int l = 0; l < L; l++, o += Ho) source.Slice(o, Ho).CopyTo(H.AsSpan((l * N + stream) * Ho, Ho));
        if (C != null)
            for (int l = 0; l < L; l++, o += Hc) source.Slice(o, Hc).CopyTo(C.AsSpan((l * N + stream) * Hc, Hc));
    }

    /// <summary>Copies stream <paramref name="from"/> of <paramref name="source"/> into stream <paramref name="to"/> of this state, without a staging buffer.</summary>
    public void CopyStream(HostRnnStepState source, int from, int to)
    {
        ArgumentNullException.ThrowIfNull(source);
        int L = Desc.NumLayers, Ho = Desc.OutputHiddenSize, Hc = Desc.HiddenSize, Ns = source.Streams, Nd = Streams;
        for (int l = 0; l < L; l++) source.H.AsSpan((l * Ns + from) * Ho, Ho).CopyTo(H.AsSpan((l * Nd + to) * Ho, Ho));
        if (C != null)
            for (int l = 0; l < L; l++) source.C!.AsSpan((l * Ns + from) * Hc, Hc).CopyTo(C.AsSpan((l * Nd + to) * Hc, Hc));
    }

    /// <inheritdoc/>
    public override void Reset()
    {
        Array.Clear(H);
        if (C != null) Array.Clear(C);
    }
}
