// The cuda backend end to end on a CPU stand-in for libcuda.so.1 + libcudnn.so.9 (bench/gpu/mock/cuda_cudnn_mock.c,
// compiled here with gcc): every binding, the plan's weight-space mapping through cudnnGetRNNWeightParams, device
// memory, padded I/O, device-resident and host paths, backward data and weights. The mock checks every pointer range
// and descriptor and computes the RNN itself (its backward by finite differences), so this proves the plumbing that a
// GPU run would otherwise be the first to exercise; cuDNN's own numerics are proven by `rnnfast verify` on a GPU.
// Runs in a child process: the registered cuda backend of this process has already probed the real libraries.
using System.Diagnostics;
using Xunit;

namespace RnnFast.Tests;

/// <summary>A fact that is skipped, with the reason, where gcc is not on the PATH.</summary>
public sealed class FactNeedsGccAttribute : FactAttribute
{
    public FactNeedsGccAttribute()
    {
        if (CudaMockTests.FindGcc() == null) Skip = "gcc not found on PATH: the CUDA/cuDNN mock cannot be compiled";
    }
}

/// <summary>Compiles the mock once per test class run and deletes it afterwards.</summary>
public sealed class CudaMockLibrary : IDisposable
{
    private readonly Lazy<string> _path = new(CudaMockTests.Compile);

    public string Path => _path.Value;

    public void Dispose()
    {
        if (_path.IsValueCreated) File.Delete(_path.Value);
    }
}

public sealed class CudaMockTests(CudaMockLibrary mock) : IClassFixture<CudaMockLibrary>
{
    public static string? FindGcc() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(d => System.IO.Path.Combine(d, "gcc")).FirstOrDefault(File.Exists);

