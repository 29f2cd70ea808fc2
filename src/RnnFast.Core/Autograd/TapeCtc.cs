// Connectionist temporal classification (CTC) loss on the tape, with PyTorch's semantics (torch.nn.functional.ctc_loss):
// log-probabilities (T,N,C), padded targets (N,S), per-sequence input and target lengths, a blank class, reductions
// mean (each sequence's loss divided by its target length, at least 1, then the batch mean) / sum / none, and
// zero_infinity. Per sequence, in double and in log space: the forward variables alpha over the extended labelling
// l' = (blank, l1, blank, l2, ..., lL, blank) (Sx = 2L+1 states), nll = -log(alpha[T-1][Sx-1] + alpha[T-1][Sx-2]); the
// backward variables beta likewise from the end. Both include the step's probability, so for class c at step t
//   lcab[t][c] = log sum_{s : l'(s) = c} alpha[t][s] * beta[t][s]   and   d nll / d lp[t][c] = -exp(lcab - lp + nll).
// The gradient kept is PyTorch's: exp(lp[t][c]) - exp(lcab[t][c] + nll - lp[t][c]), which adds exp(lp) to the above.
// Its sum over c is 0 at every step; when lp is a log-softmax of logits (LogSoftmax below), the log-softmax backward
// removes exactly that addition, so the gradient with respect to the logits is the true one (finite differences
// agree). An impossible alignment (a target too long for its input, counting the blanks repeats need) has nll = +inf
// and, as in PyTorch, a NaN gradient on that sequence's valid steps; zero_infinity makes both 0. Steps past a
// sequence's input length get gradient 0.
using System.Numerics.Tensors;

namespace RnnFast.Autograd;

/// <summary>How <see cref="Tape.CtcLoss"/> reduces the per-sequence losses (PyTorch's reduction argument).</summary>
public enum CtcReduction
{
    /// <summary>Each sequence's loss divided by its target length (at least 1), then the mean over the batch -> (1).</summary>
    Mean,

    /// <summary>The sum of the sequences' losses -> (1).</summary>
    Sum,

    /// <summary>One loss per sequence -> (N).</summary>
    None,
}

