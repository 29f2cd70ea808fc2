// Issue 15 items 4 and 15: sizes whose products overflow int (on the command line or in a resumed checkpoint's
// metadata) and non-finite numbers are refused before training, as one line naming the flag (and the file), exit 2.
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using RnnFast.Cli;
using RnnFast.Training;
using Xunit;

namespace RnnFast.Tests;

public sealed class SizeLimitTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private string TextFile()
    {
        string path = Path.Combine(_dir, "text.txt");
        File.WriteAllText(path, string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog. ", 20)));
        return path;
    }

    private string ClassifyFile()
    {
        string path = Path.Combine(_dir, "labelled.tsv");
        File.WriteAllText(path, string.Concat(Enumerable.Range(0, 40).Select(i => $"{(i % 2 == 0 ? "a" : "b")}\t{(i % 2 == 0 ? "apple pie" : "banana split")} {i}\n")));
        return path;
    }

    /// <summary>Runs the CLI; asserts exit 2, nothing fast enough to have trained, and exactly one stderr line; returns it.</summary>
    private static string RunRefused(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var clock = Stopwatch.StartNew();
        int rc = CliApp.Run(args, o, e);
        string err = e.ToString();
        Assert.True(rc == 2, $"exit {rc}; stderr: {err}; stdout: {o}");
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one stderr line, got: {err}");
        Assert.StartsWith("error: ", lines[0]);
        Assert.DoesNotContain("   at ", err);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        return lines[0];
    }

    [Theory]
    [InlineData("64", "67108865", "4294967360")]
    [InlineData("1000", "3000000", "3000000000")]
    public void TrainRefusesSeqLenTimesBatchPastAnArray(string seqLen, string batch, string product)
    {
        string line = RunRefused("train", "--data", TextFile(), "--out", Path.Combine(_dir, "m.safetensors"), "--seq-len", seqLen, "--batch", batch, "--steps", "1");
        Assert.Contains("--seq-len x --batch", line);
        Assert.Contains($"= {product} elements", line);
        Assert.Contains("2147483647", line);
    }

    [Fact]
    public void TrainRefusesHiddenProductsPastAnArray()
    {
        string line = RunRefused("train", "--data", TextFile(), "--out", Path.Combine(_dir, "m.safetensors"), "--hidden", "30000", "--steps", "1");
        Assert.Contains("--hidden", line);
        Assert.Contains("more than one array holds", line);
    }

    [Theory]
    [InlineData("64", "67108865")]
    [InlineData("1000", "3000000")]
    public void ResumeRefusesACheckpointWhoseSizesOverflow(string seqLen, string batch)
    {
        string text = TextFile();
        string ck = Path.Combine(_dir, "ck.safetensors");
        var o = new StringWriter();
        var e = new StringWriter();
        int rc = CliApp.Run(["train", "--data", text, "--out", ck, "--steps", "1", "--hidden", "8", "--embed", "4", "--layers", "1",
            "--seq-len", "4", "--batch", "2", "--eval-every", "0", "--backend", "cpu"], o, e);
        Assert.True(rc == 0, $"exit {rc}: {e}");

        string bad = Path.Combine(_dir, "huge.safetensors");
        RewriteMetadata(ck, bad, m => { m["train.seq_len"] = seqLen; m["train.batch"] = batch; });
        string line = RunRefused("train", "--data", text, "--resume", bad, "--out", Path.Combine(_dir, "next.safetensors"), "--steps", "5");
        // The checkpoint's values are the file's problem, named by their metadata keys (not flags the user did not type).
        Assert.StartsWith("error: huge.safetensors: metadata 'train.seq_len' x metadata 'train.batch'", line);
        Assert.DoesNotContain("--seq-len", line);
        Assert.Contains("more than one array holds", line);
    }

    [Fact]
    public void ClassifyRefusesANaNTestFraction()
    {
        string line = RunRefused("classify", "--data", ClassifyFile(), "--test-fraction", "nan", "--steps", "1");
        Assert.StartsWith("error: --test-fraction:", line);
    }

    [Fact]
    public void ClassifyRefusesANaNForgetBias()
    {
        string line = RunRefused("classify", "--data", ClassifyFile(), "--forget-bias", "nan", "--steps", "1");
        Assert.StartsWith("error: --forget-bias:", line);
    }

    [Theory]
    [InlineData("Infinity")]
    [InlineData("nan")]
    [InlineData("0")]
    public void DemoRefusesANonFiniteTimeBudget(string seconds)
    {
        string line = RunRefused("demo", "--seconds", seconds, "--out-dir", Path.Combine(_dir, "demo"));
        Assert.StartsWith("error: --seconds:", line);
        Assert.False(Directory.Exists(Path.Combine(_dir, "demo")));
    }

    [Fact]
    public void ValidateNamesBothPropertiesAndTheProduct()
    {
        var e = Assert.Throws<ArgumentException>(() => new TrainOptions { SeqLen = 1000, Batch = 3000000 }.Validate());
        Assert.Contains("TrainOptions.SeqLen", e.Message);
        Assert.Contains("TrainOptions.Batch", e.Message);
        Assert.Contains("3000000000", e.Message);
        e = Assert.Throws<ArgumentException>(() => new TrainOptions { SeqLen = 64, Batch = 67108865 }.Validate());
        Assert.StartsWith("TrainOptions.SeqLen x TrainOptions.Batch = 4294967360 elements is more than one array holds (2147483647)", e.Message);
    }

    [Fact]
    public void ValidateChecksTheWeightAndActivationProducts()
    {
        var e = Assert.Throws<ArgumentException>(() => new TrainOptions { Hidden = 30000 }.Validate()); // 4 x 30000^2
        Assert.Contains("TrainOptions.Hidden", e.Message);
        e = Assert.Throws<ArgumentException>(() => new TrainOptions { SeqLen = 1000, Batch = 1000, Embed = 3000 }.Validate());
        Assert.Contains("TrainOptions.Embed", e.Message);
        new TrainOptions { SeqLen = 1000, Batch = 1000, Hidden = 128 }.Validate(); // 512M gate elements: fits
        Assert.Throws<ArgumentException>(() => new TrainOptions { MaxSeconds = double.PositiveInfinity }.Validate());
        Assert.Throws<ArgumentException>(() => new TrainOptions { ForgetBias = float.NaN }.Validate());
    }

    [Fact]
    public void CheckElementsSaturatesInsteadOfWrapping()
    {
        var e = Assert.Throws<ArgumentException>(() => TrainOptions.CheckElements([("a", int.MaxValue), ("b", int.MaxValue), ("c", int.MaxValue)]));
        Assert.Contains("a x b x c", e.Message);
        TrainOptions.CheckElements([("a", 46340), ("b", 46340)]);
    }

    /// <summary>Copies a safetensors file with its __metadata__ edited (the 8-byte header length rewritten).</summary>
    private static void RewriteMetadata(string from, string to, Action<JsonObject> edit)
    {
        byte[] bytes = File.ReadAllBytes(from);
        long n = BitConverter.ToInt64(bytes, 0);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n))!.AsObject();
        edit(header["__metadata__"]!.AsObject());
        byte[] h = Encoding.UTF8.GetBytes(header.ToJsonString());
        using var fs = File.Create(to);
        fs.Write(BitConverter.GetBytes((long)h.Length));
        fs.Write(h);
        fs.Write(bytes, 8 + (int)n, bytes.Length - 8 - (int)n);
    }
}
