// Tests of the autograd tape: every op's backward against central finite differences (loss = sum(op(x) * W) for a
// random upstream W), the fused RNN node on the reference backend (LSTM/GRU/RNN, projection, bidirectional,
// stacked, variable lengths, batch_first, unused outputs), argument checks and the modules.
using RnnFast.Autograd;
using RnnFast.Backends;
using Xunit;

namespace RnnFast.Tests;

public class AutogradTests
{
    // ---------------------------------------------------------------- finite-difference harness

    private static Tensor RandomTensor(Random rng, int[] shape, double scale = 1.0, double awayFromZero = 0)
    {
        var t = Tensor.Zeros((int[])shape.Clone());
        var s = t.Span;
        for (int i = 0; i < s.Length; i++)
        {
            double v = (rng.NextDouble() * 2 - 1) * scale;
            if (awayFromZero > 0) v = Math.Sign(v == 0 ? 1 : v) * (awayFromZero + Math.Abs(v));
            s[i] = (float)v;
        }
        return t;
    }

    private static Variable Param(Random rng, params int[] shape) => Variable.Parameter(RandomTensor(rng, shape));

    /// <summary>
    /// Runs <paramref name="build"/> on a tape, back-propagates loss = sum_k sum(out_k * W_k) for random W_k and
    /// compares the gradients of <paramref name="check"/> with central differences of the same loss (evaluated in
    /// double from the op's float outputs). Perturbs the checked tensors in place (and restores them).
    /// </summary>
    private static void GradCheck(Func<Tape, Variable[]> build, Variable[] check, int seed = 1, float eps = 1e-2f,
        double atol = 5e-4, double rtol = 5e-3)
    {
        var rng = new Random(seed);
        var tape = new Tape();
        var outs = build(tape);
        var weights = outs.Select(o => RandomTensor(rng, o.Shape)).ToArray();
        Variable? loss = null;
        for (int k = 0; k < outs.Length; k++)
        {
            var term = tape.Sum(tape.Mul(outs[k], Variable.Constant(weights[k])));
            loss = loss == null ? term : tape.Add(loss, term);
        }
        foreach (var v in check) v.ZeroGrad();
        tape.Backward(loss!);
        var analytic = check.Select(v => v.Grad?.ToArray() ?? new float[v.Value.Length]).ToArray();

        double Eval()
        {
            var o = build(new Tape());
            double s = 0;
            for (int k = 0; k < o.Length; k++)
            {
                var val = o[k].Value.Span;
                var w = weights[k].Span;
                for (int i = 0; i < val.Length; i++) s += (double)val[i] * w[i];
            }
            return s;
        }

        for (int c = 0; c < check.Length; c++)
        {
            var data = check[c].Value.HostArray;
            for (int j = 0; j < data.Length; j++)
            {
                float orig = data[j];
                float xp = orig + eps, xm = orig - eps;
                data[j] = xp;
                check[c].Value.MarkChanged();
                double fp = Eval();
                data[j] = xm;
                check[c].Value.MarkChanged();
                double fm = Eval();
                data[j] = orig;
                check[c].Value.MarkChanged();
                double numeric = (fp - fm) / ((double)xp - xm);
                double a = analytic[c][j];
                double tol = atol + rtol * Math.Max(Math.Abs(a), Math.Abs(numeric));
                Assert.True(Math.Abs(a - numeric) <= tol,
                    $"input {c} ({check[c].Name ?? "unnamed"}) element {j}: tape grad {a:G6}, finite difference {numeric:G6}");
            }
        }
    }

    // ---------------------------------------------------------------- elementary ops

    [Fact]
    public void Embedding_GradMatchesFiniteDifferences()
    {
        var rng = new Random(3);
        var w = Param(rng, 5, 4);                       // (V,E)
        int[] ids = [0, 3, 3, 1, 4, 0];                 // repeated ids accumulate
        GradCheck(t => [t.Embedding(w, ids, 2, 3)], [w]);
        var y = new Tape().Embedding(w, ids, 2, 3);
        Assert.Equal(new[] { 2, 3, 4 }, y.Shape);
        Assert.Equal(w.Value.Span.Slice(3 * 4, 4).ToArray(), y.Value.Span.Slice(4, 4).ToArray());
    }

