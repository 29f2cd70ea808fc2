// NaN and infinity in training: a NaN gradient (injected through TrainOptions.AfterBackward), a NaN input embedding row,
// and a learning rate that overflows the weights are detected; --on-nonfinite stop (default) ends the run with a clear
// message, skip skips the step (counted) and gives up after --max-skips in a row; in every case the checkpoint on disk
// is the last good one, it loads, and nothing non-finite is ever written (Checkpoint.Save refuses it too).
using RnnFast.Autograd;
using RnnFast.Cli;
using RnnFast.Data;
using RnnFast.IO;
using RnnFast.Models;
using RnnFast.Training;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

public sealed class NonFiniteTrainingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string Corpus = ProgramCorpus.Generate(6000, 3);

    private TrainOptions Small(int steps, string name) => new()
    {
        Mode = RnnMode.Lstm, Layers = 1, Hidden = 16, Embed = 8, SeqLen = 16, Batch = 4, Steps = steps, LearningRate = 1e-2,
        EvalEvery = 0, CheckpointEvery = 2, SampleLength = 0, ValFraction = 0.1, Backend = "cpu",
        Out = Path.Combine(_dir, name + ".safetensors"),
    };

    /// <summary>Sets the first gradient element of the first parameter to NaN at the given steps (0-based indexes).</summary>
    private static Action<int, IReadOnlyList<Variable>> NaNGradientAt(params int[] steps) => (step, ps) =>
    {
        if (steps.Contains(step)) ps[0].Grad!.Span[0] = float.NaN;
    };

    /// <summary>The checkpoint must load, be finite everywhere and be at <paramref name="step"/>.</summary>
    private static void AssertGoodCheckpoint(string path, int step)
    {
        var c = Checkpoint.Read(path); // refuses NaN/Inf in any tensor, optimizer state included
        Assert.Equal(step, c.Training!.Step);
        Assert.All(c.Tensors, kv => Assert.True(kv.Value.ToArray().All(float.IsFinite), kv.Key));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp-*"));
        using var model = RnnModel.Load(path);
        Assert.True(model.Step(model.NewState(), 1).ToArray().All(float.IsFinite));
    }

    [Fact]
    public void A_NaN_gradient_stops_training_by_default_and_keeps_the_last_checkpoint()
    {
        var o = Small(10, "stop") with { AfterBackward = NaNGradientAt(5) };
        var e = Assert.Throws<TrainingDivergedException>(() => new CharLmTrainer().Train(Corpus, "c", o));
        output.WriteLine(e.Message);
        Assert.Contains("step 6:", e.Message); // the 6th step (index 5)
        Assert.Contains("gradient norm is NaN", e.Message);
        Assert.Contains("last checkpoint is kept", e.Message);
        AssertGoodCheckpoint(o.Out!, 4); // saved after 4 steps; the 5th ran, the 6th updated nothing
    }

    [Fact]
    public void Skip_skips_non_finite_steps_counts_them_and_finishes()
    {
        var o = Small(10, "skip") with { OnNonFinite = NonFinitePolicy.Skip, AfterBackward = NaNGradientAt(2, 3, 7) };
        var messages = new List<string>();
        var r = new CharLmTrainer().Train(Corpus, "c", o, new Recorder(messages));
        Assert.Equal(10, r.Steps);
        Assert.Equal(3, r.SkippedSteps);
        Assert.Equal(7, r.TrainLoss.Count);
        Assert.All(r.TrainLoss, l => Assert.True(float.IsFinite(l)));
        Assert.Contains(messages, m => m.Contains("step 8:") && m.Contains("skipped (1 in a row, 3 in all)"));
        AssertGoodCheckpoint(o.Out!, 10);
        output.WriteLine($"skipped {r.SkippedSteps} of {r.Steps} steps; " + string.Join(" | ", messages.Where(m => m.Contains("skipped"))));
    }

    [Fact]
    public void A_skipped_step_leaves_the_weights_untouched()
    {
        // Step index 3 is skipped: the weights seen after the next backward (index 4) are those from before the skip.
        float[]? before = null, after = null;
        var o = Small(5, "untouched") with
        {
            OnNonFinite = NonFinitePolicy.Skip, CheckpointEvery = 0,
            AfterBackward = (step, ps) =>
            {
                if (step == 3) { before = ps[1].Value.ToArray(); ps[1].Grad!.Span[0] = float.PositiveInfinity; }
                if (step == 4) after = ps[1].Value.ToArray();
            },
        };
        var r = new CharLmTrainer().Train(Corpus, "c", o);
        Assert.Equal(1, r.SkippedSteps);
        Assert.Equal(before, after);
    }

    [Fact]
    public void Too_many_skips_in_a_row_stop_training()
    {
        var o = Small(20, "rows") with { OnNonFinite = NonFinitePolicy.Skip, MaxConsecutiveSkips = 3, AfterBackward = NaNGradientAt(Enumerable.Range(5, 20).ToArray()) };
        var e = Assert.Throws<TrainingDivergedException>(() => new CharLmTrainer().Train(Corpus, "c", o));
        output.WriteLine(e.Message);
        Assert.Contains("step 8:", e.Message);
        Assert.Contains("3 steps in a row", e.Message);
        Assert.Contains("TrainOptions.MaxConsecutiveSkips is 3", e.Message);
        AssertGoodCheckpoint(o.Out!, 6); // written while skipping: it holds the last good weights
    }

    [Fact]
    public void A_NaN_in_an_input_embedding_row_is_caught_and_named()
    {
        var o = Small(10, "input") with { AfterBackward = (step, ps) => { if (step == 3) ps[0].Value.Span[5] = float.NaN; } };
        var e = Assert.Throws<TrainingDivergedException>(() => new CharLmTrainer().Train(Corpus, "c", o));
        output.WriteLine(e.Message);
        Assert.Contains("step 4: the update made 'embedding.weight' non-finite (NaN at element 5)", e.Message);
        AssertGoodCheckpoint(o.Out!, 2);
    }

    [Theory]
    [InlineData(NonFinitePolicy.Stop)]
    [InlineData(NonFinitePolicy.Skip)]
    public void An_overflowing_learning_rate_never_reaches_the_checkpoint(NonFinitePolicy policy)
    {
        var o = Small(30, "overflow-" + policy) with
        {
            Optimizer = "sgd", LearningRate = 1e37, Clip = 0, CheckpointEvery = 1, OnNonFinite = policy, MaxConsecutiveSkips = 4,
        };
        var e = Assert.Throws<TrainingDivergedException>(() => new CharLmTrainer().Train(Corpus, "c", o));
        output.WriteLine($"{policy}: {e.Message}");
        if (File.Exists(o.Out!))
        {
            var c = Checkpoint.Read(o.Out!); // finite, or Read would refuse it
            Assert.True(c.Training!.Step < 30);
        }
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
    }

    [Fact]
    public void Checkpoint_Save_refuses_a_network_with_a_NaN_and_keeps_the_old_file()
    {
        string path = Path.Combine(_dir, "keep.safetensors");
        var config = new NetworkConfig { Kind = NetworkKind.LanguageModel, Mode = RnnMode.Gru, Layers = 1, Hidden = 8, Embed = 4, Vocab = CharVocab.FromText("abcdef") };
        using var net = new CharNetwork(config, RnnFast.Backends.BackendRegistry.Get("reference"), new Random(1));
        Checkpoint.Save(path, net);
        byte[] good = File.ReadAllBytes(path);
        net.Head.Weight.Value.Span[3] = float.NegativeInfinity;
        var e = Assert.Throws<InvalidOperationException>(() => Checkpoint.Save(path, net));
        Assert.Contains("'head.weight'", e.Message);
        Assert.Contains("not written", e.Message);
        Assert.Equal(good, File.ReadAllBytes(path));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
    }

    [Fact]
    public void The_cli_option_is_validated_and_a_diverging_run_exits_2_with_one_line()
    {
        string data = Path.Combine(_dir, "text.txt"), model = Path.Combine(_dir, "cli.safetensors");
        File.WriteAllText(data, Corpus);
        string[] common = ["train", "--data", data, "--out", model, "--layers", "1", "--hidden", "8", "--embed", "4", "--seq-len", "8", "--batch", "2", "--backend", "cpu"];

        var (code, _, err) = Cli([.. common, "--on-nonfinite", "maybe"]);
        Assert.Equal(2, code);
        Assert.Contains("--on-nonfinite", err);

        (code, _, err) = Cli([.. common, "--on-nonfinite", "skip", "--max-skips", "0"]);
        Assert.Equal(2, code);
        Assert.Contains("--max-skips", err);

        (code, _, err) = Cli([.. common, "--steps", "20", "--optimizer", "sgd", "--lr", "1e37", "--clip", "0", "--on-nonfinite", "skip", "--max-skips", "2"]);
        output.WriteLine(err);
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("training stopped", err);
    }

    private static (int Code, string Out, string Err) Cli(string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private sealed class Recorder(List<string> messages) : ITrainObserver
    {
        public void OnMessage(string message) => messages.Add(message);
    }
}
