// The CTC loss on the tape (Tape.CtcLoss, Tape.LogSoftmax): PyTorch's reference cases (the ctc_loss files of
// goldens/peephole-ctc, through the tape, ReferenceCaseRunner and `rnnfast check` on every backend), the loss against
// a brute-force sum over every alignment, gradients against finite differences, the edge cases (a target too long for
// its input, repeats that need a blank between them, empty targets, a blank that is not class 0, zero_infinity),
// argument checks; and the decoders and the label error rate (CtcDecoding).
using RnnFast.Autograd;
using RnnFast.Checks;
using RnnFast.Cli;
using RnnFast.Models;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

public sealed class CtcTests(ITestOutputHelper output)
{
    // ---------------------------------------------------------------- PyTorch's reference cases

    private static string CtcGoldenDir => Path.Combine(TestPaths.GoldensDir, "peephole-ctc");

    /// <summary>The ctc_loss cases of goldens/peephole-ctc (the folder also holds rnn_layer cases, which are not CTC's).</summary>
    public static IEnumerable<string> CtcGoldenNames() =>
        Directory.GetFiles(CtcGoldenDir, "*.safetensors").Order(StringComparer.Ordinal)
            .Where(p => ReferenceCaseRunner.KindOf(p) == "ctc_loss").Select(p => Path.GetFileName(p)!);

    public static IEnumerable<object[]> CtcGoldens() => CtcGoldenNames().Select(g => new object[] { g });

    public static IEnumerable<object[]> BackendsTimesCtcGoldens() =>
        from b in BackendData.Names from g in CtcGoldenNames() select new object[] { b, g };

    [Fact]
    public void The_reference_folder_holds_the_four_ctc_cases()
    {
        Assert.Equal(["ctc_mean.safetensors", "ctc_none_blank_last.safetensors", "ctc_sum_repeats.safetensors", "ctc_zero_infinity.safetensors"],
            CtcGoldenNames().ToArray());
    }

    [Theory]
    [MemberData(nameof(CtcGoldens))]
    public void Golden_loss_and_gradient_through_the_tape(string golden)
    {
        var c = ReferenceCaseRunner.LoadCtcLoss(Path.Combine(CtcGoldenDir, golden));
        var (loss, grad) = c.Compute();
        var checks = new[]
        {
            TensorComparison.Compare("loss", loss, c.ExpectedLoss),
            TensorComparison.Compare("grad_log_probs", grad, c.ExpectedGrad),
        };
        foreach (var k in checks) output.WriteLine(k.ToString());
        Assert.All(checks, k => Assert.True(k.Passed, $"{golden}: {k}"));
    }

    [BackendTheory]
    [MemberData(nameof(BackendsTimesCtcGoldens))]
    public void Golden_passes_in_the_reference_runner_and_rnnfast_check_on_every_backend(string backend, string golden)
    {
        string path = Path.Combine(CtcGoldenDir, golden);
        var report = ReferenceCaseRunner.Run(path, RnnFast.Backends.BackendRegistry.Get(backend));
        Assert.Equal("ctc_loss", report.Kind);
        Assert.True(report.Passed, string.Join("; ", report.Checks));

        var o = new StringWriter();
        var e = new StringWriter();
        int code = CheckCommand.Run([path], backend, o, e);
        Assert.Equal("", e.ToString());
        Assert.Equal(0, code);
        Assert.Equal("PASS 2/2", o.ToString().TrimEnd().Split('\n')[^1].Trim());
    }

    [Fact]
    public void The_zero_infinity_case_really_has_an_impossible_sequence_and_a_changed_reference_fails()
    {
        var c = ReferenceCaseRunner.LoadCtcLoss(Path.Combine(CtcGoldenDir, "ctc_zero_infinity.safetensors"));
        Assert.True(c.TargetLengths[0] > c.InputLengths[0]);   // the case exercises zero_infinity
        var tape = new Tape();
        var none = tape.CtcLoss(Variable.Constant(c.LogProbs), c.Targets, c.InputLengths, c.TargetLengths, c.Blank, CtcReduction.None);
        Assert.True(float.IsPositiveInfinity(none.Value.Span[0]));
        // without zero_infinity the case's reference no longer matches
        var lp = Variable.Parameter(c.LogProbs.Clone());
        var t2 = new Tape();
        var loss = t2.CtcLoss(lp, c.Targets, c.InputLengths, c.TargetLengths, c.Blank, c.Reduction, zeroInfinity: false);
        Assert.False(TensorComparison.Compare("loss", loss.Value, c.ExpectedLoss).Passed);
    }

