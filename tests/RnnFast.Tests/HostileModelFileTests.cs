// Hostile model files (HostileModelCorpus: thousands of mutated safetensors made from a real checkpoint and from a
// PyTorch reference case) against RnnModel.Load in process, against `rnnfast sample --model` and `rnnfast check`
// through the CLI's in-process entry, and a few through real `rnnfast` processes. Every file a correct reader must
// refuse ends in RnnFormatException (CLI: exit code 2) with a one-line message naming the file, within a time bound
// per case and without allocating more than a small multiple of the file's size; files that stay usable still load.
using System.Diagnostics;
using RnnFast.Cli;
using RnnFast.Data;
using RnnFast.Models;
using RnnFast.Training;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

[Collection(ReliabilityCollection.Name)]
public sealed class HostileModelFileTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Wall time allowed per file: 2 s plus 1 s per MiB (generous: CI runs other tests on the same 2 cores).</summary>
    private static TimeSpan PerCaseLimit(int fileLength) => TimeSpan.FromSeconds(2 + fileLength / (double)(1 << 20));
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A real checkpoint: a 2-layer LSTM trained for 2 steps with Adam (weights, optimizer state, metadata).</summary>
    private static readonly Lazy<byte[]> SeedCheckpoint = new(() =>
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "seed.safetensors");
            var options = new TrainOptions
            {
                Mode = RnnMode.Lstm, Layers = 2, Hidden = 16, Embed = 8, SeqLen = 16, Batch = 4, Steps = 2, EvalEvery = 0,
                CheckpointEvery = 0, SampleLength = 0, Out = path, ValFraction = 0.2, Backend = "reference",
            };
            new CharLmTrainer().Train(ProgramCorpus.Generate(3000, 5), "corpus.txt", options);
            return File.ReadAllBytes(path);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });

    private static string OneLineProblem(string message, string fileName)
    {
        if (message.Contains('\n') || message.Contains('\r')) return "message has a line break";
        if (!message.Contains(fileName, StringComparison.Ordinal)) return "message does not name the file";
        return "";
    }

    [Fact]
    public void RnnModel_Load_refuses_every_hostile_file_with_one_typed_one_line_error()
    {
        const int Count = 3000;
        byte[] seed = SeedCheckpoint.Value;
        var corpus = new HostileModelCorpus(seed, isCharModel: true);
        string path = Path.Combine(_dir, "hostile-model.safetensors");
        var outcomes = new SortedDictionary<string, int[]>(StringComparer.Ordinal); // kind -> [refused, loaded]
        var timeByKind = new Dictionary<string, TimeSpan>();
        var failures = new List<string>();
        TimeSpan slowest = TimeSpan.Zero;
        double worstAllocRatio = 0;
        long worstAlloc = 0;
        var clock = Stopwatch.StartNew();
        var generating = new Stopwatch();
        var writing = new Stopwatch();
        var loading = new Stopwatch();
        generating.Start();
        foreach (var c in corpus.Generate(Count, seed: 9001))
        {
            generating.Stop();
            writing.Start();
            File.WriteAllBytes(path, c.Bytes);
            writing.Stop();
            loading.Start();
            long before = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            bool refused;
            try
            {
                using var model = RnnModel.Load(path, "reference");
                if (!model.Config.Bidirectional) _ = model.Step(model.NewState(), 0)[0]; // the loaded model is usable
                refused = false;
            }
            catch (RnnFormatException e)
            {
                refused = true;
                var problem = OneLineProblem(e.Message, "hostile-model.safetensors");
                if (problem != "") failures.Add($"{c}: {problem}: {e.Message}");
            }
            catch (Exception e)
            {
                failures.Add($"{c}: untyped {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
                loading.Stop();
                generating.Start();
                continue;
            }
            sw.Stop();
            loading.Stop();
            generating.Start();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            long allowed = (2L << 20) + 16L * c.Bytes.Length; // a small multiple of the file, never what a header claims
            if (allocated > allowed) failures.Add($"{c}: allocated {allocated:N0} bytes (allowed {allowed:N0})");
            if (sw.Elapsed > PerCaseLimit(c.Bytes.Length)) failures.Add($"{c}: took {sw.Elapsed.TotalMilliseconds:F0} ms");
            if (c.Expect == HostileExpectation.Refused && !refused) failures.Add($"{c}: loaded, but must be refused");
            if (c.Expect == HostileExpectation.Loads && refused) failures.Add($"{c}: refused, but is a usable model");
            slowest = sw.Elapsed > slowest ? sw.Elapsed : slowest;
            worstAlloc = Math.Max(worstAlloc, allocated);
            worstAllocRatio = Math.Max(worstAllocRatio, allocated / (double)Math.Max(c.Bytes.Length, 1));
            timeByKind[c.Kind] = timeByKind.GetValueOrDefault(c.Kind) + sw.Elapsed;
            var counts = outcomes.TryGetValue(c.Kind, out var a) ? a : outcomes[c.Kind] = new int[2];
            counts[refused ? 0 : 1]++;
        }

        output.WriteLine($"RnnModel.Load: {Count} hostile files tried in {clock.Elapsed.TotalSeconds:F1} s (seed checkpoint {seed.Length:N0} bytes); " +
                         $"generating {generating.Elapsed.TotalSeconds:F1} s, writing {writing.Elapsed.TotalSeconds:F1} s, loading {loading.Elapsed.TotalSeconds:F1} s; " +
                         $"slowest case {slowest.TotalMilliseconds:F1} ms, most allocated {worstAlloc:N0} bytes, worst allocated/file-size {worstAllocRatio:F1}x");
        foreach (var (kind, n) in outcomes)
            output.WriteLine($"  {kind,-30} refused {n[0],5}  loaded {n[1],5}  ({timeByKind[kind].TotalMilliseconds / (n[0] + n[1]):F2} ms per file)");
        Assert.True(failures.Count == 0, $"{failures.Count} of {Count} cases misbehaved:\n" + string.Join("\n", failures.Take(15)));
        Assert.Equal(corpus.Kinds.Count, outcomes.Count);
    }

    public static IEnumerable<object[]> Backends() => BackendData.Backends();

    /// <summary>
    /// The mutated files that are still models (flipped mantissa or exponent bits, extra tensors, no vocabulary...) load
    /// and run on every backend: weights as large as 1e38 may give infinite logits, never a crash or an untyped error.
    /// </summary>
    [BackendTheory]
    [MemberData(nameof(Backends))]
    public void Usable_hostile_models_load_and_run_on_every_backend(string backend)
    {
        var corpus = new HostileModelCorpus(SeedCheckpoint.Value, isCharModel: true);
        string path = Path.Combine(_dir, "usable.safetensors");
        int tried = 0, loaded = 0, nonFiniteOutputs = 0;
        var clock = Stopwatch.StartNew();
        foreach (var c in corpus.Generate(1200, seed: 606).Where(c => c.Expect != HostileExpectation.Refused && c.Bytes.Length < (1 << 20)).Take(50))
        {
            File.WriteAllBytes(path, c.Bytes);
            tried++;
            try
            {
                using var model = RnnModel.Load(path, backend);
                var logits = model.Forward([[0, 1, 2, 1], [2, 1, 0, 0]]).ToArray();
                Assert.Equal(4 * 2 * model.OutputSize, logits.Length);
                nonFiniteOutputs += logits.All(float.IsFinite) ? 0 : 1;
                loaded++;
            }
            catch (RnnFormatException)
            {
            }
            catch (Exception e)
            {
                Assert.Fail($"{c} on {backend}: {e.GetType().Name}: {e.Message}");
            }
        }
        output.WriteLine($"{backend}: {tried} mutated files that may still be models, {loaded} loaded and ran ({nonFiniteOutputs} gave non-finite logits), {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(loaded > tried / 2, $"only {loaded} of {tried} loaded");
    }

    [Fact]
    public void Cli_sample_and_check_give_exit_2_and_one_line_for_hostile_files()
    {
        var model = new HostileModelCorpus(SeedCheckpoint.Value, isCharModel: true);
        var golden = new HostileModelCorpus(File.ReadAllBytes(TestPaths.Golden("gru_2layer_bidir_varlen")), isCharModel: false);
        string path = Path.Combine(_dir, "hostile-cli.safetensors");
        var failures = new List<string>();
        var codes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();

        void Run(string command, HostileCase c, string[] args)
        {
            File.WriteAllBytes(path, c.Bytes);
            var o = new StringWriter();
            var e = new StringWriter();
            var sw = Stopwatch.StartNew();
            int code;
            try
            {
                code = CliApp.Run(args, o, e);
            }
            catch (Exception ex)
            {
                failures.Add($"{command} {c}: the CLI threw {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}");
                return;
            }
            string key = $"{command} exit {code}";
            codes[key] = codes.GetValueOrDefault(key) + 1;
            if (sw.Elapsed > PerCaseLimit(c.Bytes.Length)) failures.Add($"{command} {c}: took {sw.Elapsed.TotalMilliseconds:F0} ms");
            string err = e.ToString();
            bool mustFail = c.Expect == HostileExpectation.Refused || command == "check model";
            if (mustFail && code != 2) failures.Add($"{command} {c}: exit {code}, expected 2; stderr: {err.Trim()}");
            if (command == "sample" && c.Expect == HostileExpectation.Loads && code != 0) failures.Add($"{command} {c}: exit {code}, expected 0: {err.Trim()}");
            if (code is < 0 or > 2) failures.Add($"{command} {c}: exit {code} is not 0, 1 or 2");
            if (code == 2)
            {
                var lines = err.TrimEnd('\n').Split('\n');
                if (lines.Length != 1 || !lines[0].StartsWith("error: ", StringComparison.Ordinal) || !lines[0].Contains("hostile-cli.safetensors", StringComparison.Ordinal))
                    failures.Add($"{command} {c}: stderr is not one 'error: <file>: <problem>' line: {err.Trim()}");
                if (command == "sample" && o.ToString().Length > 0) failures.Add($"{command} {c}: wrote to stdout before failing: {o}");
            }
        }

        int sampled = 0, checkedModels = 0, checkedGoldens = 0;
        foreach (var c in model.Generate(700, seed: 4242))
        {
            Run("sample", c, ["sample", "--model", path, "--length", "4", "--backend", "reference"]);
            sampled++;
            if (c.Index % 4 == 0)
            {
                Run("check model", c, ["check", path, "--backend", "reference"]);
                checkedModels++;
            }
        }
        foreach (var c in golden.Generate(450, seed: 77))
        {
            Run("check", c, ["check", path, "--backend", "reference"]);
            checkedGoldens++;
        }

        output.WriteLine($"CLI in process: {sampled} hostile model files through `rnnfast sample --model`, {checkedModels} through `rnnfast check`, " +
                         $"{checkedGoldens} hostile reference cases through `rnnfast check`, in {clock.Elapsed.TotalSeconds:F1} s");
        foreach (var (k, n) in codes) output.WriteLine($"  {k,-22} {n,5}");
        Assert.True(failures.Count == 0, $"{failures.Count} cases misbehaved:\n" + string.Join("\n", failures.Take(15)));
    }

    [Fact]
    public void Real_rnnfast_processes_exit_2_with_one_line_for_hostile_files()
    {
        var corpus = new HostileModelCorpus(SeedCheckpoint.Value, isCharModel: true);
        string[] kinds = ["truncate", "header-length-giant", "deep-json", "non-finite-weight", "metadata-wrong", "offsets-overlap"];
        var picked = kinds.Select(k => corpus.Generate(400, seed: 31).First(c => c.Kind == k && c.Expect == HostileExpectation.Refused)).ToList();
        var clock = Stopwatch.StartNew();
        int processes = 0;
        foreach (var c in picked)
        {
            string path = Path.Combine(_dir, $"proc-{c.Kind}.safetensors");
            File.WriteAllBytes(path, c.Bytes);
            foreach (var args in new[] { new[] { "sample", "--model", path, "--length", "3" }, new[] { "check", path } })
            {
                var (code, _, err) = CliProcess.Run(args);
                processes++;
                Assert.True(code == 2, $"rnnfast {args[0]} on {c}: exit {code}, stderr: {err}");
                var lines = err.TrimEnd('\n').Split('\n');
                Assert.True(lines.Length == 1, $"rnnfast {args[0]} on {c}: stderr has {lines.Length} lines: {err}");
                Assert.StartsWith("error: ", lines[0]);
                Assert.Contains(Path.GetFileName(path), lines[0]);
                Assert.DoesNotContain("   at ", err);
            }
        }
        output.WriteLine($"{processes} real rnnfast processes ({picked.Count} hostile files x sample, check): all exit 2 with one line, in {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>
    /// Issue 15 item 11: a 122 KB model whose head.weight is [200000000, 0] made `sample` build 2e8 class labels (over
    /// 3 GB). In a child process with a 384 MiB heap limit, `rnnfast sample` must exit 2 with one line naming the tensor,
    /// and its peak resident size must stay within 2 MiB + 16x the file plus the runtime's own footprint.
    /// </summary>
    [Fact]
    public void A_zero_width_head_with_an_absurd_row_count_is_refused_before_anything_is_allocated()
    {
        var corpus = new HostileModelCorpus(SeedCheckpoint.Value, isCharModel: true);
        string path = Path.Combine(_dir, "zero-width.safetensors");
        byte[] bytes = corpus.WithZeroWidth("head.weight", [200_000_000, 0], classifier: true);
        File.WriteAllBytes(path, bytes);
        var env = new Dictionary<string, string?> { ["DOTNET_GCHeapHardLimit"] = "0x18000000" };
        var baseline = ChildScenarios.Run(["cli", "--version"], env, TimeSpan.FromSeconds(30));
        var r = ChildScenarios.Run(["cli", "sample", "--model", path, "--length", "4", "--backend", "reference"], env, TimeSpan.FromSeconds(30));
        output.WriteLine($"file {bytes.Length:N0} bytes; exit {r.Code}; peak RSS {r.PeakRss:N0} bytes (runtime alone: {baseline.PeakRss:N0}); stderr: {r.Err.Trim()}");
        Assert.True(r.Code == 2, $"exit {r.Code}: {r.Err}");
        Assert.Equal(1, r.Err.TrimEnd('\n').Split('\n').Length);
        Assert.Contains("head.weight", r.Err);
        Assert.Contains("zero-width dimension", r.Err);
        long allowed = Math.Max(baseline.PeakRss, 0) + (2L << 20) + 16L * bytes.Length + (64L << 20); // + JIT and backend start-up
        Assert.True(r.PeakRss > 0 && r.PeakRss < allowed, $"peak RSS {r.PeakRss:N0} bytes, allowed {allowed:N0}");
    }

    [Fact]
    public void The_corpus_is_deterministic()
    {
        var a = new HostileModelCorpus(SeedCheckpoint.Value, true).Generate(60, seed: 5).ToList();
        var b = new HostileModelCorpus(SeedCheckpoint.Value, true).Generate(60, seed: 5).ToList();
        Assert.Equal(a.Select(c => c.Kind), b.Select(c => c.Kind));
        Assert.All(a.Zip(b), p => Assert.Equal(p.First.Bytes, p.Second.Bytes));
        Assert.Contains(a, c => !c.Bytes.AsSpan().SequenceEqual(SeedCheckpoint.Value));
    }
}