    [Fact]
    public void Embedding_OutOfRangeId_ThrowsNamingIdIndexAndV()
    {
        var w = Variable.Parameter(Tensor.Zeros(5, 2));
        var e = Assert.Throws<ArgumentException>(() => new Tape().Embedding(w, [1, 0, 7], 3));
        Assert.Contains("7", e.Message);
        Assert.Contains("index 2", e.Message);
        Assert.Contains("V=5", e.Message);
        Assert.Throws<ArgumentException>(() => new Tape().Embedding(w, [-1], 1));
        Assert.Throws<ArgumentException>(() => new Tape().Embedding(w, [1, 2], 3));
    }

    [Fact]
    public void Linear_WithBias_GradMatchesFiniteDifferences()
    {
        var rng = new Random(4);
        var x = Param(rng, 2, 3, 4);    // (..., In)
        var w = Param(rng, 5, 4);       // (Out, In)
        var b = Param(rng, 5);          // (Out)
        GradCheck(t => [t.Linear(x, w, b)], [x, w, b]);
        var y = new Tape().Linear(x, w, b);
        Assert.Equal(new[] { 2, 3, 5 }, y.Shape);
        // y[1,2,3] = x[1,2,:] . w[3,:] + b[3]
        double expect = b.Value.Span[3];
        for (int i = 0; i < 4; i++) expect += x.Value.Span[(1 * 3 + 2) * 4 + i] * w.Value.Span[3 * 4 + i];
        Assert.Equal(expect, y.Value.Span[(1 * 3 + 2) * 5 + 3], 5);
    }

    [Fact]
    public void Linear_NoBias_LargeEnoughToRunInParallel_MatchesFiniteDifferencesOnSample()
    {
        var rng = new Random(5);
        var x = Param(rng, 3, 7);
        var w = Param(rng, 2, 7);
        GradCheck(t => [t.Linear(x, w)], [x, w]);

        // Big enough for the parallel path: compare against a plain loop.
        var xb = Param(rng, 64, 96);
        var wb = Param(rng, 48, 96);
        var tape = new Tape();
        var y = tape.Linear(xb, wb);
        var upstream = RandomTensor(rng, y.Shape);
        tape.Backward(tape.Sum(tape.Mul(y, Variable.Constant(upstream))));
        var X = xb.Value.HostArray; var W = wb.Value.HostArray; var G = upstream.HostArray;
        for (int m = 0; m < 64; m += 13)
        for (int o = 0; o < 48; o += 7)
        {
            double s = 0;
            for (int i = 0; i < 96; i++) s += (double)X[m * 96 + i] * W[o * 96 + i];
            Assert.Equal(s, y.Value.HostArray[m * 48 + o], 3);
        }
        for (int o = 0; o < 48; o += 11)
        for (int i = 0; i < 96; i += 17)
        {
            double s = 0;
            for (int m = 0; m < 64; m++) s += (double)G[m * 48 + o] * X[m * 96 + i];
            Assert.Equal(s, wb.Grad!.HostArray[o * 96 + i], 3);
        }
    }

    [Fact]
    public void Linear_ShapeMismatch_Throws()
    {
        var x = Variable.Parameter(Tensor.Zeros(2, 3));
        Assert.Throws<ArgumentException>(() => new Tape().Linear(x, Variable.Parameter(Tensor.Zeros(4, 2))));
        Assert.Throws<ArgumentException>(() => new Tape().Linear(x, Variable.Parameter(Tensor.Zeros(4, 3)), Variable.Parameter(Tensor.Zeros(3))));
    }

    [Fact]
    public void AddMul_SameShapeAndBroadcast_GradMatchesFiniteDifferences()
    {
        var rng = new Random(6);
        var a = Param(rng, 3, 2, 4);
        var b = Param(rng, 3, 2, 4);
        var bias = Param(rng, 4);       // trailing dims of a
        var mat = Param(rng, 2, 4);
        GradCheck(t => [t.Add(a, b), t.Mul(a, b)], [a, b]);
        GradCheck(t => [t.Add(a, bias), t.Mul(a, mat)], [a, bias, mat]);
        GradCheck(t => [t.Mul(a, a)], [a]); // the same variable on both sides
        Assert.Throws<ArgumentException>(() => new Tape().Add(a, Param(rng, 3)));
        Assert.Throws<ArgumentException>(() => new Tape().Mul(a, Param(rng, 3, 2)));
    }

