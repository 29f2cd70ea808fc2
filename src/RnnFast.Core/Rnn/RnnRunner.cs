// The user-facing entry to a plan: converts batch-first tensors to the time-major layout plans use and back. The
// shapes and lengths are checked once, by the plan (RnnInputChecks); when the plan refuses what Forward prepared, the
// problem is restated with this class's argument names and the input's shape as the caller passed it.
namespace RnnFast;

/// <summary>Converts batch-first to time-major, runs plans, and names the caller's tensors (expected vs found) when a shape is wrong.</summary>
public static class RnnRunner
{
    /// <summary>
    /// Normalises user inputs for <paramref name="desc"/>: <paramref name="input"/> is (T,N,I), or (N,T,I) when
    /// batch_first, and comes back time-major; h0 (L*D,N,H_out), c0 (L*D,N,H) for LSTM and lengths (N) with
    /// 1 &lt;= len &lt;= T pass through (lengths that are all T are dropped: no padding). Only the rank is checked here,
    /// which the conversion needs; the plan checks the rest when it runs (<see cref="RnnInputChecks.Forward"/>), and
    /// <see cref="Forward"/> reports those problems naming input, h0, c0 or lengths.
    /// </summary>
    public static RnnInputs Prepare(RnnDesc desc, Tensor input, Tensor? h0 = null, Tensor? c0 = null, int[]? lengths = null)
    {
        ArgumentNullException.ThrowIfNull(desc);
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 3)
            throw new ArgumentException($"input: expected rank 3 {(desc.BatchFirst ? "(N,T,I)" : "(T,N,I)")}, found {Tensor.FormatShape(input.Shape)}", nameof(input));
        int T = desc.BatchFirst ? input.Shape[1] : input.Shape[0];
        int N = desc.BatchFirst ? input.Shape[0] : input.Shape[1];
        // Only a complete list of full lengths is dropped: it is valid, so nothing the plan would report is hidden.
        if (lengths != null && T > 0 && lengths.Length == N && Array.TrueForAll(lengths, v => v == T)) lengths = null;
        var x = desc.BatchFirst ? SwapFirstTwo(input) : input;
        return new RnnInputs(x, h0, c0, lengths);
    }

    /// <summary>Runs a prepared plan on user tensors; the output comes back batch-first when the desc says so.</summary>
    public static RnnForwardResult Forward(IRnnPlan plan, Tensor input, Tensor? h0 = null, Tensor? c0 = null, int[]? lengths = null, bool training = false)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var inputs = Prepare(plan.Desc, input, h0, c0, lengths);
        var r = Run(plan, inputs, input.Shape, training);
        return plan.Desc.BatchFirst ? new RnnForwardResult(SwapFirstTwo(r.Output), r.HN, r.CN, r.Workspace) : r;
    }

    /// <summary>
    /// <c>plan.Forward(inputs, training)</c> for inputs from <see cref="Prepare"/> (time-major result): a shape or
    /// length the plan refuses is reported naming input, h0, c0 or lengths, with the input shape the caller passed.
    /// </summary>
    internal static RnnForwardResult Run(IRnnPlan plan, RnnInputs inputs, int[] userInputShape, bool training)
    {
        try
        {
            return plan.Forward(inputs, training);
        }
        catch (ArgumentException e) when (RnnInputChecks.UserProblem(plan.Desc, inputs, userInputShape, e) is { } user)
        {
            throw user;
        }
    }

    /// <summary>(A,B,C) to (B,A,C) on the host: converts between batch-first and time-major.</summary>
    public static Tensor SwapFirstTwo(Tensor t)
    {
        int a = t.Shape[0], b = t.Shape[1], c = t.Shape[2];
        var src = t.IsHost ? t.HostArray : t.ToArray();
        var dst = new float[src.Length];
        for (int i = 0; i < a; i++)
        for (int j = 0; j < b; j++)
            Array.Copy(src, (i * b + j) * c, dst, (j * a + i) * c, c);
        return Tensor.FromArray(dst, b, a, c);
    }
}
