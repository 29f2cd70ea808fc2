// Issue 19, sampling: SamplingOptions.TopP (nucleus) and SamplingOptions.Stop in the library, and `rnnfast sample`'s
// --top-p, --stop and --num-samples; the output ends with one newline. Bad values exit 2 naming the flag.
using RnnFast.Backends;
using RnnFast.Cli;
using RnnFast.Models;
using Xunit;

namespace RnnFast.Tests;

public sealed class SampleStopTopPTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string SaveModel()
    {
        string path = Path.Combine(_dir, "lm.safetensors");
        var config = new NetworkConfig { Kind = NetworkKind.LanguageModel, Mode = RnnMode.Lstm, Layers = 1, Hidden = 8, Embed = 4, Vocab = CharVocab.FromText("abcdefgh \n") };
        using var net = new CharNetwork(config, BackendRegistry.Get("reference"), new Random(2));
        Checkpoint.Save(path, net);
        return path;
    }

    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void A_tiny_top_p_picks_the_argmax_and_top_p_1_keeps_every_token()
    {
        var rng = new Random(7);
        var scratch = new float[50];
        var tiny = new SamplingOptions { TopP = 1e-6f, Temperature = 2f };
        for (int trial = 0; trial < 200; trial++)
        {
            var logits = Enumerable.Range(0, 50).Select(_ => (float)rng.NextDouble() * 4).ToArray();
            int best = Array.IndexOf(logits, logits.Max());
            Assert.Equal(best, Sampler.Pick(logits, tiny, new Random(trial), scratch));
        }
        // Two equal top tokens and one far below: P = 0.5 keeps only the two top ones.
        float[] three = [5f, 5f, -20f, 5f - 30f];
        var seen = new HashSet<int>();
        for (int s = 0; s < 200; s++) seen.Add(Sampler.Pick(three, new SamplingOptions { TopP = 0.5f }, new Random(s), new float[4]));
        Assert.Equal([0, 1], seen.Order());
        // P = 1 is off: every token of a flat distribution comes up.
        seen.Clear();
        for (int s = 0; s < 400; s++) seen.Add(Sampler.Pick(new float[8], new SamplingOptions { TopP = 1f }, new Random(s), new float[8]));
        Assert.Equal(8, seen.Count);
    }

    [Fact]
    public void Generate_with_a_tiny_top_p_equals_greedy_generation()
    {
        using var m = RnnModel.Load(SaveModel(), "reference");
        string greedy = m.Generate("ab", 60, new SamplingOptions { Argmax = true });
        string nucleus = m.Generate("ab", 60, new SamplingOptions { TopP = 1e-6f, Seed = 9 });
        Assert.Equal(greedy, nucleus);
        Assert.NotEqual(greedy, m.Generate("ab", 60, new SamplingOptions { Temperature = 3f, Seed = 9 })); // sampling differs
    }

    [Fact]
    public void Generation_stops_right_after_the_stop_string()
    {
        using var m = RnnModel.Load(SaveModel(), "reference");
        var plain = new SamplingOptions { Temperature = 2f, Seed = 4 };
        string full = m.Generate("a", 400, plain);
        string stop = full.Substring(30, 2);
        int at = full.IndexOf(stop, StringComparison.Ordinal);
        string expected = full[..(at + stop.Length)];
        Assert.True(expected.Length < full.Length);
        Assert.Equal(expected, m.Generate("a", 400, plain with { Stop = stop }));
        // Streaming without keeping the text stops at the same place.
        var streamed = new System.Text.StringBuilder();
        m.Generate("a", 400, plain with { Stop = stop }, s => streamed.Append(s), keepText: false);
        Assert.Equal(expected, streamed.ToString());
        var e = Assert.Throws<ArgumentException>(() => m.Generate("a", 4, plain with { Stop = "xyz" }));
        Assert.StartsWith("SamplingOptions.Stop: 'x' is not in the model's vocabulary", e.Message);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1.5")]
    [InlineData("NaN")]
    [InlineData("-0.2")]
    public void Validation_names_SamplingOptions_TopP(string value)
    {
        var e = Assert.Throws<ArgumentException>(() => new SamplingOptions { TopP = float.Parse(value, System.Globalization.CultureInfo.InvariantCulture) }.Validate());
        Assert.StartsWith("SamplingOptions.TopP: must be in (0, 1]", e.Message);
        Assert.StartsWith("SamplingOptions.Stop: must not be empty", Assert.Throws<ArgumentException>(() => new SamplingOptions { Stop = "" }.Validate()).Message);
    }

    [Fact]
    public void The_cli_stops_at_the_stop_string_and_ends_with_one_newline()
    {
        string lm = SaveModel();
        var (code, full, err) = Cli("sample", "--model", lm, "--length", "300", "--temperature", "2", "--seed", "4", "--prime", "a", "--backend", "reference");
        Assert.True(code == 0, err);
        Assert.EndsWith("\n", full);
        string text = full[1..^1]; // without the prime and the added newline (unless the text ended with one)
        string stop = text.Substring(20, 2);
        (code, var stopped, err) = Cli("sample", "--model", lm, "--length", "300", "--temperature", "2", "--seed", "4", "--prime", "a", "--stop", stop, "--backend", "reference");
        Assert.True(code == 0, err);
        string expected = "a" + text[..(text.IndexOf(stop, StringComparison.Ordinal) + stop.Length)];
        Assert.Equal(expected.EndsWith('\n') ? expected : expected + "\n", stopped);
    }

    [Fact]
    public void Num_samples_writes_each_sample_under_a_header_with_its_own_seed()
    {
        string lm = SaveModel();
        var (code, o, err) = Cli("sample", "--model", lm, "--length", "40", "--num-samples", "3", "--seed", "5", "--prime", "b", "--backend", "reference");
        Assert.True(code == 0, err);
        Assert.EndsWith("\n", o);
        var parts = o.Split("--- sample ", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, parts.Length);
        for (int k = 0; k < 3; k++)
        {
            Assert.StartsWith($"{k + 1} of 3 (seed {5 + k}) ---\n", parts[k]);
            // Sample k is what a single run with seed 5 + k writes.
            var (c1, single, e1) = Cli("sample", "--model", lm, "--length", "40", "--seed", (5 + k).ToString(), "--prime", "b", "--backend", "reference");
            Assert.True(c1 == 0, e1);
            Assert.Equal(single, parts[k][parts[k].IndexOf('\n')..][1..]);
        }
    }

    [Theory]
    [InlineData("--top-p", "0")]
    [InlineData("--top-p", "1.5")]
    [InlineData("--top-p", "NaN")]
    [InlineData("--num-samples", "0")]
    [InlineData("--num-samples", "-3")]
    [InlineData("--num-samples", "10001")]
    [InlineData("--stop", "")]
    [InlineData("--stop", "Z")]
    public void Bad_values_exit_2_naming_the_flag(string flag, string value)
    {
        string lm = SaveModel();
        var (code, o, err) = Cli("sample", "--model", lm, "--length", "5", "--backend", "reference", flag, value);
        Assert.Equal(2, code);
        Assert.Equal("", o);
        Assert.Single(err.Trim().Split('\n'));
        Assert.StartsWith($"error: {flag}: ", err);
        Assert.DoesNotContain("Options.", err);
    }
}
