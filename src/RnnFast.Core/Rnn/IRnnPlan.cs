// The contract between the RNN front end and a backend: a plan is an RNN stack prepared on one backend
// (weights converted once), that runs forward (inference or training) and backward (BPTT).
// Every tensor a plan sees is time-major: X (T,N,I), Y (T,N,D*H_out), h (L*D,N,H_out), c (L*D,N,H).
namespace RnnFast;

/// <summary>Inputs of one forward pass, already validated and time-major.</summary>
public sealed record RnnInputs(Tensor Input, Tensor? H0 = null, Tensor? C0 = null, int[]? Lengths = null)
{
    /// <summary>T: time steps (input dimension 0).</summary>
    public int SeqLen => Input.Shape[0];
    /// <summary>N: sequences in the batch (input dimension 1).</summary>
    public int Batch => Input.Shape[1];
}

/// <summary>
/// What a training forward keeps for backward, owned by the plan that made it (activations on the host, or device
/// memory such as cuDNN's reserve space). Disposing it frees that memory at once, with or without a backward; a
/// backward after that is refused. Plans derive their own record from it.
/// </summary>
public abstract class RnnWorkspace : IDisposable
{
    private int _disposed;

    /// <summary>True once <see cref="Dispose"/> ran (or a backend released it after a single-use backward).</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Frees what the workspace holds; idempotent and thread-safe.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the backend's memory (called once). Host-only workspaces need not override it.</summary>
    protected virtual void Release() { }

    /// <summary>Throws when the workspace was disposed (backward reads it).</summary>
    public void ThrowIfDisposed()
    {
        if (IsDisposed) throw new ObjectDisposedException(nameof(RnnWorkspace), "forward: its training workspace was disposed (or already used by a single-use backward); run Forward(training: true) again");
    }
}

/// <summary>
/// What forward returns. <see cref="Workspace"/> is the backend's record for backward (null for inference); disposing
/// the result disposes it.
/// </summary>
public sealed class RnnForwardResult : IDisposable
{
    /// <summary>Wraps a forward's results: output (T,N,D*H_out), h_n (L*D,N,H_out), c_n (L*D,N,H) for LSTM, and the training workspace (null for inference).</summary>
    public RnnForwardResult(Tensor output, Tensor hN, Tensor? cN, RnnWorkspace? workspace)
    {
        Output = output;
        HN = hN;
        CN = cN;
        Workspace = workspace;
    }

    /// <summary>(T,N,D*H_out), zero at padded steps.</summary>
    public Tensor Output { get; }

    /// <summary>(L*D,N,H_out): each sequence's state at its own last step.</summary>
    public Tensor HN { get; }

    /// <summary>(L*D,N,H): LSTM only.</summary>
    public Tensor? CN { get; }

    /// <summary>Owned by the plan that made it; present only after a training forward.</summary>
    public RnnWorkspace? Workspace { get; }

    /// <summary>Frees the training workspace (device memory included) without waiting for the garbage collector.</summary>
    public void Dispose() => Workspace?.Dispose();
}

/// <summary>Gradients of a loss with respect to the inputs and every parameter.</summary>
public sealed class RnnGradients
{
    /// <summary>Wraps backward's results: dX (T,N,I), dh0 (L*D,N,H_out), dc0 (LSTM) and the parameter gradients.</summary>
    public RnnGradients(Tensor dInput, Tensor dH0, Tensor? dC0, RnnParameters dParams)
    {
        DInput = dInput;
        DH0 = dH0;
        DC0 = dC0;
        DParams = dParams;
    }

    /// <summary>(T,N,I)</summary>
    public Tensor DInput { get; }

    /// <summary>(L*D,N,H_out)</summary>
    public Tensor DH0 { get; }

    /// <summary>(L*D,N,H): LSTM only.</summary>
    public Tensor? DC0 { get; }

    /// <summary>One gradient per parameter, same layout and names as the parameters.</summary>
    public RnnParameters DParams { get; }
}

/// <summary>
/// An RNN stack prepared on one backend. Forward with training=false is safe to call from many threads. Every plan
/// checks its arguments with <see cref="RnnInputChecks"/> before any kernel reads a buffer (ArgumentException naming it).
/// </summary>
public interface IRnnPlan : IDisposable
{
    /// <summary>The RNN stack this plan runs.</summary>
    RnnDesc Desc { get; }