    // ---------------------------------------------------------------- the loss against every alignment

    /// <summary>-log of the summed probability of every path of length T (classes C) that collapses to <paramref name="target"/>.</summary>
    private static double BruteForceNll(float[] lp, int T, int N, int C, int n, int[] target, int blank)
    {
        double total = 0;
        var path = new int[T];
        long count = (long)Math.Pow(C, T);
        for (long k = 0; k < count; k++)
        {
            long r = k;
            for (int t = 0; t < T; t++) { path[t] = (int)(r % C); r /= C; }
            var collapsed = new List<int>();
            int prev = -1;
            foreach (var c in path)
            {
                if (c != blank && c != prev) collapsed.Add(c);
                prev = c;
            }
            if (!collapsed.SequenceEqual(target)) continue;
            double logp = 0;
            for (int t = 0; t < T; t++) logp += lp[(t * N + n) * C + path[t]];
            total += Math.Exp(logp);
        }
        return -Math.Log(total);
    }

    private static float[] RandomLogProbs(Random rng, int T, int N, int C)
    {
        var lp = new float[T * N * C];
        for (int row = 0; row < T * N; row++)
        {
            double sum = 0;
            var p = new double[C];
            for (int c = 0; c < C; c++) { p[c] = Math.Exp(rng.NextDouble() * 4 - 2); sum += p[c]; }
            for (int c = 0; c < C; c++) lp[row * C + c] = (float)Math.Log(p[c] / sum);
        }
        return lp;
    }

    [Theory]
    [InlineData(0)]   // blank first
    [InlineData(3)]   // blank last
    [InlineData(1)]   // blank in the middle
    public void Loss_equals_the_sum_over_every_alignment(int blank)
    {
        const int T = 6, C = 4;
        // targets over the non-blank classes: distinct, a repeat (needs a blank between), empty, and one that just fits
        int[] other = Enumerable.Range(0, C).Where(c => c != blank).ToArray();
        int[][] targets =
        [
            [other[0], other[1]],
            [other[2], other[2]],
            [],
            [other[0], other[0], other[0]],   // 3 labels + 2 blanks = 5 <= 6 steps
            [other[1], other[2], other[1], other[0]],
        ];
        int N = targets.Length, S = 4;
        var lp = RandomLogProbs(new Random(blank + 5), T, N, C);
        var padded = new int[N * S];
        Array.Fill(padded, blank);   // padding may hold anything
        for (int n = 0; n < N; n++) targets[n].CopyTo(padded, n * S);
        var tape = new Tape();
        var loss = tape.CtcLoss(Variable.Constant(Tensor.FromArray(lp, T, N, C)), padded, Enumerable.Repeat(T, N).ToArray(),
            targets.Select(t => t.Length).ToArray(), blank, CtcReduction.None);
        for (int n = 0; n < N; n++)
        {
            double expected = BruteForceNll(lp, T, N, C, n, targets[n], blank);
            Assert.True(Math.Abs(loss.Value.Span[n] - expected) <= 1e-5 + 1e-5 * Math.Abs(expected), $"sequence {n}: {loss.Value.Span[n]} vs {expected}");
        }
    }

    [Fact]
    public void An_empty_target_costs_the_blank_path_alone()
    {
        var lp = RandomLogProbs(new Random(3), 5, 1, 3);
        var tape = new Tape();
        var loss = tape.CtcLoss(Variable.Constant(Tensor.FromArray(lp, 5, 1, 3)), [], [5], [0], blank: 2, CtcReduction.Sum);
        double expected = -Enumerable.Range(0, 5).Sum(t => (double)lp[t * 3 + 2]);
        Assert.Equal(expected, loss.Value.Span[0], 5);
    }

    [Fact]
    public void Mean_divides_each_loss_by_its_target_length_then_averages_and_an_empty_target_counts_as_length_1()
    {
        const int T = 7, N = 3, C = 5;
        var lp = Tensor.FromArray(RandomLogProbs(new Random(4), T, N, C), T, N, C);
        int[] targets = [1, 2, 3, 4, 4, 0, 0, 0, 0];
        int[] inLen = [7, 5, 6], tgLen = [3, 2, 0];
        var tape = new Tape();
        var none = tape.CtcLoss(Variable.Constant(lp), targets, inLen, tgLen, 0, CtcReduction.None).Value.ToArray();
        var mean = tape.CtcLoss(Variable.Constant(lp), targets, inLen, tgLen, 0, CtcReduction.Mean).Value.Span[0];
        var sum = tape.CtcLoss(Variable.Constant(lp), targets, inLen, tgLen, 0, CtcReduction.Sum).Value.Span[0];
        Assert.Equal((none[0] / 3.0 + none[1] / 2.0 + none[2] / 1.0) / 3, mean, 5);
        Assert.Equal(none.Sum(), sum, 4);
    }

