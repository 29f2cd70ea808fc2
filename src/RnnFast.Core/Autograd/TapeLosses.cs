// The tape's losses for the heads of sequence models: regression losses (MSE, L1, Huber) and multi-label
// BCE-with-logits, each the mean over every element like PyTorch's reduction='mean' (or a weighted mean, whose 0/1
// form masks padded elements), and softmax cross-entropy that ignores rows whose target is an ignore index (mean over
// the counted rows, PyTorch's ignore_index). Each op computes its per-element terms on the host, sums them in double
// in element order (the same value whatever the thread count) and keeps d(loss)/d(input) per element for backward.
// A mean over zero elements (every weight 0, every target ignored) is refused with an error where PyTorch gives NaN.
using System.Numerics.Tensors;

namespace RnnFast.Autograd;

/// <summary>Records tape ops in order and runs their backward rules in reverse (reverse-mode autodiff). Not thread-safe: one tape per training step and thread.</summary>
public sealed partial class Tape
{
    /// <summary>PyTorch's default ignore_index for cross-entropy: a target of -100 does not count.</summary>
    public const int DefaultIgnoreIndex = -100;

    private enum ElementLoss { Mse, L1, Huber, BceWithLogits }

    /// <summary>mean((prediction - target)^2) over every element -> shape (1,). <paramref name="target"/> has the prediction's shape.</summary>
    public Variable MseLoss(Variable prediction, Tensor target) =>
        ElementwiseLoss(ElementLoss.Mse, prediction, target, null, 0f);

    /// <summary>
    /// Weighted mean sum(w * (prediction - target)^2) / sum(w) -> shape (1,); <paramref name="weights"/> (the
    /// prediction's shape, finite, &gt;= 0, not all 0) with 0/1 entries is a mask: the mean over the selected elements.
    /// </summary>
    public Variable MseLoss(Variable prediction, Tensor target, Tensor weights) =>
        ElementwiseLoss(ElementLoss.Mse, prediction, target, weights ?? throw new ArgumentNullException(nameof(weights)), 0f);

    /// <summary>mean(|prediction - target|) -> shape (1,); the gradient is sign(r)/n with sign(0) = 0 (PyTorch's subgradient).</summary>
    public Variable L1Loss(Variable prediction, Tensor target) =>
        ElementwiseLoss(ElementLoss.L1, prediction, target, null, 0f);

    /// <summary>Weighted mean of |prediction - target| (see the weighted <see cref="MseLoss(Variable, Tensor, Tensor)"/>).</summary>
    public Variable L1Loss(Variable prediction, Tensor target, Tensor weights) =>
        ElementwiseLoss(ElementLoss.L1, prediction, target, weights ?? throw new ArgumentNullException(nameof(weights)), 0f);

    /// <summary>
    /// PyTorch's huber_loss, mean over every element -> shape (1,): with r = prediction - target, 0.5*r^2 where
    /// |r| &lt; <paramref name="delta"/>, else delta*(|r| - 0.5*delta); the gradient is r, clipped to [-delta, delta].
    /// </summary>
    public Variable HuberLoss(Variable prediction, Tensor target, float delta = 1f) =>
        ElementwiseLoss(ElementLoss.Huber, prediction, target, null, CheckDelta(delta));

    /// <summary>Weighted mean of the Huber terms (see the weighted <see cref="MseLoss(Variable, Tensor, Tensor)"/>).</summary>
    public Variable HuberLoss(Variable prediction, Tensor target, Tensor weights, float delta = 1f) =>
        ElementwiseLoss(ElementLoss.Huber, prediction, target, weights ?? throw new ArgumentNullException(nameof(weights)), CheckDelta(delta));

    /// <summary>
    /// Binary cross-entropy on logits x against targets y (usually 0/1; soft labels in [0,1] work too), mean over every
    /// element -> shape (1,): max(x,0) - x*y + log(1 + exp(-|x|)), finite for any finite x; the gradient is
    /// (sigmoid(x) - y)/n.
    /// </summary>
    public Variable BceWithLogitsLoss(Variable logits, Tensor target) =>
        ElementwiseLoss(ElementLoss.BceWithLogits, logits, target, null, 0f);

    /// <summary>Weighted mean of the BCE-with-logits terms (see the weighted <see cref="MseLoss(Variable, Tensor, Tensor)"/>).</summary>
    public Variable BceWithLogitsLoss(Variable logits, Tensor target, Tensor weights) =>
        ElementwiseLoss(ElementLoss.BceWithLogits, logits, target, weights ?? throw new ArgumentNullException(nameof(weights)), 0f);

