// CTC sequence labelling end to end: CtcTrainer on the generated symbol-frame task reaches a low label error rate on
// held-out sequences (greedy and beam), the options and examples are checked with messages naming what is wrong, the
// generator is deterministic and always alignable, and `rnnfast demo --task ctc` refuses bad flags in one line.
using RnnFast.Cli;
using RnnFast.Data;
using RnnFast.Training;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

public sealed class CtcTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void A_bidirectional_LSTM_learns_to_label_unsegmented_symbol_frames()
    {
        var labels = CtcSymbolTask.SymbolNames(4);
        var examples = CtcSymbolTask.Generate(500, 4, 8, 2, 5, 0.5, seed: 3);
        var options = new CtcOptions { Hidden = 32, Steps = 120, Backend = "cpu", Seed = 2, TestFraction = 0.2 };
        using var outcome = new CtcTrainer().Train(examples, labels, options);
        var test = outcome.Test;
        output.WriteLine($"greedy LER {test.GreedyLabelErrorRate:P2}, beam LER {test.BeamLabelErrorRate:P2}, loss {test.Loss:F4}");
        Assert.Equal(120, outcome.Run.Steps);
        Assert.Equal(100, test.Sequences);
        Assert.True(test.GreedyLabelErrorRate < 0.1, $"greedy LER {test.GreedyLabelErrorRate}");
        Assert.True(test.BeamLabelErrorRate < 0.1, $"beam LER {test.BeamLabelErrorRate}");
        Assert.True(outcome.Run.TrainLoss[^1] < outcome.Run.TrainLoss[0] / 5, $"loss {outcome.Run.TrainLoss[0]} -> {outcome.Run.TrainLoss[^1]}");
    }

    [Fact]
    public void An_untrained_network_has_a_high_label_error_rate()
    {
        // the evaluation can fail: before training the labels are not read back
        var labels = CtcSymbolTask.SymbolNames(4);
        var examples = CtcSymbolTask.Generate(40, 4, 8, 2, 5, 0.5, seed: 3);
        var desc = new RnnDesc(RnnMode.Lstm, 8, 16, 1, bidirectional: true);
        using var net = new RnnFast.Models.CtcNetwork(8, labels, desc, RnnFast.Backends.BackendRegistry.Get("reference"), new Random(1));
        var ev = CtcTrainer.Evaluate(net, examples);
        Assert.True(ev.GreedyLabelErrorRate > 0.5, $"greedy LER {ev.GreedyLabelErrorRate}");
    }

    [Fact]
    public void A_saved_network_loads_back_with_the_same_outputs_and_a_wrong_file_is_refused_naming_it()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var labels = CtcSymbolTask.SymbolNames(3);
            var examples = CtcSymbolTask.Generate(20, 3, 5, 1, 3, 0.5, seed: 4);
            using var outcome = new CtcTrainer().Train(examples, labels, new CtcOptions { Hidden = 8, Steps = 3, Backend = "reference" });
            string path = Path.Combine(dir, "ctc.safetensors");
            outcome.Network.Save(path);
            using var loaded = RnnFast.Models.CtcNetwork.Load(path, "reference");
            Assert.Equal(labels, loaded.Labels);
            Assert.True(loaded.Rnn.Desc.Bidirectional);
            var (frames, lengths, T) = RnnFast.Models.CtcNetwork.Pad(examples.Select(e => (e.Frames, e.Steps)).ToArray(), 5);
            Assert.Equal(outcome.Network.InferLogProbs(frames, lengths, T, examples.Count), loaded.InferLogProbs(frames, lengths, T, examples.Count));

            var e = Assert.Throws<RnnFormatException>(() => RnnFast.Models.CtcNetwork.Load(TestPaths.Golden("gru_basic")));
            Assert.Contains("gru_basic.safetensors", e.Message);
            Assert.Contains("expected ctc_labeller", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("Hidden", "CtcOptions.Hidden: must be positive, got 0")]
    [InlineData("Layers", "CtcOptions.Layers: must be positive, got 0")]
    [InlineData("Batch", "CtcOptions.Batch: must be positive, got 0")]
    [InlineData("Steps", "CtcOptions.Steps: must be positive, got 0")]
    [InlineData("BeamWidth", "CtcOptions.BeamWidth: must be positive, got 0")]
    [InlineData("LearningRate", "CtcOptions.LearningRate: must be a positive number, got NaN")]
    [InlineData("TestFraction", "CtcOptions.TestFraction: must be in (0, 1), got 1")]
    [InlineData("MaxSeconds", "CtcOptions.MaxSeconds: must be a positive number of seconds, got 0")]
    [InlineData("Optimizer", "CtcOptions.Optimizer: must be adam, sgd or adagrad, got 'lbfgs'")]
    [InlineData("Clip", "CtcOptions.Clip: must be a finite number >= 0 (0 = off), got -1")]
    public void Options_are_checked_naming_the_property(string property, string message)
    {
        var o = property switch
        {
            "Hidden" => new CtcOptions { Hidden = 0 },
            "Layers" => new CtcOptions { Layers = 0 },
            "Batch" => new CtcOptions { Batch = 0 },
            "Steps" => new CtcOptions { Steps = 0 },
            "BeamWidth" => new CtcOptions { BeamWidth = 0 },
            "LearningRate" => new CtcOptions { LearningRate = double.NaN },
            "TestFraction" => new CtcOptions { TestFraction = 1 },
            "MaxSeconds" => new CtcOptions { MaxSeconds = 0 },
            "Optimizer" => new CtcOptions { Optimizer = "lbfgs" },
            _ => new CtcOptions { Clip = -1 },
        };
        var e = Assert.Throws<ArgumentException>(() => new CtcTrainer().Train(CtcSymbolTask.Generate(10, 2, 3, 1, 2, 0.1, 1), ["A", "B"], o));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Examples_that_cannot_be_aligned_or_do_not_fit_are_refused_naming_the_example()
    {
        var good = CtcSymbolTask.Generate(6, 2, 3, 1, 2, 0.1, 1).ToList();
        string Refused(CtcExample bad)
        {
            var list = good.Append(bad).ToArray();
            return Assert.Throws<ArgumentException>(() => new CtcTrainer().Train(list, ["A", "B"], new CtcOptions { Steps = 1 })).Message;
        }
        // [A, A] needs a blank between: 3 frames, only 2 given
        Assert.Contains("example 7 has 2 labels needing at least 3 frames, but only 2 frames", Refused(new CtcExample(new float[6], 2, [0, 0])));
        Assert.Contains("example 7 has the label 2, expected 0..1", Refused(new CtcExample(new float[6], 2, [2])));
        Assert.Contains("example 7 has frames of 2 features, expected 3", Refused(new CtcExample(new float[4], 2, [1])));
        Assert.Contains("example 7 has 5 floats, not a whole number of its 2 frames", Refused(new CtcExample(new float[5], 2, [1])));
    }

    [Fact]
    public void The_generator_is_deterministic_and_every_sequence_can_be_aligned()
    {
        var a = CtcSymbolTask.Generate(200, 5, 4, 2, 6, 0.5, seed: 9);
        var b = CtcSymbolTask.Generate(200, 5, 4, 2, 6, 0.5, seed: 9);
        var c = CtcSymbolTask.Generate(200, 5, 4, 2, 6, 0.5, seed: 10);
        Assert.True(a.Zip(b).All(p => p.First.Frames.SequenceEqual(p.Second.Frames) && p.First.Labels.SequenceEqual(p.Second.Labels)));
        Assert.False(a.Zip(c).All(p => p.First.Labels.SequenceEqual(p.Second.Labels)));
        foreach (var e in a)
        {
            Assert.InRange(e.Labels.Length, 2, 6);
            Assert.All(e.Labels, k => Assert.InRange(k, 0, 4));
            Assert.Equal(e.Steps * 4, e.Frames.Length);
            Assert.True(e.Steps >= 2 * e.Labels.Length);   // each symbol lasts at least 2 frames
        }
        Assert.Contains(a, e => e.Labels.Zip(e.Labels.Skip(1)).Any(p => p.First == p.Second));   // repeats occur
        Assert.Equal(["A", "B", "C"], CtcSymbolTask.SymbolNames(3));
    }

    private static (int Code, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int rc = CliApp.Run(args, o, e);
        return (rc, e.ToString());
    }

    [Theory]
    [InlineData("--seconds", "0", "error: --seconds: ")]
    [InlineData("--seconds", "nan", "error: --seconds: ")]
    [InlineData("--task", "speech", "error: --task: must be lm or ctc, got 'speech'")]
    public void The_ctc_demo_refuses_bad_flags_in_one_line(string flag, string value, string start)
    {
        var args = flag == "--task" ? new[] { "demo", "--task", value } : new[] { "demo", "--task", "ctc", flag, value };
        var (code, err) = Cli(args);
        Assert.Equal(2, code);
        Assert.StartsWith(start, err);
        Assert.Single(err.Trim().Split('\n'));
    }
}
