// `rnnfast sample` under a reader that goes away (`rnnfast sample ... | head -c 10`): the real program, started as a
// child process, stops within seconds once its stdout pipe is closed (EPIPE ends it quietly, exit 0) and streams
// without keeping the generated text in memory; --length outside 0..1e9 is refused with one line naming --length.
using System.Diagnostics;
using RnnFast.Data;
using RnnFast.Training;
using Xunit;

namespace RnnFast.Tests;

public sealed class BrokenPipeTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();
    private readonly string _model;

    public BrokenPipeTests()
    {
        _model = Path.Combine(_dir, "lm.safetensors");
        var options = new TrainOptions
        {
            Mode = RnnMode.Lstm, Layers = 1, Hidden = 16, Embed = 8, SeqLen = 16, Batch = 4, Steps = 2, LearningRate = 1e-2,
            Seed = 3, EvalEvery = 0, CheckpointEvery = 0, SampleLength = 0, Out = _model, ValFraction = 0.1, Backend = "cpu",
        };
        new CharLmTrainer().Train(ProgramCorpus.Generate(3000, 5), "corpus", options);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Sample_stops_promptly_when_its_stdout_is_closed()
    {
        var psi = CliProcess.StartInfo(["sample", "--model", _model, "--length", "1000000000", "--backend", "cpu"]);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet");
        var stderr = p.StandardError.ReadToEndAsync();
        var buf = new char[10];
        int got = 0;
        var reading = Task.Run(() =>
        {
            while (got < buf.Length)
            {
                int n = p.StandardOutput.Read(buf, got, buf.Length - got);
                if (n <= 0) break;
                got += n;
            }
        });
        Assert.True(reading.Wait(TimeSpan.FromSeconds(60)), "no output from rnnfast sample");
        Assert.Equal(10, got);
        p.StandardOutput.Close(); // the reader goes away, as `head -c 10` does
        bool exited = p.WaitForExit(TimeSpan.FromSeconds(5));
        long peak = 0;
        if (!exited)
        {
            try { peak = p.PeakWorkingSet64; } catch (InvalidOperationException) { }
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            Assert.Fail($"rnnfast sample kept running 5 s after its stdout was closed (peak working set {peak >> 20} MB)");
        }
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        Assert.Equal("", stderr.Result);
    }

    [Fact]
    public void Sample_streams_without_keeping_the_text()
    {
        var psi = CliProcess.StartInfo(["sample", "--model", _model, "--length", "1000000000", "--backend", "cpu"]);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet");
        _ = p.StandardError.ReadToEndAsync();
        var buf = new char[1 << 16];
        long total = 0, peak = 0;
        var sw = Stopwatch.StartNew();
        try
        {
            while (total < 3_000_000 && sw.Elapsed < TimeSpan.FromSeconds(60))
            {
                int n = p.StandardOutput.Read(buf, 0, buf.Length);
                if (n <= 0) break;
                total += n;
                p.Refresh();
                peak = Math.Max(peak, p.PeakWorkingSet64);
            }
        }
        finally
        {
            if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(); }
        }
        Assert.True(total >= 1_000_000, $"only {total} characters streamed");
        Assert.True(peak < 500L << 20, $"peak working set {peak >> 20} MB while streaming {total} characters");
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("2000000000")]
    public void Sample_refuses_a_length_out_of_range(string length)
    {
        var (code, stdout, stderr) = CliProcess.Run(["sample", "--model", _model, "--length", length, "--backend", "cpu"]);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("--length", lines[0]);
    }
}