    [Fact]
    public void Activations_GradMatchesFiniteDifferences()
    {
        var rng = new Random(7);
        var x = Param(rng, 4, 5);
        x.Value.Span[0] = 3f; // a saturated value
        var xr = Variable.Parameter(RandomTensor(rng, [4, 5], 1.0, awayFromZero: 0.1)); // ReLU away from its kink
        GradCheck(t => [t.Tanh(x), t.Sigmoid(x)], [x]);
        GradCheck(t => [t.Relu(xr)], [xr]);
        var y = new Tape().Sigmoid(Variable.Constant(Tensor.FromArray([-100f, 0f, 100f], 3)));
        var yv = y.Value.ToArray();
        Assert.InRange(yv[0], 0f, 1e-40f); // no overflow to NaN at either end
        Assert.Equal(0.5f, yv[1]);
        Assert.Equal(1f, yv[2]);
    }

    [Fact]
    public void SumScaleReshape_GradMatchesFiniteDifferences()
    {
        var rng = new Random(8);
        var x = Param(rng, 3, 4);
        GradCheck(t => [t.Sum(x), t.Scale(x, -2.5f), t.Reshape(x, 2, 6)], [x]);
        var s = new Tape().Sum(x);
        Assert.Equal(new[] { 1 }, s.Shape);
        Assert.Equal(x.Value.ToArray().Sum(v => (double)v), s.Value.Span[0], 5);
    }

    [Fact]
    public void Dropout_GradMatchesFiniteDifferences_AndScalesKeptValues()
    {
        var rng = new Random(9);
        var x = Param(rng, 6, 5);
        GradCheck(t => [t.Dropout(x, 0.4f, new Random(11), training: true)], [x]);

        var big = Variable.Parameter(Tensor.Full(1f, 10000));
        var y = new Tape().Dropout(big, 0.25f, new Random(12), training: true);
        int kept = 0;
        foreach (var v in y.Value.Span)
        {
            if (v != 0) { kept++; Assert.Equal(1f / 0.75f, v, 6); }
        }
        Assert.InRange(kept / 10000.0, 0.72, 0.78);
    }

    [Fact]
    public void Dropout_IdentityWhenNotTrainingOrZero_RejectsBadP()
    {
        var x = Variable.Parameter(Tensor.Full(2f, 3));
        var tape = new Tape();
        Assert.Same(x, tape.Dropout(x, 0.5f, new Random(1), training: false));
        Assert.Same(x, tape.Dropout(x, 0f, new Random(1), training: true));
        Assert.Equal(0, tape.Count);
        foreach (var p in new[] { -0.1f, 1f, 1.5f, float.NaN })
        {
            var e = Assert.Throws<ArgumentException>(() => tape.Dropout(x, p, new Random(1), training: true));
            Assert.Equal("p", e.ParamName);
        }
    }

    [Fact]
    public void CrossEntropy_ValueAndGradMatch()
    {
        var rng = new Random(10);
        var logits = Variable.Parameter(RandomTensor(rng, [4, 3], 3.0));
        int[] targets = [2, 0, 1, 2];
        GradCheck(t => [t.CrossEntropy(logits, targets)], [logits], eps: 5e-3f);

        // Value against a direct double computation.
        var L = logits.Value.HostArray;
        double expect = 0;
        for (int m = 0; m < 4; m++)
        {
            double se = 0;
            for (int c = 0; c < 3; c++) se += Math.Exp(L[m * 3 + c]);
            expect += Math.Log(se) - L[m * 3 + targets[m]];
        }
        Assert.Equal(expect / 4, new Tape().CrossEntropy(logits, targets).Value.Span[0], 5);

        // Large logits stay finite (log-sum-exp).
        var huge = Variable.Constant(Tensor.FromArray([1000f, 0f, -1000f], 1, 3));
        Assert.Equal(1000.0, new Tape().CrossEntropy(huge, [1]).Value.Span[0], 3);
    }