    // ---------------------------------------------------------------- edge cases

    [Fact]
    public void A_target_longer_than_its_input_is_infinite_with_a_NaN_gradient_on_its_valid_steps_only()
    {
        const int T = 4, N = 2, C = 3;
        var lp = Variable.Parameter(Tensor.FromArray(RandomLogProbs(new Random(5), T, N, C), T, N, C));
        var tape = new Tape();
        // sequence 0: 3 labels in 2 steps; sequence 1: fine
        var loss = tape.CtcLoss(lp, [1, 2, 1, 2, 0, 0], [2, 4], [3, 1], 0, CtcReduction.None);
        Assert.True(float.IsPositiveInfinity(loss.Value.Span[0]));
        Assert.True(float.IsFinite(loss.Value.Span[1]));
        tape.Backward(tape.Sum(loss));
        var g = lp.Grad!.Span;
        for (int t = 0; t < T; t++)
            for (int c = 0; c < C; c++)
            {
                float g0 = g[(t * N + 0) * C + c], g1 = g[(t * N + 1) * C + c];
                if (t < 2) Assert.True(float.IsNaN(g0), $"t={t} c={c}: {g0}");
                else Assert.Equal(0f, g0);
                Assert.True(float.IsFinite(g1));
            }
    }

    [Fact]
    public void Zero_infinity_makes_an_impossible_sequence_cost_nothing_and_pass_no_gradient()
    {
        const int T = 4, N = 2, C = 3;
        var lpData = RandomLogProbs(new Random(6), T, N, C);
        int[] targets = [1, 2, 1, 2, 0, 0], inLen = [2, 4], tgLen = [3, 1];
        var lp = Variable.Parameter(Tensor.FromArray((float[])lpData.Clone(), T, N, C));
        var tape = new Tape();
        var loss = tape.CtcLoss(lp, targets, inLen, tgLen, 0, CtcReduction.Mean, zeroInfinity: true);
        var alone = new Tape().CtcLoss(Variable.Constant(Tensor.FromArray(lpData, T, N, C)), targets, inLen, tgLen, 0, CtcReduction.None);
        Assert.Equal(alone.Value.Span[1] / 1.0 / 2, loss.Value.Span[0], 5);   // (0/3 + l1/1) / 2
        tape.Backward(loss);
        var g = lp.Grad!.Span;
        for (int t = 0; t < T; t++)
            for (int c = 0; c < C; c++)
            {
                Assert.Equal(0f, g[(t * N + 0) * C + c]);
                Assert.True(float.IsFinite(g[(t * N + 1) * C + c]));
            }
        var all = lp.Grad!.ToArray();
        Assert.Contains(Enumerable.Range(0, T * C).Select(i => all[(i / C * N + 1) * C + i % C]), v => v != 0);
    }

    [Fact]
    public void A_repeated_label_needs_a_blank_between_its_copies()
    {
        const int C = 3;
        // [1,1] in 2 steps is impossible (a path 1,1 collapses to [1]); in 3 steps the one path is 1, blank, 1
        var lp2 = Tensor.FromArray(RandomLogProbs(new Random(7), 2, 1, C), 2, 1, C);
        Assert.True(float.IsPositiveInfinity(new Tape().CtcLoss(Variable.Constant(lp2), [1, 1], [2], [2], 0, CtcReduction.Sum).Value.Span[0]));
        // [1,2] in 2 steps is possible
        Assert.True(float.IsFinite(new Tape().CtcLoss(Variable.Constant(lp2), [1, 2], [2], [2], 0, CtcReduction.Sum).Value.Span[0]));
        var lp3Data = RandomLogProbs(new Random(8), 3, 1, C);
        var loss = new Tape().CtcLoss(Variable.Constant(Tensor.FromArray(lp3Data, 3, 1, C)), [1, 1], [3], [2], 0, CtcReduction.Sum);
        double onePath = -(lp3Data[0 * C + 1] + (double)lp3Data[1 * C + 0] + lp3Data[2 * C + 1]);
        Assert.Equal(onePath, loss.Value.Span[0], 5);
    }