    /// <summary>
    /// Mean softmax cross-entropy of <paramref name="logits"/> (M,C) (leading dims of (..., C) flattened into M)
    /// over the rows whose target is not <paramref name="ignoreIndex"/> -> shape (1,): PyTorch's cross_entropy with
    /// ignore_index (<see cref="DefaultIgnoreIndex"/> is its default) and reduction='mean'. Ignored rows get zero
    /// gradient. Every other target must be a class in 0..C-1. When every target is ignored the mean is over zero
    /// rows (PyTorch returns NaN): this is refused with an ArgumentException instead of poisoning the weights.
    /// </summary>
    public Variable CrossEntropy(Variable logits, int[] targets, int ignoreIndex)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (logits.Value.Rank < 2)
            throw new ArgumentException($"logits: expected (M,C), found {Tensor.FormatShape(logits.Shape)}", nameof(logits));
        int C = logits.Shape[^1];
        int M = C == 0 ? 0 : logits.Value.Length / C;
        if (M == 0 || C == 0)
            throw new ArgumentException($"logits: empty {Tensor.FormatShape(logits.Shape)}", nameof(logits));
        if (targets.Length != M)
            throw new ArgumentException($"targets: expected {M} entries (one per row of logits {Tensor.FormatShape(logits.Shape)}), found {targets.Length}", nameof(targets));
        int counted = 0;
        for (int m = 0; m < M; m++)
        {
            int t = targets[m];
            if (t == ignoreIndex) continue;
            if ((uint)t >= (uint)C)
                throw new ArgumentException($"targets: target {t} at index {m} is neither a class in 0..{C - 1} nor the ignore index {ignoreIndex}", nameof(targets));
            counted++;
        }
        if (counted == 0)
            throw new ArgumentException(
                $"targets: all {M} targets equal the ignore index {ignoreIndex}: the mean over zero targets is undefined (PyTorch returns NaN); skip this batch",
                nameof(targets));