    [Fact]
    public void CrossEntropy_BadTargets_Throw()
    {
        var logits = Variable.Parameter(Tensor.Zeros(2, 3));
        var e = Assert.Throws<ArgumentException>(() => new Tape().CrossEntropy(logits, [0, 3]));
        Assert.Contains("3", e.Message);
        Assert.Equal("targets", e.ParamName);
        Assert.Throws<ArgumentException>(() => new Tape().CrossEntropy(logits, [0, -1]));
        Assert.Throws<ArgumentException>(() => new Tape().CrossEntropy(logits, [0]));
    }

    [Fact]
    public void LastValidStep_PicksEachSequencesLastStep_AndGradMatches()
    {
        var rng = new Random(13);
        var seq = Param(rng, 4, 3, 2);   // (T,N,F)
        int[] lengths = [4, 1, 2];
        GradCheck(t => [t.LastValidStep(seq, lengths), t.LastValidStep(seq)], [seq]);
        var y = new Tape().LastValidStep(seq, lengths);
        Assert.Equal(new[] { 3, 2 }, y.Shape);
        var S = seq.Value.HostArray;
        Assert.Equal(S[(0 * 3 + 1) * 2 + 1], y.Value.Span[1 * 2 + 1]); // sequence 1, step 0
        Assert.Equal(S[(1 * 3 + 2) * 2 + 0], y.Value.Span[2 * 2 + 0]); // sequence 2, step 1
        Assert.Throws<ArgumentException>(() => new Tape().LastValidStep(seq, [5, 1, 1]));
        Assert.Throws<ArgumentException>(() => new Tape().LastValidStep(seq, [0, 1, 1]));
    }

    // ---------------------------------------------------------------- tape behaviour

    [Fact]
    public void Backward_RequiresSingleElementLossThatNeedsGrad()
    {
        var x = Variable.Parameter(Tensor.Full(1f, 2));
        var tape = new Tape();
        var y = tape.Tanh(x);
        Assert.Throws<ArgumentException>(() => tape.Backward(y));
        var c = Variable.Constant(Tensor.Full(1f, 2));
        var s = tape.Sum(c);
        Assert.False(s.RequiresGrad);
        Assert.Throws<InvalidOperationException>(() => tape.Backward(s));
        Assert.Throws<InvalidOperationException>(() => new Tape().Backward(tape.Sum(x)));
    }

    [Fact]
    public void Gradients_AccumulateAcrossBackwardCalls_UntilZeroGrad()
    {
        var x = Variable.Parameter(Tensor.FromArray([1f, 2f], 2));
        for (int k = 0; k < 2; k++)
        {
            var tape = new Tape();
            tape.Backward(tape.Sum(tape.Scale(x, 3f)));
        }
        Assert.Equal(new[] { 6f, 6f }, x.Grad!.ToArray());

        // Twice on the same tape: intermediate grads restart, leaves accumulate.
        var t2 = new Tape();
        var loss = t2.Sum(t2.Mul(x, x));
        x.ZeroGrad();
        Assert.Null(x.Grad);
        t2.Backward(loss);
        t2.Backward(loss);
        Assert.Equal(new[] { 4f, 8f }, x.Grad!.ToArray());
        x.ZeroGrad(setToNone: false);
        Assert.Equal(new[] { 0f, 0f }, x.Grad!.ToArray());
        t2.Reset();
        Assert.Equal(0, t2.Count);
    }

    [Fact]
    public void ConstantsOnly_RecordNothing()
    {
        var tape = new Tape();
        var c = Variable.Constant(Tensor.Full(0.5f, 2, 3));
        var y = tape.Sigmoid(tape.Linear(c, Variable.Constant(Tensor.Full(1f, 4, 3))));
        Assert.False(y.RequiresGrad);
        Assert.Equal(0, tape.Count);
    }

    // ---------------------------------------------------------------- matrix products, row loops, gradient buffers

