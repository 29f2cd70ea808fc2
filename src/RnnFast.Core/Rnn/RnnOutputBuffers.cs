// Caller-owned result tensors for IRnnPlan.ForwardInto: an inference (or training) loop hands the same buffers to every
// call instead of receiving new ones. Why it matters: a forward's output is megabytes (T*N*D*H_out floats), which .NET puts on the
// large object heap; with little else alive, its budget is about one such array, so a loop of calls ran a full (gen 2)
// collection per call and the next array came from freshly mapped pages that faulted in as the kernels wrote them.
// Measured here (rnn_tanh T=100 N=16 H=512, a 3.3 MB output): 15 ms a call against 5.5 ms with the output reused.
// Shapes, time-major: output (T,N,D*H_out), h_n (L*D,N,H_out), c_n (L*D,N,H) for LSTM.
namespace RnnFast;

/// <summary>
/// Host tensors a forward writes its results into (<see cref="IRnnPlan.ForwardInto(RnnInputs, RnnOutputBuffers, bool)"/>): the output
/// (T,N,D*H_out), h_n (L*D,N,H_out) and, for LSTM, c_n (L*D,N,H). Reusing one instance across calls keeps a serving
/// (or training) loop free of per-call allocations. Not for use by two calls at once.
/// </summary>
public sealed class RnnOutputBuffers
{
    /// <summary>Wraps the caller's host tensors (not copied). <paramref name="cN"/> is required for LSTM and must be null otherwise.</summary>
    public RnnOutputBuffers(Tensor output, Tensor hN, Tensor? cN = null)
    {
        BufferSetChecks.Wrap(nameof(RnnOutputBuffers), output, hN, cN, [nameof(Output), nameof(HN), nameof(CN)], [nameof(output), nameof(hN), nameof(cN)]);
        Output = output;
        HN = hN;
        CN = cN;
    }

    /// <summary>New zeroed buffers for inputs of <paramref name="seqLen"/> steps and <paramref name="batch"/> sequences of <paramref name="desc"/>.</summary>
    public static RnnOutputBuffers For(RnnDesc desc, int seqLen, int batch)
    {
        ArgumentNullException.ThrowIfNull(desc);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(seqLen);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        int S = desc.NumLayers * desc.Directions;
        return new RnnOutputBuffers(Tensor.Zeros(seqLen, batch, desc.OutputSize), Tensor.Zeros(S, batch, desc.OutputHiddenSize),
            desc.HasCellState ? Tensor.Zeros(S, batch, desc.HiddenSize) : null);
    }

    /// <summary>(T,N,D*H_out): zero at padded steps after a call with lengths.</summary>
    public Tensor Output { get; }

    /// <summary>(L*D,N,H_out).</summary>
    public Tensor HN { get; }

    /// <summary>(L*D,N,H): LSTM only.</summary>
    public Tensor? CN { get; }

    /// <summary>
    /// Throws an ArgumentException naming the buffer (RnnOutputBuffers.Output, .HN or .CN) unless the buffers fit
    /// <paramref name="inputs"/> (already checked) run through <paramref name="desc"/>.
    /// </summary>
    public void Check(RnnDesc desc, RnnInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(desc);
        ArgumentNullException.ThrowIfNull(inputs);
        int T = inputs.SeqLen, N = inputs.Batch, S = desc.NumLayers * desc.Directions;
        const string owner = nameof(RnnOutputBuffers);
        BufferSetChecks.Expect(owner, Output, nameof(Output), T, N, desc.OutputSize);
        BufferSetChecks.Expect(owner, HN, nameof(HN), S, N, desc.OutputHiddenSize);
        BufferSetChecks.ExpectCell(owner, desc, CN, nameof(CN), "c_n", S, N, desc.HiddenSize);
        foreach (var t in (ReadOnlySpan<Tensor?>)[inputs.Input, inputs.H0, inputs.C0])
            if (BufferSetChecks.Aliases(t, Output, HN, CN))
                throw new ArgumentException("RnnOutputBuffers: an output buffer is also one of the inputs (input, h0 or c0); pass separate tensors", "into");
    }

    /// <summary>
    /// The generic <see cref="IRnnPlan.ForwardInto(RnnInputs, RnnOutputBuffers)"/>: an inference
    /// <see cref="IRnnPlan.Forward"/>, its results copied into these buffers (for backends without a direct path, and
    /// for their cases without one).
    /// </summary>
    public RnnForwardResult CopyFrom(IRnnPlan plan, RnnInputs inputs) => CopyFrom(plan, inputs, training: false);

    /// <summary>
    /// The generic <see cref="IRnnPlan.ForwardInto(RnnInputs, RnnOutputBuffers, bool)"/>: a <see cref="IRnnPlan.Forward"/>,
    /// its results copied into these buffers; with <paramref name="training"/> the result keeps the forward's workspace.
    /// </summary>
    public RnnForwardResult CopyFrom(IRnnPlan plan, RnnInputs inputs, bool training)
    {
        ArgumentNullException.ThrowIfNull(plan);
        RnnInputChecks.Forward(plan.Desc, inputs);
        Check(plan.Desc, inputs);
        var r = plan.Forward(inputs, training);
        try
        {
            r.Output.Storage.CopyToHost(Output.Span);
            r.HN.Storage.CopyToHost(HN.Span);
            if (CN != null && r.CN != null) r.CN.Storage.CopyToHost(CN.Span);
        }
        catch
        {
            r.Dispose();
            throw;
        }
        if (!training) r.Dispose();
        return Result(r.Workspace);
    }

    /// <summary>The buffers as an inference forward's result, marked changed (a backend that wrote them in place returns this).</summary>
    public RnnForwardResult Result() => Result(null);

    /// <summary>The buffers as a forward's result holding <paramref name="workspace"/> (a training forward's; null for inference), marked changed.</summary>
    public RnnForwardResult Result(RnnWorkspace? workspace)
    {
        Output.MarkChanged();
        HN.MarkChanged();
        CN?.MarkChanged();
        return new RnnForwardResult(Output, HN, CN, workspace);
    }
}
