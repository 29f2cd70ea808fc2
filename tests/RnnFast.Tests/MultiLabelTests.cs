// Multi-label classification (NetworkKind.MultiLabel, issue 14): a generated toy task whose texts carry any subset of
// three labels (has_digit, has_upper, has_bracket); training reaches high F1, a saved model reads back as a multi-label
// classifier with the same probabilities, and `rnnfast classify --multi-label`, `predict` (one line of labels per input
// line) and `eval` (per-label scores, last line accuracy=) on small files.
using System.Globalization;
using RnnFast.Cli;
using RnnFast.Datasets;
using RnnFast.Models;
using RnnFast.Training;
using Xunit;

namespace RnnFast.Tests;

public sealed class MultiLabelTests
{
    /// <summary>Lower-case letters with, independently, a digit, an upper-case letter and a bracket inserted; the labels say which.</summary>
    public static (string Labels, string Text)[] Toy(int count, int seed)
    {
        var rng = new Random(seed);
        var result = new (string, string)[count];
        for (int i = 0; i < count; i++)
        {
            var text = Enumerable.Range(0, rng.Next(4, 14)).Select(_ => (char)('a' + rng.Next(4))).ToList();
            var labels = new List<string>();
            if (rng.Next(2) == 0) { text.Insert(rng.Next(text.Count + 1), (char)('0' + rng.Next(3))); labels.Add("has_digit"); }
            if (rng.Next(2) == 0) { text.Insert(rng.Next(text.Count + 1), (char)('A' + rng.Next(3))); labels.Add("has_upper"); }
            if (rng.Next(2) == 0) { text.Insert(rng.Next(text.Count + 1), rng.Next(2) == 0 ? '(' : ']'); labels.Add("has_bracket"); }
            result[i] = (labels.Count == 0 ? MultiLabelTrainer.EmptySet : string.Join(',', labels), new string(text.ToArray()));
        }
        return result;
    }

    private static TrainOptions Options(string? outPath = null, int steps = 250) => new()
    {
        Mode = RnnMode.Lstm, Layers = 1, Hidden = 24, Embed = 8, Batch = 32, Steps = steps, LearningRate = 1e-2, Seed = 1,
        EvalEvery = 0, Backend = "cpu", Out = outPath, Pooling = SequencePooling.Mean,
    };

    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Labels_field_parses_to_a_set()
    {
        Assert.Equal(new[] { "a", "b" }, MultiLabelTrainer.ParseLabels(" a, b ,a,"));
        Assert.Empty(MultiLabelTrainer.ParseLabels("-"));
        Assert.Empty(MultiLabelTrainer.ParseLabels(""));
    }

    [Fact]
    public void Multi_label_classifier_learns_the_toy_task()
    {
        var (test, run) = new MultiLabelTrainer().Train(Toy(800, 3), 0.2, Options(steps: 500));
        Assert.True(run.TrainLoss.TakeLast(10).Average() < run.TrainLoss.Take(10).Average() * 0.3, "loss did not fall enough");
        Assert.Equal(new[] { "has_bracket", "has_digit", "has_upper" }, test.PerLabel.Select(l => l.Label).ToArray());
        foreach (var l in test.PerLabel) Assert.True(l.F1 >= 0.9, $"{l.Label}: F1 {l.F1:F4}");
        Assert.True(test.MicroF1 >= 0.95, $"micro F1 {test.MicroF1:F4}");
        Assert.True(test.SubsetAccuracy >= 0.85, $"subset accuracy {test.SubsetAccuracy:F4}");
    }

