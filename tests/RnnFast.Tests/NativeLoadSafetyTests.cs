// Issue 15 items 1 and 18, issue 16's prerequisites: a native library the system loader would crash on (a truncated
// copy of libdnnl / libOpenCL / an OpenCL ICD driver, named by RNNFAST_*_PATH, found through LD_LIBRARY_PATH or listed by
// OCL_ICD_VENDORS) leaves its backend unavailable with the reason, in real `rnnfast` processes (no SIGBUS): `info`
// lists it, `auto` falls back, the backend named is a one-line error. `auto` does not load libraries of backends that
// cannot beat the one it found; a command on `cpu` loads none (LD_DEBUG=files in the child). The messages: libm as
// libOpenCL, OCL_ICD_VENDORS in the no-platform reason, no kind/score for an unavailable backend, an unknown
// RNNFAST_BACKEND named, and which package provides each missing library.
using RnnFast.Backends;
using RnnFast.Bindings.OneDnn;
using RnnFast.Bindings.OpenCL;
using RnnFast.Native;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

[Collection(ReliabilityCollection.Name)]
public sealed class NativeLoadSafetyTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan ChildLimit = TimeSpan.FromSeconds(10);
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The file this process mapped whose name starts with <paramref name="prefix"/> (the library actually loaded).</summary>
    private static string MappedLibrary(string prefix) =>
        File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length >= 6)
            .Select(f => f[5]).FirstOrDefault(p => Path.GetFileName(p).StartsWith(prefix, StringComparison.Ordinal))
        ?? throw new InvalidOperationException($"no {prefix}* is mapped in this process");

    private string Truncated(string source, long bytes, string name)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var from = File.OpenRead(source);
        using var to = File.Create(path);
        var buffer = new byte[1 << 20];
        long left = bytes;
        while (left > 0)
        {
            int n = from.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (n == 0) break;
            to.Write(buffer, 0, n);
            left -= n;
        }
        return path;
    }

    private static string Line(string stdout, string backend) =>
        stdout.Split('\n').FirstOrDefault(l => l.StartsWith($"  {backend} ", StringComparison.Ordinal)) ?? throw new Xunit.Sdk.XunitException($"no {backend} line in:\n{stdout}");

    [BackendTheory]
    [InlineData("onednn")]
    public void ElfImageCheck_finds_every_truncation_of_a_real_library_and_passes_the_whole_file(string backend)
    {
        Assert.True(BackendRegistry.Get(backend).IsAvailable);
        string dnnl = MappedLibrary("libdnnl.so");
        long size = new FileInfo(dnnl).Length;
        Assert.Null(ElfImageCheck.FileProblem(dnnl));
        Assert.Null(ElfImageCheck.FindProblem(dnnl)); // with its dependencies (libgomp, libstdc++, ...)
        Assert.Null(ElfImageCheck.FindProblem("libm.so.6"));
        foreach (long bytes in new[] { 0L, 10, 63, 64, 4096, 1 << 20, size / 2, size - 1 })
        {
            var copy = Truncated(dnnl, bytes, $"t{bytes}/libdnnl.so.2");
            var problem = ElfImageCheck.FileProblem(copy);
            Assert.NotNull(problem);
            Assert.DoesNotContain('\n', problem);
            output.WriteLine($"{bytes,9} bytes: {problem}");
        }
        File.WriteAllText(Path.Combine(_dir, "script.so"), "INPUT(libc.so.6)\n");
        Assert.Contains("no ELF magic", ElfImageCheck.FileProblem(Path.Combine(_dir, "script.so")));
    }

    [BackendTheory]
    [InlineData("onednn")]
    public void Truncated_libdnnl_by_path_or_LD_LIBRARY_PATH_leaves_onednn_unavailable_and_every_command_runs(string backend)
    {
        Assert.True(BackendRegistry.Get(backend).IsAvailable);
        string dnnl = MappedLibrary("libdnnl.so");
        long size = new FileInfo(dnnl).Length;
        string golden = TestPaths.Golden("gru_basic");
        foreach (long bytes in new[] { 4096L, size - 600_000 })
        {
            var copy = Truncated(dnnl, bytes, $"p{bytes}/libdnnl.so.2");
            var env = new Dictionary<string, string?> { [DnnlLibrary.PathVariable] = copy };
            var (code, stdout, stderr) = CliProcess.Run(["info"], env, ChildLimit);
            Assert.True(code == 0, $"info with a {bytes}-byte libdnnl: exit {code}: {stderr}");
            var line = Line(stdout, "onednn");
            Assert.Contains("unavailable", line);
            Assert.Contains($"{copy}: not loaded: truncated", line);
            Assert.Contains("selection: cpu", stdout);

            (code, stdout, stderr) = CliProcess.Run(["check", golden], env, ChildLimit);
            Assert.True(code == 0, $"check (auto) with a {bytes}-byte libdnnl: exit {code}: {stderr}");
            Assert.Matches(@"PASS (\d+)/\1\s*$", stdout);

            (code, _, stderr) = CliProcess.Run(["check", golden, "--backend", "onednn"], env, ChildLimit);
            Assert.Equal(2, code);
            Assert.Single(stderr.Trim().Split('\n'));
            Assert.Contains("backend 'onednn' is not available", stderr);
            Assert.Contains("truncated", stderr);
            output.WriteLine($"{bytes}-byte libdnnl: {line.Trim()}");
        }

        // Found by name through LD_LIBRARY_PATH: that file is skipped with the reason and the next candidate loads.
        var shadow = Truncated(dnnl, 1 << 20, "ld/libdnnl.so.2");
        var ldEnv = new Dictionary<string, string?> { ["LD_LIBRARY_PATH"] = Path.GetDirectoryName(shadow) };
        var (c, o, e) = CliProcess.Run(["check", golden, "--backend", "onednn"], ldEnv, ChildLimit);
        Assert.True(c == 0, $"onednn with a truncated libdnnl.so.2 on LD_LIBRARY_PATH: exit {c}: {e}");
        Assert.Matches(@"PASS (\d+)/\1\s*$", o);
        (c, o, e) = CliProcess.Run(["info"], ldEnv, ChildLimit);
        Assert.True(c == 0, $"info with a truncated libdnnl.so.2 on LD_LIBRARY_PATH: exit {c}: {e}");
        Assert.Contains("available", Line(o, "onednn"));

        // A library libdnnl needs (libgomp), truncated on LD_LIBRARY_PATH: every candidate would pull it in, so none loads.
        var gomp = Truncated(MappedLibrary("libgomp.so"), 50_000, "gomp/libgomp.so.1");
        (c, o, e) = CliProcess.Run(["info"], new Dictionary<string, string?> { ["LD_LIBRARY_PATH"] = Path.GetDirectoryName(gomp) }, ChildLimit);
        Assert.True(c == 0, $"info with a truncated libgomp.so.1 on LD_LIBRARY_PATH: exit {c}: {e}");
        Assert.Contains($"libdnnl.so.2 needs libgomp.so.1: {gomp} (through LD_LIBRARY_PATH=", Line(o, "onednn"));
        Assert.Contains("selection: cpu", o);
    }

    [BackendTheory]
    [InlineData("opencl")]
    public void Truncated_libOpenCL_or_ICD_driver_leaves_opencl_unavailable_and_info_names_the_file(string backend)
    {
        Assert.True(BackendRegistry.Get(backend).IsAvailable);
        string libOpenCL = MappedLibrary("libOpenCL.so");
        string driver = MappedLibrary("libpocl.so");
        string golden = TestPaths.Golden("gru_basic");

        var cl = Truncated(libOpenCL, 4096, "cl/libOpenCL.so.1");
        var (code, stdout, stderr) = CliProcess.Run(["info"], new Dictionary<string, string?> { [CLLibrary.PathVariable] = cl }, ChildLimit);
        Assert.True(code == 0, $"info with a truncated libOpenCL: exit {code}: {stderr}");
        Assert.Contains($"{cl}: not loaded: truncated", Line(stdout, "opencl"));
        Assert.Contains("-    score    -  unavailable", Line(stdout, "opencl")); // no kind or score claimed for it

        // a folder of .icd files, and one .icd file, each naming a truncated copy of the driver
        var bad = Truncated(driver, 100_000, "icd/libpocl-bad.so");
        File.WriteAllText(Path.Combine(_dir, "icd", "bad.icd"), bad + "\n");
        foreach (var vendors in new[] { Path.Combine(_dir, "icd"), Path.Combine(_dir, "icd", "bad.icd") })
        {
            var env = new Dictionary<string, string?> { ["OCL_ICD_VENDORS"] = vendors };
            (code, stdout, stderr) = CliProcess.Run(["info"], env, ChildLimit);
            Assert.True(code == 0, $"info with OCL_ICD_VENDORS={vendors}: exit {code}: {stderr}");
            var line = Line(stdout, "opencl");
            Assert.Contains($"the OpenCL driver {bad} (listed in {Path.Combine(_dir, "icd", "bad.icd")}, drivers from OCL_ICD_VENDORS={vendors})", line);
            Assert.Contains("truncated", line);
            (code, stdout, stderr) = CliProcess.Run(["check", golden], env, ChildLimit);
            Assert.True(code == 0, $"check (auto) with OCL_ICD_VENDORS={vendors}: exit {code}: {stderr}");
            Assert.Matches(@"PASS (\d+)/\1\s*$", stdout);
            output.WriteLine(line.Trim());
        }
    }

    [BackendTheory]
    [InlineData("opencl")]
    public void Libm_as_libOpenCL_and_an_empty_OCL_ICD_VENDORS_give_clean_reasons(string backend)
    {
        Assert.True(BackendRegistry.Get(backend).IsAvailable);
        var libm = Path.Combine(_dir, "libm-copy.so");
        File.Copy(MappedLibrary("libm.so"), libm);
        var (code, stdout, stderr) = CliProcess.Run(["info"], new Dictionary<string, string?> { [CLLibrary.PathVariable] = libm }, ChildLimit);
        Assert.True(code == 0, stderr);
        var line = Line(stdout, "opencl");
        Assert.Contains($"{libm}: loaded, but it does not export clGetPlatformIDs", line);
        Assert.DoesNotContain("EntryPointNotFound", stdout + stderr);

        var empty = Directory.CreateDirectory(Path.Combine(_dir, "no-vendors")).FullName;
        (code, stdout, stderr) = CliProcess.Run(["info"], new Dictionary<string, string?> { ["OCL_ICD_VENDORS"] = empty }, ChildLimit);
        Assert.True(code == 0, stderr);
        line = Line(stdout, "opencl");
        Assert.Contains($"found no vendor driver in OCL_ICD_VENDORS={empty}", line);
        Assert.DoesNotContain("/etc/OpenCL/vendors", line);
        Assert.Contains("apt install pocl-opencl-icd", line);
    }

    [Fact]
    public void An_unknown_backend_name_is_named_with_the_known_ones_exit_2()
    {
        string golden = TestPaths.Golden("gru_basic");
        var env = new Dictionary<string, string?> { [BackendRegistry.EnvironmentVariable] = "warp" };
        var (code, stdout, stderr) = CliProcess.Run(["info"], env, ChildLimit);
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("RNNFAST_BACKEND=warp: unknown backend 'warp' (known: auto, reference, cpu, onednn, opencl, cuda)", stderr);
        Assert.Contains("selection: none: RNNFAST_BACKEND=warp: unknown backend 'warp'", stdout);
        Assert.Contains("  cpu ", stdout); // the listing is still there

        (code, _, stderr) = CliProcess.Run(["check", golden], env, ChildLimit);
        Assert.Equal(2, code);
        Assert.Equal("error: RNNFAST_BACKEND=warp: unknown backend 'warp' (known: auto, reference, cpu, onednn, opencl, cuda)", stderr.Trim());
        (code, _, stderr) = CliProcess.Run(["check", golden, "--backend", "warp"], null, ChildLimit);
        Assert.Equal(2, code);
        Assert.Equal("error: --backend: unknown backend 'warp' (known: auto, reference, cpu, onednn, opencl, cuda)", stderr.Trim());
    }

    /// <summary>A backend with a fixed score that counts its probes.</summary>
    private sealed class CountingBackend(string name, int score, bool available, int? maxScore = null) : Backend
    {
        public int Probes;
        public override string Name => name;
        public override BackendKind Kind => BackendKind.Cpu;
        public override string Description => "counting backend";
        public override int Score => score;
        public override int MaxScore => maxScore ?? score;

        protected override BackendAvailability Probe()
        {
            Interlocked.Increment(ref Probes);
            return available ? BackendAvailability.Yes() : BackendAvailability.No("not here");
        }

        public override IRnnPlan CreateRnnPlan(RnnParameters parameters) => BackendRegistry.Host.CreateRnnPlan(parameters);
    }

    [Fact]
    public void Auto_does_not_probe_backends_that_cannot_beat_the_one_it_found()
    {
        var low = new CountingBackend("low", 5, true);
        var gpu = new CountingBackend("gpu", 3, true, maxScore: 20); // a device-dependent score: must be probed
        var managed = new CountingBackend("managed", 10, true);
        var early = new CountingBackend("early", 10, false);
        Assert.Same(managed, BackendRegistry.Auto([low, gpu, early, managed]));
        Assert.Equal(0, low.Probes);
        Assert.Equal(1, gpu.Probes);
        Assert.Equal(1, early.Probes); // same bound, earlier in the list: could have won the tie
        var tie = new CountingBackend("tie", 10, true);
        Assert.Same(managed, BackendRegistry.Auto([managed, tie]));
        Assert.Equal(0, tie.Probes);
        Assert.Same(tie, BackendRegistry.Auto([tie, new CountingBackend("later", 10, true)])); // ties: the first
    }

    [Fact]
    public void Commands_load_only_the_native_libraries_of_the_backends_they_need()
    {
        string golden = TestPaths.Golden("gru_basic");
        string Loaded(string[] args, string tag)
        {
            var prefix = Path.Combine(_dir, "ld-" + tag);
            var (code, _, stderr) = CliProcess.Run(args, new Dictionary<string, string?> { ["LD_DEBUG"] = "files", ["LD_DEBUG_OUTPUT"] = prefix }, ChildLimit);
            Assert.True(code == 0, $"rnnfast {string.Join(' ', args)}: exit {code}: {stderr}");
            return string.Join("\n", Directory.GetFiles(_dir, "ld-" + tag + "*").Select(File.ReadAllText));
        }
        var cpu = Loaded(["check", golden, "--backend", "cpu"], "cpu");
        Assert.Contains("file=", cpu); // LD_DEBUG worked
        foreach (var lib in new[] { "libdnnl", "libOpenCL", "libcuda", "libcudnn" })
            Assert.DoesNotContain(lib, cpu);
        var auto = Loaded(["check", golden], "auto");
        Assert.DoesNotContain("libdnnl", auto); // onednn (5) cannot beat cpu (10): never loaded
        output.WriteLine("check --backend cpu loaded none of libdnnl/libOpenCL/libcuda/libcudnn; check on auto did not load libdnnl");
    }

    [Fact]
    public void Unavailable_reasons_say_which_package_provides_the_library()
    {
        var env = new Dictionary<string, string?>
        {
            [DnnlLibrary.PathVariable] = "/nonexistent/libdnnl.so.2",
            [CLLibrary.PathVariable] = "/nonexistent/libOpenCL.so.1",
            ["RNNFAST_CUDA_PATH"] = "/nonexistent/libcuda.so.1",
        };
        var (code, stdout, stderr) = CliProcess.Run(["info"], env, ChildLimit);
        Assert.True(code == 0, stderr);
        Assert.Contains("apt install libdnnl2", Line(stdout, "onednn"));
        Assert.Contains("dnf install onednn", Line(stdout, "onednn"));
        Assert.Contains("apt install ocl-icd-libopencl1 pocl-opencl-icd", Line(stdout, "opencl"));
        Assert.Contains("dnf install ocl-icd pocl", Line(stdout, "opencl"));
        Assert.Contains("NVIDIA driver", Line(stdout, "cuda"));
        Assert.Contains("nvidia-cudnn-cu12", CudaCudnnHint());
        output.WriteLine(Line(stdout, "onednn").Trim());
    }

    private static string CudaCudnnHint() => RnnFast.Bindings.Cuda.CudaLibraries.CudnnSpec.InstallHint ?? "";
}