/// <summary>Records tape ops in order and runs their backward rules in reverse (reverse-mode autodiff). Not thread-safe: one tape per training step and thread.</summary>
public sealed partial class Tape
{
    /// <summary>
    /// PyTorch's ctc_loss. <paramref name="logProbs"/> (T,N,C) holds log-probabilities (e.g. <see cref="LogSoftmax"/>
    /// of logits); <paramref name="targets"/> is (N,S) row-major, sequence n's labels in its first
    /// <paramref name="targetLengths"/>[n] entries (each a class in 0..C-1 other than <paramref name="blank"/>; the rest
    /// is padding and ignored); <paramref name="inputLengths"/> (N) in 0..T. Returns (1) for Mean and Sum, (N) for None.
    /// An impossible alignment gives +inf (and a NaN gradient, as PyTorch) unless <paramref name="zeroInfinity"/>, which
    /// makes that sequence's loss and gradient 0. The gradient is PyTorch's (see the file header): exact with respect to
    /// logits when <paramref name="logProbs"/> comes from LogSoftmax.
    /// </summary>
    public Variable CtcLoss(Variable logProbs, int[] targets, int[] inputLengths, int[] targetLengths, int blank = 0,
        CtcReduction reduction = CtcReduction.Mean, bool zeroInfinity = false)
    {
        ArgumentNullException.ThrowIfNull(logProbs);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(inputLengths);
        ArgumentNullException.ThrowIfNull(targetLengths);
        if (logProbs.Value.Rank != 3)
            throw new ArgumentException($"logProbs: expected (T,N,C), found {Tensor.FormatShape(logProbs.Shape)}", nameof(logProbs));
        int T = logProbs.Shape[0], N = logProbs.Shape[1], C = logProbs.Shape[2];
        if (N == 0 || C == 0)
            throw new ArgumentException($"logProbs: empty batch or class dimension {Tensor.FormatShape(logProbs.Shape)}", nameof(logProbs));
        if ((uint)blank >= (uint)C)
            throw new ArgumentException($"blank: {blank} is not a class in 0..{C - 1}", nameof(blank));
        if (!Enum.IsDefined(reduction))
            throw new ArgumentException($"reduction: must be Mean, Sum or None, got {(int)reduction}", nameof(reduction));
        if (inputLengths.Length != N)
            throw new ArgumentException($"inputLengths: expected {N} entries (one per sequence), found {inputLengths.Length}", nameof(inputLengths));
        if (targetLengths.Length != N)
            throw new ArgumentException($"targetLengths: expected {N} entries (one per sequence), found {targetLengths.Length}", nameof(targetLengths));
        if (targets.Length % N != 0)
            throw new ArgumentException($"targets: expected (N={N}, S) padded labels, found {targets.Length} entries (not a multiple of {N})", nameof(targets));
        int S = targets.Length / N;
        for (int n = 0; n < N; n++)
        {
            if ((uint)inputLengths[n] > (uint)T)
                throw new ArgumentException($"inputLengths: entry {n} is {inputLengths[n]}, expected 0..T={T}", nameof(inputLengths));
            if ((uint)targetLengths[n] > (uint)S)
                throw new ArgumentException($"targetLengths: entry {n} is {targetLengths[n]}, expected 0..S={S} (the targets' padded width)", nameof(targetLengths));
            for (int k = 0; k < targetLengths[n]; k++)
            {
                int c = targets[n * S + k];
                if ((uint)c >= (uint)C)
                    throw new ArgumentException($"targets: label {k} of sequence {n} is {c}, not a class in 0..{C - 1}", nameof(targets));
                if (c == blank)
                    throw new ArgumentException($"targets: label {k} of sequence {n} is the blank {blank}; a target holds only non-blank labels", nameof(targets));
            }
        }

        var lp = logProbs.Value.IsHost ? logProbs.Value.HostArray : logProbs.Value.ToArray();   // (T, N, C)
        bool needGrad = logProbs.RequiresGrad;
        var nll = new double[N];
        var slope = needGrad ? new float[lp.Length] : null;   // (T, N, C) d(nll_n)/d(lp) in PyTorch's form, before the reduction's scale
        var tgt = (int[])targets.Clone();
        var inLen = (int[])inputLengths.Clone();
        var tgLen = (int[])targetLengths.Clone();
        long work = 0;
        for (int n = 0; n < N; n++) work += (long)inLen[n] * (2 * tgLen[n] + 1 + C) * 8;
        TapeGemm.ForRanges(N, work, (n0, n1) =>
        {
            for (int n = n0; n < n1; n++)
                nll[n] = CtcSequence(lp, T, N, C, n, tgt.AsSpan(n * S, tgLen[n]), inLen[n], blank, zeroInfinity, slope);
        });

        // Per-sequence factor of the upstream gradient; the loss value, summed in double in sequence order.
        var scale = new double[N];
        float[] value;
        for (int n = 0; n < N; n++)
        {
            if (zeroInfinity && double.IsPositiveInfinity(nll[n])) nll[n] = 0;
            scale[n] = reduction == CtcReduction.Mean ? 1.0 / Math.Max(tgLen[n], 1) / N : 1.0;
        }
        if (reduction == CtcReduction.None)
        {
            value = new float[N];
            for (int n = 0; n < N; n++) value[n] = (float)nll[n];
        }
        else
        {
            double total = 0;
            for (int n = 0; n < N; n++) total += nll[n] * scale[n];
            value = [(float)total];
        }
        var y = Result(Tensor.FromArray(value, value.Length), logProbs);
        Record(() =>
        {
            var g = y.Grad!.Span;   // (1) or (N)
            var dlp = logProbs.GradForWrite(out bool acc);
            for (int t = 0; t < T; t++)
                for (int n = 0; n < N; n++)
                {
                    float f = (float)((reduction == CtcReduction.None ? g[n] : g[0]) * scale[n]);
                    var src = slope.AsSpan((t * N + n) * C, C);
                    var dst = dlp.Slice((t * N + n) * C, C);
                    if (acc) TensorPrimitives.MultiplyAdd(src, f, dst, dst);
                    else TensorPrimitives.Multiply(src, f, dst);
                }
        }, y);
        return y;
    }

