// The machine's measured FP32 peak: a short FMA-throughput loop on the ISA the cpu backend uses (Vector512 with
// AVX-512F, Vector256 with FMA, or scalar multiply-add), on every worker thread at once, each thread with
// enough independent accumulator chains to keep all FMA units busy (latency x units). Reported in GFLOP/s
// (2 FLOPs per lane per FMA) over each thread's own CPU time, the best of three rounds. Well under a second.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnFast.Bench;

/// <summary>The outcome of the FMA probe: the path it ran, the threads, and the measured GFLOP/s.</summary>
/// <param name="Isa">The SIMD path probed ("AVX-512", "AVX2+FMA", "AVX2", "scalar").</param>
/// <param name="Lanes">float32 lanes per vector.</param>
/// <param name="Threads">Threads that ran the loop at once.</param>
/// <param name="Gflops">The measured peak, GFLOP/s.</param>
/// <param name="Seconds">Wall time of the three rounds.</param>
/// <param name="PerThreadCpuTime">True when each thread's rate was taken over its own CPU time (unaffected by other processes).</param>
/// <param name="WallGflops">The best round's rate over wall-clock time (lower than <paramref name="Gflops"/> when the cores are shared).</param>
public sealed record PeakMeasurement(string Isa, int Lanes, int Threads, double Gflops, double Seconds, bool PerThreadCpuTime = false, double WallGflops = double.NaN)
{
    /// <summary>How the peak was obtained, for reports.</summary>
    public string Method =>
        $"measured: {Isa} FMA loop, {Lanes} lane(s), {PeakProbe.Chains(Isa)} chains per thread, {Threads} thread(s), best of 3 rounds in {Seconds:F2} s" +
        (PerThreadCpuTime ? $", per-thread CPU time (wall clock: {WallGflops:F1} GFLOP/s)" : ", wall clock");
}

/// <summary>Measures the CPU's FP32 FMA throughput on the cpu backend's SIMD path, on all worker threads.</summary>
public static partial class PeakProbe
{
    private const int Unroll = 64; // FMAs per accumulator per inner iteration

    /// <summary>The SIMD path the cpu backend picks here: "AVX-512", "AVX2+FMA", "AVX2" or "scalar".</summary>
    public static string CpuPath =>
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? "AVX-512"
        : Vector256.IsHardwareAccelerated ? (Fma.IsSupported ? "AVX2+FMA" : "AVX2")
        : "scalar";

    internal static int Chains(string isa) => isa == "AVX-512" ? 16 : isa.StartsWith("AVX2", StringComparison.Ordinal) ? 12 : 8;

    /// <summary>
    /// Runs the probe on <paramref name="threads"/> threads (default: one per logical core, as the cpu backend's
    /// pool) for about <paramref name="seconds"/> seconds after a short calibration.
    /// </summary>
    public static PeakMeasurement Measure(int threads = 0, double seconds = 0.2)
    {
        if (threads <= 0) threads = Environment.ProcessorCount;
        string isa = CpuPath;
        int lanes = isa == "AVX-512" ? 16 : isa.StartsWith("AVX2", StringComparison.Ordinal) ? 8 : 1;
        Func<long, float> kernel = isa switch
        {
            "AVX-512" => Loop512,
            "AVX2+FMA" or "AVX2" => Loop256,
            _ => LoopScalar,
        };
        long flopsPerIter = 2L * lanes * Chains(isa) * Unroll;

        // Calibrate on one thread (also JIT-compiles the loop): grow the count until a run takes ~20 ms of this
        // thread's CPU time (wall time where that clock is missing), so that a busy machine does not shorten the rounds.
        long iters = 256;
        double single;
        while (true)
        {
            var sw = Stopwatch.StartNew();
            double? c0 = CpuClock.ThreadSeconds();
            kernel(iters);
            single = CpuClock.ThreadSeconds() is double c1 && c0 is double c ? c1 - c : sw.Elapsed.TotalSeconds;
            if (single > 0.02 || iters > (1L << 40)) break;
            iters *= single < 0.002 ? 8 : 2;
        }
        long perThread = Math.Max(1, (long)(iters * seconds / Math.Max(single, 1e-6)));

        // Three rounds; every thread runs the same count from a common start. A thread's rate is its FLOPs over its own
        // CPU time (clock_gettime(CLOCK_THREAD_CPUTIME_ID) on Linux), so that other processes sharing the cores do not
        // lower the measured peak; where that clock is missing, over the round's wall time. The best round counts.
        double best = 0, bestWall = 0, total = 0;
        bool cpuClock = CpuClock.ThreadSeconds() != null;
        long count = perThread / 3 + 1;
        double flopsPerThread = (double)flopsPerIter * count;
        for (int round = 0; round < 3; round++)
        {
            var (wall, cpu) = RunRound(kernel, count, threads);
            total += wall;
            bestWall = Math.Max(bestWall, flopsPerThread * threads / wall / 1e9);
            double rate = cpuClock ? cpu.Sum(c => flopsPerThread / Math.Max(c, 1e-9)) / 1e9 : flopsPerThread * threads / wall / 1e9;
            best = Math.Max(best, rate);
        }
        return new PeakMeasurement(isa, lanes, threads, best, total, cpuClock, bestWall);
    }

