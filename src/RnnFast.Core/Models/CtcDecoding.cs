// Turning a CTC network's per-step log-probabilities (T,C) into a label sequence, and scoring the result:
//   greedy (best path): the most probable class at every step, repeats merged, blanks dropped;
//   prefix beam search: keeps the best `beamWidth` label prefixes, each with the probability of the paths that end in a
//     blank (pb) and of those that end in its last label (pnb), so a labelling's probability sums over all of its
//     alignments (greedy follows one path only, and may miss the most probable labelling);
//   label error rate: edit distance (insertions, deletions, substitutions) over the references' total length.
namespace RnnFast.Models;

/// <summary>A decoded labelling and the natural log of its probability under the decoder's search.</summary>
/// <param name="Labels">The labels, blanks removed.</param>
/// <param name="LogProbability">Greedy: the log-probability of its single best path; beam search: of the labelling (its paths' sum, as far as the beam kept them).</param>
public sealed record CtcHypothesis(int[] Labels, double LogProbability);

/// <summary>CTC decoders (greedy and prefix beam search) and the label error rate.</summary>
public static class CtcDecoding
{
    /// <summary>
    /// Best-path decoding of one sequence: <paramref name="logProbs"/> holds <paramref name="steps"/> rows of
    /// <paramref name="classes"/> log-probabilities (row-major (T,C)); the arg-max class of each step, consecutive
    /// repeats merged, then blanks removed.
    /// </summary>
    public static CtcHypothesis Greedy(ReadOnlySpan<float> logProbs, int steps, int classes, int blank = 0)
    {
        Check(logProbs, steps, classes, blank);
        var labels = new List<int>();
        double total = 0;
        int previous = -1;
        for (int t = 0; t < steps; t++)
        {
            var row = logProbs.Slice(t * classes, classes);
            int best = 0;
            for (int c = 1; c < classes; c++)
                if (row[c] > row[best]) best = c;
            total += row[best];
            if (best != blank && best != previous) labels.Add(best);
            previous = best;
        }
        return new CtcHypothesis([.. labels], total);
    }

    /// <summary>
    /// Prefix beam search over one sequence (layout as <see cref="Greedy"/>): at each step every kept prefix is extended
    /// by every class, a repeated label only after a blank, prefix probabilities summed over their alignments in log
    /// space; the <paramref name="beamWidth"/> most probable prefixes survive each step. Returns the most probable one.
    /// With a beam as wide as the number of prefixes it is exact.
    /// </summary>
    public static CtcHypothesis BeamSearch(ReadOnlySpan<float> logProbs, int steps, int classes, int blank = 0, int beamWidth = 8)
    {
        Check(logProbs, steps, classes, blank);
        if (beamWidth < 1) throw new ArgumentException($"beamWidth: must be at least 1, got {beamWidth}", nameof(beamWidth));
        const double NegInf = double.NegativeInfinity;
        var comparer = new PrefixComparer();
        // prefix -> (log P(paths ending in blank), log P(paths ending in the prefix's last label))
        var beam = new Dictionary<int[], (double B, double NB)>(comparer) { [[]] = (0.0, NegInf) };
        for (int t = 0; t < steps; t++)
        {
            var row = logProbs.Slice(t * classes, classes);
            var next = new Dictionary<int[], (double B, double NB)>(comparer);
            void Add(int[] prefix, double b, double nb)
            {
                var (ob, onb) = next.TryGetValue(prefix, out var v) ? v : (NegInf, NegInf);
                next[prefix] = (LogAdd(ob, b), LogAdd(onb, nb));
            }
            foreach (var (prefix, (pb, pnb)) in beam)
            {
                double total = LogAdd(pb, pnb);
                int last = prefix.Length > 0 ? prefix[^1] : -1;
                for (int c = 0; c < classes; c++)
                {
                    double p = row[c];
                    if (c == blank)
                    {
                        Add(prefix, total + p, NegInf);   // a blank keeps the prefix
                        continue;
                    }
                    int[] extended = [.. prefix, c];
                    if (c == last)
                    {
                        Add(prefix, NegInf, pnb + p);       // the same label again without a blank: merged
                        Add(extended, NegInf, pb + p);      // after a blank: a new label
                    }
                    else Add(extended, NegInf, total + p);
                }
            }
            beam = next.OrderByDescending(kv => LogAdd(kv.Value.B, kv.Value.NB)).ThenBy(kv => kv.Key.Length)
                .Take(beamWidth).ToDictionary(kv => kv.Key, kv => kv.Value, comparer);
        }
        var best = beam.MaxBy(kv => LogAdd(kv.Value.B, kv.Value.NB));
        return new CtcHypothesis(best.Key, LogAdd(best.Value.B, best.Value.NB));
    }

