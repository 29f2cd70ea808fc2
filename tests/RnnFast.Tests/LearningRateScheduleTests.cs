// Issue 19: learning-rate schedules (TrainOptions.LrSchedule, LearningRateSchedule): the rate at known steps against the
// formulas, warm-up, plateau reacting to held-out checks (a real run: the decays follow its own reported checks), the
// rates recorded per step, resume continuing the sequence, bad values refused (library and CLI, exit 2 naming the flag).
using RnnFast.Cli;
using RnnFast.Data;
using RnnFast.Training;
using Xunit;

namespace RnnFast.Tests;

public sealed class LearningRateScheduleTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const double Lr = 0.01;

    private static LearningRateSchedule Schedule(TrainOptions o, int total = 100)
    {
        o.Validate();
        return new LearningRateSchedule(o, total);
    }

    [Fact]
    public void Constant_IsTheBaseRate()
    {
        var s = Schedule(new TrainOptions { LearningRate = Lr });
        Assert.All(new[] { 0, 1, 50, 99, 150 }, t => Assert.Equal(Lr, s.At(t)));
    }

    [Fact]
    public void Step_MultipliesByGammaEveryN()
    {
        var s = Schedule(new TrainOptions { LearningRate = Lr, LrSchedule = LrScheduleKind.Step, LrStepEvery = 10, LrGamma = 0.5 });
        Assert.Equal(Lr, s.At(0), 15);
        Assert.Equal(Lr, s.At(9), 15);
        Assert.Equal(Lr * 0.5, s.At(10), 15);
        Assert.Equal(Lr * 0.25, s.At(25), 15);
        Assert.Equal(Lr * Math.Pow(0.5, 9), s.At(99), 15);
    }

    [Fact]
    public void Cosine_GoesFromTheBaseToTheMinimumOverTheRun()
    {
        const double min = 1e-4;
        var s = Schedule(new TrainOptions { LearningRate = Lr, LrSchedule = LrScheduleKind.Cosine, LrMin = min }, total: 100);
        Assert.Equal(Lr, s.At(0), 15);
        Assert.Equal(min + (Lr - min) * 0.5, s.At(50), 15);
        Assert.Equal(min + (Lr - min) * (1 + Math.Cos(Math.PI * 0.25)) / 2, s.At(25), 15);
        Assert.Equal(min, s.At(100), 15);
        Assert.Equal(min, s.At(130), 15); // past the planned end: stays at the minimum
    }

    [Fact]
    public void WarmUp_RampsLinearlyFromZero_ThenTheSchedule()
    {
        var s = Schedule(new TrainOptions { LearningRate = Lr, WarmupSteps = 4 });
        Assert.Equal([Lr / 4, Lr / 2, Lr * 3 / 4, Lr, Lr], Enumerable.Range(0, 5).Select(s.At));
        // Cosine after warm-up: the half cosine spans the steps after it (100 - 20).
        var c = Schedule(new TrainOptions { LearningRate = Lr, LrSchedule = LrScheduleKind.Cosine, WarmupSteps = 20 }, total: 100);
        Assert.Equal(Lr * 10 / 20, c.At(9), 15);
        Assert.Equal(Lr, c.At(20), 15);
        Assert.Equal(Lr * 0.5, c.At(60), 15);
    }

    [Fact]
    public void Plateau_DecaysAfterPatienceChecksWithoutImprovement()
    {
        var s = Schedule(new TrainOptions { LearningRate = Lr, LrSchedule = LrScheduleKind.Plateau, LrGamma = 0.5, LrPatience = 2 });
        Assert.False(s.OnCheck(1.0));
        Assert.False(s.OnCheck(0.9));  // better
        Assert.False(s.OnCheck(0.95)); // 1 without improvement
        Assert.Equal(Lr, s.At(30));
        Assert.True(s.OnCheck(0.92));  // 2: decay
        Assert.Equal(Lr * 0.5, s.At(31), 15);
        Assert.False(s.OnCheck(double.NaN)); // NaN never improves: counts
        Assert.True(s.OnCheck(0.91));  // still not below 0.9
        Assert.Equal(Lr * 0.25, s.At(40), 15);
        Assert.False(s.OnCheck(0.5));
        Assert.Equal(2, s.Reductions);
    }

    private static readonly (string Label, string Text)[] Memory =
        MemoryTask.Generate(800, 10, 20, 4, 1).Select(e => (MemoryTask.ClassName(e.Label), e.Text)).ToArray();

    private sealed class Recorder : ITrainObserver
    {
        public List<EvalReport> Evals { get; } = [];
        public List<string> Messages { get; } = [];
        public List<StepReport> Steps { get; } = [];
        public Action<StepReport>? AtStep { get; init; }
        public void OnEval(EvalReport report) => Evals.Add(report);
        public void OnMessage(string message) => Messages.Add(message);
        public void OnStep(StepReport report) { Steps.Add(report); AtStep?.Invoke(report); }
    }

    [Fact]
    public void Plateau_InARun_FollowsItsOwnHeldOutChecks()
    {
        // Adam 0.3 without clipping: the held-out loss goes up and down (ClassifierKeepBestTests' construction).
        var o = new TrainOptions
        {
            Mode = RnnMode.Gru, Bidirectional = true, Hidden = 32, Embed = 16, Batch = 32, Steps = 120, LearningRate = 0.3, Clip = 0, Seed = 1,
            Backend = "cpu", EvalEvery = 10, SeqLen = 1, LrSchedule = LrScheduleKind.Plateau, LrGamma = 0.5, LrPatience = 1,
        };
        var rec = new Recorder();
        var (_, run) = new ClassifierTrainer().Train(Memory, 0.2, o, rec);
        Assert.Equal(120, run.LearningRates.Count);
        // Replay the rule over the reported periodic checks: the rate of each step is 0.3 x 0.5^(decays so far).
        double best = double.PositiveInfinity;
        int decays = 0;
        var expected = new double[120];
        var checks = rec.Evals.Where(e => e.Step < 120).ToDictionary(e => e.Step, e => e.ValLoss);
        for (int step = 0; step < 120; step++)
        {
            expected[step] = 0.3 * Math.Pow(0.5, decays);
            if (checks.TryGetValue(step + 1, out var loss))
            {
                if (loss < best) best = loss;
                else decays++;
            }
        }
        Assert.True(decays >= 1, "the construction needs a held-out plateau");
        for (int i = 0; i < 120; i++) Assert.Equal((float)expected[i], run.LearningRates[i]);
        Assert.Equal(decays, rec.Messages.Count(m => m.Contains("learning rate now", StringComparison.Ordinal)));
        Assert.Equal(run.LearningRates[^1], (float)rec.Steps[^1].LearningRate!.Value);
    }

    private static TrainOptions LmOptions(string? outPath, int steps) => new()
    {
        Mode = RnnMode.Lstm, Layers = 1, Hidden = 24, Embed = 8, SeqLen = 16, Batch = 8, Steps = steps, LearningRate = 0.01, Seed = 3,
        Backend = "cpu", Out = outPath, CheckpointEvery = 0, EvalEvery = 10, SampleLength = 0,
        LrSchedule = LrScheduleKind.Cosine, LrMin = 0.001, WarmupSteps = 5,
    };

    [Fact]
    public void CharLm_RecordsTheScheduledRateOfEveryStep_AndResumeContinuesIt()
    {
        string text = ProgramCorpus.Generate(20_000, 2);
        var whole = new CharLmTrainer().Train(text, "t", LmOptions(Path.Combine(_dir, "whole.safetensors"), 40));
        var schedule = new LearningRateSchedule(LmOptions(null, 40), 40);
        Assert.Equal(Enumerable.Range(0, 40).Select(i => (float)schedule.At(i)), whole.LearningRates);

        // Interrupted at step 17 (a signal), resumed to 40: the same rates and the same weights.
        string path = Path.Combine(_dir, "resumed.safetensors");
        using var cts = new CancellationTokenSource();
        var first = new CharLmTrainer().Train(text, "t", LmOptions(path, 40), new Recorder { AtStep = r => { if (r.Step == 17) cts.Cancel(); } }, cts.Token);
        Assert.True(first.Cancelled);
        Assert.Equal(17, first.Steps);
        var resumed = new CharLmTrainer().Train(text, "t", TrainOptions.FromCheckpoint(path) with { Backend = "cpu", Out = path, CheckpointEvery = 0, EvalEvery = 10, SampleLength = 0 });
        Assert.Equal(40, resumed.Steps);
        Assert.Equal(whole.LearningRates, resumed.LearningRates);
        Assert.Equal(whole.TrainLoss, resumed.TrainLoss);
        AssertSameWeights(Path.Combine(_dir, "whole.safetensors"), path);
    }

    internal static void AssertSameWeights(string a, string b)
    {
        var x = RnnFast.Models.Checkpoint.Read(a).Tensors;
        var y = RnnFast.Models.Checkpoint.Read(b).Tensors;
        foreach (var (name, t) in x.Where(kv => !kv.Key.StartsWith("optim.", StringComparison.Ordinal)))
            Assert.True(t.ToArray().SequenceEqual(y[name].ToArray()), $"tensor {name} differs");
    }

    [Theory]
    [InlineData("LrGamma", "must be in (0, 1)")]
    [InlineData("WarmupSteps", "must be >= 0")]
    [InlineData("LrStepEvery", "required with the step schedule")]
    [InlineData("LrMin", "must be below TrainOptions.LearningRate")]
    [InlineData("LrPatience", "must be at least 1")]
    [InlineData("LrSchedule", "plateau needs periodic held-out checks")]
    [InlineData("InitFrom", "give one, not both")]
    public void BadValues_AreRefused_NamingTheProperty(string property, string problem)
    {
        var o = property switch
        {
            "LrGamma" => new TrainOptions { LrGamma = 1.5 },
            "WarmupSteps" => new TrainOptions { WarmupSteps = -1 },
            "LrStepEvery" => new TrainOptions { LrSchedule = LrScheduleKind.Step },
            "LrMin" => new TrainOptions { LrSchedule = LrScheduleKind.Cosine, LearningRate = 0.01, LrMin = 0.01 },
            "LrPatience" => new TrainOptions { LrPatience = 0 },
            "LrSchedule" => new TrainOptions { LrSchedule = LrScheduleKind.Plateau, EvalEvery = 0 },
            _ => new TrainOptions { InitFrom = "a", Resume = "b" },
        };
        var e = Assert.Throws<ArgumentException>(o.Validate);
        Assert.StartsWith("TrainOptions." + property, e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Theory]
    [InlineData("--lr-schedule", "linear", "must be constant, step, cosine or plateau")]
    [InlineData("--warmup-steps", "-1", "must be >= 0")]
    [InlineData("--lr-step-every", "0", "must be positive")]
    [InlineData("--lr-gamma", "2", "must be in (0, 1)")]
    [InlineData("--lr-min", "-1", "must be a number >= 0")]
    [InlineData("--lr-patience", "0", "must be at least 1")]
    [InlineData("--early-stopping", "0", "must be at least 1")]
    [InlineData("--keep", "worst", "must be best or last")]
    [InlineData("--monitor", "f1", "must be loss or accuracy")]
    public void Cli_BadValues_Exit2_NamingTheFlag(string flag, string value, string problem)
    {
        string data = Path.Combine(_dir, "t.txt");
        File.WriteAllText(data, ProgramCorpus.Generate(4_000, 1));
        foreach (var args in new[]
        {
            new[] { "train", "--data", data, "--out", Path.Combine(_dir, "m.safetensors"), "--steps", "2", "--hidden", "4", "--layers", "1", flag, value },
            ["classify", "--examples", "40", "--steps", "2", "--hidden", "4", flag, value],
        })
        {
            var o = new StringWriter();
            var e = new StringWriter();
            int code = CliApp.Run(args, o, e);
            Assert.True(code == 2, $"{args[0]} {flag} {value}: exit {code}, {e}");
            Assert.StartsWith($"error: {flag}:", e.ToString());
            Assert.Contains(problem, e.ToString());
            Assert.Equal(1, e.ToString().TrimEnd().Split('\n').Length);
        }
    }

    [Fact]
    public void Cli_StepScheduleWithoutItsPeriod_Exit2_NamingIt()
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(["classify", "--examples", "40", "--steps", "2", "--hidden", "4", "--lr-schedule", "step"], o, e);
        Assert.Equal(2, code);
        Assert.StartsWith("error: --lr-step-every: required with the step schedule", e.ToString());
    }

    [Fact]
    public void Cli_Train_PlotDrawsTheScheduledRate_AndProgressShowsIt()
    {
        string data = Path.Combine(_dir, "t.txt"), svg = Path.Combine(_dir, "loss.svg");
        File.WriteAllText(data, ProgramCorpus.Generate(6_000, 1));
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(["train", "--data", data, "--out", Path.Combine(_dir, "m.safetensors"), "--steps", "12", "--hidden", "8", "--embed", "4",
            "--layers", "1", "--seq-len", "8", "--batch", "4", "--eval-every", "4", "--checkpoint-every", "0", "--backend", "reference",
            "--lr-schedule", "step", "--lr-step-every", "4", "--lr-gamma", "0.5", "--warmup-steps", "2", "--plot", svg], o, e);
        Assert.True(code == 0, e.ToString());
        Assert.Contains("lr 0.002 x 0.5 every 4 steps, linear warm-up over 2 steps", o.ToString());
        Assert.Contains("step 1/12  loss ", o.ToString());
        Assert.Contains("lr 0.001  ", o.ToString()); // step 1: half the rate (warm-up 1 of 2)
        Assert.Contains("kept the ", o.ToString());
        var doc = System.Xml.Linq.XDocument.Load(svg);
        System.Xml.Linq.XNamespace ns = "http://www.w3.org/2000/svg";
        var series = doc.Descendants(ns + "g").Where(g => (string?)g.Attribute("class") == "series").ToDictionary(
            g => (string)g.Attribute("data-name")!, g => ((string?)g.Elements(ns + "path").Single().Attribute("d") ?? "").Count(c => c is 'M' or 'L'));
        var rate = Assert.Single(series, kv => kv.Key.StartsWith("learning rate (x ", StringComparison.Ordinal));
        Assert.Equal(12, rate.Value);
        Assert.Contains("(adam, step)", File.ReadAllText(svg));
    }

    [Fact]
    public void Forecaster_FollowsTheSchedule_AndRefusesPlateau()
    {
        var series = RnnFast.Datasets.CsvSeries.Read(Path.Combine(TestPaths.RepoRoot, "data", "series", "nottem.csv"), ["value"]);
        var o = new ForecastOptions { Target = "value", Steps = 12, Hidden = 8, Backend = "cpu", LrSchedule = LrScheduleKind.Cosine, WarmupSteps = 3, LrMin = 0.001 };
        var run = new ForecastTrainer().Train(series, "nottem.csv", o);
        var schedule = new LearningRateSchedule(new TrainOptions { LearningRate = 0.01, LrSchedule = LrScheduleKind.Cosine, WarmupSteps = 3, LrMin = 0.001 }, 12);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (float)schedule.At(i)), run.LearningRates);
        var e = Assert.Throws<ArgumentException>(() => new ForecastTrainer().Train(series, "nottem.csv", o with { LrSchedule = LrScheduleKind.Plateau }));
        Assert.StartsWith("ForecastOptions.LrSchedule: plateau needs periodic held-out checks", e.Message);
    }

    [Fact]
    public void Ctc_FollowsTheSchedule_AndPlateauReactsToItsChecks()
    {
        var labels = CtcSymbolTask.SymbolNames(3);
        var examples = CtcSymbolTask.Generate(40, 3, 5, 1, 3, 0.5, seed: 4);
        var o = new CtcOptions { Hidden = 8, Steps = 12, Backend = "cpu", LrSchedule = LrScheduleKind.Step, LrStepEvery = 5, LrGamma = 0.5, WarmupSteps = 2 };
        using (var outcome = new CtcTrainer().Train(examples, labels, o))
        {
            var schedule = new LearningRateSchedule(new TrainOptions { LearningRate = 0.01, LrSchedule = LrScheduleKind.Step, LrStepEvery = 5, LrGamma = 0.5, WarmupSteps = 2 }, 12);
            Assert.Equal(Enumerable.Range(0, 12).Select(i => (float)schedule.At(i)), outcome.Run.LearningRates);
        }
        var e = Assert.Throws<ArgumentException>(() => new CtcTrainer().Train(examples, labels, o with { LrSchedule = LrScheduleKind.Plateau }));
        Assert.Equal("CtcOptions.LrSchedule: plateau needs periodic held-out checks: CtcOptions.EvalEvery is 0", e.Message);
        // Plateau with checks every 2 steps and a rate too high to improve steadily: each decay follows a check that did not improve.
        var messages = new List<string>();
        using var run = new CtcTrainer().Train(examples, labels, o with { LrSchedule = LrScheduleKind.Plateau, LrPatience = 1, EvalEvery = 2, LearningRate = 0.5, Steps = 20 },
            new MessageLog(messages));
        var rates = run.Run.LearningRates;
        int decays = messages.Count(m => m.Contains("learning rate now", StringComparison.Ordinal));
        Assert.True(decays >= 1, "the construction needs a held-out plateau");
        Assert.Equal(0.5 * Math.Pow(0.5, decays), rates[^1], 6);
    }

    private sealed class MessageLog(List<string> messages) : ITrainObserver
    {
        public void OnMessage(string message) => messages.Add(message);
    }

    [Theory]
    [InlineData("--early-stopping", "2", "error: --early-stopping: only with --task lm (a forecast takes")]
    [InlineData("--lr-schedule", "plateau", "error: --lr-schedule: plateau needs periodic held-out checks")]
    public void Cli_SteeringFlagsAForecastDoesNotTake_Exit2(string flag, string value, string expected)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(["train", "--task", "forecast", "--data", Path.Combine(TestPaths.RepoRoot, "data", "series", "nottem.csv"), "--target", "value",
            "--steps", "2", flag, value], o, e);
        Assert.Equal(2, code);
        Assert.StartsWith(expected, e.ToString());
    }
}
