// Issue 19: what classify already had, now for the character language model too (held-out checks, early stopping,
// keep-best, through the HeldOutTracker both trainers share), fine-tuning from a trained model (--init-from: weights
// copied, vocabulary extended with the old ids' rows unchanged, architecture or label mismatches refused), and
// `classify --resume` (an interrupted and resumed run ends with the weights of an uninterrupted one, keep-best state
// and schedule included).
using RnnFast.Cli;
using RnnFast.Data;
using RnnFast.Models;
using RnnFast.Training;
using Xunit;

namespace RnnFast.Tests;

public sealed class TrainingSteeringTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class Recorder : ITrainObserver
    {
        public List<EvalReport> Evals { get; } = [];
        public List<string> Messages { get; } = [];
        public Action<StepReport>? AtStep { get; init; }
        public void OnEval(EvalReport report) => Evals.Add(report);
        public void OnMessage(string message) => Messages.Add(message);
        public void OnStep(StepReport report) => AtStep?.Invoke(report);
    }

    private static readonly string Text = ProgramCorpus.Generate(30_000, 7);

    // Adam 0.2 on a small LSTM: the held-out loss falls, then rises and wanders (asserted below).
    private static TrainOptions Degrading(string? outPath, KeepModel keep, int steps, int? patience = null) => new()
    {
        Mode = RnnMode.Lstm, Layers = 1, Hidden = 48, Embed = 8, SeqLen = 24, Batch = 8, Steps = steps, LearningRate = 0.2, Clip = 1, Seed = 2,
        Backend = "cpu", Out = outPath, CheckpointEvery = 0, EvalEvery = 10, SampleLength = 0, Keep = keep, EarlyStopping = patience, ValFraction = 0.1,
    };

    [Fact]
    public void CharLm_KeepBest_SavesTheParametersAtTheBestHeldOutLoss()
    {
        string path = Path.Combine(_dir, "best.safetensors");
        var rec = new Recorder();
        var run = new CharLmTrainer().Train(Text, "t", Degrading(path, KeepModel.Best, 150), rec);
        double best = rec.Evals.Min(e => e.ValLoss), last = rec.Evals[^1].ValLoss;
        Assert.True(last > best * 1.02, $"the construction needs a degrading run: best {best}, last {last}");
        Assert.Equal(best, run.ValLoss, 9);
        Assert.Equal(rec.Evals.First(e => e.ValLoss == best).Step, run.KeptStep);
        Assert.Contains(rec.Messages, m => m.StartsWith("kept the best parameters: step ", StringComparison.Ordinal));
        // The file holds those parameters: its held-out loss is the best one.
        var ids = RnnModel.Load(path, "cpu");
        using (ids)
        {
            var vocab = CharVocab.FromText(Text);
            var val = vocab.Encode(Text)[(int)(Text.Length * 0.9)..];
            Assert.Equal(best, CharLmTrainer.ValidationLoss(ids, val, 24, 8), 5);
        }
    }

    [Fact]
    public void CharLm_KeepLast_SaysSo_AndEarlyStoppingStops()
    {
        var rec = new Recorder();
        var last = new CharLmTrainer().Train(Text, "t", Degrading(null, KeepModel.Last, 150), rec);
        Assert.Equal(rec.Evals[^1].ValLoss, last.ValLoss);
        Assert.Contains(rec.Messages, m => m.StartsWith("kept the last parameters (step 150", StringComparison.Ordinal));

        var stop = new Recorder();
        var run = new CharLmTrainer().Train(Text, "t", Degrading(null, KeepModel.Best, 400, patience: 2), stop);
        Assert.True(run.StoppedEarly);
        Assert.True(run.Steps < 400, $"ran {run.Steps} steps");
        Assert.Contains(stop.Messages, m => m.StartsWith($"early stopping at step {run.Steps}: no held-out improvement in 2 check(s)", StringComparison.Ordinal));
        var periodic = stop.Evals.Take(stop.Evals.Count - 1).ToArray();
        Assert.Equal(run.Steps, periodic[^1].Step);
        // The last two checks did not beat the best before them.
        double before = periodic[..^2].Min(e => e.ValLoss);
        Assert.True(periodic[^1].ValLoss >= before && periodic[^2].ValLoss >= before);
    }

    private static TrainOptions Small(string? outPath, int steps, double lr = 0.01) => new()
    {
        Mode = RnnMode.Gru, Layers = 1, Hidden = 32, Embed = 8, SeqLen = 24, Batch = 8, Steps = steps, LearningRate = lr, Seed = 4,
        Backend = "cpu", Out = outPath, CheckpointEvery = 0, EvalEvery = 0, SampleLength = 0,
    };

    [Fact]
    public void InitFrom_StartsAtTheSourceModelsLoss_AndExtendsTheVocabulary()
    {
        string source = Path.Combine(_dir, "source.safetensors");
        new CharLmTrainer().Train(Text, "t", Small(source, 150));
        // New data: the same kind of text plus characters the model never saw.
        string fresh = ProgramCorpus.Generate(10_000, 8) + "\u00e9\u00e8\u00ea\u00e0 \u00e7a va? \u00e9t\u00e9 ";
        var extended = new CharLmTrainer().Train(fresh, "n", Small(null, 1, lr: 1e-9) with { InitFrom = source });
        var scratch = new CharLmTrainer().Train(fresh, "n", Small(null, 1, lr: 1e-9));
        Assert.True(extended.ValLoss < scratch.ValLoss - 0.5, $"fine-tuned start {extended.ValLoss} vs fresh {scratch.ValLoss}");

        // The old ids' rows are the source's; the new rows are those of a fresh network of the extended size.
        var src = Checkpoint.Read(source);
        var vocab = InitFromModel.ExtendVocab(src.Config.Vocab, [fresh]);
        Assert.Equal(src.Config.Vocab.Symbols, vocab.Symbols.Take(src.Config.Vocab.Count));
        Assert.True(vocab.Covers(fresh));
        Assert.Contains("\u00e9", vocab.Symbols.Skip(src.Config.Vocab.Count));
        Assert.Equal(vocab.Symbols.Skip(src.Config.Vocab.Count).Order(StringComparer.Ordinal), vocab.Symbols.Skip(src.Config.Vocab.Count)); // code-point order
        var config = src.Config with { Vocab = vocab };
        var backend = RnnFast.Backends.BackendRegistry.Get("cpu");
        using var net = new CharNetwork(config, backend, new Random(4));
        using var reference = new CharNetwork(config, backend, new Random(4));
        InitFromModel.CopyWeights(net, src, "source.safetensors");
        var got = net.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Value.ToArray());
        var init = reference.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Value.ToArray());
        foreach (var (name, t) in src.Tensors.Where(kv => !kv.Key.StartsWith("optim.", StringComparison.Ordinal)))
        {
            var old = t.ToArray();
            Assert.True(got[name].AsSpan(0, old.Length).SequenceEqual(old), $"{name}: the model's values were not kept");
            Assert.True(got[name].AsSpan(old.Length).SequenceEqual(init[name].AsSpan(old.Length)), $"{name}: new rows are not a fresh model's");
        }
        Assert.True(got["embedding.weight"].Length > src.Tensors["embedding.weight"].Length);
    }

    [Fact]
    public void InitFrom_RefusesAnotherArchitecture_NamingTheFlagTheValueAndTheFile()
    {
        string source = Path.Combine(_dir, "src.safetensors"), data = Path.Combine(_dir, "t.txt");
        new CharLmTrainer().Train(Text, "t", Small(source, 2));
        File.WriteAllText(data, Text[..5000]);
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(["train", "--data", data, "--out", Path.Combine(_dir, "m.safetensors"), "--model", "gru", "--layers", "1", "--hidden", "16",
            "--embed", "8", "--steps", "2", "--init-from", source], o, e);
        Assert.Equal(2, code);
        Assert.Equal("error: --hidden: 16 differs from the model's 32 (src.safetensors); --init-from keeps the model's architecture", e.ToString().Trim());

        code = CliApp.Run(["train", "--data", data, "--out", Path.Combine(_dir, "m.safetensors"), "--init-from", Path.Combine(_dir, "nope.safetensors")], o, e = new StringWriter());
        Assert.Equal(2, code);
        Assert.StartsWith("error: --init-from:", e.ToString());
    }

    [Fact]
    public void Cli_InitFrom_TakesTheModelsArchitecture_ForTrainAndClassify()
    {
        string source = Path.Combine(_dir, "lm.safetensors"), data = Path.Combine(_dir, "new.txt"), tuned = Path.Combine(_dir, "tuned.safetensors");
        new CharLmTrainer().Train(Text, "t", Small(source, 3));
        File.WriteAllText(data, ProgramCorpus.Generate(6_000, 9) + " üö ");
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(["train", "--data", data, "--out", tuned, "--steps", "3", "--seq-len", "16", "--batch", "4", "--backend", "cpu", "--init-from", source], o, e);
        Assert.True(code == 0, e.ToString());
        Assert.Contains("starting from the weights of lm.safetensors (step 0, fresh optimizer); vocabulary extended by ", o.ToString());
        var c = Checkpoint.Read(tuned);
        Assert.Equal((RnnMode.Gru, 1, 32, 8), (c.Config.Mode, c.Config.Layers, c.Config.Hidden, c.Config.Embed));
        Assert.Equal(3, c.Training!.Step);

        string cls = Path.Combine(_dir, "cls.safetensors");
        Assert.True(CliApp.Run(["classify", "--examples", "100", "--steps", "3", "--hidden", "12", "--model", "gru", "--backend", "cpu", "--out", cls], o, e) == 0, e.ToString());
        o = new StringWriter();
        code = CliApp.Run(["classify", "--examples", "100", "--seed", "5", "--steps", "3", "--backend", "cpu", "--init-from", cls], o, e);
        Assert.True(code == 0, e.ToString());
        Assert.Contains("starting from the weights of cls.safetensors", o.ToString());
    }

    private static readonly (string Label, string Text)[] Memory =
        MemoryTask.Generate(600, 10, 20, 4, 1).Select(e => (MemoryTask.ClassName(e.Label), e.Text)).ToArray();

    private static TrainOptions Classifier(string? outPath, int steps) => new()
    {
        Mode = RnnMode.Gru, Hidden = 24, Embed = 8, Layers = 1, Batch = 16, Steps = steps, LearningRate = 0.05, Seed = 1, Backend = "cpu", Out = outPath,
        EvalEvery = 10, CheckpointEvery = 0, Keep = KeepModel.Best, SeqLen = 1, LrSchedule = LrScheduleKind.Cosine, WarmupSteps = 5,
    };

    [Fact]
    public void Classifier_InitFrom_RefusesOtherLabels()
    {
        string source = Path.Combine(_dir, "cls.safetensors");
        new ClassifierTrainer().Train(Memory, 0.2, Classifier(source, 3));
        var other = Memory.Select(e => (e.Label == "A" ? "Z" : e.Label, e.Text)).ToArray();
        var e = Assert.Throws<ArgumentException>(() => new ClassifierTrainer().Train(other, 0.2, Classifier(null, 3) with { InitFrom = source }));
        Assert.StartsWith("TrainOptions.InitFrom: cls.safetensors classifies into [", e.Message);
        Assert.Contains("the data has labels [", e.Message);
    }

    [Fact]
    public void Classifier_Resume_EndsWithTheWeightsOfAnUninterruptedRun()
    {
        string whole = Path.Combine(_dir, "whole.safetensors"), part = Path.Combine(_dir, "part.safetensors");
        var (wholeEval, wholeRun) = new ClassifierTrainer().Train(Memory, 0.2, Classifier(whole, 60));

        using var cts = new CancellationTokenSource();
        var (_, first) = new ClassifierTrainer().Train(Memory, 0.2, Classifier(part, 60), new Recorder { AtStep = r => { if (r.Step == 25) cts.Cancel(); } }, cts.Token);
        Assert.True(first.Cancelled);
        var rec = new Recorder();
        var (resumedEval, resumed) = new ClassifierTrainer().Train(Memory, 0.2, TrainOptions.FromCheckpoint(part) with
        {
            Backend = "cpu", Out = part, EvalEvery = 10, CheckpointEvery = 0, Keep = KeepModel.Best, SeqLen = 1,
        }, rec);
        Assert.Contains(rec.Messages, m => m.StartsWith("resuming part.safetensors at step 25", StringComparison.Ordinal));
        Assert.Equal(60, resumed.Steps);
        Assert.Equal(wholeRun.TrainLoss, resumed.TrainLoss);
        Assert.Equal(wholeRun.LearningRates, resumed.LearningRates);
        Assert.Equal(wholeRun.KeptStep, resumed.KeptStep);
        Assert.Equal(wholeEval.Loss, resumedEval.Loss);
        LearningRateScheduleTests.AssertSameWeights(whole, part);
    }

    [Fact]
    public void Classifier_Resume_ContinuesThePlateauScheduleAndKeepBest()
    {
        // Adam 0.3 without clipping: held-out checks that do not improve (plateau decays, keep-best matters).
        var data = MemoryTask.Generate(800, 10, 20, 4, 1).Select(e => (MemoryTask.ClassName(e.Label), e.Text)).ToArray();
        TrainOptions Options(string path) => new()
        {
            Mode = RnnMode.Gru, Bidirectional = true, Hidden = 32, Embed = 16, Batch = 32, Steps = 120, LearningRate = 0.3, Clip = 0, Seed = 1, Backend = "cpu",
            Out = path, EvalEvery = 10, CheckpointEvery = 0, Keep = KeepModel.Best, SeqLen = 1, LrSchedule = LrScheduleKind.Plateau, LrGamma = 0.5, LrPatience = 1,
        };
        string whole = Path.Combine(_dir, "pw.safetensors"), part = Path.Combine(_dir, "pp.safetensors");
        var (_, wholeRun) = new ClassifierTrainer().Train(data, 0.2, Options(whole));
        Assert.True(wholeRun.LearningRates.Distinct().Count() > 1, "the construction needs a plateau decay");
        using var cts = new CancellationTokenSource();
        new ClassifierTrainer().Train(data, 0.2, Options(part), new Recorder { AtStep = r => { if (r.Step == 55) cts.Cancel(); } }, cts.Token);
        var (_, resumed) = new ClassifierTrainer().Train(data, 0.2, TrainOptions.FromCheckpoint(part) with
        {
            Backend = "cpu", Out = part, EvalEvery = 10, CheckpointEvery = 0, Keep = KeepModel.Best, SeqLen = 1,
        });
        Assert.Equal(wholeRun.LearningRates, resumed.LearningRates);
        Assert.Equal(wholeRun.KeptStep, resumed.KeptStep);
        Assert.Equal(wholeRun.ValLoss, resumed.ValLoss);
        LearningRateScheduleTests.AssertSameWeights(whole, part);
    }

    [Fact]
    public void Classifier_Resume_RefusesOtherDataAndADifferentArchitecture()
    {
        string path = Path.Combine(_dir, "c.safetensors");
        new ClassifierTrainer().Train(Memory, 0.2, Classifier(path, 5));
        var e = Assert.Throws<ArgumentException>(() => new ClassifierTrainer().Train(Memory[1..], 0.2, TrainOptions.FromCheckpoint(path) with { Steps = 10, SeqLen = 1 }));
        Assert.StartsWith("TrainOptions.Resume: c.safetensors was trained on other data", e.Message);

        var o = new StringWriter();
        var err = new StringWriter();
        int code = CliApp.Run(["classify", "--examples", "600", "--min-length", "10", "--max-length", "20", "--resume", path, "--hidden", "12", "--steps", "10"], o, err);
        Assert.Equal(2, code);
        Assert.StartsWith("error: --hidden: 12 differs from the checkpoint's 24 (c.safetensors)", err.ToString());

        code = CliApp.Run(["classify", "--examples", "40", "--resume", Path.Combine(_dir, "none.safetensors")], o, err = new StringWriter());
        Assert.Equal(2, code);
        Assert.StartsWith("error: --resume:", err.ToString());
        code = CliApp.Run(["classify", "--examples", "40", "--checkpoint-every", "-1"], o, err = new StringWriter());
        Assert.Equal(2, code);
        Assert.StartsWith("error: --checkpoint-every:", err.ToString());
    }

    [Fact]
    public void Cli_ClassifyResume_ContinuesToTheGlobalStep()
    {
        string path = Path.Combine(_dir, "r.safetensors");
        string[] common = ["classify", "--examples", "200", "--min-length", "5", "--max-length", "10", "--hidden", "8", "--embed", "4", "--backend", "cpu", "--out", path];
        var o = new StringWriter();
        var e = new StringWriter();
        Assert.True(CliApp.Run([.. common, "--steps", "10", "--lr-schedule", "cosine"], o, e) == 0, e.ToString());
        o = new StringWriter();
        Assert.True(CliApp.Run([.. common, "--steps", "20", "--resume", path], o, e) == 0, e.ToString());
        Assert.Contains("resuming r.safetensors at step 10", o.ToString());
        Assert.Contains("lr cosine", o.ToString()); // the checkpoint's schedule, not the default
        Assert.Equal(20, Checkpoint.Read(path).Training!.Step);
    }
}