    [Fact]
    public void Steps_past_a_sequence_input_length_get_no_gradient_and_do_not_change_the_loss()
    {
        const int T = 6, N = 2, C = 4;
        var data = RandomLogProbs(new Random(9), T, N, C);
        var lp = Variable.Parameter(Tensor.FromArray((float[])data.Clone(), T, N, C));
        var tape = new Tape();
        var loss = tape.CtcLoss(lp, [1, 2, 3, 3], [4, 6], [2, 2], 0, CtcReduction.Sum);
        tape.Backward(loss);
        for (int t = 4; t < T; t++)
            for (int c = 0; c < C; c++) Assert.Equal(0f, lp.Grad!.Span[(t * N + 0) * C + c]);
        // changing sequence 0's padded steps leaves the loss as it was
        for (int t = 4; t < T; t++) data[(t * N + 0) * C + 2] = -0.01f;
        var again = new Tape().CtcLoss(Variable.Constant(Tensor.FromArray(data, T, N, C)), [1, 2, 3, 3], [4, 6], [2, 2], 0, CtcReduction.Sum);
        Assert.Equal(loss.Value.Span[0], again.Value.Span[0]);
    }

    // ---------------------------------------------------------------- gradients against finite differences

    /// <summary>Central differences (in double, of the float loss) against the tape's gradient, every element.</summary>
    private static void AssertGradMatches(Variable x, Func<double> lossOf, double atol, double rtol, double eps = 1e-2)
    {
        var v = x.Value.Span;
        var g = x.Grad!.ToArray();
        int checkedCount = 0;
        for (int i = 0; i < v.Length; i++)
        {
            float keep = v[i];
            v[i] = (float)(keep + eps);
            double up = lossOf();
            v[i] = (float)(keep - eps);
            double down = lossOf();
            v[i] = keep;
            double fd = (up - down) / (2 * eps);
            Assert.True(Math.Abs(g[i] - fd) <= atol + rtol * Math.Abs(fd), $"element {i}: tape {g[i]}, finite difference {fd}");
            checkedCount++;
        }
        Assert.True(checkedCount > 0);
    }

    [Theory]
    [InlineData(CtcReduction.Mean, 0)]
    [InlineData(CtcReduction.Sum, 2)]
    [InlineData(CtcReduction.None, 4)]
    public void Gradient_with_respect_to_logits_through_LogSoftmax_matches_finite_differences(CtcReduction reduction, int blank)
    {
        const int T = 7, N = 3, C = 5;
        var rng = new Random(10 + blank);
        var logitsData = new float[T * N * C];
        for (int i = 0; i < logitsData.Length; i++) logitsData[i] = (float)(rng.NextDouble() * 4 - 2);
        var logits = Variable.Parameter(Tensor.FromArray(logitsData, T, N, C));
        int[] other = Enumerable.Range(0, C).Where(c => c != blank).ToArray();
        // a repeat, distinct labels, an empty target; variable input lengths
        int[] targets = [other[0], other[0], other[1], other[2], other[3], other[1], blank, blank, blank];
        int[] inLen = [7, 5, 3], tgLen = [3, 2, 0];
        var upstream = new float[] { 0.7f, -1.3f, 2.1f };
        Variable Build(Tape tape, Variable x)
        {
            var loss = tape.CtcLoss(tape.LogSoftmax(x), targets, inLen, tgLen, blank, reduction);
            return reduction == CtcReduction.None ? tape.Sum(tape.Mul(loss, Variable.Constant(Tensor.FromArray(upstream, N)))) : loss;
        }
        var tape = new Tape();
        tape.Backward(Build(tape, logits));
        AssertGradMatches(logits, () => Build(new Tape(), Variable.Constant(logits.Value)).Value.Span[0], atol: 2e-3, rtol: 1e-2);
    }

