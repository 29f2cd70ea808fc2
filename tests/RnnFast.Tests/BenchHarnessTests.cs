// The benchmark harness (`rnnfast bench`, RnnFast.Bench) on tiny problem files written here: the JSON's fields in the
// issue's shape, a deliberately wrong backend reported as a failed check with exit code 1, a refusing backend's row
// marked not run with its reason, parser errors naming the file and line, FLOP counts of known shapes, ratios between
// backends, the shipped shapes lists, the writers and the plot. Budgets are a few milliseconds; nothing here asserts a speed.
using System.Text.Json;
using System.Xml.Linq;
using RnnFast.Backends;
using RnnFast.Bench;
using RnnFast.Cli;
using Xunit;

namespace RnnFast.Tests;

public sealed class BenchHarnessTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly BenchMachine FixedMachine =
        new("Test CPU", 2, "AVX-512", "AVX-512F", 100, "fixed for tests", 2, ".NET", "test", []);

    private string WriteShapes(string text, string name = "tiny.txt")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static Backend Reference => BackendRegistry.All.First(b => b.Name == "reference");

    private static (int Code, string Out, string Err) Bench(BenchArgs args, IReadOnlyList<Backend>? backends = null, BenchMachine? machine = null)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = BenchCommand.Run(args, o, e, interactive: false, backends, machine ?? FixedMachine);
        return (code, o.ToString(), e.ToString());
    }

    private BenchArgs Args(string shapesPath, string format = "json") =>
        new() { Shapes = shapesPath, Format = format, MaxSeconds = 0.01, MaxReps = 2 };

    // ------------------------------------------------------------------ fakes

    /// <summary>The reference's numbers with one output element (and one gradient element) off by <c>delta</c>.</summary>
    private sealed class WrongBackend(float delta = 0.01f, bool throws = false) : Backend
    {
        public override string Name => throws ? "broken" : "wrong";
        public override BackendKind Kind => BackendKind.Cpu;
        public override string Description => "test double that perturbs the reference's output";
        public override int Score => 0;
        protected override BackendAvailability Probe() => BackendAvailability.Yes();

        public override IRnnPlan CreateRnnPlan(RnnParameters parameters)
        {
            if (throws) throw new InvalidOperationException("device lost");
            return new Plan(Reference.CreateRnnPlan(parameters), delta);
        }

        private sealed class Plan(IRnnPlan inner, float delta) : IRnnPlan
        {
            public RnnDesc Desc => inner.Desc;
            public RnnParameters Parameters => inner.Parameters;
            public void Dispose() => inner.Dispose();

            public RnnForwardResult Forward(RnnInputs inputs, bool training)
            {
                var r = inner.Forward(inputs, training);
                var y = r.Output.ToArray();
                y[0] += delta;
                return new RnnForwardResult(Tensor.FromArray(y, r.Output.Shape), r.HN, r.CN, r.Workspace);
            }

            public RnnStepper CreateStepper(int maxStreams = 1) => inner.CreateStepper(maxStreams);

            public RnnGradients Backward(RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN) =>
                inner.Backward(inputs, forward, dOutput, dHN, dCN);
        }
    }

    /// <summary>Runs inference through the reference but refuses training (NotSupportedException), as oneDNN does what it has no primitive for.</summary>
    private sealed class RefusingBackend : Backend
    {
        public override string Name => "refuser";
        public override BackendKind Kind => BackendKind.Cpu;
        public override string Description => "test double that refuses training";
        public override int Score => 0;
        protected override BackendAvailability Probe() => BackendAvailability.Yes();
        public override IRnnPlan CreateRnnPlan(RnnParameters parameters) => new Plan(Reference.CreateRnnPlan(parameters));

        private sealed class Plan(IRnnPlan inner) : IRnnPlan
        {
            public RnnDesc Desc => inner.Desc;
            public RnnParameters Parameters => inner.Parameters;
            public void Dispose() => inner.Dispose();
            public RnnStepper CreateStepper(int maxStreams = 1) => inner.CreateStepper(maxStreams);

            public RnnForwardResult Forward(RnnInputs inputs, bool training) => training
                ? throw new NotSupportedException($"refuser: cannot run {Desc} (forward-training): no kernel for it (test)")
                : inner.Forward(inputs, training);

            public RnnGradients Backward(RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN) =>
                throw new NotSupportedException("refuser: no backward (test)");
        }
    }

    private sealed class MissingBackend : Backend
    {
        public override string Name => "nowhere";
        public override BackendKind Kind => BackendKind.Gpu;
        public override string Description => "never available";
        public override int Score => 0;
        protected override BackendAvailability Probe() => BackendAvailability.No("no such device (test)");
        public override IRnnPlan CreateRnnPlan(RnnParameters parameters) => throw new InvalidOperationException("unavailable");
    }

    // ------------------------------------------------------------------ the JSON

    [Fact]
    public void Json_has_the_issues_fields_for_every_backend_and_problem()
    {
        var path = WriteShapes("""
            # two tiny problems
            lstm uni 1 3 2 5 4 inference
            gru  bi  2 3 2 4 3 training   # stacked, bidirectional
            """);
        var backends = BackendRegistry.All.Where(b => b.IsAvailable).Append(new MissingBackend()).ToList();
        var (code, o, e) = Bench(Args(path), backends, machine: BenchMachine.Detect(backends, probeSeconds: 0.03));
        Assert.True(code == 0, e);

        using var doc = JsonDocument.Parse(o);
        var root = doc.RootElement;
        var m = root.GetProperty("machine");
        Assert.False(string.IsNullOrWhiteSpace(m.GetProperty("cpu").GetString()));
        Assert.Equal(Environment.ProcessorCount, m.GetProperty("cores").GetInt32());
        Assert.Contains(m.GetProperty("isa").GetString(), new[] { "AVX-512", "AVX2+FMA", "AVX2", "scalar" });
        Assert.True(m.GetProperty("peak_gflops").GetDouble() > 0);

        var unavailable = root.GetProperty("unavailable").EnumerateArray().ToList();
        Assert.Contains(unavailable, u => u.GetProperty("backend").GetString() == "nowhere" && u.GetProperty("reason").GetString() == "no such device (test)");

        var results = root.GetProperty("results").EnumerateArray().ToList();
        int available = backends.Count(b => b.IsAvailable);
        Assert.Equal(2 * available, results.Count);
        foreach (var r in results)
        {
            foreach (var field in new[] { "problem", "cell", "T", "N", "I", "H", "phase", "backend", "correct", "max_abs_err", "ms_median", "ms_min", "ms_max", "gflops", "peak_fraction" })
                Assert.True(r.TryGetProperty(field, out _), $"result lacks '{field}': {r}");
            Assert.True(r.GetProperty("correct").GetBoolean(), r.ToString());
            Assert.True(r.GetProperty("ms_min").GetDouble() <= r.GetProperty("ms_median").GetDouble());
            Assert.True(r.GetProperty("ms_median").GetDouble() <= r.GetProperty("ms_max").GetDouble());
            Assert.True(r.GetProperty("gflops").GetDouble() > 0);
            Assert.True(r.GetProperty("peak_fraction").GetDouble() > 0);
            Assert.True(r.GetProperty("max_abs_err").GetDouble() >= 0);
            // The process's CPU time per call (Linux's clock): positive, and (the calls being short) present on every row.
            if (OperatingSystem.IsLinux()) Assert.True(r.GetProperty("cpu_ms_median").GetDouble() > 0, r.ToString());
        }
        var lstm = results.First(r => r.GetProperty("cell").GetString() == "lstm");
        Assert.Equal("lstm T=3 N=2 I=5 H=4 L=1 D=1", lstm.GetProperty("problem").GetString());
        Assert.Equal("inference", lstm.GetProperty("phase").GetString());
        Assert.Equal((3, 2, 5, 4), (lstm.GetProperty("T").GetInt32(), lstm.GetProperty("N").GetInt32(), lstm.GetProperty("I").GetInt32(), lstm.GetProperty("H").GetInt32()));
        var gru = results.First(r => r.GetProperty("cell").GetString() == "gru");
        Assert.Equal("gru T=3 N=2 I=4 H=3 L=2 D=2", gru.GetProperty("problem").GetString());
        Assert.Equal("training", gru.GetProperty("phase").GetString());
        Assert.Contains("every gradient", results.First(r => r.GetProperty("phase").GetString() == "training" && r.GetProperty("backend").GetString() != "reference")
            .GetProperty("check").GetString());
    }

    [Fact]
    public void A_wrong_backend_fails_its_check_and_exits_1()
    {
        var path = WriteShapes("lstm uni 1 3 2 5 4 inference\n");
        var (code, o, e) = Bench(Args(path), [Reference, new WrongBackend()]);
        Assert.Equal(1, code);
        using var doc = JsonDocument.Parse(o);
        var results = doc.RootElement.GetProperty("results").EnumerateArray().ToList();
        var wrong = results.Single(r => r.GetProperty("backend").GetString() == "wrong");
        Assert.False(wrong.GetProperty("correct").GetBoolean());
        Assert.InRange(wrong.GetProperty("max_abs_err").GetDouble(), 0.009, 0.011);
        Assert.Contains("output", wrong.GetProperty("check_failure").GetString());
        Assert.True(results.Single(r => r.GetProperty("backend").GetString() == "reference").GetProperty("correct").GetBoolean());
        Assert.Contains("FAIL lstm T=3 N=2 I=5 H=4 L=1 D=1 inference on wrong", e);
    }

    [Fact]
    public void A_tiny_error_within_tolerance_passes()
    {
        var path = WriteShapes("rnn_tanh uni 1 2 2 3 3 inference\n");
        var (code, o, _) = Bench(Args(path), [Reference, new WrongBackend(delta: 1e-6f)]);
        Assert.Equal(0, code);
        Assert.Contains("\"correct\": true", o);
    }

    [Fact]
    public void A_backend_that_throws_is_a_failed_result_not_a_crash()
    {
        var path = WriteShapes("gru uni 1 2 2 3 3 inference\n");
        var (code, o, _) = Bench(Args(path), [Reference, new WrongBackend(throws: true)]);
        Assert.Equal(1, code);
        using var doc = JsonDocument.Parse(o);
        var broken = doc.RootElement.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("backend").GetString() == "broken");
        Assert.False(broken.GetProperty("correct").GetBoolean());
        Assert.Contains("device lost", broken.GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, broken.GetProperty("ms_median").ValueKind);
    }

    [Fact]
    public void A_refused_problem_is_a_row_marked_not_run_that_names_who_refused_and_why()
    {
        var path = WriteShapes("lstm uni 1 3 2 5 4 training\ngru uni 1 2 2 3 3 inference\n");
        var (code, o, e) = Bench(Args(path), [Reference, new RefusingBackend()]);
        Assert.Equal(1, code); // a requested row that did not run is not a pass
        using var doc = JsonDocument.Parse(o);
        var results = doc.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(4, results.Count);
        var refused = results.Single(r => r.GetProperty("backend").GetString() == "refuser" && r.GetProperty("phase").GetString() == "training");
        Assert.False(refused.GetProperty("correct").GetBoolean());
        Assert.Equal(JsonValueKind.Null, refused.GetProperty("gflops").ValueKind);
        Assert.Equal(JsonValueKind.Null, refused.GetProperty("ms_median").ValueKind);
        Assert.Equal(JsonValueKind.Null, refused.GetProperty("max_abs_err").ValueKind);
        Assert.Equal("refuser: cannot run LSTM(I=5, H=4, L=1, D=1) (forward-training): no kernel for it (test)", refused.GetProperty("refused").GetString());
        Assert.StartsWith("not run: backend 'refuser' refused it: refuser: cannot run", refused.GetProperty("error").GetString());
        foreach (var field in new[] { "cell", "dir", "L", "T", "N", "I", "H", "phase", "backend", "gflops", "correct" })
            Assert.True(refused.TryGetProperty(field, out _), $"refused row lacks '{field}'");
        Assert.Equal(JsonValueKind.Null, results.Single(r => r.GetProperty("backend").GetString() == "reference" && r.GetProperty("phase").GetString() == "training")
            .GetProperty("refused").ValueKind);

        // The same backend's inference row ran and is right; no ratio or baseline comes from the refused row.
        var ran = results.Single(r => r.GetProperty("backend").GetString() == "refuser" && r.GetProperty("phase").GetString() == "inference");
        Assert.True(ran.GetProperty("correct").GetBoolean());
        Assert.True(ran.GetProperty("gflops").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Null, refused.GetProperty("speedup_vs_baseline").ValueKind);

        Assert.Contains("NOT RUN lstm T=3 N=2 I=5 H=4 L=1 D=1 training: backend 'refuser' refused it: refuser: cannot run", e);
        Assert.Contains("1 not run (refused by their backend)", e);
        Assert.DoesNotContain("FAIL", e);

        var table = Bench(Args(path, "table"), [Reference, new RefusingBackend()]);
        Assert.Contains("not run", table.Out);
        Assert.Contains("backend 'refuser' refused it", table.Out);
        var md = Bench(Args(path, "markdown"), [Reference, new RefusingBackend()]);
        Assert.Contains("| refuser | not run (refused) |", md.Out);
        var csv = Bench(Args(path, "csv"), [Reference, new RefusingBackend()]).Out.Split('\n');
        Assert.EndsWith(",refused", csv[0]);
        Assert.Contains(csv, line => line.Contains(",refuser,") && line.EndsWith("no kernel for it (test)\"")); // quoted: it has commas
    }

    [Fact]
    public void The_reference_is_not_timed_when_one_step_would_blow_the_budget_and_says_why()
    {
        var path = WriteShapes("lstm uni 1 2 32 128 128 inference\n");
        var (code, o, e) = Bench(Args(path) with { MaxSeconds = 1e-4 }, [Reference]);
        Assert.True(code == 0, e);
        using var doc = JsonDocument.Parse(o);
        var r = doc.RootElement.GetProperty("results").EnumerateArray().Single();
        Assert.True(r.GetProperty("correct").GetBoolean());
        Assert.Contains("s budget; raise --max-seconds", r.GetProperty("not_timed").GetString());
        Assert.Equal(JsonValueKind.Null, r.GetProperty("ms_median").ValueKind);
        Assert.Contains("not timed", e);
    }

    /// <summary>The reference's numbers, each forward taking (wall clock, spun) a fixed cost plus a cost per step of T.</summary>
    private sealed class TimedBackend(double fixedMs, double perStepMs, string name = "timed") : Backend
    {
        public override string Name => name;
        public override BackendKind Kind => BackendKind.Cpu;
        public override string Description => "test double whose calls take fixedMs + perStepMs * T";
        public override int Score => 0;
        protected override BackendAvailability Probe() => BackendAvailability.Yes();
        public override IRnnPlan CreateRnnPlan(RnnParameters parameters) => new Plan(Reference.CreateRnnPlan(parameters), fixedMs, perStepMs);

        private sealed class Plan(IRnnPlan inner, double fixedMs, double perStepMs) : IRnnPlan
        {
            public RnnDesc Desc => inner.Desc;
            public RnnParameters Parameters => inner.Parameters;
            public void Dispose() => inner.Dispose();

            public RnnForwardResult Forward(RnnInputs inputs, bool training)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var r = inner.Forward(inputs, training);
                double until = fixedMs + perStepMs * inputs.Input.Shape[0];
                while (clock.Elapsed.TotalMilliseconds < until) Thread.SpinWait(100);
                return r;
            }

            public RnnStepper CreateStepper(int maxStreams = 1) => inner.CreateStepper(maxStreams);

            public RnnGradients Backward(RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN) =>
                inner.Backward(inputs, forward, dOutput, dHN, dCN);
        }
    }

    [Fact]
    public void A_cut_T_counts_the_per_call_cost_once()
    {
        // 40 ms a call + 2 ms a step: the full T = 100 (240 ms) does not fit a 0.3 s budget twice, so it is timed at a
        // shorter T and at half that T; the line through both gives about 240 ms. Plain scaling by T / timed_T would
        // count the 40 ms once per timed_T steps (>= 1000 ms here).
        var path = WriteShapes("lstm uni 1 100 2 5 4 inference\n");
        var (code, o, e) = Bench(Args(path) with { MaxSeconds = 0.3, MaxReps = 50 }, [new TimedBackend(40, 2)]);
        Assert.True(code == 0, e);
        using var doc = JsonDocument.Parse(o);
        var r = doc.RootElement.GetProperty("results").EnumerateArray().Single();
        Assert.True(r.GetProperty("cut").GetBoolean(), o);
        int timedT = r.GetProperty("timed_T").GetInt32(), halfT = r.GetProperty("timed_half_T").GetInt32();
        Assert.True(timedT >= 2 && timedT < 100 && halfT == timedT / 2, o);
        double ms = r.GetProperty("ms_median").GetDouble();
        Assert.InRange(ms, 200, 400);
        Assert.True(ms < 0.5 * r.GetProperty("ms_timed_median").GetDouble() * 100 / timedT, o);
        Assert.Equal(r.GetProperty("gflop").GetDouble() / (ms / 1e3), r.GetProperty("gflops").GetDouble(), 6);
    }

    [Fact]
    public void A_cut_T_line_that_would_beat_the_peak_falls_back_to_plain_scaling()
    {
        // The same 40 ms + 2 ms a step backend, on a "machine" whose peak (1e-6 GFLOP/s) the extrapolated time (about
        // 240 ms for 57,600 FLOPs, 2.4e-4 GFLOP/s; even 50 s would be faster) would exceed: the line is not used; plain
        // scaling, which errs slow, is.
        var path = WriteShapes("lstm uni 1 100 2 5 4 inference\n");
        var slowMachine = FixedMachine with { PeakGflops = 1e-6 };
        var (code, o, e) = Bench(Args(path) with { MaxSeconds = 0.3, MaxReps = 50 }, [new TimedBackend(40, 2)], slowMachine);
        Assert.True(code == 0, e);
        using var doc = JsonDocument.Parse(o);
        var r = doc.RootElement.GetProperty("results").EnumerateArray().Single();
        Assert.True(r.GetProperty("cut").GetBoolean(), o);
        Assert.True(JsonValueKind.Null == r.GetProperty("ms_timed_half_median").ValueKind, o); // the half-T line was not used
        int timedT = r.GetProperty("timed_T").GetInt32();
        double plain = r.GetProperty("ms_timed_median").GetDouble() * 100 / timedT;
        Assert.InRange(r.GetProperty("ms_median").GetDouble() / plain, 0.9999, 1.0001); // plain scaling (JSON rounds to 6 digits)
    }

    // ------------------------------------------------------------------ ratios

    [Fact]
    public void Ratios_compare_backends_on_the_same_problem()
    {
        var problems = ProblemFile.Parse("lstm uni 1 3 2 5 4 inference\nrnn_relu uni 1 2 1 3 3 inference\n", "inline");
        var runner = new BenchRunner([Reference, new WrongBackend(delta: 0)], new BenchOptions { MaxSeconds = 0.01, MaxRepetitions = 2 });
        var report = runner.Run(problems, machine: FixedMachine);
        Assert.Equal("reference", report.Baseline);
        Assert.True(report.AllCorrect);
        foreach (var group in report.Results.GroupBy(r => r.Problem.ToString()))
        {
            var a = group.Single(r => r.Backend == "reference");
            var b = group.Single(r => r.Backend == "wrong");
            Assert.Equal(a.MsMedian / b.MsMedian, b.SpeedupVs["reference"], 9);
            Assert.Equal(1.0, a.SpeedupVs["wrong"] * b.SpeedupVs["reference"], 9);
            Assert.Equal(1.0, report.SpeedupVsBaseline(a));
            Assert.Equal(b.SpeedupVs["reference"], report.SpeedupVsBaseline(b));
            Assert.Single(a.SpeedupVs); // only the other problem's backends, never another problem
            Assert.Empty(a.PairedSpeedupVs); // timed one after another: no rounds to pair
        }
        Assert.False(report.Interleaved);
    }

    private static readonly WarmUpPolicy QuickWarmUp = new() { MinCalls = 1, MinSeconds = 0, TierCalls = 1, QuietSeconds = 0 };

    [Fact]
    public void Interleaved_backends_are_paired_round_by_round()
    {
        // Calls of 3 ms and 6 ms (spun): timed in alternating windows, each round's ratio is about 2, and so is the
        // median; each backend got at least one call a round, and the baseline column is the paired median.
        var problems = ProblemFile.Parse("lstm uni 1 3 2 5 4 inference\n", "inline");
        var options = new BenchOptions { MaxSeconds = 0.3, MaxRepetitions = 200, Interleave = true, InterleaveWindowSeconds = 0.06, WarmUp = QuickWarmUp };
        var runner = new BenchRunner([new TimedBackend(3, 0, "fast"), new TimedBackend(6, 0, "slow")], options);
        var report = runner.Run(problems, machine: FixedMachine);
        Assert.True(report.Interleaved);
        Assert.True(report.AllCorrect);
        var fast = report.Results.Single(r => r.Backend == "fast");
        var slow = report.Results.Single(r => r.Backend == "slow");
        var fastVsSlow = fast.PairedSpeedupVs["slow"];
        var slowVsFast = slow.PairedSpeedupVs["fast"];
        Assert.Equal(BenchRunner.Rounds(0.3, 0.06, 0.006), fastVsSlow.Rounds);
        Assert.True(fastVsSlow.Rounds >= BenchRunner.MinRounds, $"{fastVsSlow.Rounds} rounds");
        Assert.Equal(fastVsSlow.Rounds, fastVsSlow.Ratios.Count);
        Assert.Equal(fastVsSlow.Median, PairedRatio.Of(fastVsSlow.Ratios).Median);
        Assert.InRange(fastVsSlow.Median, 1.5, 2.5);
        Assert.InRange(slowVsFast.Median, 0.4, 0.67);
        Assert.True(fastVsSlow.Q1 <= fastVsSlow.Median && fastVsSlow.Median <= fastVsSlow.Q3, fastVsSlow.ToString());
        Assert.True(fast.Repetitions >= fastVsSlow.Rounds && slow.Repetitions >= fastVsSlow.Rounds);
        Assert.Equal("fast", report.Baseline);
        Assert.Equal(slowVsFast.Median, report.SpeedupVsBaseline(slow));
        Assert.Single(fast.PairedSpeedupVs);
    }

    [Fact]
    public void Interleaved_run_leaves_a_refused_backend_out_of_the_rounds()
    {
        var problems = ProblemFile.Parse("lstm uni 1 3 2 5 4 training\n", "inline");
        var options = new BenchOptions { MaxSeconds = 0.1, MaxRepetitions = 50, Interleave = true, InterleaveWindowSeconds = 0.02, WarmUp = QuickWarmUp };
        var runner = new BenchRunner([new TimedBackend(1, 0, "a"), new RefusingBackend(), new TimedBackend(1, 0, "b")], options);
        var report = runner.Run(problems, machine: FixedMachine);
        var refused = report.Results.Single(r => r.Backend == "refuser");
        Assert.True(refused.NotRun);
        Assert.False(refused.Timed);
        Assert.Empty(refused.PairedSpeedupVs);
        var a = report.Results.Single(r => r.Backend == "a");
        Assert.True(a.Timed && a.Correct, a.Error);
        Assert.Equal(["b"], a.PairedSpeedupVs.Keys);
        Assert.Equal(["a"], report.Results.Single(r => r.Backend == "b").PairedSpeedupVs.Keys);
    }

    [Fact]
    public void Interleave_flag_writes_paired_ratios_to_the_json()
    {
        var path = WriteShapes("rnn_relu uni 1 2 1 3 3 inference\n");
        var (code, o, e) = Bench(Args(path) with { Interleave = true, MaxSeconds = 0.05 }, [Reference, new WrongBackend(delta: 0)]);
        Assert.True(code == 0, e);
        using var doc = JsonDocument.Parse(o);
        Assert.True(doc.RootElement.GetProperty("interleaved").GetBoolean());
        var wrong = doc.RootElement.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("backend").GetString() == "wrong");
        var paired = wrong.GetProperty("paired_speedup_vs").GetProperty("reference");
        Assert.Equal(BenchRunner.MinRounds, paired.GetProperty("rounds").GetInt32()); // a 0.05 s budget: the fewest rounds
        Assert.Equal(BenchRunner.MinRounds, paired.GetProperty("ratios").GetArrayLength());
        Assert.Equal(paired.GetProperty("median").GetDouble(), wrong.GetProperty("speedup_vs_baseline").GetDouble());
        Assert.Contains("alternating windows", e);
    }

    [Theory]
    [InlineData(new double[] { 3, 1, 2, 5, 4 }, 3, 2, 4)]
    [InlineData(new double[] { 2, 1 }, 1.5, 1, 2)]
    [InlineData(new double[] { 7 }, 7, 7, 7)]
    public void Paired_ratio_is_the_median_and_quartiles_of_the_rounds(double[] ratios, double median, double q1, double q3)
    {
        var p = PairedRatio.Of(ratios);
        Assert.Equal((median, q1, q3, ratios.Length), (p.Median, p.Q1, p.Q3, p.Rounds));
        Assert.True(double.IsNaN(PairedRatio.Of([]).Median));
    }

    // ------------------------------------------------------------------ the parser

    [Theory]
    [InlineData("lstm uni 1 50 64 512 inference", "expected 8 fields")]
    [InlineData("lsmt uni 1 50 64 512 512 inference", "unknown cell 'lsmt'")]
    [InlineData("lstm both 1 50 64 512 512 inference", "unknown direction 'both'")]
    [InlineData("lstm uni 1 50 0 512 512 inference", "N must be a positive integer, found '0'")]
    [InlineData("lstm uni 1 50 64 512 -5 inference", "H must be a positive integer, found '-5'")]
    [InlineData("lstm uni 1 5x 64 512 512 inference", "T must be a positive integer, found '5x'")]
    [InlineData("lstm uni 1 50 64 512 512 testing", "unknown phase 'testing'")]
    public void Parser_errors_name_the_file_and_line(string badLine, string expected)
    {
        var path = WriteShapes($"# header\nlstm uni 1 2 2 4 4 inference\n\n{badLine}\n");
        var ex = Assert.Throws<ProblemFileException>(() => ProblemFile.Load(path));
        Assert.Equal(4, ex.Line);
        Assert.StartsWith($"{path}:4: ", ex.Message);
        Assert.Contains(expected, ex.Message);

        var (code, _, e) = Bench(Args(path), [Reference]);
        Assert.Equal(2, code);
        Assert.StartsWith($"error: {path}:4: ", e.Trim());
        Assert.Single(e.Trim().Split('\n'));
    }

    [Fact]
    public void Parser_reads_comments_blank_lines_and_both_directions()
    {
        var problems = ProblemFile.Parse("# c\n\n  gru bi 2 7 3 5 6 training # trailing\r\nrnn_relu uni 1 1 1 1 1 inference\n", "x.txt");
        Assert.Equal(2, problems.Count);
        var p = problems[0];
        Assert.Equal((RnnMode.Gru, true, 2, 7, 3, 5, 6, BenchPhase.Training, 3), (p.Cell, p.Bidirectional, p.Layers, p.T, p.N, p.I, p.H, p.Phase, p.Line));
        Assert.Equal(RnnMode.RnnRelu, problems[1].Cell);
        Assert.Throws<ProblemFileException>(() => ProblemFile.Parse("# only comments\n", "empty.txt"));
    }

    [Fact]
    public void Unknown_names_and_options_are_exit_2()
    {
        var path = WriteShapes("lstm uni 1 2 2 4 4 inference\n");
        Assert.Equal(2, Bench(Args(path) with { Format = "yaml" }, [Reference]).Code);
        Assert.Equal(2, Bench(Args(path) with { Phase = "sometimes" }, [Reference]).Code);
        Assert.Equal(2, Bench(Args(path) with { MaxSeconds = 0 }, [Reference]).Code);
        Assert.Equal(2, Bench(Args(path) with { Plot = Path.Combine(_dir, "x.png") }, [Reference]).Code);
        var (code, _, e) = Bench(Args(Path.Combine(_dir, "no-such-list")), [Reference]);
        Assert.Equal(2, code);
        Assert.Contains("known: ", e);
        var ex = Assert.Throws<ArgumentException>(() => BenchCommand.SelectBackends("cpu,gpu9"));
        Assert.Contains("unknown backend 'gpu9'", ex.Message);
    }

    [Fact]
    public void Backends_all_lists_every_registered_backend_and_names_the_missing_ones()
    {
        var (backends, missing) = BenchCommand.SelectBackends("all");
        Assert.Equal(BackendRegistry.All.Select(b => b.Name), backends.Select(b => b.Name));
        foreach (var name in new[] { "reference", "cpu", "onednn", "opencl", "cuda" })
            Assert.True(backends.Any(b => b.Name == name) || missing.Any(m => m.Backend == name && m.Reason.Length > 0), name);
    }

    // ------------------------------------------------------------------ FLOPs

    [Fact]
    public void Flop_counts_of_known_shapes()
    {
        // LSTM, G=4: 2*4*512*(512+512)*64*50
        Assert.Equal(13_421_772_800.0, new BenchProblem(RnnMode.Lstm, false, 1, 50, 64, 512, 512, BenchPhase.Inference).Flops());
        // training is 3x the forward
        Assert.Equal(3 * 13_421_772_800.0, new BenchProblem(RnnMode.Lstm, false, 1, 50, 64, 512, 512, BenchPhase.Training).Flops());
        // GRU, G=3, bidirectional, 2 layers: layer 1's input is D*H = 2H
        double gru = 2.0 * 3 * 100 * (40 + 100) * 8 * 10 * 2 + 2.0 * 3 * 100 * (200 + 100) * 8 * 10 * 2;
        Assert.Equal(gru, new BenchProblem(RnnMode.Gru, true, 2, 10, 8, 40, 100, BenchPhase.Inference).Flops());
        // vanilla RNN, G=1; DeepBench's 1760 x 16 x 50
        Assert.Equal(2.0 * 1760 * 3520 * 16 * 50, FlopCount.Forward(new RnnDesc(RnnMode.RnnRelu, 1760, 1760), 50, 16));
        // a cut T counts only the steps timed
        Assert.Equal(13_421_772_800.0 / 50 * 7, new BenchProblem(RnnMode.Lstm, false, 1, 50, 64, 512, 512, BenchPhase.Inference).Flops(7));
    }

    // ------------------------------------------------------------------ check shapes, phases, shipped lists

    [Fact]
    public void The_check_runs_on_a_reduced_T_and_N_for_huge_shapes()
    {
        var o = new BenchOptions();
        var big = new BenchProblem(RnnMode.Gru, false, 1, 1500, 64, 2816, 2816, BenchPhase.Training);
        var (t, n) = BenchRunner.ProblemWork.CheckShape(big, o);
        Assert.True(t <= 4 && n < 64 && n >= 1);
        Assert.True(FlopCount.Of(big.ToDesc(), t, n, big.Phase) <= o.CheckMaxFlops || (t == 1 && n == 1));
        var small = new BenchProblem(RnnMode.Lstm, false, 1, 3, 2, 5, 4, BenchPhase.Inference);
        Assert.Equal((3, 2), BenchRunner.ProblemWork.CheckShape(small, o));
    }

    [Fact]
    public void Phase_selection_overrides_or_keeps_the_lines_phase()
    {
        var problems = ProblemFile.Parse("lstm uni 1 2 2 4 4 inference\nlstm uni 1 2 2 4 4 training\ngru uni 1 2 2 4 4 inference\n", "p.txt");
        Assert.Equal(3, BenchRunner.Select(problems, PhaseSelection.AsWritten).Count);
        Assert.Equal(2, BenchRunner.Select(problems, PhaseSelection.Training).Count);
        Assert.All(BenchRunner.Select(problems, PhaseSelection.Training), p => Assert.Equal(BenchPhase.Training, p.Phase));
        Assert.Equal(4, BenchRunner.Select(problems, PhaseSelection.Both).Count);
    }

    [Fact]
    public void The_shipped_shapes_lists_parse_and_resolve_by_name()
    {
        foreach (var name in new[] { "small", "lstm-yardstick", "deepbench-inference", "deepbench-training" })
        {
            var path = ProblemFile.Resolve(name);
            Assert.True(ProblemFile.Load(path).Count > 0, name);
        }
        var yard = ProblemFile.Load(ProblemFile.Resolve("lstm-yardstick"));
        Assert.Equal(
            ["lstm T=50 N=64 I=512 H=512 L=1 D=1 inference", "lstm T=25 N=64 I=1024 H=1024 L=1 D=1 inference", "lstm T=50 N=16 I=512 H=512 L=1 D=1 inference",
             "lstm T=50 N=1 I=512 H=512 L=1 D=1 inference", "lstm T=150 N=1 I=256 H=256 L=1 D=1 inference", "lstm T=25 N=64 I=512 H=512 L=1 D=1 training"],
            yard.Select(p => p.ToString()));
        var inference = ProblemFile.Load(ProblemFile.Resolve("deepbench-inference"));
        Assert.All(inference, p => Assert.Equal(BenchPhase.Inference, p.Phase));
        Assert.Contains(inference, p => p.Cell == RnnMode.Gru && p.H == 2816 && p.T == 1500 && p.N == 4);
        Assert.Contains(inference, p => p.Cell == RnnMode.RnnRelu && p.H == 32 && p.T == 672 && p.N == 1);
        var training = ProblemFile.Load(ProblemFile.Resolve("deepbench-training"));
        Assert.All(training, p => Assert.Equal(BenchPhase.Training, p.Phase));
        Assert.Contains(training, p => p.Cell == RnnMode.Lstm && p.H == 1024 && p.N == 128 && p.T == 25);
    }

    // ------------------------------------------------------------------ other formats and the plot

    [Fact]
    public void Markdown_csv_table_and_plot_are_written()
    {
        var path = WriteShapes("lstm uni 1 3 1 4 4 inference\nlstm uni 1 3 4 4 4 inference\n");
        var backends = new Backend[] { Reference, new WrongBackend(delta: 0) };

        var (code, md, _) = Bench(Args(path, "markdown"), backends);
        Assert.Equal(0, code);
        Assert.Contains("| problem | phase | backend |", md);
        Assert.Contains("| lstm T=3 N=4 I=4 H=4 L=1 D=1 | inference | wrong | yes", md);

        var (_, csv, _) = Bench(Args(path, "csv"), backends);
        var rows = csv.TrimEnd().Split('\n');
        Assert.Equal(5, rows.Length);
        Assert.StartsWith("problem,cell,dir,L,D,T,N,I,H,phase,backend", rows[0]);
        Assert.Equal(rows[0].Split(',').Length, rows[1].Split(',').Length);

        string outFile = Path.Combine(_dir, "table.txt"), svg = Path.Combine(_dir, "plot.svg");
        var (tcode, tout, terr) = Bench(Args(path, "table") with { Out = outFile, Plot = svg }, backends);
        Assert.Equal(0, tcode);
        Assert.Equal("", tout);
        string table = File.ReadAllText(outFile);
        Assert.Contains("GFLOP/s", table);
        Assert.Contains("Test CPU", table);
        Assert.Contains("plot written to", terr);
        var doc = XDocument.Load(svg);
        var lines = doc.Descendants().Where(e => (string?)e.Attribute("class") == "series-line").ToList();
        Assert.Equal(2, lines.Count); // one per backend: the two problems differ only in N
    }
}
