// Issue 19 (classify): periodic held-out checks, early stopping and keep-best in the sequence training loop. The task
// is the generated memory task, small; a high learning rate (Adam 0.3, no clip) makes the held-out loss go up and down,
// so the best check is not the last one (asserted, so a run that happens to improve monotonically fails loudly).
using RnnFast.Cli;
using RnnFast.Data;
using RnnFast.Models;
using RnnFast.Training;
using Xunit;

namespace RnnFast.Tests;

public sealed class ClassifierKeepBestTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class Evals : ITrainObserver
    {
        public List<EvalReport> Reports { get; } = [];
        public List<string> Messages { get; } = [];
        public void OnEval(EvalReport report) => Reports.Add(report);
        public void OnMessage(string message) => Messages.Add(message);
    }

    private static readonly (string Label, string Text)[] Data =
        MemoryTask.Generate(800, 10, 20, 4, 1).Select(e => (MemoryTask.ClassName(e.Label), e.Text)).ToArray();

    private static TrainOptions Options(string? outPath, KeepModel keep, int steps, int? patience = null, HeldOutMetric monitor = HeldOutMetric.Loss) => new()
    {
        Mode = RnnMode.Gru, Bidirectional = true, Hidden = 32, Embed = 16, Batch = 32, Steps = steps, LearningRate = 0.3, Clip = 0,
        Optimizer = "adam", Seed = 1, Backend = "cpu", Out = outPath, EvalEvery = 20, EarlyStopping = patience, Keep = keep, SeqLen = 1,
        Monitor = monitor,
    };

    // Every third label wrong: accuracy cannot reach 1, and a confident wrong answer costs loss, so the check with the
    // lowest loss and the one with the best accuracy differ (asserted below).
    private static readonly (string Label, string Text)[] NoisyData =
        MemoryTask.Generate(600, 10, 20, 4, 2).Select((e, i) => (MemoryTask.ClassName(i % 3 == 0 ? (e.Label + 1) % 4 : e.Label), e.Text)).ToArray();

    [Fact]
    public void Monitor_Accuracy_KeepsTheParametersAtTheBestHeldOutAccuracy()
    {
        string path = Path.Combine(_dir, "best-acc.safetensors");
        var obs = new Evals();
        var Data = NoisyData;
        var (test, _) = new ClassifierTrainer().Train(Data, 0.2, Options(path, KeepModel.Best, 200, monitor: HeldOutMetric.Accuracy) with { LearningRate = 0.3 }, obs);
        var checks = obs.Reports.Select(r => (r.Step, r.ValLoss, Acc: r.Accuracy!.Value)).ToList();
        double bestAcc = checks.Max(c => c.Acc);
        int bestAccStep = checks.First(c => c.Acc == bestAcc).Step, bestLossStep = checks.MinBy(c => c.ValLoss).Step;
        // The construction: the check with the best accuracy is not the one with the lowest loss (else loss would do).
        Assert.True(bestAccStep != bestLossStep && checks.First(c => c.Step == bestLossStep).Acc < bestAcc,
            $"the construction needs loss and accuracy to disagree: {string.Join(", ", checks)}");
        Assert.Equal(bestAcc, test.Accuracy, 9);
        Assert.True(bestAccStep < checks[^1].Step, $"the construction needs the best accuracy before the end: {string.Join(", ", checks)}");
        Assert.Contains(obs.Messages, m => m.StartsWith($"kept the best parameters: step {bestAccStep} ", StringComparison.Ordinal) && m.Contains("accuracy", StringComparison.Ordinal));
        var (testIds, _) = SequenceTrainingLoop.Split(Data.Length, 0.2, 1);
        using var saved = RnnModel.Load(path, "cpu");
        Assert.Equal(bestAcc, ClassifierTrainer.Evaluate(saved, testIds.Select(i => Data[i]).ToArray()).Accuracy, 9);
    }

    [Fact]
    public void Monitor_Accuracy_IsRefusedForALanguageModel()
    {
        var o = new TrainOptions { Steps = 1, Hidden = 4, Embed = 4, SeqLen = 4, Batch = 2, Backend = "cpu", Monitor = HeldOutMetric.Accuracy };
        var e = Assert.Throws<ArgumentException>(() => new CharLmTrainer().Train(new string((char)97, 200) + "bc", "t.txt", o));
        Assert.StartsWith("TrainOptions.Monitor: a language model's held-out checks have no accuracy", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeepBest_SavesTheParametersAtTheBestHeldOutLoss_NotTheLast()
    {
        string path = Path.Combine(_dir, "best.safetensors");
        var obs = new Evals();
        var (test, run) = new ClassifierTrainer().Train(Data, 0.2, Options(path, KeepModel.Best, 120), obs);
        Assert.Equal(120, run.Steps);
        // Periodic checks at 20..100 and the end-of-run evaluation of the last parameters at 120.
        Assert.Equal([20, 40, 60, 80, 100, 120], obs.Reports.Select(r => r.Step));
        double best = obs.Reports.Min(r => r.ValLoss), last = obs.Reports[^1].ValLoss;
        Assert.True(last > best * 1.5, $"the construction needs a degrading run: best {best}, last {last}");
        Assert.Equal(best, test.Loss, 9);
        Assert.Contains(obs.Messages, m => m.StartsWith("kept the best parameters: step ", StringComparison.Ordinal));

        // The file holds those parameters: re-scored on the same held-out split, it gives the best loss, not the last.
        var (testIds, _) = SequenceTrainingLoop.Split(Data.Length, 0.2, 1);
        using var saved = RnnModel.Load(path, "cpu");
        var rescored = ClassifierTrainer.Evaluate(saved, testIds.Select(i => Data[i]).ToArray());
        Assert.Equal(best, rescored.Loss, 6);
    }

    [Fact]
    public void KeepLast_ReturnsTheLastParameters()
    {
        var obs = new Evals();
        var (test, _) = new ClassifierTrainer().Train(Data, 0.2, Options(null, KeepModel.Last, 120), obs);
        double best = obs.Reports.Min(r => r.ValLoss), last = obs.Reports[^1].ValLoss;
        Assert.True(last > best * 1.5, $"the construction needs a degrading run: best {best}, last {last}");
        Assert.Equal(last, test.Loss, 9);
    }

    [Fact]
    public void EarlyStopping_StopsAtTheFirstCheckWithoutImprovement()
    {
        var obs = new Evals();
        var (_, run) = new ClassifierTrainer().Train(Data, 0.2, Options(null, KeepModel.Best, 400, patience: 1), obs);
        Assert.True(run.Steps < 400, $"ran all {run.Steps} steps");
        // The periodic checks before the stop improved every time; the one at the stop did not.
        var periodic = obs.Reports.Take(obs.Reports.Count - 1).Select(r => r.ValLoss).ToArray();
        Assert.Equal(run.Steps, obs.Reports[^2].Step);
        for (int i = 1; i < periodic.Length - 1; i++) Assert.True(periodic[i] < periodic[i - 1]);
        Assert.True(periodic[^1] >= periodic[..^1].Min());
        Assert.Contains(obs.Messages, m => m.StartsWith($"early stopping at step {run.Steps}", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--early-stopping", "0")]
    [InlineData("--keep", "worst")]
    public void BadValues_Exit2_NamingTheFlag(string flag, string value)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(["classify", "--examples", "40", "--steps", "2", "--hidden", "4", flag, value], o, e);
        Assert.Equal(2, code);
        Assert.StartsWith("error: " + flag + ":", e.ToString());
        Assert.Equal("", o.ToString());
    }

    [Fact]
    public void EarlyStopping_WithoutPeriodicChecks_Exit2_NamingBothFlags()
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(["classify", "--examples", "40", "--steps", "2", "--hidden", "4", "--eval-every", "0", "--early-stopping", "2"], o, e);
        Assert.Equal(2, code);
        Assert.StartsWith("error: --early-stopping:", e.ToString());
        Assert.Contains("--eval-every", e.ToString());
    }

    [Fact]
    public void Classify_LargeLogits_GivesFiniteProbabilities()
    {
        // A held-out loss of NaN (softmax overflow past a logit of ~88) never counts as an improvement: keep-best needs finite scores.
        var config = new NetworkConfig
        {
            Kind = NetworkKind.Classifier, Mode = RnnMode.Gru, Layers = 1, Hidden = 4, Embed = 2,
            Vocab = CharVocab.FromText("ab"), Labels = ["x", "y", "z"],
        };
        using var net = new CharNetwork(config, RnnFast.Backends.BackendRegistry.Get("cpu"), new Random(1));
        var (name, bias) = net.NamedParameters().Last(p => p.Parameter.Value.Rank == 1 && p.Parameter.Value.Length == 3);
        bias.Value.Storage.CopyFromHost([200f, 100f, 0f]);
        bias.Value.MarkChanged();
        using var model = RnnModel.FromNetwork(net);
        var p = model.Classify("ab").Probabilities;
        Assert.All(p, v => Assert.True(float.IsFinite(v), $"{name}: probabilities {string.Join(", ", p)}"));
        Assert.Equal(1f, p[0], 5);
    }
}