    private static (double Wall, double[] Cpu) RunRound(Func<long, float> kernel, long perThread, int threads)
    {
        using var start = new Barrier(threads + 1);
        using var done = new CountdownEvent(threads);
        var workers = new Thread[threads];
        var cpu = new double[threads];
        float sink = 0;
        for (int i = 0; i < threads; i++)
        {
            int me = i;
            workers[i] = new Thread(() =>
            {
                start.SignalAndWait();
                double c0 = CpuClock.ThreadSeconds() ?? 0;
                float r = kernel(perThread);
                cpu[me] = (CpuClock.ThreadSeconds() ?? 0) - c0;
                Interlocked.Exchange(ref sink, r);
                done.Signal();
            }) { IsBackground = true, Name = "RnnFast peak probe" };
            workers[i].Start();
        }
        start.SignalAndWait();
        var wall = Stopwatch.StartNew();
        done.Wait();
        double elapsed = wall.Elapsed.TotalSeconds;
        foreach (var w in workers) w.Join();
        GC.KeepAlive(sink);
        return (elapsed, cpu);
    }

    // Each loop: `chains` independent accumulators, acc = acc * a + b, unrolled; values stay finite (converge to
    // b / (1 - a)). AggressiveOptimization skips tier-0 so the first (calibration) call already runs the fast code.

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static float Loop512(long iterations)
    {
        if (!Avx512F.IsSupported) return LoopScalar(iterations);
        var a = Vector512.Create(0.999f);
        var b = Vector512.Create(1e-4f);
        Vector512<float> c0 = Vector512.Create(0.01f), c1 = c0 + b, c2 = c1 + b, c3 = c2 + b, c4 = c3 + b, c5 = c4 + b, c6 = c5 + b, c7 = c6 + b;
        Vector512<float> c8 = c7 + b, c9 = c8 + b, c10 = c9 + b, c11 = c10 + b, c12 = c11 + b, c13 = c12 + b, c14 = c13 + b, c15 = c14 + b;
        for (long it = 0; it < iterations; it++)
        {
            for (int u = 0; u < Unroll; u++)
            {
                c0 = Avx512F.FusedMultiplyAdd(c0, a, b); c1 = Avx512F.FusedMultiplyAdd(c1, a, b);
                c2 = Avx512F.FusedMultiplyAdd(c2, a, b); c3 = Avx512F.FusedMultiplyAdd(c3, a, b);
                c4 = Avx512F.FusedMultiplyAdd(c4, a, b); c5 = Avx512F.FusedMultiplyAdd(c5, a, b);
                c6 = Avx512F.FusedMultiplyAdd(c6, a, b); c7 = Avx512F.FusedMultiplyAdd(c7, a, b);
                c8 = Avx512F.FusedMultiplyAdd(c8, a, b); c9 = Avx512F.FusedMultiplyAdd(c9, a, b);
                c10 = Avx512F.FusedMultiplyAdd(c10, a, b); c11 = Avx512F.FusedMultiplyAdd(c11, a, b);
                c12 = Avx512F.FusedMultiplyAdd(c12, a, b); c13 = Avx512F.FusedMultiplyAdd(c13, a, b);
                c14 = Avx512F.FusedMultiplyAdd(c14, a, b); c15 = Avx512F.FusedMultiplyAdd(c15, a, b);
            }
        }
        var s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)) + ((c12 + c13) + (c14 + c15));
        return Vector512.Sum(s);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static float Loop256(long iterations)
    {
        var a = Vector256.Create(0.999f);
        var b = Vector256.Create(1e-4f);
        Vector256<float> c0 = Vector256.Create(0.01f), c1 = c0 + b, c2 = c1 + b, c3 = c2 + b, c4 = c3 + b, c5 = c4 + b;
        Vector256<float> c6 = c5 + b, c7 = c6 + b, c8 = c7 + b, c9 = c8 + b, c10 = c9 + b, c11 = c10 + b;
        for (long it = 0; it < iterations; it++)
        {
            for (int u = 0; u < Unroll; u++)
            {
                c0 = F(c0, a, b); c1 = F(c1, a, b); c2 = F(c2, a, b); c3 = F(c3, a, b);
                c4 = F(c4, a, b); c5 = F(c5, a, b); c6 = F(c6, a, b); c7 = F(c7, a, b);
                c8 = F(c8, a, b); c9 = F(c9, a, b); c10 = F(c10, a, b); c11 = F(c11, a, b);
            }
        }
        var s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11));
        return Vector256.Sum(s);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector256<float> F(Vector256<float> c, Vector256<float> x, Vector256<float> y) =>
            Fma.IsSupported ? Fma.MultiplyAdd(c, x, y) : c * x + y;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static float LoopScalar(long iterations)
    {
        float a = 0.999f, b = 1e-4f;
        float c0 = 0.01f, c1 = c0 + b, c2 = c1 + b, c3 = c2 + b, c4 = c3 + b, c5 = c4 + b, c6 = c5 + b, c7 = c6 + b;
        for (long it = 0; it < iterations; it++)
        {
            for (int u = 0; u < Unroll; u++)
            {
                // multiply then add, as the cpu backend's scalar GEMM does (2 FLOPs either way)
                c0 = c0 * a + b; c1 = c1 * a + b; c2 = c2 * a + b; c3 = c3 * a + b;
                c4 = c4 * a + b; c5 = c5 * a + b; c6 = c6 * a + b; c7 = c7 * a + b;
            }
        }
        return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7;
    }
}
