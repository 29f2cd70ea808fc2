// The character tagger (NetworkKind.Tagger, issue 14): two generated toy tasks, one that needs memory of the past
// (is this character inside brackets?) for a unidirectional LSTM, and one that needs the future (every character is
// tagged with the text's last character) for a bidirectional one; training lowers the loss and reaches high
// per-character accuracy; a saved model reads back as a tagger with the same tags; `rnnfast train --task tag`,
// `rnnfast predict` and `rnnfast eval` on small files; and the messages for malformed input.
using System.Globalization;
using RnnFast.Autograd;
using RnnFast.Backends;
using RnnFast.Cli;
using RnnFast.Models;
using RnnFast.Training;
using Xunit;

namespace RnnFast.Tests;

public sealed class TaggerTests
{
    /// <summary>
    /// Letters a-c and bracket pairs (never nested); a character is tagged `in` when, once it is read, the text is
    /// inside a pair ('(' and the letters after it), else `out` (')' and the letters outside).
    /// </summary>
    public static TaggedText[] Brackets(int count, int seed)
    {
        var rng = new Random(seed);
        var result = new TaggedText[count];
        for (int i = 0; i < count; i++)
        {
            int length = rng.Next(4, 20);
            var text = new char[length];
            var tags = new string[length];
            bool inside = false;
            for (int t = 0; t < length; t++)
            {
                if (!inside && rng.NextDouble() < 0.2) { text[t] = '('; inside = true; }
                else if (inside && rng.NextDouble() < 0.25) { text[t] = ')'; inside = false; }
                else text[t] = (char)('a' + rng.Next(3));
                tags[t] = inside ? "in" : "out";
            }
            result[i] = new TaggedText(new string(text), tags);
        }
        return result;
    }

    /// <summary>Letters a-d ending in X or Y; every character is tagged with the ending (`x` or `y`): only the future tells.</summary>
    public static TaggedText[] Ending(int count, int seed)
    {
        var rng = new Random(seed);
        var result = new TaggedText[count];
        for (int i = 0; i < count; i++)
        {
            int length = rng.Next(3, 14);
            bool x = rng.Next(2) == 0;
            var text = new string(Enumerable.Range(0, length - 1).Select(_ => (char)('a' + rng.Next(4))).Append(x ? 'X' : 'Y').ToArray());
            result[i] = new TaggedText(text, Enumerable.Repeat(x ? "x" : "y", length).ToArray());
        }
        return result;
    }

    private static TrainOptions Options(bool bidirectional, int steps, string? outPath = null) => new()
    {
        Mode = RnnMode.Lstm, Layers = 1, Hidden = 24, Embed = 8, Bidirectional = bidirectional, Batch = 32, Steps = steps,
        LearningRate = 1e-2, Seed = 1, EvalEvery = 0, Backend = "cpu", Out = outPath,
    };

    private static string Temp(string name) => Path.Combine(TestPaths.NewTempDir(), name);

    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static string LastLine(string text) => text.TrimEnd().Split('\n')[^1].Trim();

    [Fact]
    public void Unidirectional_tagger_learns_the_brackets_task()
    {
        var (test, run) = new TaggerTrainer().Train(Brackets(600, 3), 0.2, Options(bidirectional: false, steps: 200));
        Assert.Equal(200, run.Steps);
        double first = run.TrainLoss.Take(10).Average(), last = run.TrainLoss.TakeLast(10).Average();
        Assert.True(last < first * 0.3, $"loss did not fall enough: {first:F4} -> {last:F4}");
        Assert.True(test.Accuracy >= 0.95, $"per-character accuracy {test.Accuracy:F4} on {test.Characters} held-out characters");
        Assert.Equal(new[] { "in", "out" }, test.Labels.ToArray());
        Assert.Equal(0, test.Dropped);
    }

    [Fact]
    public void Bidirectional_tagger_reads_the_future()
    {
        var (test, run) = new TaggerTrainer().Train(Ending(600, 4), 0.2, Options(bidirectional: true, steps: 200));
        Assert.True(run.TrainLoss[^1] < run.TrainLoss[0], "loss did not fall");
        Assert.True(test.Accuracy >= 0.95, $"per-character accuracy {test.Accuracy:F4} on {test.Characters} held-out characters");
    }

