// Sequence pooling on the tape: the mean of a time-major sequence (T,N,F) over each sequence's valid steps, the
// feature a mean-pooled classifier reads. Its backward spreads each row's gradient evenly over the steps it averaged;
// padded steps get no gradient.
using System.Numerics.Tensors;

namespace RnnFast.Autograd;

/// <summary>Records tape ops in order and runs their backward rules in reverse (reverse-mode autodiff). Not thread-safe: one tape per training step and thread.</summary>
public sealed partial class Tape
{
    /// <summary>
    /// The mean of <paramref name="seq"/> (T,N,F) over steps 0..lengths[n]-1 of each sequence n -> (N,F). Null
    /// <paramref name="lengths"/>: every sequence has all T steps. Each length must be in 1..T.
    /// </summary>
    public Variable MeanValidSteps(Variable seq, int[]? lengths = null)
    {
        ArgumentNullException.ThrowIfNull(seq);
        if (seq.Value.Rank != 3)
            throw new ArgumentException($"seq: expected time-major (T,N,F), found {Tensor.FormatShape(seq.Shape)}", nameof(seq));
        int T = seq.Shape[0], N = seq.Shape[1], F = seq.Shape[2];
        var counts = new int[N];
        if (lengths == null) Array.Fill(counts, T);
        else
        {
            if (lengths.Length != N)
                throw new ArgumentException($"lengths: expected {N} entries (one per sequence), found {lengths.Length}", nameof(lengths));
            for (int n = 0; n < N; n++)
            {
                if (lengths[n] < 1 || lengths[n] > T)
                    throw new ArgumentException($"lengths: sequence {n} has length {lengths[n]}, must be in 1..T={T}", nameof(lengths));
                counts[n] = lengths[n];
            }
        }
        var S = seq.Value.HostArray;
        var Y = new float[N * F];          // (N, F)
        for (int n = 0; n < N; n++)
        {
            var row = Y.AsSpan(n * F, F);
            for (int t = 0; t < counts[n]; t++) TensorPrimitives.Add(row, S.AsSpan((t * N + n) * F, F), row);
            TensorPrimitives.Multiply(row, 1f / counts[n], row);
        }
        var y = Result(Tensor.FromArray(Y, N, F), seq);
        Record(() =>
        {
            var g = y.Grad!.Span;
            var ds = seq.GradForAccumulate();
            var scaled = new float[F];
            for (int n = 0; n < N; n++)
            {
                TensorPrimitives.Multiply(g.Slice(n * F, F), 1f / counts[n], scaled);
                for (int t = 0; t < counts[n]; t++)
                {
                    var row = ds.Slice((t * N + n) * F, F);
                    TensorPrimitives.Add(row, scaled, row);
                }
            }
        }, y);
        return y;
    }
}