    /// <summary>Sequence n's rows (t, n, :) for t &lt; <paramref name="length"/> of a time-major (T,N,C) array, as (length, C).</summary>
    public static float[] SequenceRows(ReadOnlySpan<float> logProbs, int batch, int classes, int n, int length)
    {
        if (batch <= 0 || classes <= 0) throw new ArgumentException($"batch, classes: must be positive, got {batch}, {classes}");
        if ((uint)n >= (uint)batch) throw new ArgumentException($"n: sequence {n} is outside 0..{batch - 1}", nameof(n));
        if (length < 0 || (long)length * batch * classes > logProbs.Length)
            throw new ArgumentException($"length: {length} steps of (N={batch}, C={classes}) do not fit in {logProbs.Length} floats", nameof(length));
        var rows = new float[length * classes];
        for (int t = 0; t < length; t++) logProbs.Slice((t * batch + n) * classes, classes).CopyTo(rows.AsSpan(t * classes, classes));
        return rows;
    }

    /// <summary>The Levenshtein distance: the fewest insertions, deletions and substitutions that turn one sequence into the other.</summary>
    public static int EditDistance(ReadOnlySpan<int> hypothesis, ReadOnlySpan<int> reference)
    {
        var row = new int[reference.Length + 1];
        for (int j = 0; j <= reference.Length; j++) row[j] = j;
        for (int i = 1; i <= hypothesis.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= reference.Length; j++)
            {
                int above = row[j];
                int substitute = diagonal + (hypothesis[i - 1] == reference[j - 1] ? 0 : 1);
                row[j] = Math.Min(substitute, Math.Min(above + 1, row[j - 1] + 1));
                diagonal = above;
            }
        }
        return row[reference.Length];
    }

    /// <summary>
    /// The label error rate of a set of decodings: the sum of the edit distances over the sum of the reference lengths
    /// (so it can exceed 1). Needs at least one reference label.
    /// </summary>
    public static double LabelErrorRate(IEnumerable<(int[] Hypothesis, int[] Reference)> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        long edits = 0, length = 0;
        int k = 0;
        foreach (var (h, r) in pairs)
        {
            if (h == null || r == null) throw new ArgumentException($"pairs: pair {k} has a null sequence", nameof(pairs));
            edits += EditDistance(h, r);
            length += r.Length;
            k++;
        }
        if (length == 0) throw new ArgumentException($"pairs: the {k} reference(s) hold no label; the label error rate divides by their total length", nameof(pairs));
        return edits / (double)length;
    }

    private static void Check(ReadOnlySpan<float> logProbs, int steps, int classes, int blank)
    {
        if (steps < 0) throw new ArgumentException($"steps: must be >= 0, got {steps}", nameof(steps));
        if (classes < 1) throw new ArgumentException($"classes: must be positive, got {classes}", nameof(classes));
        if ((uint)blank >= (uint)classes) throw new ArgumentException($"blank: {blank} is not a class in 0..{classes - 1}", nameof(blank));
        if ((long)steps * classes != logProbs.Length)
            throw new ArgumentException($"logProbs: expected (T={steps}, C={classes}) = {(long)steps * classes} floats, found {logProbs.Length}", nameof(logProbs));
    }

    private static double LogAdd(double a, double b)
    {
        if (a == double.NegativeInfinity) return b;
        if (b == double.NegativeInfinity) return a;
        double hi = Math.Max(a, b), lo = Math.Min(a, b);
        return hi + Math.Log(1.0 + Math.Exp(lo - hi));
    }

    private sealed class PrefixComparer : IEqualityComparer<int[]>
    {
        public bool Equals(int[]? x, int[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(int[] obj)
        {
            var h = new HashCode();
            foreach (var v in obj) h.Add(v);
            return h.ToHashCode();
        }
    }
}