    [Fact]
    public void Saved_tagger_loads_back_with_the_same_tags()
    {
        string path = Temp("tagger.safetensors");
        var data = Brackets(300, 5);
        var (test, _) = new TaggerTrainer().Train(data, 0.2, Options(bidirectional: true, steps: 40, outPath: path));
        var contents = Checkpoint.Read(path);
        Assert.Equal(NetworkKind.Tagger, contents.Config.Kind);
        Assert.Equal("char_tagger", contents.Metadata["kind"]);
        Assert.True(contents.Config.Bidirectional);
        using var a = RnnModel.Load(path, "cpu");
        using var b = RnnModel.Load(path, "cpu");
        Assert.Equal(NetworkKind.Tagger, a.Kind);
        var texts = data.Take(20).Select(d => d.Text).ToArray();
        var ta = a.Tag(texts);
        var tb = b.Tag(texts);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(texts[i].Length, ta[i].Count);
            Assert.Equal(texts[i], string.Concat(ta[i].Select(t => t.Symbol)));
            Assert.Equal(ta[i].Select(t => t.Label), tb[i].Select(t => t.Label));
            Assert.Equal(ta[i].Select(t => t.Probability), tb[i].Select(t => t.Probability));
            Assert.Equal(ta[i].Select(t => t.Label), a.Tag(texts[i]).Select(t => t.Label)); // alone or in a batch: the same
        }
        // The evaluation the trainer reported is the loaded model's on the same held-out examples.
        var order = Enumerable.Range(0, data.Length).ToArray();
        new Random(1).Shuffle(order);
        var heldOut = order.Take(60).Select(i => data[i]).ToArray();
        var again = TaggerTrainer.Evaluate(a, heldOut);
        Assert.Equal(test.Accuracy, again.Accuracy, 6);
        Assert.Equal(test.Loss, again.Loss, 4);
        Assert.Empty(a.Tag(""));
    }

    [Fact]
    public void Unseen_characters_are_named_or_dropped()
    {
        string path = Temp("tagger.safetensors");
        new TaggerTrainer().Train(Brackets(100, 6), 0.2, Options(bidirectional: false, steps: 5, outPath: path));
        using var m = RnnModel.Load(path, "cpu");
        var e = Assert.Throws<ArgumentException>(() => m.Tag("ab#c"));
        Assert.Contains("'#'", e.Message);
        var kept = m.Tag("ab#c", skipUnknown: true);
        Assert.Equal("abc", string.Concat(kept.Select(t => t.Symbol)));
        Assert.Throws<InvalidOperationException>(() => m.Classify("abc"));
    }

    [Fact]
    public void Config_and_loss_check_their_arguments()
    {
        var vocab = CharVocab.FromText("abc");
        var one = new NetworkConfig { Kind = NetworkKind.Tagger, Mode = RnnMode.Lstm, Layers = 1, Hidden = 4, Embed = 3, Vocab = vocab, Labels = ["x"] };
        Assert.StartsWith("NetworkConfig.Labels: a tagger needs at least 2 tags", Assert.Throws<ArgumentException>(one.Validate).Message);
        var config = one with { Labels = ["x", "y"], Bidirectional = true };
        config.Validate();
        Assert.Equal(2, config.OutputSize);
        Assert.Equal("char_tagger", config.ToMetadata()["kind"]);
        using var net = new CharNetwork(config, BackendRegistry.Get("cpu"), new Random(1));
        // (T=2, N=2): sequence 1 has length 1, so its step 1 is padding and must hold -100.
        int[] tokens = [0, 1, 2, 0], lengths = [2, 1];
        var bad = Assert.Throws<ArgumentException>(() => net.TaggerLoss(new Tape(), tokens, [0, 1, 1, 0], lengths, 2, 2, false, null));
        Assert.StartsWith("tags: step 1 of sequence 1 is padding", bad.Message);
        var loss = net.TaggerLoss(new Tape(), tokens, [0, 1, 1, CharNetwork.IgnoreIndex], lengths, 2, 2, false, null);
        Assert.True(float.IsFinite(loss.Value.Span[0]) && loss.Value.Span[0] > 0);
    }

    [Fact]
    public void Cli_trains_predicts_and_evaluates_a_tagger()
    {
        string dir = TestPaths.NewTempDir();
        string tsv = Path.Combine(dir, "brackets.tsv"), model = Path.Combine(dir, "tagger.safetensors");
        File.WriteAllLines(tsv, Brackets(500, 7).Select(d => string.Join(' ', d.Tags) + "\t" + d.Text));
        var (code, o, e) = Cli("train", "--task", "tag", "--data", tsv, "--out", model, "--steps", "150", "--hidden", "24",
            "--embed", "8", "--backend", "cpu");
        Assert.True(code == 0, e);
        Assert.StartsWith("accuracy=", LastLine(o));
        Assert.True(double.Parse(LastLine(o)["accuracy=".Length..], CultureInfo.InvariantCulture) >= 0.9, o);
        Assert.True(File.Exists(model));

        // predict: one line per input line, one tag per kept character ('#' is unseen and dropped, the empty line stays).
        string lines = Path.Combine(dir, "lines.txt");
        File.WriteAllText(lines, "ab(ca)b\n\n(a#b\nccc\n");
        (code, o, e) = Cli("predict", "--model", model, "--data", lines, "--backend", "cpu");
        Assert.True(code == 0, e);
        var rows = o.Split('\n');
        Assert.Equal(5, rows.Length); // four lines and the final line break
        Assert.Equal("", rows[4]);
        Assert.Equal("out out in in in out out", rows[0]);
        Assert.Equal("", rows[1]);
        Assert.Equal("in in in", rows[2]);
        Assert.Equal("out out out", rows[3]);

        // eval: per-character accuracy, the last line; a second file with a wrong tag lowers it.
        string evalFile = Path.Combine(dir, "eval.tsv");
        File.WriteAllText(evalFile, "out out in in in out out\tab(ca)b\nout out out\tccc\n");
        (code, o, e) = Cli("eval", "--model", model, "--data", evalFile, "--backend", "cpu");
        Assert.True(code == 0, e);
        Assert.Equal("accuracy=1.0000", LastLine(o));
        Assert.Contains("10 characters scored", o);
        File.WriteAllText(evalFile, "in out in in in out out\tab(ca)b\n");
        (code, o, _) = Cli("eval", "--model", model, "--data", evalFile, "--backend", "cpu");
        Assert.Equal(0, code);
        Assert.Equal("accuracy=" + (6 / 7.0).ToString("F4", CultureInfo.InvariantCulture), LastLine(o));
    }

    [Fact]
    public void Cli_refuses_malformed_tagger_input_in_one_line()
    {
        string dir = TestPaths.NewTempDir();
        string tsv = Path.Combine(dir, "bad.tsv");
        File.WriteAllText(tsv, "in out\tabc\n");
        var (code, o, e) = Cli("train", "--task", "tag", "--data", tsv, "--out", Path.Combine(dir, "m.safetensors"), "--backend", "cpu");
        Assert.Equal(2, code);
        Assert.Single(e.Trim().Split('\n'));
        Assert.Contains("2 tag(s) for 3 character(s)", e);
        Assert.Equal("", o);

        (code, _, e) = Cli("train", "--task", "tag", "--data", Path.Combine(dir, "none.tsv"), "--backend", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("--data:", e);

        File.WriteAllLines(tsv, Brackets(40, 8).Select(d => string.Join(' ', d.Tags) + "\t" + d.Text));
        (code, _, e) = Cli("train", "--task", "tag", "--data", tsv, "--layers", "0", "--backend", "cpu");
        Assert.Equal(2, code);
        Assert.StartsWith("error: --layers: must be positive", e.Trim());
        Assert.Single(e.Trim().Split('\n'));
    }
}
