// The time-major bookkeeping of one batch for cuDNN's padded I/O: the per-sequence lengths cuDNN's data descriptors and
// devSeqLengths take (T for every sequence when none are given), and the padded rows of a (T, N, C) tensor, as runs of
// consecutive rows (row = t*N + n), which the plan zeroes in outputs and input gradients (our contract: zero at padded
// steps, whatever cuDNN leaves there). Pure: unit-tested without a GPU.
namespace RnnFast.Backends.Cuda;

/// <summary>A run of <see cref="Count"/> consecutive padded rows starting at row <see cref="Start"/> of a (T*N, C) view.</summary>
public readonly record struct RowRun(int Start, int Count);

/// <summary>T, N, the per-sequence lengths and the padded rows of one batch.</summary>
public sealed class SequenceBatch
{
    private SequenceBatch(int t, int n, int[] lengths, bool variable, IReadOnlyList<RowRun> padded)
    {
        T = t;
        N = n;
        Lengths = lengths;
        IsVariable = variable;
        PaddedRuns = padded;
    }

    /// <summary>T: the padded sequence length (the longest sequence).</summary>
    public int T { get; }
    /// <summary>N: the batch size.</summary>
    public int N { get; }

    /// <summary>One length per sequence (all T for a fixed-length batch): cudnnSetRNNDataDescriptor's seqLengthArray.</summary>
    public int[] Lengths { get; }

    /// <summary>True when some sequence is shorter than T.</summary>
    public bool IsVariable { get; }

    /// <summary>Padded rows (t &gt;= length[n]) as maximal runs of consecutive rows t*N + n, in order.</summary>
    public IReadOnlyList<RowRun> PaddedRuns { get; }

    /// <summary>Validates <paramref name="lengths"/> (null: every sequence has length T; else N entries in 1..T).</summary>
    public static SequenceBatch Create(int t, int n, int[]? lengths)
    {
        if (t <= 0 || n <= 0) throw new ArgumentException($"T and N must be positive, got T={t} N={n}");
        if (lengths == null) return new SequenceBatch(t, n, Enumerable.Repeat(t, n).ToArray(), false, []);
        if (lengths.Length != n)
            throw new ArgumentException($"lengths: expected {n} entries (one per sequence), found {lengths.Length}", nameof(lengths));
        for (int i = 0; i < n; i++)
            if (lengths[i] < 1 || lengths[i] > t)
                throw new ArgumentException($"lengths: sequence {i} has length {lengths[i]}, must be in 1..T={t}", nameof(lengths));
        var runs = new List<RowRun>();
        int start = -1;
        for (int row = 0; row < t * n; row++)
        {
            bool padded = row / n >= lengths[row % n];
            if (padded && start < 0) start = row;
            else if (!padded && start >= 0)
            {
                runs.Add(new RowRun(start, row - start));
                start = -1;
            }
        }
        if (start >= 0) runs.Add(new RowRun(start, t * n - start));
        return new SequenceBatch(t, n, (int[])lengths.Clone(), runs.Count > 0, runs);
    }

    /// <summary>Zeroes the padded rows of a host (T, N, <paramref name="features"/>) tensor.</summary>
    public void ZeroPadding(Span<float> data, int features)
    {
        if (data.Length != (long)T * N * features)
            throw new ArgumentException($"data: {data.Length} floats, expected T*N*C = {T}*{N}*{features}", nameof(data));
        foreach (var r in PaddedRuns) data.Slice(r.Start * features, r.Count * features).Clear();
    }
}