    internal static string Compile()
    {
        var source = System.IO.Path.Combine(TestPaths.RepoRoot, "bench", "gpu", "mock", "cuda_cudnn_mock.c");
        var output = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"rnnfast-cudamock-{Environment.ProcessId}.so");
        var (code, o, e) = Run(FindGcc()!, ["-O2", "-Wall", "-shared", "-fPIC", "-o", output, source, "-lm"], new());
        Assert.True(code == 0, $"gcc failed ({code}): {o}{e}");
        return output;
    }

    private static (int Code, string Out, string Err) Run(string file, IEnumerable<string> args, Dictionary<string, string> env)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(300_000), $"{file} did not finish in 5 minutes");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private (int Code, string Out, string Err) Rnnfast(params string[] args) => RnnfastWith(new(), args);

    private (int Code, string Out, string Err) RnnfastWith(Dictionary<string, string> extra, params string[] args)
    {
        var env = new Dictionary<string, string>
        {
            ["RNNFAST_CUDA_PATH"] = mock.Path,
            ["RNNFAST_CUDNN_PATH"] = mock.Path,
            ["RNNFAST_CUDA_ALGO"] = "persist", // the mock declines it: the plans must fall back to the standard algorithm
        };
        foreach (var (k, v) in extra) env[k] = v;
        return Run("dotnet", new[] { System.IO.Path.Combine(AppContext.BaseDirectory, "rnnfast.dll") }.Concat(args), env);
    }

    [FactNeedsGcc]
    public void The_whole_sweep_passes_through_the_mock()
    {
        var (code, o, e) = Rnnfast("verify", "--backend", "cuda", "--no-goldens");
        Assert.True(code == 0, o + e);
        Assert.Contains("on Mock GPU (CPU stand-in)", o);
        Assert.Equal("PASS 40/40 cases on cuda (0 goldens, 40 sweep)", o.TrimEnd().Split('\n')[^1].Trim());
    }

    [FactNeedsGcc]
    public void The_sweep_passes_with_padded_io_everywhere_and_under_auto_tuning()
    {
        // The default describes full-length batches as packed data with padded I/O off (the mock checks the layout
        // matches the flag); "always" keeps padded I/O for them too. Auto times standard against persistent, which the
        // mock declines, so every shape settles on standard and still passes.
        foreach (var (k, v) in new[] { ("RNNFAST_CUDA_PADDED_IO", "always"), ("RNNFAST_CUDA_ALGO", "auto") })
        {
            var (code, o, e) = RnnfastWith(new() { [k] = v }, "verify", "--backend", "cuda", "--no-goldens");
            Assert.True(code == 0, $"{k}={v}: {o}{e}");
            Assert.Equal("PASS 40/40 cases on cuda (0 goldens, 40 sweep)", o.TrimEnd().Split('\n')[^1].Trim());
        }
    }

    [FactNeedsGcc]
    public void Auto_runs_both_algorithms_on_repeated_calls_and_stays_correct()
    {
        // CUDA_MOCK_PERSIST=1: the mock accepts the persistent algorithm (computing it like the standard one), so the
        // tuning's alternation, the per-algorithm descriptors and weight spaces, and backward through the workspace's
        // own descriptor all run; the bench checks every result (and every gradient) against the reference.
        string shapes = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"rnnfast-auto-{Environment.ProcessId}.txt");
        File.WriteAllText(shapes, "lstm uni 1 5 2 6 7 inference\ngru bi 2 4 3 5 6 training\n");
        try
        {
            var (code, o, e) = RnnfastWith(new() { ["RNNFAST_CUDA_ALGO"] = "auto", ["CUDA_MOCK_PERSIST"] = "1", ["CUDA_MOCK_STATS"] = "1" },
                "bench", "--shapes", shapes, "--backends", "cuda", "--max-seconds", "0.05");
            Assert.True(code == 0, o + e);
            Assert.Contains("all 2 result(s) match the reference", o + e);
            var m = System.Text.RegularExpressions.Regex.Match(e, @"forward calls standard (\d+) persistent (\d+)");
            Assert.True(m.Success, e);
            Assert.True(long.Parse(m.Groups[1].Value) >= 2 && long.Parse(m.Groups[2].Value) >= 2,
                $"expected both algorithms to run at least twice: {m.Value}");
        }
        finally
        {
            File.Delete(shapes);
        }
    }

    [FactNeedsGcc]
    public void Goldens_pass_through_the_mock_on_host_tensors()
    {
        var (code, o, e) = Rnnfast("check", "--backend", "cuda", TestPaths.Golden("lstm_varlen_bidir"), TestPaths.Golden("lstm_proj"),
            TestPaths.Golden("gru_2layer_bidir_varlen"), TestPaths.Golden("lstm_nobias"));
        Assert.True(code == 0, o + e);
        Assert.Matches(@"PASS (\d+)/\1\s*$", o);
        Assert.Contains("grad.weight_hr_l1: max_abs=", o);
    }

    [FactNeedsGcc]
    public void A_peephole_lstm_is_refused_with_the_reason()
    {
        // cuDNN has no peepholes: the plan refuses (never another backend's result), `check` says so per file, exit 2
        var (code, o, e) = Rnnfast("check", "--backend", "cuda", TestPaths.Golden("peephole-ctc/lstm_peephole_basic.safetensors"),
            TestPaths.Golden("lstm_basic"));
        Assert.True(code == 2, o + e);
        Assert.Contains("error: lstm_peephole_basic.safetensors: not run on cuda: cuda: cuDNN has no peephole LSTM (RnnDesc.Peephole is true)", e);
        Assert.Contains("lstm_basic.safetensors (rnn_layer) on cuda:", o); // the other case still ran, on the mock
        Assert.DoesNotContain("lstm_peephole_basic.safetensors (rnn_layer) on", o);
    }

    [FactNeedsGcc]
    public void Info_shows_the_device_and_its_peak()
    {
        var (code, o, e) = Rnnfast("info");
        Assert.True(code == 0, o + e);
        Assert.Contains("cuda       Gpu  score   20  available  <- selected", o);
        Assert.Contains("cuDNN 9.10.0 RNN API on Mock GPU (CPU stand-in) (sm_90, 4 SMs", o);
    }
}
