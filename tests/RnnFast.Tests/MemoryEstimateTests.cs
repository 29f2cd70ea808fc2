// Issue 15 item 13: runs too large for the machine are refused before they allocate, naming the flag and the estimate
// (MemoryEstimate: parameters, gradients, optimizer state, saved activations, logits against the available memory,
// which honours DOTNET_GCHeapHardLimit and cgroup limits; RNNFAST_MEMORY_LIMIT overrides it). The CLI cases run in
// child processes under a 384 MiB GC heap limit: before the estimate they ran out of memory instead of exiting 2.
using RnnFast.Bench;
using RnnFast.Training;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

[Collection(ReliabilityCollection.Name)]
public sealed class MemoryEstimateTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static IEnumerable<object[]> TooLarge() =>
    [
        [new[] { "train", "--layers", "1000" }, "--layers"],
        [new[] { "classify", "--layers", "1000", "--steps", "1" }, "--layers"],
        [new[] { "classify", "--examples", "100000000", "--steps", "1" }, "--examples x --max-length"],
        [new[] { "classify", "--max-length", "1000000000", "--steps", "1" }, "--examples x --max-length"],
        [new[] { "train", "--seq-len", "2048", "--batch", "2048", "--hidden", "64", "--embed", "8" }, "--seq-len x --batch"],
    ];

    [Theory]
    [MemberData(nameof(TooLarge))]
    public void A_run_that_cannot_fit_exits_2_naming_the_flag_and_the_estimate(string[] args, string flag)
    {
        string data = Path.Combine(_dir, "t.txt");
        File.WriteAllText(data, string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog\n", 200)));
        string[] full = args[0] == "train" ? [.. args, "--data", data, "--out", Path.Combine(_dir, "m.safetensors"), "--steps", "1"] : args;
        var r = ChildScenarios.Run(["cli", .. full, "--backend", "cpu"], new Dictionary<string, string?> { ["DOTNET_GCHeapHardLimit"] = "0x18000000" },
            TimeSpan.FromSeconds(60));
        output.WriteLine($"rnnfast {string.Join(' ', full)}: exit {r.Code}, peak RSS {r.PeakRss:N0} bytes: {r.Err.Trim()}");
        Assert.True(r.Code == 2, $"exit {r.Code}: {r.Err}");
        Assert.Contains(flag, r.Err);
        Assert.Matches(@"needs ~[0-9.]+ [GM]iB .*this machine has [0-9.]+ [GM]iB available", r.Err);
        Assert.Equal(1, r.Err.TrimEnd('\n').Split('\n').Length);
        Assert.True(r.PeakRss < 300L << 20, $"peak RSS {r.PeakRss:N0} bytes before refusing");
    }

    [Fact]
    public void A_bench_shape_that_cannot_fit_is_refused_naming_the_line()
    {
        var e = Assert.Throws<ProblemFileException>(() => ProblemFile.Parse("lstm uni 1 50 64 512 512 inference\nlstm uni 1000 1 1 4096 4096 inference\n", "shapes.txt"));
        output.WriteLine(e.Message);
        Assert.StartsWith("shapes.txt:2: layers x H (x I): the problem needs ~", e.Message);
        Assert.Single(ProblemFile.Parse("lstm uni 1 50 64 512 512 inference", "ok.txt"));
    }

    [Fact]
    public void The_estimate_grows_with_every_size_and_the_default_run_fits_in_a_few_MiB()
    {
        var o = new TrainOptions();
        double Total(TrainOptions x) => MemoryEstimate.Training(x, 80, 80, x.SeqLen, x.Batch, "T", "N").Sum(t => t.Bytes);
        double baseline = Total(o);
        output.WriteLine($"default char-rnn (V=80): ~{MemoryEstimate.Format(baseline)}");
        Assert.InRange(baseline, 1 << 20, 256 << 20);
        Assert.True(Total(o with { Layers = 4 }) > baseline);
        Assert.True(Total(o with { Hidden = 256 }) > baseline);
        Assert.True(Total(o with { Batch = 64 }) > baseline);
        Assert.True(Total(o with { SeqLen = 128 }) > baseline);
        Assert.True(Total(o with { Bidirectional = true }) > baseline);
        Assert.True(Total(o with { Mode = RnnMode.Lstm }) > Total(o with { Mode = RnnMode.Gru }));
    }
}