    [Fact]
    public void Gradient_with_respect_to_independent_log_probs_is_PyTorchs_minus_exp_lp()
    {
        // PyTorch's ctc_loss backward returns exp(lp) - exp(lcab + nll - lp): the derivative for lp treated as free
        // inputs is that minus exp(lp) (times the upstream factor), which finite differences of the loss measure.
        const int T = 5, N = 2, C = 4;
        var lp = Variable.Parameter(Tensor.FromArray(RandomLogProbs(new Random(11), T, N, C), T, N, C));
        int[] targets = [1, 3, 2, 2], inLen = [5, 4], tgLen = [2, 2];
        var tape = new Tape();
        tape.Backward(tape.CtcLoss(lp, targets, inLen, tgLen, 0, CtcReduction.Sum));
        var pytorch = lp.Grad!.ToArray();
        var free = new float[pytorch.Length];
        for (int i = 0; i < free.Length; i++)
        {
            int t = i / (N * C), n = i / C % N;
            free[i] = t < inLen[n] ? pytorch[i] - MathF.Exp(lp.Value.Span[i]) : 0f;
        }
        lp.Grad = Tensor.FromArray(free, T, N, C);
        AssertGradMatches(lp, () => new Tape().CtcLoss(Variable.Constant(lp.Value), targets, inLen, tgLen, 0, CtcReduction.Sum).Value.Span[0],
            atol: 2e-3, rtol: 1e-2, eps: 1e-3);
        // and PyTorch's form sums to 0 over the classes at every valid step
        for (int row = 0; row < T * N; row++)
            Assert.True(Math.Abs(pytorch.AsSpan(row * C, C).ToArray().Sum()) < 1e-5);
    }

