// The tape's losses (TapeLosses.cs) on tiny hand-computed examples: value and gradient of MSE, L1 (sign, 0 at 0),
// Huber on both sides of delta, BCE-with-logits (finite at large |x|), weighted/masked means, cross-entropy with an
// ignore index (ignored rows get no gradient; all ignored is refused), the upstream gradient scaling every rule,
// accumulation into a gradient that already holds values, finite differences, and the argument errors.
using RnnFast.Autograd;
using Xunit;

namespace RnnFast.Tests;

public sealed class LossTests
{
    private const double Tol = 1e-6;

    private static Variable P(params float[] v) => Variable.Parameter(Tensor.FromArray(v, v.Length), "prediction");
    private static Tensor T(params float[] v) => Tensor.FromArray(v, v.Length);

    private static void Close(double expected, double actual, double tol = Tol) =>
        Assert.True(Math.Abs(expected - actual) <= tol * (1 + Math.Abs(expected)), $"expected {expected}, found {actual}");

    private static void Close(double[] expected, float[] actual, double tol = Tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * (1 + Math.Abs(expected[i])), $"element {i}: expected {expected[i]}, found {actual[i]}");
    }

    /// <summary>Runs backward from loss and returns (loss value, d loss / d p).</summary>
    private static (double Loss, float[] Grad) Run(Func<Tape, Variable, Variable> loss, float[] p)
    {
        var tape = new Tape();
        var x = P(p);
        var l = loss(tape, x);
        Assert.Equal(new[] { 1 }, l.Shape);
        tape.Backward(l);
        return (l.Value.Span[0], x.Grad!.ToArray());
    }

    [Fact]
    public void Mse_is_the_mean_squared_residual()
    {
        // r = [1, 0, -2, -1]: mean r^2 = 6/4; gradient 2r/4
        var (loss, grad) = Run((t, x) => t.MseLoss(x, T(0, 2, 1, 1.5f)), [1, 2, -1, 0.5f]);
        Close(1.5, loss);
        Close([0.5, 0, -1, -0.5], grad);
    }

    [Fact]
    public void L1_gradient_is_the_sign_with_zero_at_zero()
    {
        // r = [1, 0, -2, -1]: mean |r| = 4/4; gradient sign(r)/4, 0 where r = 0
        var (loss, grad) = Run((t, x) => t.L1Loss(x, T(0, 2, 1, 1.5f)), [1, 2, -1, 0.5f]);
        Close(1.0, loss);
        Close([0.25, 0, -0.25, -0.25], grad);
    }

    [Fact]
    public void Huber_is_quadratic_inside_delta_and_linear_outside()
    {
        // delta 1, r = [0.5, -0.5, 2, -3]: terms 0.125, 0.125, 2 - 0.5, 3 - 0.5 -> mean 4.25/4; gradient clip(r, -1, 1)/4
        var (loss, grad) = Run((t, x) => t.HuberLoss(x, T(0, 0, 0, 0)), [0.5f, -0.5f, 2, -3]);
        Close(4.25 / 4, loss);
        Close([0.125, -0.125, 0.25, -0.25], grad);

        // delta 2, r = [1, -3]: 0.5 and 2*(3 - 1) -> mean 2.25; gradient [1, -2]/2
        (loss, grad) = Run((t, x) => t.HuberLoss(x, T(1, 1), delta: 2f), [2, -2]);
        Close(2.25, loss);
        Close([0.5, -1], grad);
    }

    [Fact]
    public void Huber_with_a_large_delta_equals_half_the_mse()
    {
        float[] p = [0.3f, -1.7f, 2.5f], y = [0, 0.2f, -1];
        var (huber, gh) = Run((t, x) => t.HuberLoss(x, T(y), delta: 100f), p);
        var (mse, gm) = Run((t, x) => t.MseLoss(x, T(y)), p);
        Close(mse / 2, huber);
        Close(gm.Select(g => g / 2.0).ToArray(), gh);
    }

    [Fact]
    public void Bce_with_logits_matches_the_log_sigmoid_formula()
    {
        float[] x = [0, 2, -1, 0.5f], y = [1, 0, 1, 0.25f];
        var (loss, grad) = Run((t, v) => t.BceWithLogitsLoss(v, T(y)), x);
        double want = 0;
        var wantGrad = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double s = 1 / (1 + Math.Exp(-x[i]));
            want += -(y[i] * Math.Log(s) + (1 - y[i]) * Math.Log(1 - s));
            wantGrad[i] = (s - y[i]) / x.Length;
        }
        Close(want / x.Length, loss);
        Close(wantGrad, grad);
        Close(Math.Log(2), Run((t, v) => t.BceWithLogitsLoss(v, T(1)), [0]).Loss);
    }

    [Fact]
    public void Bce_with_logits_stays_finite_at_large_logits()
    {
        // Right with confidence: ~0 (e^-100, not 0 by underflow of log(sigmoid)); wrong with confidence: |x|.
        var (loss, grad) = Run((t, v) => t.BceWithLogitsLoss(v, T(1, 0, 0, 1)), [100, -100, 1e4f, -1e4f]);
        Assert.True(double.IsFinite(loss));
        Close((2 * Math.Exp(-100) + 2e4) / 4, loss);
        Close([0, 0, 0.25, -0.25], grad);
        Assert.All(grad, g => Assert.True(float.IsFinite(g)));

        // A single confidently right element: the loss is e^-30 (log1p accuracy), not 0.
        var right = Run((t, v) => t.BceWithLogitsLoss(v, T(1)), [30]).Loss;
        Assert.InRange(right / Math.Exp(-30), 1 - 1e-6, 1 + 1e-6);
    }

    [Fact]
    public void Weights_make_a_weighted_mean_and_a_mask()
    {
        // mask [1, 0, 1, 0] over r = [1, 0, -2, -1]: mean over the two selected elements (1 + 4)/2; gradient 2r/2 there, 0 elsewhere
        var (loss, grad) = Run((t, x) => t.MseLoss(x, T(0, 2, 1, 1.5f), T(1, 0, 1, 0)), [1, 2, -1, 0.5f]);
        Close(2.5, loss);
        Close([1, 0, -2, 0], grad);

        // weights [3, 1] over |r| = [1, 2]: (3*1 + 1*2)/4; gradient w*sign(r)/4
        (loss, grad) = Run((t, x) => t.L1Loss(x, T(0, 0), T(3, 1)), [1, -2]);
        Close(5.0 / 4, loss);
        Close([0.75, -0.25], grad);

        // all-ones weights: the plain mean, for every loss
        float[] p = [0.2f, -1.5f, 3], y = [1, 0, 1];
        Close(Run((t, x) => t.HuberLoss(x, T(y)), p).Loss, Run((t, x) => t.HuberLoss(x, T(y), T(1, 1, 1)), p).Loss);
        Close(Run((t, x) => t.BceWithLogitsLoss(x, T(y)), p).Loss, Run((t, x) => t.BceWithLogitsLoss(x, T(y), T(1, 1, 1)), p).Loss);
    }

    [Fact]
    public void Upstream_gradient_scales_and_existing_gradient_accumulates()
    {
        // loss = 3*mse(p) + l1(p): the mse rule sees g = 3; both rules add into the same p.Grad.
        var tape = new Tape();
        var x = P(1, 2, -1, 0.5f);
        var y = T(0, 2, 1, 1.5f);
        var loss = tape.Add(tape.Scale(tape.MseLoss(x, y), 3f), tape.L1Loss(x, y));
        tape.Backward(loss);
        Close(3 * 1.5 + 1.0, loss.Value.Span[0]);
        Close([3 * 0.5 + 0.25, 0, 3 * -1 - 0.25, 3 * -0.5 - 0.25], x.Grad!.ToArray());

        // a second backward adds the same again (the gradient buffer is reused, never overwritten)
        tape.Backward(loss);
        Close([2 * (3 * 0.5 + 0.25), 0, 2 * (3 * -1 - 0.25), 2 * (3 * -0.5 - 0.25)], x.Grad!.ToArray());
    }

    public static IEnumerable<object[]> LossKinds() => new[] { "mse", "l1", "huber", "bce", "ce" }.Select(k => new object[] { k });

    [Theory]
    [MemberData(nameof(LossKinds))]
    public void Gradients_match_finite_differences(string kind)
    {
        // Residuals keep away from the kinks (0 for L1, +-delta for Huber) so central differences are valid.
        float[] p = [0.9f, -1.4f, 2.3f, -0.35f, 0.6f, -2.8f];
        float[] y = [0, 0, 1, 0, 1, 1];
        int[] classes = [1, -100, 0];
        Variable Loss(Tape t, Variable x) => kind switch
        {
            "mse" => t.MseLoss(x, T(y)),
            "l1" => t.L1Loss(x, T(y)),
            "huber" => t.HuberLoss(x, T(y), delta: 1.5f),
            "bce" => t.BceWithLogitsLoss(x, T(y)),
            _ => t.CrossEntropy(t.Reshape(x, 3, 2), classes, Tape.DefaultIgnoreIndex),
        };
        var (_, grad) = Run(Loss, p);
        const float h = 1e-2f;
        for (int i = 0; i < p.Length; i++)
        {
            var plus = (float[])p.Clone();
            var minus = (float[])p.Clone();
            plus[i] += h;
            minus[i] -= h;
            double fd = (Run(Loss, plus).Loss - Run(Loss, minus).Loss) / (2 * h);
            Assert.True(Math.Abs(fd - grad[i]) <= 2e-3, $"{kind}: d/dp[{i}] analytic {grad[i]}, finite difference {fd}");
        }
        Assert.Contains(grad, g => Math.Abs(g) > 1e-3);
    }

    [Fact]
    public void Cross_entropy_ignores_rows_with_the_ignore_index()
    {
        // rows [0,0] -> class 0 and [1,3] -> class 1 count; the middle row is ignored: mean of log 2 and log(1 + e^-2)
        var tape = new Tape();
        var logits = Variable.Parameter(Tensor.FromArray([0, 0, 5, -7, 1, 3], 3, 2));
        var loss = tape.CrossEntropy(logits, [0, -100, 1], Tape.DefaultIgnoreIndex);
        tape.Backward(loss);
        Close((Math.Log(2) + Math.Log(1 + Math.Exp(-2))) / 2, loss.Value.Span[0]);
        double s = 1 / (1 + Math.Exp(2)); // softmax([1,3])[0]
        Close([-0.25, 0.25, 0, 0, s / 2, -s / 2], logits.Grad!.ToArray());
    }

    [Fact]
    public void Cross_entropy_without_ignored_rows_equals_the_plain_one()
    {
        var rng = new Random(14);
        var data = Enumerable.Range(0, 5 * 7).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
        int[] targets = [6, 0, 3, 3, 1];
        var a = Variable.Parameter(Tensor.FromArray((float[])data.Clone(), 5, 7));
        var b = Variable.Parameter(Tensor.FromArray((float[])data.Clone(), 5, 7));
        var tape = new Tape();
        var la = tape.CrossEntropy(a, targets);
        var lb = tape.CrossEntropy(b, targets, Tape.DefaultIgnoreIndex);
        tape.Backward(tape.Add(la, lb));
        Assert.Equal(la.Value.Span[0], lb.Value.Span[0]);
        Assert.Equal(a.Grad!.ToArray(), b.Grad!.ToArray());

        // and with ignored rows, it equals the plain one over the kept rows only
        var kept = Variable.Parameter(Tensor.FromArray(data.AsSpan(0, 2 * 7).ToArray().Concat(data.AsSpan(4 * 7, 7).ToArray()).ToArray(), 3, 7));
        var c = Variable.Parameter(Tensor.FromArray((float[])data.Clone(), 5, 7));
        tape = new Tape();
        var lk = tape.CrossEntropy(kept, [6, 0, 1]);
        var lc = tape.CrossEntropy(c, [6, 0, -1, -1, 1], ignoreIndex: -1);
        tape.Backward(tape.Add(lk, lc));
        Close(lk.Value.Span[0], lc.Value.Span[0], 1e-7);
        var gc = c.Grad!.ToArray();
        var gk = kept.Grad!.ToArray();
        Close(gk.AsSpan(0, 14).ToArray().Select(v => (double)v).ToArray(), gc.AsSpan(0, 14).ToArray(), 1e-7);
        Close(gk.AsSpan(14, 7).ToArray().Select(v => (double)v).ToArray(), gc.AsSpan(28, 7).ToArray(), 1e-7);
        Assert.All(gc.AsSpan(14, 14).ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void Cross_entropy_ignore_index_may_be_a_class()
    {
        // ignoreIndex 0: the rows whose target is class 0 do not count (PyTorch allows this too)
        var tape = new Tape();
        var logits = Variable.Parameter(Tensor.FromArray([2, 0, 1, 3], 2, 2));
        var loss = tape.CrossEntropy(logits, [0, 1], ignoreIndex: 0);
        tape.Backward(loss);
        Close(Math.Log(1 + Math.Exp(-2)), loss.Value.Span[0]);
        Assert.Equal(0f, logits.Grad!.Span[0]);
        Assert.Equal(0f, logits.Grad!.Span[1]);
    }

    [Fact]
    public void Cross_entropy_with_every_target_ignored_is_refused()
    {
        // PyTorch returns NaN (0/0) here; we refuse instead, so a NaN never reaches the optimizer.
        var logits = Variable.Parameter(Tensor.FromArray([1, 2, 3, 4], 2, 2));
        var e = Assert.Throws<ArgumentException>(() => new Tape().CrossEntropy(logits, [-100, -100], Tape.DefaultIgnoreIndex));
        Assert.Equal("targets", e.ParamName);
        Assert.Contains("all 2 targets equal the ignore index -100", e.Message);
    }

    [Fact]
    public void Bad_arguments_name_the_parameter_and_the_shapes()
    {
        var tape = new Tape();
        var x = Variable.Parameter(Tensor.FromArray(new float[6], 2, 3));

        var e = Assert.Throws<ArgumentException>(() => tape.MseLoss(x, Tensor.FromArray(new float[6], 3, 2)));
        Assert.Equal("target", e.ParamName);
        Assert.Contains("(2,3)", e.Message);
        Assert.Contains("(3,2)", e.Message);

        e = Assert.Throws<ArgumentException>(() => tape.BceWithLogitsLoss(x, Tensor.FromArray(new float[6], 6)));
        Assert.Equal("target", e.ParamName);
        Assert.Contains("logits", e.Message);

        e = Assert.Throws<ArgumentException>(() => tape.L1Loss(x, Tensor.FromArray(new float[6], 2, 3), Tensor.FromArray(new float[3], 3)));
        Assert.Equal("weights", e.ParamName);
        Assert.Contains("(3,)", e.Message);

        e = Assert.Throws<ArgumentException>(() => tape.MseLoss(x, Tensor.FromArray(new float[6], 2, 3), Tensor.FromArray(new float[6], 2, 3)));
        Assert.Equal("weights", e.ParamName);
        Assert.Contains("all 6 weights are 0", e.Message);

        e = Assert.Throws<ArgumentException>(() => tape.MseLoss(x, Tensor.FromArray(new float[6], 2, 3), Tensor.FromArray([1, 1, -1, 1, 1, 1], 2, 3)));
        Assert.Equal("weights", e.ParamName);
        Assert.Contains("entry 2", e.Message);

        foreach (var delta in new[] { 0f, -1f, float.NaN, float.PositiveInfinity })
        {
            e = Assert.Throws<ArgumentException>(() => tape.HuberLoss(x, Tensor.FromArray(new float[6], 2, 3), delta));
            Assert.Equal("delta", e.ParamName);
        }

        e = Assert.Throws<ArgumentException>(() => tape.CrossEntropy(x, [0, 3], Tape.DefaultIgnoreIndex));
        Assert.Equal("targets", e.ParamName);
        Assert.Contains("target 3 at index 1", e.Message);
        e = Assert.Throws<ArgumentException>(() => tape.CrossEntropy(x, [0, 1, 2], Tape.DefaultIgnoreIndex));
        Assert.Equal("targets", e.ParamName);
        Assert.Contains("expected 2 entries", e.Message);
        Assert.Throws<ArgumentNullException>(() => tape.MseLoss(null!, Tensor.FromArray(new float[6], 2, 3)));
        Assert.Throws<ArgumentNullException>(() => tape.MseLoss(x, null!));
    }

    [Fact]
    public void Losses_of_constants_record_nothing()
    {
        var tape = new Tape();
        var c = Variable.Constant(Tensor.FromArray([1, 2], 2));
        var l = tape.MseLoss(c, T(0, 0));
        Close(2.5, l.Value.Span[0]);
        Assert.False(l.RequiresGrad);
        Assert.Equal(0, tape.Count);
    }
}
