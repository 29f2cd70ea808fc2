// Tests of the optimizers (SGD, momentum/Nesterov, Adam, Adagrad) against double-precision re-implementations of
// PyTorch's update formulas on a 3-element parameter, their state/resume hooks, argument checks, and gradient
// clipping by global norm.
using RnnFast.Autograd;
using RnnFast.Optim;
using Xunit;

namespace RnnFast.Tests;

public class OptimizerTests
{
    private static readonly double[] P0 = [0.5, -1.25, 2.0];

    private static readonly double[][] Grads =
    [
        [0.1, -0.3, 0.25],
        [-0.2, 0.05, 0.4],
        [0.3, 0.3, -0.1],
        [0.01, -0.6, 0.2],
    ];

    private static Variable NewParam() => Variable.Parameter(Tensor.FromArray(P0.Select(v => (float)v).ToArray(), 3));

    private static void SetGrad(Variable p, double[] g) => p.Grad = Tensor.FromArray(g.Select(v => (float)v).ToArray(), 3);

    private static void AssertClose(double[] expect, Variable p, double tol = 1e-5)
    {
        var got = p.Value.ToArray();
        for (int i = 0; i < 3; i++)
            Assert.True(Math.Abs(expect[i] - got[i]) <= tol * (1 + Math.Abs(expect[i])), $"element {i}: expected {expect[i]:G8}, got {got[i]:G8}");
    }

    [Theory]
    [InlineData(0.0, 0.0, false)]
    [InlineData(0.9, 0.0, false)]
    [InlineData(0.9, 0.01, false)]
    [InlineData(0.5, 0.1, true)]
    public void Sgd_MatchesTorchFormula(double momentum, double wd, bool nesterov)
    {
        const double lr = 0.1;
        var p = NewParam();
        var opt = new Sgd([p], lr, momentum, wd, nesterov);
        var x = (double[])P0.Clone();
        double[]? buf = null;
        foreach (var g in Grads)
        {
            SetGrad(p, g);
            opt.Step();
            var d = new double[3];
            for (int i = 0; i < 3; i++) d[i] = g[i] + wd * x[i];
            if (momentum != 0)
            {
                if (buf == null) buf = (double[])d.Clone();
                else for (int i = 0; i < 3; i++) buf[i] = momentum * buf[i] + d[i];
                for (int i = 0; i < 3; i++) d[i] = nesterov ? d[i] + momentum * buf[i] : buf[i];
            }
            for (int i = 0; i < 3; i++) x[i] -= lr * d[i];
            AssertClose(x, p);
        }
        Assert.Equal(Grads.Length, opt.StepCount);
        Assert.Equal(momentum != 0 ? new[] { "momentum_buffer.0" } : [], opt.StateTensors().Keys.ToArray());
    }

