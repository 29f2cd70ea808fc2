// --threads on train, classify and sample (TrainOptions.Threads, CpuBackend.Threads): the cpu backend's worker pool
// takes the count (observed through the pool, not timing), and a bad count or a backend without a thread setting is an
// error naming the property / flag. Serial: the pool is one per process.
using RnnFast.Backends;
using RnnFast.Backends.Cpu;
using RnnFast.Cli;
using RnnFast.Data;
using RnnFast.Training;
using Xunit;

namespace RnnFast.Tests;

[Collection(ReliabilityCollection.Name)]
public sealed class ThreadsOptionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rnnfast-threads-").FullName;
    private static readonly int Cores = Math.Max(1, Environment.ProcessorCount);

    public void Dispose()
    {
        WorkerPool.Resize(Cores);
        Directory.Delete(_dir, recursive: true);
    }

    private static TrainOptions Tiny(int? threads, string? outPath = null) => new()
    {
        Mode = RnnMode.Lstm, Layers = 1, Hidden = 16, Embed = 8, SeqLen = 16, Batch = 4, Steps = 2, LearningRate = 1e-2,
        Seed = 3, EvalEvery = 0, CheckpointEvery = 0, SampleLength = 0, ValFraction = 0.1, Backend = "cpu", Threads = threads, Out = outPath,
    };

    [Fact]
    public void Training_with_Threads_1_runs_the_cpu_backend_on_one_thread()
    {
        WorkerPool.Resize(Math.Max(2, Cores));
        var before = WorkerPool.Shared;
        new CharLmTrainer().Train(ProgramCorpus.Generate(3000, 5), "corpus", Tiny(1));
        Assert.Equal(1, WorkerPool.Shared.Size);
        Assert.Equal(1, ((IBackendThreads)BackendRegistry.Get("cpu")).Threads);
        Assert.Equal(0, WorkerPool.Shared.LiveWorkers); // a one-thread pool has no worker threads: the caller runs every part
        // The pool it replaced lets its workers go.
        var wait = System.Diagnostics.Stopwatch.StartNew();
        while (before.LiveWorkers > 0 && wait.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(10);
        Assert.Equal(0, before.LiveWorkers);

        new CharLmTrainer().Train(ProgramCorpus.Generate(3000, 5), "corpus", Tiny(2));
        Assert.Equal(2, WorkerPool.Shared.Size);
    }

    [Fact]
    public void Threads_0_is_an_error_naming_the_property()
    {
        var e = Assert.Throws<ArgumentException>(() => Tiny(0).Validate());
        Assert.StartsWith("TrainOptions.Threads: must be at least 1", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => ((IBackendThreads)BackendRegistry.Get("cpu")).Threads = 0);
        var r = Assert.Throws<ArgumentException>(() => new CharLmTrainer().Train(ProgramCorpus.Generate(3000, 5), "corpus", Tiny(2) with { Backend = "reference" }));
        Assert.StartsWith("TrainOptions.Threads: backend 'reference' has no thread setting", r.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cli_threads_1_on_classify_sample_eval_and_predict_sets_one_worker()
    {
        WorkerPool.Resize(Math.Max(2, Cores));
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = CliApp.Run(["classify", "--steps", "2", "--examples", "40", "--hidden", "8", "--embed", "8", "--backend", "cpu", "--threads", "1"], o, e);
        Assert.True(code == 0, e.ToString());
        Assert.Equal(1, WorkerPool.Shared.Size);

        string lm = Path.Combine(_dir, "lm.safetensors");
        new CharLmTrainer().Train(ProgramCorpus.Generate(3000, 5), "corpus", Tiny(2, lm));
        Assert.Equal(2, WorkerPool.Shared.Size);
        code = CliApp.Run(["sample", "--model", lm, "--length", "20", "--backend", "cpu", "--threads", "1"], o, e);
        Assert.True(code == 0, e.ToString());
        Assert.Equal(1, WorkerPool.Shared.Size);

        // eval: the language model scored on one worker
        string scored = Path.Combine(_dir, "scored.txt");
        File.WriteAllText(scored, ProgramCorpus.Generate(400, 9));
        WorkerPool.Resize(Math.Max(2, Cores));
        code = CliApp.Run(["eval", "--model", lm, "--data", scored, "--backend", "cpu", "--threads", "1"], o, e);
        Assert.True(code == 0, e.ToString());
        Assert.Equal(1, WorkerPool.Shared.Size);

        // predict: a classifier written by classify, labelled on one worker; 0 is refused naming the flag
        string classifier = Path.Combine(_dir, "cls.safetensors"), lines = Path.Combine(_dir, "lines.txt");
        File.WriteAllText(lines, "abc\nhello world\n");
        code = CliApp.Run(["classify", "--steps", "2", "--examples", "40", "--hidden", "8", "--embed", "8", "--backend", "cpu", "--out", classifier], o, e);
        Assert.True(code == 0, e.ToString());
        WorkerPool.Resize(Math.Max(2, Cores));
        code = CliApp.Run(["predict", "--model", classifier, "--data", lines, "--backend", "cpu", "--threads", "1"], o, e);
        Assert.True(code == 0, e.ToString());
        Assert.Equal(1, WorkerPool.Shared.Size);
        var refused = new StringWriter();
        code = CliApp.Run(["predict", "--model", classifier, "--data", lines, "--backend", "cpu", "--threads", "0"], new StringWriter(), refused);
        Assert.Equal(2, code);
        Assert.Contains("--threads: must be at least 1, got 0", refused.ToString(), StringComparison.Ordinal);

        var bad = new StringWriter();
        string text = Path.Combine(_dir, "text.txt");
        File.WriteAllText(text, ProgramCorpus.Generate(3000, 5));
        code = CliApp.Run(["train", "--data", text, "--out", Path.Combine(_dir, "x.safetensors"), "--threads", "0"], new StringWriter(), bad);
        Assert.Equal(2, code);
        Assert.Contains("--threads", bad.ToString(), StringComparison.Ordinal);
    }
}