    [Fact]
    public void LogSoftmax_rows_are_normalised_and_the_gradient_matches_finite_differences()
    {
        var rng = new Random(12);
        var data = new float[4 * 3 * 6];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 10 - 5);
        data[0] = 80f;   // a large logit stays finite
        var x = Variable.Parameter(Tensor.FromArray(data, 4, 3, 6));
        var w = new float[data.Length];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1);
        var W = Variable.Constant(Tensor.FromArray(w, 4, 3, 6));
        var tape = new Tape();
        var y = tape.LogSoftmax(x);
        for (int row = 0; row < 12; row++)
            Assert.Equal(1.0, y.Value.Span.Slice(row * 6, 6).ToArray().Sum(v => Math.Exp(v)), 5);
        tape.Backward(tape.Sum(tape.Mul(y, W)));
        AssertGradMatches(x, () => { var t = new Tape(); return t.Sum(t.Mul(t.LogSoftmax(Variable.Constant(x.Value)), W)).Value.Span[0]; },
            atol: 1e-3, rtol: 1e-2, eps: 1e-2);
    }

    // ---------------------------------------------------------------- argument checks

    [Fact]
    public void Bad_arguments_are_refused_naming_the_argument()
    {
        var lp = Variable.Constant(Tensor.FromArray(RandomLogProbs(new Random(13), 3, 2, 4), 3, 2, 4));
        var tape = new Tape();
        void Refused(string name, string fragment, Action a)
        {
            var e = Assert.Throws<ArgumentException>(a);
            Assert.Equal(name, e.ParamName);
            Assert.Contains(fragment, e.Message);
        }
        Refused("targets", "is the blank 0", () => tape.CtcLoss(lp, [1, 0, 2, 2], [3, 3], [2, 1]));
        Refused("targets", "not a class in 0..3", () => tape.CtcLoss(lp, [1, 4, 2, 2], [3, 3], [2, 1]));
        Refused("inputLengths", "entry 1 is 4, expected 0..T=3", () => tape.CtcLoss(lp, [1, 2, 2, 2], [3, 4], [2, 1]));
        Refused("targetLengths", "entry 0 is 3, expected 0..S=2", () => tape.CtcLoss(lp, [1, 2, 2, 2], [3, 3], [3, 1]));
        Refused("blank", "4 is not a class", () => tape.CtcLoss(lp, [1, 2, 2, 2], [3, 3], [2, 1], blank: 4));
        Refused("targets", "not a multiple of 2", () => tape.CtcLoss(lp, [1, 2, 2], [3, 3], [2, 1]));
        Refused("logProbs", "expected (T,N,C)", () => tape.CtcLoss(Variable.Constant(Tensor.Zeros(3, 4)), [1], [3], [1]));
    }

    // ---------------------------------------------------------------- decoding and the label error rate

    private static float[] LogRows(params double[][] probabilities) =>
        probabilities.SelectMany(row => row.Select(p => (float)Math.Log(p))).ToArray();

    [Fact]
    public void Greedy_merges_repeats_then_drops_blanks()
    {
        // arg-max path: 1 1 0 1 2 2 0 -> [1, 1, 2]
        int[] path = [1, 1, 0, 1, 2, 2, 0];
        var rows = LogRows(path.Select(c => Enumerable.Range(0, 3).Select(k => k == c ? 0.8 : 0.1).ToArray()).ToArray());
        var h = CtcDecoding.Greedy(rows, path.Length, 3, blank: 0);
        Assert.Equal([1, 1, 2], h.Labels);
        Assert.Equal(path.Length * Math.Log(0.8), h.LogProbability, 4);
        // with the blank last: classes 0 and 1 are labels
        var h2 = CtcDecoding.Greedy(LogRows([0.1, 0.2, 0.7], [0.6, 0.3, 0.1], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1]), 4, 3, blank: 2);
        Assert.Equal([0, 1], h2.Labels);
    }

    [Fact]
    public void Beam_search_finds_the_labelling_that_greedy_misses()
    {
        // Two steps, blank 0.6 / 'a' 0.4 at each: the best path is blank blank (""), probability 0.36, but "a" has
        // three paths (a a, a -, - a) summing to 0.64.
        var rows = LogRows([0.6, 0.4], [0.6, 0.4]);
        var greedy = CtcDecoding.Greedy(rows, 2, 2);
        var beam = CtcDecoding.BeamSearch(rows, 2, 2, beamWidth: 4);
        Assert.Empty(greedy.Labels);
        Assert.Equal(Math.Log(0.36), greedy.LogProbability, 5);
        Assert.Equal([1], beam.Labels);
        Assert.Equal(Math.Log(0.64), beam.LogProbability, 5);
    }

    [Fact]
    public void Beam_search_probability_equals_the_ctc_likelihood_of_its_labelling()
    {
        const int T = 6, C = 4;
        var lp = RandomLogProbs(new Random(14), T, 1, C);
        var beam = CtcDecoding.BeamSearch(lp, T, C, blank: 0, beamWidth: 64);
        int L = beam.Labels.Length;
        var nll = new Tape().CtcLoss(Variable.Constant(Tensor.FromArray(lp, T, 1, C)), L == 0 ? [0] : beam.Labels, [T], [L], 0, CtcReduction.Sum).Value.Span[0];
        Assert.Equal(-nll, beam.LogProbability, 4);
        // and no other labelling of up to T labels is more probable: greedy's is not
        var greedy = CtcDecoding.Greedy(lp, T, C);
        int G = greedy.Labels.Length;
        var gnll = new Tape().CtcLoss(Variable.Constant(Tensor.FromArray(lp, T, 1, C)), G == 0 ? [0] : greedy.Labels, [T], [G], 0, CtcReduction.Sum).Value.Span[0];
        Assert.True(-gnll <= beam.LogProbability + 1e-5);
    }

    [Fact]
    public void Decoders_refuse_bad_shapes()
    {
        Assert.Contains("expected (T=2, C=3) = 6 floats, found 5", Assert.Throws<ArgumentException>(() => CtcDecoding.Greedy(new float[5], 2, 3)).Message);
        Assert.Contains("blank: 3 is not a class", Assert.Throws<ArgumentException>(() => CtcDecoding.BeamSearch(new float[6], 2, 3, blank: 3)).Message);
        Assert.Contains("beamWidth", Assert.Throws<ArgumentException>(() => CtcDecoding.BeamSearch(new float[6], 2, 3, beamWidth: 0)).Message);
    }

    [Fact]
    public void Edit_distance_and_label_error_rate()
    {
        Assert.Equal(3, CtcDecoding.EditDistance([10, 8, 19, 19, 4, 13], [18, 8, 19, 19, 8, 13, 6]));   // kitten / sitting
        Assert.Equal(0, CtcDecoding.EditDistance([1, 2], [1, 2]));
        Assert.Equal(2, CtcDecoding.EditDistance([], [1, 2]));
        Assert.Equal(3, CtcDecoding.EditDistance([1, 2, 3], []));
        // corpus-level: (1 + 0 + 2) edits over (2 + 3 + 1) reference labels
        double ler = CtcDecoding.LabelErrorRate([([1, 3], [1, 2]), ([4, 5, 6], [4, 5, 6]), ([7, 7, 7], [7])]);
        Assert.Equal(3.0 / 6, ler, 12);
        Assert.Contains("hold no label", Assert.Throws<ArgumentException>(() => CtcDecoding.LabelErrorRate([([1], [])])).Message);
    }

    [Fact]
    public void Sequence_rows_pick_one_sequence_of_a_time_major_batch()
    {
        var data = Enumerable.Range(0, 3 * 2 * 2).Select(i => (float)i).ToArray();   // (T=3, N=2, C=2)
        Assert.Equal([2f, 3f, 6f, 7f], CtcDecoding.SequenceRows(data, 2, 2, 1, 2));
    }
}