    /// <summary>The parameters this plan reads (a converting backend re-converts when their Version changes).</summary>
    RnnParameters Parameters { get; }

    /// <summary>Runs the stack. With <paramref name="training"/> the result keeps the workspace backward needs.</summary>
    RnnForwardResult Forward(RnnInputs inputs, bool training);

    /// <summary>
    /// An inference forward that writes the output, h_n and c_n into the caller's <paramref name="into"/> (host
    /// tensors, their shapes checked) and returns them. A loop that passes the same buffers to every call allocates
    /// nothing per call on the cpu backend (and on onednn without lengths); other backends copy a Forward's result.
    /// </summary>
    RnnForwardResult ForwardInto(RnnInputs inputs, RnnOutputBuffers into)
    {
        ArgumentNullException.ThrowIfNull(into);
        return into.CopyFrom(this, inputs);
    }

    /// <summary>
    /// <see cref="ForwardInto(RnnInputs, RnnOutputBuffers)"/> for inference or, with <paramref name="training"/>, a
    /// training forward whose result keeps the workspace backward needs (as <see cref="Forward"/>'s does) while its
    /// output, h_n and c_n are the caller's buffers. A training loop that passes the same buffers every step (and
    /// <see cref="RnnInputGradientBuffers"/> to backward) allocates no activation-sized array per step on the cpu backend;
    /// other backends copy a Forward's result.
    /// </summary>
    RnnForwardResult ForwardInto(RnnInputs inputs, RnnOutputBuffers into, bool training)
    {
        ArgumentNullException.ThrowIfNull(into);
        return training ? into.CopyFrom(this, inputs, training: true) : ForwardInto(inputs, into);
    }

    /// <summary>
    /// BPTT from upstream gradients of the output, h_n and c_n (any may be null = zero), using the workspace of
    /// <paramref name="forward"/>, which must come from a training forward of this plan.
    /// </summary>
    RnnGradients Backward(RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN);

    /// <summary>
    /// <see cref="Backward"/> that adds the parameter gradients into <paramref name="paramGrads"/> (host tensors laid
    /// out like <see cref="Parameters"/>: a training loop's gradient buffers, kept across steps) instead of returning
    /// new ones; the result's DParams is <paramref name="paramGrads"/>. The cpu backend writes into them directly, with
    /// no per-call allocation of gradient-sized arrays; other backends add their Backward's result.
    /// </summary>
    RnnGradients BackwardAccumulate(RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN,
        RnnParameters paramGrads)
    {
        RnnGradientTargets.Check(Desc, paramGrads);
        var g = Backward(inputs, forward, dOutput, dHN, dCN);
        RnnGradientTargets.AddInto(g.DParams, paramGrads);
        return new RnnGradients(g.DInput, g.DH0, g.DC0, paramGrads);
    }

    /// <summary>
    /// <see cref="BackwardAccumulate(RnnInputs, RnnForwardResult, Tensor, Tensor, Tensor, RnnParameters)"/> that also
    /// writes dInput, dH0 and dC0 into the caller's <paramref name="into"/> (overwritten; checked first) and returns
    /// them. With the same buffers every step (and <see cref="ForwardInto(RnnInputs, RnnOutputBuffers, bool)"/>) a
    /// training step allocates no activation-sized array on the cpu backend; other backends copy their result.
    /// </summary>
    RnnGradients BackwardAccumulate(RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN,
        RnnParameters paramGrads, RnnInputGradientBuffers into)
    {
        ArgumentNullException.ThrowIfNull(into);
        ArgumentNullException.ThrowIfNull(inputs);
        into.Check(Desc, inputs, dOutput, dHN, dCN);
        return into.CopyFrom(BackwardAccumulate(inputs, forward, dOutput, dHN, dCN, paramGrads));
    }

    /// <summary>
    /// A stepper that advances up to <paramref name="maxStreams"/> independent streams one time step at a time on this
    /// plan's backend (unidirectional stacks only). Backends with a faster T=1 path return their own.
    /// </summary>
    RnnStepper CreateStepper(int maxStreams = 1);
}
