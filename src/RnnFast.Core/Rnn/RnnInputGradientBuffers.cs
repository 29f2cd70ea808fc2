// Caller-owned tensors for the input-side gradients of a training backward (IRnnPlan.BackwardAccumulate with `into`):
// dX (T,N,I), dh0 (L*D,N,H_out) and, for LSTM, dc0 (L*D,N,H). The training-loop counterpart of RnnOutputBuffers: dX is
// as large as the input (megabytes, on the large object heap), and a new one per step cost a full collection and fresh
// pages faulting in as the kernels wrote them (see the measurements in CpuRnnPlan.Backward.cs).
namespace RnnFast;

/// <summary>
/// Host tensors a training backward writes the input-side gradients into: dInput (T,N,I), dH0 (L*D,N,H_out) and, for
/// LSTM, dC0 (L*D,N,H). They are overwritten, not added to (the parameter gradients are the ones added). Reusing one
/// instance across steps keeps a training loop free of per-step gradient arrays. Not for use by two calls at once.
/// </summary>
public sealed class RnnInputGradientBuffers
{
    /// <summary>Wraps the caller's host tensors (not copied). <paramref name="dC0"/> is required for LSTM and must be null otherwise.</summary>
    public RnnInputGradientBuffers(Tensor dInput, Tensor dH0, Tensor? dC0 = null)
    {
        BufferSetChecks.Wrap(nameof(RnnInputGradientBuffers), dInput, dH0, dC0, [nameof(DInput), nameof(DH0), nameof(DC0)], [nameof(dInput), nameof(dH0), nameof(dC0)]);
        DInput = dInput;
        DH0 = dH0;
        DC0 = dC0;
    }

    /// <summary>New zeroed buffers for inputs of <paramref name="seqLen"/> steps and <paramref name="batch"/> sequences of <paramref name="desc"/>.</summary>
    public static RnnInputGradientBuffers For(RnnDesc desc, int seqLen, int batch)
    {
        ArgumentNullException.ThrowIfNull(desc);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(seqLen);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        int S = desc.NumLayers * desc.Directions;
        return new RnnInputGradientBuffers(Tensor.Zeros(seqLen, batch, desc.InputSize), Tensor.Zeros(S, batch, desc.OutputHiddenSize),
            desc.HasCellState ? Tensor.Zeros(S, batch, desc.HiddenSize) : null);
    }

    /// <summary>(T,N,I): the gradient of the input, zero at padded steps after a call with lengths.</summary>
    public Tensor DInput { get; }

    /// <summary>(L*D,N,H_out): the gradient of h0.</summary>
    public Tensor DH0 { get; }

    /// <summary>(L*D,N,H): the gradient of c0 (LSTM only).</summary>
    public Tensor? DC0 { get; }

    /// <summary>
    /// Throws an ArgumentException naming the buffer (RnnInputGradientBuffers.DInput, .DH0 or .DC0) unless the buffers
    /// fit <paramref name="inputs"/> run through <paramref name="desc"/> and none of them is also one of the inputs or
    /// of the upstream gradients (a backward reads those while it writes these).
    /// </summary>
    public void Check(RnnDesc desc, RnnInputs inputs, Tensor? dOutput = null, Tensor? dHN = null, Tensor? dCN = null)
    {
        ArgumentNullException.ThrowIfNull(desc);
        ArgumentNullException.ThrowIfNull(inputs);
        int T = inputs.SeqLen, N = inputs.Batch, S = desc.NumLayers * desc.Directions;
        const string owner = nameof(RnnInputGradientBuffers);
        BufferSetChecks.Expect(owner, DInput, nameof(DInput), T, N, desc.InputSize);
        BufferSetChecks.Expect(owner, DH0, nameof(DH0), S, N, desc.OutputHiddenSize);
        BufferSetChecks.ExpectCell(owner, desc, DC0, nameof(DC0), "dc0", S, N, desc.HiddenSize);
        foreach (var t in (ReadOnlySpan<Tensor?>)[inputs.Input, inputs.H0, inputs.C0, dOutput, dHN, dCN])
            if (BufferSetChecks.Aliases(t, DInput, DH0, DC0))
                throw new ArgumentException("RnnInputGradientBuffers: a gradient buffer is also an input (input, h0, c0) or an upstream gradient (dOutput, dHN, dCN); pass separate tensors", "into");
    }

    /// <summary>
    /// The generic path (backends without a direct one): <paramref name="gradients"/>' DInput, DH0 and DC0 copied into
    /// these buffers, returned as gradients that hold the buffers and <paramref name="gradients"/>' parameter gradients.
    /// </summary>
    public RnnGradients CopyFrom(RnnGradients gradients)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        gradients.DInput.Storage.CopyToHost(DInput.Span);
        gradients.DH0.Storage.CopyToHost(DH0.Span);
        if (DC0 != null && gradients.DC0 != null) gradients.DC0.Storage.CopyToHost(DC0.Span);
        return Result(gradients.DParams);
    }

    /// <summary>The buffers as a backward's result with <paramref name="dParams"/>, marked changed (a backend that wrote them in place returns this).</summary>
    public RnnGradients Result(RnnParameters dParams)
    {
        ArgumentNullException.ThrowIfNull(dParams);
        DInput.MarkChanged();
        DH0.MarkChanged();
        DC0?.MarkChanged();
        return new RnnGradients(DInput, DH0, DC0, dParams);
    }
}