    [Theory]
    [InlineData(false, false, 5, 7, 3)]
    [InlineData(true, false, 37, 45, 70)]
    [InlineData(false, true, 37, 45, 70)]
    [InlineData(true, true, 9, 33, 17)]
    [InlineData(false, true, 150, 100, 600)]  // split over the pool (>= 2^18 multiply-adds), K in two blocks
    [InlineData(true, false, 95, 256, 1030)]  // the dW = dY^T . X shape of a character model's head
    [InlineData(false, false, 1, 40, 300)]    // a single row
    public void TapeGemm_MatchesDoubleProduct_WithTransposesBiasAndAccumulate(bool transA, bool transB, int M, int N, int K)
    {
        var rng = new Random(M * 31 + N * 7 + K);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var a = R(M * K);   // (M,K), or (K,M) when transA
        var b = R(K * N);   // (K,N), or (N,K) when transB
        var bias = R(N);
        var c0 = R(M * N);
        var c = new float[M * N];
        Array.Fill(c, float.NaN); // overwriting must not read the old contents
        TapeGemm.Gemm(transA, transB, M, N, K, a, b, c, accumulate: false, bias);
        var acc = (float[])c0.Clone();
        TapeGemm.Gemm(transA, transB, M, N, K, a, b, acc, accumulate: true);
        double tol = 1e-5 + 2e-7 * K;
        for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++)
        {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)(transA ? a[k * M + m] : a[m * K + k]) * (transB ? b[n * K + k] : b[k * N + n]);
            Assert.True(Math.Abs(c[m * N + n] - (s + bias[n])) <= tol, $"C[{m},{n}] = {c[m * N + n]}, expected {s + bias[n]}");
            Assert.True(Math.Abs(acc[m * N + n] - (s + c0[m * N + n])) <= tol, $"C+=[{m},{n}] = {acc[m * N + n]}, expected {s + c0[m * N + n]}");
        }
    }

    [Theory]
    [InlineData(10, 1L)]
    [InlineData(1000, 1L << 20)]
    [InlineData(3, 1L << 20)]
    public void ForRanges_CoversEveryIndexExactlyOnce(int total, long work)
    {
        var hits = new int[total];
        TapeGemm.ForRanges(total, work, (begin, end) =>
        {
            for (int i = begin; i < end; i++) Interlocked.Increment(ref hits[i]);
        });
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void CrossEntropy_ManyRows_ValueAndGradMatchDouble_AndAccumulate()
    {
        const int M = 700, C = 400; // enough work for the pool
        var rng = new Random(31);
        var logits = Variable.Parameter(RandomTensor(rng, [M, C], 4.0));
        var targets = Enumerable.Range(0, M).Select(_ => rng.Next(C)).ToArray();
        var tape = new Tape();
        var loss = tape.CrossEntropy(logits, targets);
        tape.Backward(loss);
        var once = logits.Grad!.ToArray();
        tape.Backward(loss); // a second backward adds the same gradient again

        var L = logits.Value.HostArray;
        var G = logits.Grad!.HostArray;
        double total = 0;
        for (int m = 0; m < M; m++)
        {
            double max = double.NegativeInfinity, se = 0;
            for (int c = 0; c < C; c++) max = Math.Max(max, L[m * C + c]);
            for (int c = 0; c < C; c++) se += Math.Exp(L[m * C + c] - max);
            double lse = max + Math.Log(se);
            total += lse - L[m * C + targets[m]];
            for (int c = 0; c < C; c++)
            {
                double e = (Math.Exp(L[m * C + c] - lse) - (c == targets[m] ? 1 : 0)) / M;
                Assert.True(Math.Abs(once[m * C + c] - e) <= 1e-9 + 1e-5 * Math.Abs(e), $"grad[{m},{c}] = {once[m * C + c]}, expected {e}");
                Assert.True(Math.Abs(G[m * C + c] - 2 * e) <= 2e-9 + 1e-5 * Math.Abs(2 * e), $"2x grad[{m},{c}] = {G[m * C + c]}, expected {2 * e}");
            }
        }
        Assert.Equal(total / M, loss.Value.Span[0], 4);
    }

    [Fact]
    public void GradientBuffers_AreKeptAcrossZeroGrad_OverwrittenWhenFresh_AddedOtherwise()
    {
        var rng = new Random(32);
        var lin = new Autograd.Linear(6, 4, rng);
        var x = Variable.Parameter(RandomTensor(rng, [5, 6]));
        int[] targets = [0, 3, 1, 2, 3];
        void Step()
        {
            var t = new Tape();
            t.Backward(t.CrossEntropy(t.Tanh(lin.Forward(t, x)), targets));
        }

        Step();
        var w = lin.Weight.Grad!;
        var b = lin.Bias!.Grad!;
        var gx = x.Grad!;
        var (w1, b1, x1) = (w.ToArray(), b.ToArray(), gx.ToArray());

        lin.ZeroGrad();
        x.ZeroGrad();
        Assert.Null(lin.Weight.Grad);
        Step();
        Assert.Same(w, lin.Weight.Grad);   // the same buffers, refilled
        Assert.Same(b, lin.Bias.Grad);
        Assert.Same(gx, x.Grad);
        Assert.Equal(w1, w.ToArray());      // not added to the previous step's values
        Assert.Equal(b1, b.ToArray());
        Assert.Equal(x1, gx.ToArray());

        Step();                             // no ZeroGrad: added
        for (int i = 0; i < w1.Length; i++) Assert.Equal(2 * w1[i], w.Span[i], 5);
        for (int i = 0; i < b1.Length; i++) Assert.Equal(2 * b1[i], b.Span[i], 5);
        for (int i = 0; i < x1.Length; i++) Assert.Equal(2 * x1[i], gx.Span[i], 5);

        lin.Weight.ZeroGrad(setToNone: false);
        Assert.Same(w, lin.Weight.Grad);
        Assert.All(w.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Rnn_ParameterGradients_TakenOverWhenFresh_AddedWhenHeld()
    {
        var rng = new Random(33);
        var desc = new RnnDesc(RnnMode.Lstm, 3, 4, numLayers: 2);
        using var plan = BackendRegistry.Get("reference").CreateRnnPlan(RnnParameters.Create(desc, rng));
        var weights = plan.Parameters.Tensors.Select(t => Variable.Parameter(t)).ToArray();
        var input = Variable.Parameter(RandomTensor(rng, [4, 2, 3]));
        var upstream = Variable.Constant(RandomTensor(rng, [4, 2, 4]));
        void Step()
        {
            var t = new Tape();
            t.Backward(t.Sum(t.Mul(t.Rnn(plan, input, null, null, null, weights).Output, upstream)));
        }

        Step();
        var first = weights.Select(v => v.Grad!.ToArray()).ToArray();
        var firstInput = input.Grad!.ToArray();
        // every gradient is its own tensor (none shares another's or a value's storage)
        var all = weights.Append(input).ToArray();
        for (int i = 0; i < all.Length; i++)
        {
            Assert.NotSame(all[i].Value.HostArray, all[i].Grad!.HostArray);
            for (int j = i + 1; j < all.Length; j++) Assert.NotSame(all[i].Grad!.HostArray, all[j].Grad!.HostArray);
        }

        Step(); // held: added
        for (int i = 0; i < weights.Length; i++)
        {
            var g = weights[i].Grad!.Span;
            for (int k = 0; k < g.Length; k++) Assert.Equal(2 * first[i][k], g[k], 5);
        }
        for (int k = 0; k < firstInput.Length; k++) Assert.Equal(2 * firstInput[k], input.Grad!.Span[k], 5);

        foreach (var v in all) v.ZeroGrad();
        Step(); // fresh again: exactly one step's gradient
        for (int i = 0; i < weights.Length; i++) Assert.Equal(first[i], weights[i].Grad!.ToArray());
        Assert.Equal(firstInput, input.Grad!.ToArray());
    }

    // ---------------------------------------------------------------- the fused RNN node

    private sealed record RnnCase(RnnDesc Desc, int T, int N, int[]? Lengths, bool UseH0, bool UseC0, string Outputs);

    public static TheoryData<string> RnnCases => new(RnnCaseTable.Keys.ToArray());

    private static readonly Dictionary<string, RnnCase> RnnCaseTable = new()
    {
        // LSTM with projection, bidirectional, 2 layers, variable lengths; CN unused by the loss.
        ["lstm_proj_bi_2layer_lengths_cn_unused"] = new(
            new RnnDesc(RnnMode.Lstm, 3, 5, numLayers: 2, bidirectional: true, projSize: 3), 4, 3, [4, 2, 3], true, true, "out,hn"),
        ["lstm_all_outputs"] = new(new RnnDesc(RnnMode.Lstm, 3, 4), 4, 2, null, true, true, "out,hn,cn"),
        ["lstm_only_hn_no_initial_state"] = new(new RnnDesc(RnnMode.Lstm, 2, 3, numLayers: 2), 3, 2, [3, 1], false, false, "hn"),
        ["lstm_batch_first_bi"] = new(
            new RnnDesc(RnnMode.Lstm, 3, 4, bidirectional: true, batchFirst: true), 4, 3, [2, 4, 3], true, true, "out,hn,cn"),
        ["gru_bi_lengths"] = new(new RnnDesc(RnnMode.Gru, 3, 4, bidirectional: true), 4, 3, [1, 4, 3], true, false, "out,hn"),
        ["gru_2layer_batch_first"] = new(new RnnDesc(RnnMode.Gru, 2, 3, numLayers: 2, batchFirst: true), 3, 2, null, true, false, "out,hn"),
        ["rnn_tanh_bi_2layer_no_bias"] = new(
            new RnnDesc(RnnMode.RnnTanh, 3, 5, numLayers: 2, bidirectional: true, bias: false), 4, 2, [3, 4], true, false, "out,hn"),
    };

    [Theory]
    [MemberData(nameof(RnnCases))]
    public void Rnn_GradMatchesFiniteDifferences(string name)
    {
        var cs = RnnCaseTable[name];
        var desc = cs.Desc;
        var rng = new Random(name.Length * 7919 + 17);
        using var plan = BackendRegistry.Get("reference").CreateRnnPlan(RnnParameters.Create(desc, rng));
        var weights = plan.Parameters.Tensors.Select((t, i) => Variable.Parameter(t, plan.Parameters.Ids[i].TorchName)).ToArray();
        int LD = desc.NumLayers * desc.Directions;
        var input = Variable.Parameter(RandomTensor(rng, desc.BatchFirst ? [cs.N, cs.T, desc.InputSize] : [cs.T, cs.N, desc.InputSize]), "input");
        var h0 = cs.UseH0 ? Variable.Parameter(RandomTensor(rng, [LD, cs.N, desc.OutputHiddenSize], 0.5), "h0") : null;
        var c0 = cs.UseC0 ? Variable.Parameter(RandomTensor(rng, [LD, cs.N, desc.HiddenSize], 0.5), "c0") : null;
        var used = cs.Outputs.Split(',');

        Variable[] Build(Tape t)
        {
            var r = t.Rnn(plan, input, h0, c0, cs.Lengths, weights);
            var outs = new List<Variable>();
            if (used.Contains("out")) outs.Add(r.Output);
            if (used.Contains("hn")) outs.Add(r.HN);
            if (used.Contains("cn")) outs.Add(r.CN!);
            return outs.ToArray();
        }

        // Shapes as the user sees them.
        var probe = new Tape().Rnn(plan, input, h0, c0, cs.Lengths, weights);
        Assert.Equal(desc.BatchFirst ? new[] { cs.N, cs.T, desc.OutputSize } : new[] { cs.T, cs.N, desc.OutputSize }, probe.Output.Shape);
        Assert.Equal(new[] { LD, cs.N, desc.OutputHiddenSize }, probe.HN.Shape);
        Assert.Equal(desc.HasCellState, probe.CN != null);

        var check = new List<Variable> { input };
        if (h0 != null) check.Add(h0);
        if (c0 != null) check.Add(c0);
        check.AddRange(weights);
        GradCheck(Build, check.ToArray(), eps: 1e-2f);

        // Every checked variable got a gradient from the single fused backward.
        Assert.All(check, v => Assert.NotNull(v.Grad));
    }

    [Fact]
    public void Rnn_InsideAModel_EmbeddingToCrossEntropy_GradMatches()
    {
        var rng = new Random(21);
        var emb = new Autograd.Embedding(6, 3, rng);
        using var rnn = new RnnLayer(new RnnDesc(RnnMode.Lstm, 3, 4), BackendRegistry.Get("reference"), rng);
        var head = new Autograd.Linear(4, 6, rng);
        int T = 3, N = 2;
        int[] ids = [1, 4, 0, 5, 2, 2];      // (T,N)
        int[] lengths = [3, 2];
        int[] targets = [3, 1];

        Variable[] Build(Tape t)
        {
            var x = emb.Forward(t, ids, T, N);                       // (T,N,E)
            var r = rnn.Forward(t, x, lengths: lengths);
            var last = t.LastValidStep(r.Output, lengths);          // (N,H)
            return [t.CrossEntropy(head.Forward(t, last), targets)];
        }

        var all = emb.Parameters().Concat(rnn.Parameters()).Concat(head.Parameters()).ToArray();
        GradCheck(Build, all, eps: 1e-2f);
    }

    [Fact]
    public void Rnn_ParametersMustWrapThePlansTensors()
    {
        var rng = new Random(22);
        var desc = new RnnDesc(RnnMode.Gru, 2, 3);
        using var plan = BackendRegistry.Get("reference").CreateRnnPlan(RnnParameters.Create(desc, rng));
        var input = Variable.Parameter(RandomTensor(rng, [2, 1, 2]));
        var copies = plan.Parameters.Tensors.Select(t => Variable.Parameter(t.Clone())).ToArray();
        var e = Assert.Throws<ArgumentException>(() => new Tape().Rnn(plan, input, null, null, null, copies));
        Assert.Contains("weight_ih_l0", e.Message);
        var wrapped = plan.Parameters.Tensors.Select(t => Variable.Parameter(t)).ToArray();
        Assert.Throws<ArgumentException>(() => new Tape().Rnn(plan, input, null, null, null, wrapped.Take(2).ToArray()));
        Assert.Throws<ArgumentException>(() => new Tape().Rnn(plan, input, null, null, null, wrapped.Reverse().ToArray()));
    }

    [Fact]
    public void Rnn_WithoutGradients_MatchesRunnerAndRecordsNothing()
    {
        var rng = new Random(23);
        var desc = new RnnDesc(RnnMode.Lstm, 2, 3, batchFirst: true);
        using var plan = BackendRegistry.Get("reference").CreateRnnPlan(RnnParameters.Create(desc, rng));
        var consts = plan.Parameters.Tensors.Select(t => Variable.Constant(t)).ToArray();
        var x = RandomTensor(rng, [2, 4, 2]);
        var tape = new Tape();
        var r = tape.Rnn(plan, Variable.Constant(x), null, null, null, consts);
        Assert.Equal(0, tape.Count);
        var expect = RnnRunner.Forward(plan, x);
        Assert.Equal(expect.Output.ToArray(), r.Output.Value.ToArray());
        Assert.Equal(expect.HN.ToArray(), r.HN.Value.ToArray());
        Assert.Equal(expect.CN!.ToArray(), r.CN!.Value.ToArray());
    }

    // ---------------------------------------------------------------- modules

    [Fact]
    public void Modules_NamesAndInitialisation()
    {
        var rng = new Random(24);
        var lin = new Autograd.Linear(16, 3, rng);
        Assert.Equal(new[] { "weight", "bias" }, lin.NamedParameters().Select(p => p.Name));
        Assert.Equal(new[] { "fc.weight", "fc.bias" }, lin.NamedParameters("fc.").Select(p => p.Name));
        Assert.All(lin.Weight.Value.ToArray().Concat(lin.Bias!.Value.ToArray()), v => Assert.InRange(v, -0.25f, 0.25f));
        Assert.Equal(new[] { 3, 16 }, lin.Weight.Shape);

        var emb = new Autograd.Embedding(50, 40, rng);
        var ev = emb.Weight.Value.ToArray();
        double mean = ev.Average(v => (double)v), var = ev.Average(v => (double)v * v) - mean * mean;
        Assert.InRange(mean, -0.1, 0.1);
        Assert.InRange(var, 0.85, 1.15);
        Assert.Equal("weight", emb.Parameters().Single().Name);

        using var rnn = new RnnLayer(new RnnDesc(RnnMode.Lstm, 2, 4, bidirectional: true, projSize: 2), BackendRegistry.Get("reference"), rng);
        var names = rnn.NamedParameters("lstm.").Select(p => p.Name).ToArray();
        Assert.Contains("lstm.weight_ih_l0", names);
        Assert.Contains("lstm.weight_hr_l0_reverse", names);
        Assert.Equal(rnn.Plan.Parameters.Tensors.Count, names.Length);
        Assert.All(rnn.Weights.Select((w, i) => (w, i)), p => Assert.Same(rnn.Plan.Parameters.Tensors[p.i], p.w.Value));
    }
}