        var tgt = (int[])targets.Clone();
        var X = logits.Value.IsHost ? logits.Value.HostArray : logits.Value.ToArray();   // (M, C)
        var probs = new float[M * C];     // (M, C) softmax of the counted rows (ignored rows stay 0), kept for backward
        var rowLoss = new double[M];      // (M) log-sum-exp minus the target's logit; 0 for ignored rows
        TapeGemm.ForRanges(M, (long)M * C * 8, (m0, m1) =>
        {
            for (int m = m0; m < m1; m++)
            {
                if (tgt[m] == ignoreIndex) continue;
                var row = X.AsSpan(m * C, C);
                var p = probs.AsSpan(m * C, C);
                float max = TensorPrimitives.Max(row);
                TensorPrimitives.Subtract(row, max, p);
                TensorPrimitives.Exp(p, p);
                float sum = TensorPrimitives.Sum(p);
                TensorPrimitives.Multiply(p, 1f / sum, p);
                rowLoss[m] = max + Math.Log(sum) - row[tgt[m]];
            }
        });
        double total = 0;
        foreach (var l in rowLoss) total += l; // in row order: the same value whatever the thread count
        var y = Result(Tensor.FromArray([(float)(total / counted)], 1), logits);
        Record(() =>
        {
            float g = y.Grad!.Span[0] / counted;
            // dx (+)= g * (softmax - onehot(target)) on counted rows, 0 on ignored rows (probs is 0 there)
            logits.GradForWrite(out bool acc);
            var dX = logits.Grad!.HostArray; // (M, C)
            TapeGemm.ForRanges(M, (long)M * C * 2, (m0, m1) =>
            {
                var dx = dX.AsSpan(m0 * C, (m1 - m0) * C);
                var pr = probs.AsSpan(m0 * C, (m1 - m0) * C);
                if (acc) TensorPrimitives.MultiplyAdd(pr, g, dx, dx);
                else TensorPrimitives.Multiply(pr, g, dx);
                for (int m = m0; m < m1; m++)
                    if (tgt[m] != ignoreIndex) dx[(m - m0) * C + tgt[m]] -= g;
            });
        }, y);
        return y;
    }

    private static float CheckDelta(float delta)
    {
        if (!(delta > 0f) || float.IsInfinity(delta))
            throw new ArgumentException($"delta: the Huber threshold must be finite and > 0, got {delta}", nameof(delta));
        return delta;
    }

    /// <summary>
    /// The elementwise losses: terms summed in double (weighted by <paramref name="weights"/> when given), divided by
    /// the element count (or the weights' sum); slope[i] = d(loss)/d(x[i]) is kept for backward.
    /// </summary>
    private Variable ElementwiseLoss(ElementLoss kind, Variable prediction, Tensor target, Tensor? weights, float delta)
    {
        string predName = kind == ElementLoss.BceWithLogits ? "logits" : "prediction";
        if (prediction == null) throw new ArgumentNullException(predName);
        ArgumentNullException.ThrowIfNull(target);
        if (!target.SameShape(prediction.Value))
            throw new ArgumentException($"target: expected the {predName}'s shape {Tensor.FormatShape(prediction.Shape)}, found {Tensor.FormatShape(target.Shape)}", nameof(target));
        if (weights != null && !weights.SameShape(prediction.Value))
            throw new ArgumentException($"weights: expected the {predName}'s shape {Tensor.FormatShape(prediction.Shape)}, found {Tensor.FormatShape(weights.Shape)}", nameof(weights));
        int n = prediction.Value.Length;
        if (n == 0)
            throw new ArgumentException($"{predName}: empty {Tensor.FormatShape(prediction.Shape)}: the mean over zero elements is undefined", predName);

        var X = prediction.Value.IsHost ? prediction.Value.HostArray : prediction.Value.ToArray();
        var Y = target.IsHost ? target.HostArray : target.ToArray();
        float[]? W = weights == null ? null : weights.IsHost ? weights.HostArray : weights.ToArray();

        double denominator = n;
        if (W != null)
        {
            double sum = 0;
            for (int i = 0; i < W.Length; i++)
            {
                if (!(W[i] >= 0f) || float.IsInfinity(W[i]))
                    throw new ArgumentException($"weights: entry {i} is {W[i]}; weights must be finite and >= 0", nameof(weights));
                sum += W[i];
            }
            if (sum == 0)
                throw new ArgumentException($"weights: all {n} weights are 0: the weighted mean over no element is undefined (PyTorch would give NaN)", nameof(weights));
            denominator = sum;
        }

        var slope = new float[n];         // d(loss)/d(x_i) = w_i * d(term_i)/d(x_i) / denominator
        double inv = 1.0 / denominator;
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            float x = X[i], t = Y[i];
            double term, d;
            switch (kind)
            {
                case ElementLoss.Mse:
                {
                    float r = x - t;
                    term = (double)r * r;
                    d = 2.0 * r;
                    break;
                }
                case ElementLoss.L1:
                {
                    float r = x - t;
                    term = Math.Abs(r);
                    d = r > 0f ? 1 : r < 0f ? -1 : r == 0f ? 0 : double.NaN;   // sign, 0 at 0, NaN stays NaN
                    break;
                }
                case ElementLoss.Huber:
                {
                    float r = x - t;
                    float a = Math.Abs(r);
                    if (a < delta)
                    {
                        term = 0.5 * r * r;
                        d = r;
                    }
                    else
                    {
                        term = delta * (a - 0.5 * delta);
                        d = r > 0f ? delta : -delta;
                    }
                    break;
                }
                default: // BceWithLogits: max(x,0) - x*t + log(1 + exp(-|x|)); d = sigmoid(x) - t
                {
                    double e = Math.Exp(-Math.Abs((double)x));             // in (0, 1]: never overflows
                    term = Math.Max(x, 0.0) - (double)x * t + Log1p(e);
                    double sig = x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
                    d = sig - t;
                    break;
                }
            }
            if (W != null)
            {
                term *= W[i];
                d *= W[i];
            }
            total += term;
            slope[i] = (float)(d * inv);
        }

        var y = Result(Tensor.FromArray([(float)(total / denominator)], 1), prediction);
        Record(() =>
        {
            float g = y.Grad!.Span[0];
            var dx = prediction.GradForWrite(out bool acc);   // dx (+)= g * slope
            if (acc) TensorPrimitives.MultiplyAdd(slope, g, dx, dx);
            else TensorPrimitives.Multiply(slope, g, dx);
        }, y);
        return y;
    }

    /// <summary>log(1 + u) for u in [0, 1], accurate when u is tiny (where 1 + u rounds to 1).</summary>
    private static double Log1p(double u)
    {
        double w = 1.0 + u;
        return w == 1.0 ? u : Math.Log(w) * u / (w - 1.0);
    }
}