    [Theory]
    [InlineData(1e-2, 0.9, 0.999, 1e-8, 0.0)]
    [InlineData(5e-2, 0.8, 0.99, 1e-3, 0.1)]
    public void Adam_MatchesTorchFormula(double lr, double beta1, double beta2, double eps, double wd)
    {
        var p = NewParam();
        var opt = new Adam([p], lr, beta1, beta2, eps, wd);
        var x = (double[])P0.Clone();
        var m = new double[3];
        var v = new double[3];
        int t = 0;
        foreach (var g0 in Grads)
        {
            SetGrad(p, g0);
            opt.Step();
            t++;
            for (int i = 0; i < 3; i++)
            {
                double g = g0[i] + wd * x[i];
                m[i] = beta1 * m[i] + (1 - beta1) * g;
                v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                double stepSize = lr / (1 - Math.Pow(beta1, t));
                double denom = Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(beta2, t)) + eps;
                x[i] -= stepSize * m[i] / denom;
            }
            AssertClose(x, p);
        }
        var state = opt.StateTensors();
        Assert.Equal(new[] { "step.0", "exp_avg.0", "exp_avg_sq.0" }, state.Keys.ToArray());
        Assert.Equal(Grads.Length, state["step.0"].Span[0]);
        for (int i = 0; i < 3; i++) Assert.True(Math.Abs(m[i] - state["exp_avg.0"].Span[i]) <= 1e-6, $"exp_avg[{i}]");
    }

    [Theory]
    [InlineData(0.1, 0.0, 0.0, 0.0, 1e-10)]
    [InlineData(0.5, 0.2, 0.05, 0.1, 1e-6)]
    public void Adagrad_MatchesTorchFormula(double lr, double lrDecay, double wd, double init, double eps)
    {
        var p = NewParam();
        var opt = new Adagrad([p], lr, lrDecay, wd, init, eps);
        var x = (double[])P0.Clone();
        var sum = new[] { init, init, init };
        int t = 0;
        foreach (var g0 in Grads)
        {
            SetGrad(p, g0);
            opt.Step();
            t++;
            double clr = lr / (1 + (t - 1) * lrDecay);
            for (int i = 0; i < 3; i++)
            {
                double g = g0[i] + wd * x[i];
                sum[i] += g * g;
                x[i] -= clr * g / (Math.Sqrt(sum[i]) + eps);
            }
            AssertClose(x, p);
        }
        Assert.Equal(new[] { "step.0", "sum.0" }, opt.StateTensors().Keys.ToArray());
    }

    [Fact]
    public void Step_SkipsParametersWithoutGrad_AndMarksUpdatedOnesChanged()
    {
        var a = NewParam();
        var b = NewParam();
        var opt = new Adam([a, b], lr: 0.1);
        SetGrad(a, Grads[0]);
        int va = a.Value.Version, vb = b.Value.Version;
        opt.Step();
        Assert.Equal(va + 1, a.Value.Version);
        Assert.Equal(vb, b.Value.Version);
        Assert.Equal(P0.Select(v => (float)v), b.Value.ToArray());
        Assert.Equal(1f, opt.StateTensors()["step.0"].Span[0]);
        Assert.Equal(0f, opt.StateTensors()["step.1"].Span[0]);

        opt.ZeroGrad();
        Assert.Null(a.Grad);
    }

    [Fact]
    public void ZeroGrad_KeepsTheGradientBuffer_AndTheNextBackwardRefillsIt()
    {
        var p = NewParam();
        var opt = new Sgd([p], lr: 0.1);
        var w = Tensor.FromArray([1f, -2f, 3f], 3);
        void Backward()
        {
            var tape = new Tape();
            tape.Backward(tape.Sum(tape.Mul(p, Variable.Constant(w)))); // d/dp = w
        }

        Backward();
        var buffer = p.Grad!;
        Assert.Equal(w.ToArray(), buffer.ToArray());
        opt.Step();
        opt.ZeroGrad();
        Assert.Null(p.Grad);              // PyTorch's set_to_none as seen from outside
        Backward();
        Assert.Same(buffer, p.Grad);      // ... but the buffer is reused
        Assert.Equal(w.ToArray(), buffer.ToArray()); // holding this step's gradient only (not 2w)
        opt.Step();
        AssertClose(P0.Select((v, i) => v - 0.2 * w.Span[i]).ToArray(), p);
    }

    [Fact]
    public void Adam_ResumeFromStateTensors_ContinuesIdentically()
    {
        var a = NewParam();
        var optA = new Adam([a], lr: 0.05);
        foreach (var g in Grads.Take(2)) { SetGrad(a, g); optA.Step(); }

        // A fresh optimizer on a copy of the parameter, restored from the saved state.
        var b = Variable.Parameter(a.Value.Clone());
        var optB = new Adam([b], lr: 0.05);
        foreach (var (name, t) in optA.StateTensors()) t.Span.CopyTo(optB.StateTensors()[name].Span);
        optB.StepCount = optA.StepCount;

        foreach (var g in Grads.Skip(2))
        {
            SetGrad(a, g); optA.Step();
            SetGrad(b, g); optB.Step();
        }
        Assert.Equal(a.Value.ToArray(), b.Value.ToArray());

        // Setting StepCount alone (no state copy of step.i) sets the per-parameter counters too.
        var c = NewParam();
        var optC = new Adagrad([c]);
        optC.StepCount = 7;
        Assert.Equal(7f, optC.StateTensors()["step.0"].Span[0]);
    }

    [Fact]
    public void InvalidHyperparameters_ThrowNamingTheArgument()
    {
        var p = new[] { NewParam() };
        Assert.Equal("lr", Assert.Throws<ArgumentException>(() => new Sgd(p, -1)).ParamName);
        Assert.Equal("momentum", Assert.Throws<ArgumentException>(() => new Sgd(p, 0.1, momentum: -0.5)).ParamName);
        Assert.Equal("weightDecay", Assert.Throws<ArgumentException>(() => new Sgd(p, 0.1, weightDecay: -1)).ParamName);
        Assert.Equal("nesterov", Assert.Throws<ArgumentException>(() => new Sgd(p, 0.1, nesterov: true)).ParamName);
        Assert.Equal("lr", Assert.Throws<ArgumentException>(() => new Adam(p, lr: double.NaN)).ParamName);
        Assert.Equal("beta1", Assert.Throws<ArgumentException>(() => new Adam(p, beta1: 1.0)).ParamName);
        Assert.Equal("beta2", Assert.Throws<ArgumentException>(() => new Adam(p, beta2: -0.1)).ParamName);
        Assert.Equal("eps", Assert.Throws<ArgumentException>(() => new Adam(p, eps: -1e-8)).ParamName);
        Assert.Equal("weightDecay", Assert.Throws<ArgumentException>(() => new Adam(p, weightDecay: -1)).ParamName);
        Assert.Equal("lrDecay", Assert.Throws<ArgumentException>(() => new Adagrad(p, lrDecay: -1)).ParamName);
        Assert.Equal("initialAccumulatorValue", Assert.Throws<ArgumentException>(() => new Adagrad(p, initialAccumulatorValue: -1)).ParamName);
        Assert.Equal("eps", Assert.Throws<ArgumentException>(() => new Adagrad(p, eps: -1)).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentException>(() => new Adam([])).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentException>(() => new Adam([p[0], p[0]])).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentException>(() => new Adam([Variable.Constant(Tensor.Zeros(2))])).ParamName);
        var opt = new Adam(p);
        Assert.Throws<ArgumentException>(() => opt.LearningRate = -0.1);
        Assert.Throws<ArgumentException>(() => opt.StepCount = -1);
    }

    [Fact]
    public void ClipGradNorm_ReturnsPreClipNorm_AndClipsToMaxNorm()
    {
        var a = Variable.Parameter(Tensor.Zeros(2));
        var b = Variable.Parameter(Tensor.Zeros(3));
        var none = Variable.Parameter(Tensor.Zeros(4)); // no grad: ignored
        a.Grad = Tensor.FromArray([3f, -4f], 2);
        b.Grad = Tensor.FromArray([12f, 0f, 0f], 3);
        double norm = GradClip.ClipGradNorm([a, b, none], 2.0);
        Assert.Equal(13.0, norm, 6);
        double after = Math.Sqrt(a.Grad.ToArray().Concat(b.Grad.ToArray()).Sum(v => (double)v * v));
        Assert.True(Math.Abs(after - 2.0) <= 1e-5, $"post-clip norm {after}");
        Assert.Equal(3.0 * 2.0 / 13.0, a.Grad.Span[0], 5);
        Assert.Null(none.Grad);

        // Below the threshold: unchanged.
        double norm2 = GradClip.ClipGradNorm([a, b], 5.0);
        Assert.Equal(2.0, norm2, 5);
        Assert.Equal(after, Math.Sqrt(a.Grad.ToArray().Concat(b.Grad.ToArray()).Sum(v => (double)v * v)), 6);
        Assert.Equal("maxNorm", Assert.Throws<ArgumentException>(() => GradClip.ClipGradNorm([a], -1)).ParamName);
    }

    [Fact]
    public void Adam_TrainsASmallRegressionOnTheTape()
    {
        // y = x W^T + b fitted to a fixed linear target: the loss must drop by orders of magnitude.
        var rng = new Random(5);
        var lin = new Autograd.Linear(3, 2, rng);
        var x = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (float)Math.Sin(i * 0.7)).ToArray(), 8, 3);
        var target = Tensor.Zeros(8, 2);
        for (int m = 0; m < 8; m++)
        {
            target.Span[m * 2] = 0.5f * x.Span[m * 3] - x.Span[m * 3 + 2] + 0.1f;
            target.Span[m * 2 + 1] = x.Span[m * 3 + 1] * 0.3f - 0.2f;
        }
        var opt = new Adam(lin.Parameters().ToArray(), lr: 0.05);
        double Loss(bool step)
        {
            var tape = new Tape();
            var diff = tape.Add(lin.Forward(tape, Variable.Constant(x)), Variable.Constant(Scaled(target, -1f)));
            var loss = tape.Sum(tape.Mul(diff, diff));
            if (step)
            {
                opt.ZeroGrad();
                tape.Backward(loss);
                GradClip.ClipGradNorm(opt.Parameters, 10.0);
                opt.Step();
            }
            return loss.Value.Span[0];
        }
        double first = Loss(false);
        for (int i = 0; i < 300; i++) Loss(true);
        Assert.True(Loss(false) < first * 1e-3, $"loss {first} -> {Loss(false)}");
    }

    private static Tensor Scaled(Tensor t, float f)
    {
        var r = t.Clone();
        var s = r.Span;
        for (int i = 0; i < s.Length; i++) s[i] *= f;
        return r;
    }
}
