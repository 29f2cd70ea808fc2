// The user-facing entry to a plan: checks shapes (naming the tensor, expected vs found), converts batch-first
// tensors to the time-major layout plans use and back, and checks sequence lengths.
namespace RnnFast;

/// <summary>Validates user tensors (naming shapes expected vs found), converts batch-first to time-major, and runs plans.</summary>
public static class RnnRunner
{
    /// <summary>
    /// Validates and normalises user inputs for <paramref name="desc"/>: <paramref name="input"/> is (T,N,I), or
    /// (N,T,I) when batch_first; h0 (L*D,N,H_out); c0 (L*D,N,H) for LSTM; lengths (N) with 1 &lt;= len &lt;= T.
    /// </summary>
    public static RnnInputs Prepare(RnnDesc desc, Tensor input, Tensor? h0 = null, Tensor? c0 = null, int[]? lengths = null)
    {
        ArgumentNullException.ThrowIfNull(desc);
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 3)
            throw new ArgumentException($"input: expected rank 3 {(desc.BatchFirst ? "(N,T,I)" : "(T,N,I)")}, found {Tensor.FormatShape(input.Shape)}", nameof(input));
        int T = desc.BatchFirst ? input.Shape[1] : input.Shape[0];
        int N = desc.BatchFirst ? input.Shape[0] : input.Shape[1];
        if (input.Shape[2] != desc.InputSize)
            throw new ArgumentException($"input: expected feature size I={desc.InputSize}, found shape {Tensor.FormatShape(input.Shape)}", nameof(input));
        if (T == 0 || N == 0)
            throw new ArgumentException($"input: empty sequence batch {Tensor.FormatShape(input.Shape)} (T and N must be positive)", nameof(input));
        int LD = desc.NumLayers * desc.Directions;
        if (h0 != null && !h0.HasShape(LD, N, desc.OutputHiddenSize))
            throw new ArgumentException($"h0: expected {Tensor.FormatShape([LD, N, desc.OutputHiddenSize])}, found {Tensor.FormatShape(h0.Shape)}", nameof(h0));
        if (c0 != null)
        {
            if (!desc.HasCellState)
                throw new ArgumentException($"c0: only LSTM has a cell state, this is {desc.Mode}", nameof(c0));
            if (!c0.HasShape(LD, N, desc.HiddenSize))
                throw new ArgumentException($"c0: expected {Tensor.FormatShape([LD, N, desc.HiddenSize])}, found {Tensor.FormatShape(c0.Shape)}", nameof(c0));
        }
        if (lengths != null)
        {
            if (lengths.Length != N)
                throw new ArgumentException($"lengths: expected {N} entries (one per sequence), found {lengths.Length}", nameof(lengths));
            for (int n = 0; n < N; n++)
                if (lengths[n] < 1 || lengths[n] > T)
                    throw new ArgumentException($"lengths: sequence {n} has length {lengths[n]}, must be in 1..T={T}", nameof(lengths));
            if (lengths.All(v => v == T)) lengths = null;
        }
        var x = desc.BatchFirst ? SwapFirstTwo(input) : input;
        return new RnnInputs(x, h0, c0, lengths);
    }

    /// <summary>Runs a prepared plan on user tensors; the output comes back batch-first when the desc says so.</summary>
    public static RnnForwardResult Forward(IRnnPlan plan, Tensor input, Tensor? h0 = null, Tensor? c0 = null, int[]? lengths = null, bool training = false)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var inputs = Prepare(plan.Desc, input, h0, c0, lengths);
        var r = plan.Forward(inputs, training);
        return plan.Desc.BatchFirst ? new RnnForwardResult(SwapFirstTwo(r.Output), r.HN, r.CN, r.Workspace) : r;
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