    [Fact]
    public void Saved_multi_label_model_loads_back_the_same()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "ml.safetensors");
        var data = Toy(300, 5);
        var (test, _) = new MultiLabelTrainer().Train(data, 0.2, Options(path, steps: 60) with { Pooling = SequencePooling.Last });
        var contents = Checkpoint.Read(path);
        Assert.Equal(NetworkKind.MultiLabel, contents.Config.Kind);
        Assert.Equal("char_multilabel", contents.Metadata["kind"]);
        using var a = RnnModel.Load(path, "cpu");
        using var b = RnnModel.Load(path, "cpu");
        Assert.Equal(NetworkKind.MultiLabel, a.Kind);
        Assert.Equal(SequencePooling.Last, a.Config.Pooling);
        var texts = data.Take(20).Select(d => d.Text).ToArray();
        var pa = a.ClassifyMultiLabel(texts);
        var pb = b.ClassifyMultiLabel(texts);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(pa[i].Probabilities, pb[i].Probabilities);
            Assert.Equal(pa[i].Labels, a.ClassifyMultiLabel(texts[i]).Labels);
            Assert.Equal(pa[i].LabelIds.Select(c => a.Labels[c]), pa[i].Labels);
            Assert.All(pa[i].Probabilities, p => Assert.InRange(p, 0f, 1f));
        }
        var order = Enumerable.Range(0, data.Length).ToArray();
        new Random(1).Shuffle(order);
        var heldOut = order.Take(60).Select(i => data[i]).ToArray();
        var again = MultiLabelTrainer.Evaluate(a, heldOut);
        Assert.Equal(test.SubsetAccuracy, again.SubsetAccuracy, 6);
        Assert.Equal(test.Loss, again.Loss, 4);
        Assert.Throws<InvalidOperationException>(() => a.Classify("ab"));
    }

    [Fact]
    public void Cli_trains_predicts_one_line_per_input_and_evaluates()
    {
        string dir = TestPaths.NewTempDir();
        string train = Path.Combine(dir, "train.tsv"), model = Path.Combine(dir, "ml.safetensors");
        string lines = Path.Combine(dir, "lines.txt"), test = Path.Combine(dir, "test.tsv");
        LabeledText.Write(train, Toy(800, 7));
        var (code, output, err) = Cli("classify", "--multi-label", "--data", train, "--pooling", "mean", "--hidden", "24", "--embed", "8",
            "--steps", "250", "--backend", "cpu", "--out", model);
        Assert.True(code == 0, err);
        Assert.Contains("accuracy=", output);
        Assert.Equal("char_multilabel", Checkpoint.Read(model).Metadata["kind"]);

        File.WriteAllText(lines, "ab1c\nabAc(\n\naaaa\nb]B2\n");
        (code, output, err) = Cli("predict", "--model", model, "--data", lines);
        Assert.True(code == 0, err);
        var got = output.Split('\n');
        Assert.Equal(6, got.Length); // five lines, each ended by \n
        Assert.Equal("has_digit", got[0]);
        Assert.Equal("has_bracket,has_upper", got[1]);
        Assert.Equal("", got[2]);
        Assert.Equal("", got[3]);
        Assert.Equal("has_bracket,has_digit,has_upper", got[4]);

        LabeledText.Write(test, Toy(200, 8));
        (code, output, err) = Cli("eval", "--model", model, "--data", test);
        Assert.True(code == 0, err);
        string last = output.TrimEnd().Split('\n')[^1].Trim();
        Assert.StartsWith("accuracy=", last);
        Assert.True(double.Parse(last["accuracy=".Length..], CultureInfo.InvariantCulture) >= 0.8, output);
        Assert.Contains("has_digit", output);
        Assert.Contains("precision", output);
    }

    [Fact]
    public void Cli_refuses_multi_label_without_data_and_unknown_labels()
    {
        var (code, _, err) = Cli("classify", "--multi-label", "--steps", "2");
        Assert.Equal(2, code);
        Assert.StartsWith("error: --multi-label:", err.Trim());

        string dir = TestPaths.NewTempDir();
        string train = Path.Combine(dir, "train.tsv"), model = Path.Combine(dir, "ml.safetensors"), bad = Path.Combine(dir, "bad.tsv");
        LabeledText.Write(train, Toy(60, 9));
        (code, _, err) = Cli("classify", "--multi-label", "--data", train, "--steps", "2", "--hidden", "8", "--backend", "cpu", "--out", model);
        Assert.True(code == 0, err);
        File.WriteAllText(bad, "has_digit,nope\tab1\n");
        (code, _, err) = Cli("eval", "--model", model, "--data", bad);
        Assert.Equal(2, code);
        Assert.StartsWith("error: --data:", err.Trim());
        Assert.Contains("'nope'", err);
        Assert.DoesNotContain('\n', err.Trim());
    }
}
