// Native failures: a backend whose library is missing or is the wrong library (an override pointing at libm) is
// unavailable with the loader's reason, in process and in real `rnnfast` processes started with RNNFAST_DNNL_PATH;
// `auto` falls back to the next available backend (fake backends in a private list, the global registry untouched);
// a native call that fails raises the exception naming the call, and the SafeHandles of what was allocated before it
// are released (finalizers included); 200 load/run/dispose cycles of oneDNN plans keep the resident memory flat.
using System.Diagnostics;
using RnnFast.Backends;
using RnnFast.Backends.OneDnn;
using RnnFast.Bindings.OneDnn;
using RnnFast.Models;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

[Collection(ReliabilityCollection.Name)]
public sealed class NativeFailureTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A backend whose probe is given: it may say yes, no with a reason, or throw. Counts its probes.</summary>
    private sealed class FakeBackend(string name, int score, Func<BackendAvailability> probe) : Backend
    {
        public int Probes;
        public override string Name => name;
        public override BackendKind Kind => BackendKind.Cpu;
        public override string Description => "fake backend for the fallback tests";
        public override int Score => score;

        protected override BackendAvailability Probe()
        {
            Interlocked.Increment(ref Probes);
            return probe();
        }

        public override IRnnPlan CreateRnnPlan(RnnParameters parameters)
        {
            EnsureAvailable();
            return BackendRegistry.Host.CreateRnnPlan(parameters);
        }
    }

    [Fact]
    public void Auto_falls_back_past_unavailable_backends_and_names_every_reason_when_none_is_left()
    {
        var gpu = new FakeBackend("fake-gpu", 100, () => throw new DllNotFoundException("libfakecuda.so.1: cannot open shared object file"));
        var wrong = new FakeBackend("fake-native", 50, () => BackendAvailability.No("libfake.so.2 is version 3.1; these bindings need 2.x"));
        var managed = new FakeBackend("fake-managed", 10, () => BackendAvailability.Yes());
        var oracle = new FakeBackend("fake-oracle", 1, () => BackendAvailability.Yes());
        Backend[] all = [oracle, gpu, managed, wrong];

        Assert.Same(managed, BackendRegistry.Auto(all));
        Assert.Same(managed, BackendRegistry.Resolve(all, null, null));
        Assert.Same(managed, BackendRegistry.Resolve(all, " AUTO ", "fake-oracle"));
        Assert.Same(oracle, BackendRegistry.Resolve(all, null, "fake-oracle"));           // RNNFAST_BACKEND
        Assert.Same(oracle, BackendRegistry.Auto([oracle, gpu, wrong]));                   // the next one down
        Assert.Contains("probe failed: DllNotFoundException: libfakecuda.so.1", gpu.Availability.Reason);

        // A backend asked for by name that cannot run is an error with its reason, never a silent fallback.
        var named = Assert.Throws<BackendUnavailableException>(() => BackendRegistry.Resolve(all, "fake-gpu", null));
        Assert.Contains("libfakecuda.so.1", named.Message);
        var env = Assert.Throws<BackendUnavailableException>(() => BackendRegistry.Resolve(all, null, "fake-native"));
        Assert.Contains("version 3.1", env.Message);
        Assert.Contains("unknown backend 'nope'", Assert.Throws<ArgumentException>(() => BackendRegistry.Resolve(all, "nope", null)).Message);

        var none = Assert.Throws<BackendUnavailableException>(() => BackendRegistry.Auto([gpu, wrong]));
        Assert.Contains("fake-gpu: probe failed", none.Message);
        Assert.Contains("fake-native: libfake.so.2 is version 3.1", none.Message);
        Assert.Contains("no backend is registered", Assert.Throws<BackendUnavailableException>(() => BackendRegistry.Auto([])).Message);

        // Probed once, lazily, even when many threads ask at once; the global registry never saw the fakes.
        var racer = new FakeBackend("fake-racer", 5, () => { Thread.Sleep(20); return BackendAvailability.Yes(); });
        Parallel.For(0, 16, _ => Assert.True(racer.IsAvailable));
        Assert.Equal(1, racer.Probes);
        Assert.All(new[] { gpu, wrong, managed, oracle }, b => Assert.Equal(1, b.Probes));
        Assert.DoesNotContain(BackendRegistry.All, b => b.Name.StartsWith("fake-", StringComparison.Ordinal));
        output.WriteLine($"auto over 4 fake backends: {gpu.Name} ({gpu.Availability.Reason}) and {wrong.Name} ({wrong.Availability.Reason}) skipped, {managed.Name} chosen");
    }

    [Fact]
    public void A_missing_or_wrong_onednn_library_leaves_the_backend_unavailable_with_the_reason()
    {
        var desc = new RnnDesc(RnnMode.Gru, 2, 3);
        var missing = new OneDnnBackend("/nonexistent/rnnfast/libdnnl.so.2");
        var wrong = new OneDnnBackend("libm.so.6"); // a real library without oneDNN's symbols
        Assert.False(missing.IsAvailable);
        Assert.Contains("/nonexistent/rnnfast/libdnnl.so.2: no such file", missing.Availability.Reason);
        Assert.False(wrong.IsAvailable);
        Assert.Contains("libm.so.6: loaded, but it does not export dnnl_version", wrong.Availability.Reason);
        foreach (var b in new[] { missing, wrong })
        {
            var e = Assert.Throws<BackendUnavailableException>(() => b.CreateRnnPlan(RnnParameters.Create(desc, new Random(1))));
            Assert.Contains(b.Availability.Reason, e.Message);
        }
        var reference = BackendRegistry.Get("reference");
        Assert.Same(reference, BackendRegistry.Auto([wrong, missing, reference]));
        output.WriteLine($"missing: {missing.Availability.Reason}");
        output.WriteLine($"wrong:   {wrong.Availability.Reason}");
    }

    [Fact]
    public void Real_processes_with_a_bad_RNNFAST_DNNL_PATH_report_the_reason_and_auto_falls_back()
    {
        string golden = TestPaths.Golden("gru_basic");
        var clock = Stopwatch.StartNew();
        int processes = 0;
        foreach (var (path, reason) in new[] { ("/nonexistent/rnnfast/libdnnl.so.2", "/nonexistent/rnnfast/libdnnl.so.2: no such file"), ("libm.so.6", "does not export dnnl_version") })
        {
            var env = new Dictionary<string, string?> { [DnnlLibrary.PathVariable] = path };
            var (code, stdout, stderr) = CliProcess.Run(["info"], env);
            processes++;
            Assert.True(code == 0, stderr);
            string line = stdout.Split('\n').First(l => l.TrimStart().StartsWith("onednn", StringComparison.Ordinal));
            Assert.Contains("unavailable", line);
            Assert.Contains(reason, line);
            Assert.Contains($"{DnnlLibrary.PathVariable}={path}", line);
            Assert.Contains("selection: cpu", stdout);

            (code, stdout, stderr) = CliProcess.Run(["check", golden], env); // auto: runs on the next backend
            processes++;
            Assert.True(code == 0, $"auto with {path}: exit {code}: {stderr}");
            Assert.Matches(@"PASS (\d+)/\1\s*$", stdout);

            (code, _, stderr) = CliProcess.Run(["check", golden, "--backend", "onednn"], env); // named: an error with the reason
            processes++;
            Assert.Equal(2, code);
            Assert.Single(stderr.Trim().Split('\n'));
            Assert.Contains("backend 'onednn' is not available", stderr);
            Assert.Contains(reason, stderr);
        }
        output.WriteLine($"{processes} rnnfast processes with {DnnlLibrary.PathVariable} set to a missing file and to libm.so.6: onednn unavailable with the reason, auto ran on cpu ({clock.Elapsed.TotalSeconds:F1} s)");
    }

    private static long ResidentBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        throw new InvalidOperationException("/proc/self/status has no VmRSS line");
    }

    /// <summary>
    /// RSS once the collector and the finalizers have run and glibc has handed its free heap pages back (malloc_trim):
    /// what is still allocated, not what the allocator keeps cached. Without the trim the 4 MiB blocks freed by
    /// finalizers stayed partly resident in glibc's heap (its mmap threshold rises after the first free): 33-52 MiB of
    /// growth alone, 84 MiB once in a full CI run, against a leak's 1200.
    /// </summary>
    private static long SettledResidentBytes()
    {
        for (int i = 0; i < 2; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        TrimNativeHeap();
        return ResidentBytes();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    private static void TrimNativeHeap()
    {
        try
        {
            MallocTrim(0);
        }
        catch (EntryPointNotFoundException)
        {
            // not glibc (musl has no malloc_trim): the reading includes what the allocator caches
        }
    }

    [BackendTheory]
    [InlineData("onednn")]
    public unsafe void A_failing_native_call_names_itself_and_handles_allocated_before_it_are_released(string backend)
    {
        Assert.True(BackendRegistry.Get(backend).IsAvailable);
        using var engine = DnnlEngine.Create();
        var big = DnnlMemoryDesc.ByTag([1024, 32, 32], DnnlFormatTag.Tnc);   // 4 MiB
        var other = DnnlMemoryDesc.ByTag([2, 3, 4], DnnlFormatTag.Tnc);
        var e = Assert.Throws<DnnlException>(() => DnnlPrimitiveDesc.CreateReorder(big, other, engine));
        Assert.Equal("dnnl_reorder_primitive_desc_create", e.Call);
        Assert.Equal(DnnlStatus.InvalidArguments, e.Status);
        Assert.Contains("dnnl_invalid_arguments", e.Message);

        // 300 x: 4 MiB of native memory, touched, then a failing call; the handle is never disposed by the code (the
        // exception skips it), so only its SafeHandle finalizer can free it. 1.2 GB go through; RSS must stay flat.
        const int Rounds = 300;
        long baseline = SettledResidentBytes();
        int failures = 0;
        var weak = new List<WeakReference>();
        for (int i = 0; i < Rounds; i++)
        {
            try
            {
                var memory = DnnlMemory.Allocate(big, engine);
                new Span<byte>(memory.GetDataHandle(), (int)big.ByteSize).Fill((byte)i);
                if (i % 50 == 0) weak.Add(new WeakReference(memory));
                DnnlPrimitiveDesc.CreateReorder(big, other, engine); // throws
            }
            catch (DnnlException)
            {
                failures++;
            }
            if (i % 10 == 9) SettledResidentBytes();
        }
        long after = SettledResidentBytes();
        Assert.Equal(Rounds, failures);
        Assert.All(weak, w => Assert.False(w.IsAlive)); // collected, so finalized: dnnl_memory_destroy ran

        // The same with `using`: released at once, child before parent (the engine outlives its memories).
        long usingBase = SettledResidentBytes();
        for (int i = 0; i < Rounds; i++)
        {
            var memory = DnnlMemory.Allocate(big, engine);
            using (memory)
            {
                new Span<byte>(memory.GetDataHandle(), (int)big.ByteSize).Fill(1);
                Assert.Throws<DnnlException>(() => DnnlPrimitiveDesc.CreateReorder(big, other, engine));
            }
            Assert.True(memory.IsClosed);
        }
        long usingAfter = SettledResidentBytes();
        output.WriteLine($"{Rounds} failing calls after 4 MiB native allocations each ({Rounds * 4} MiB in all): RSS {baseline >> 20} -> {after >> 20} MiB when freed by finalizers, " +
                         $"{usingBase >> 20} -> {usingAfter >> 20} MiB with using");
        Assert.True(after - baseline < 64L << 20, $"RSS grew by {(after - baseline) >> 20} MiB over {Rounds} rounds (finalizers)");
        Assert.True(usingAfter - usingBase < 32L << 20, $"RSS grew by {(usingAfter - usingBase) >> 20} MiB over {Rounds} rounds (using)");
    }

    [BackendTheory]
    [InlineData("onednn")]
    public void Two_hundred_load_run_dispose_cycles_keep_native_memory_flat(string backend)
    {
        const int Cycles = 200, Warmup = 20;
        string path = Path.Combine(_dir, "cycle.safetensors");
        var config = new NetworkConfig { Kind = NetworkKind.LanguageModel, Mode = RnnMode.Lstm, Layers = 2, Hidden = 128, Embed = 16, Vocab = CharVocab.FromText("abcdefghijklmnopqrst") };
        using (var net = new CharNetwork(config, BackendRegistry.Get("reference"), new Random(3)))
            Checkpoint.Save(path, net);
        var rng = new Random(4);
        var batch = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, 16).Select(_ => rng.Next(20)).ToArray()).ToArray();
        float[]? first = null;
        long warm = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < Cycles; i++)
        {
            using (var model = RnnModel.Load(path, backend))
            {
                var y = model.Forward(batch).ToArray();
                first ??= y;
                Assert.Equal(first, y);
            }
            if (i == Warmup - 1) warm = SettledResidentBytes();
        }
        long end = SettledResidentBytes();
        output.WriteLine($"{Cycles} load/run/dispose cycles of a {backend} model: RSS {warm >> 20} MiB after {Warmup}, {end >> 20} MiB after {Cycles} " +
                         $"({(end - warm) / 1024.0 / (Cycles - Warmup):F1} KiB per cycle), {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(end - warm < 24L << 20, $"RSS grew by {(end - warm) >> 20} MiB over {Cycles - Warmup} cycles");
    }
}