    /// <summary>
    /// One sequence's negative log-likelihood; with <paramref name="slope"/>, also writes its PyTorch-form gradient rows
    /// (t, n, :) for every t (0 past the input length; 0 on an impossible alignment under zero_infinity, else NaN).
    /// </summary>
    private static double CtcSequence(float[] lp, int T, int N, int C, int n, ReadOnlySpan<int> labels, int Tn, int blank,
        bool zeroInfinity, float[]? slope)
    {
        int L = labels.Length, Sx = 2 * L + 1;
        int Label(int s, ReadOnlySpan<int> l) => (s & 1) == 0 ? blank : l[s >> 1];
        double Lp(int t, int c) => lp[(t * N + n) * C + c];

        double nll;
        double[]? alpha = null;   // (Tn, Sx)
        if (Tn == 0) nll = L == 0 ? 0 : double.PositiveInfinity;   // the empty path emits only the empty labelling
        else
        {
            alpha = new double[Tn * Sx];
            alpha.AsSpan().Fill(double.NegativeInfinity);
            alpha[0] = Lp(0, blank);
            if (Sx > 1) alpha[1] = Lp(0, labels[0]);
            for (int t = 1; t < Tn; t++)
            {
                int prev = (t - 1) * Sx, cur = t * Sx;
                for (int s = 0; s < Sx; s++)
                {
                    int c = Label(s, labels);
                    double a = alpha[prev + s];
                    if (s >= 1) a = LogAdd(a, alpha[prev + s - 1]);
                    if (s >= 2 && c != blank && c != Label(s - 2, labels)) a = LogAdd(a, alpha[prev + s - 2]);
                    alpha[cur + s] = a == double.NegativeInfinity ? a : a + Lp(t, c);
                }
            }
            int last = (Tn - 1) * Sx;
            double ll = alpha[last + Sx - 1];
            if (Sx > 1) ll = LogAdd(ll, alpha[last + Sx - 2]);
            nll = -ll;
        }
        if (slope == null) return nll;

        bool impossible = double.IsPositiveInfinity(nll);
        for (int t = 0; t < T; t++)
        {
            var row = slope.AsSpan((t * N + n) * C, C);
            if (t >= Tn || (impossible && zeroInfinity)) row.Clear();
            else if (impossible) row.Fill(float.NaN);   // PyTorch: exp(lp) - exp(-inf + inf - lp)
        }
        if (impossible || Tn == 0) return nll;

        var beta = new double[Tn * Sx];   // (Tn, Sx)
        beta.AsSpan().Fill(double.NegativeInfinity);
        int end = (Tn - 1) * Sx;
        beta[end + Sx - 1] = Lp(Tn - 1, Label(Sx - 1, labels));
        if (Sx > 1) beta[end + Sx - 2] = Lp(Tn - 1, Label(Sx - 2, labels));
        for (int t = Tn - 2; t >= 0; t--)
        {
            int next = (t + 1) * Sx, cur = t * Sx;
            for (int s = 0; s < Sx; s++)
            {
                int c = Label(s, labels);
                double b = beta[next + s];
                if (s + 1 < Sx) b = LogAdd(b, beta[next + s + 1]);
                if (s + 2 < Sx && c != blank && c != Label(s + 2, labels)) b = LogAdd(b, beta[next + s + 2]);
                beta[cur + s] = b == double.NegativeInfinity ? b : b + Lp(t, c);
            }
        }

        var lcab = new double[C];
        for (int t = 0; t < Tn; t++)
        {
            lcab.AsSpan().Fill(double.NegativeInfinity);
            for (int s = 0; s < Sx; s++)
            {
                int c = Label(s, labels);
                lcab[c] = LogAdd(lcab[c], alpha![t * Sx + s] + beta[t * Sx + s]);
            }
            var row = slope.AsSpan((t * N + n) * C, C);
            for (int c = 0; c < C; c++)
            {
                double l = Lp(t, c);
                row[c] = (float)(Math.Exp(l) - Math.Exp(lcab[c] + nll - l));
            }
        }
        return nll;
    }

    /// <summary>log(exp(a) + exp(b)) without overflow; -inf stands for probability 0.</summary>
    private static double LogAdd(double a, double b)
    {
        if (a == double.NegativeInfinity) return b;
        if (b == double.NegativeInfinity) return a;
        double hi = Math.Max(a, b), lo = Math.Min(a, b);
        return hi + Math.Log(1.0 + Math.Exp(lo - hi));
    }
}
