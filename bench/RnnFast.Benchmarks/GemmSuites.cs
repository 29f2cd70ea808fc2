// The cpu backend's GEMM products, one by one, on the shapes a layer runs (BenchmarkDotNet; GFLOP/s = Flop / mean time,
// Flop printed in the row's name): the input projection of every step at once x . W_ih^T (T*N x G*H x I, B packed),
// one step's recurrent product h . W_hh^T (N x G*H x H) and the weight gradient dW = dG^T . X (G*H x I x T*N: A stored
// transposed, B raw, both packed by the product). Threads: the cpu backend's pool (RNNFAST_BENCH_THREADS, default one
// per logical core); RNNFAST_BENCH_GEMM keeps only the cases whose name contains it (e.g. "dW"). Checked once against a
// double loop on a corner of C before timing.
using BenchmarkDotNet.Attributes;
using RnnFast.Backends.Cpu;

namespace RnnFast.Benchmarks;

/// <summary>One GEMM product: its kind and sizes, shown whole in the summary table.</summary>
public sealed record GemmCase(string Kind, int M, int N, int K, bool TransposedA, bool PackedB)
{
    public double GFlop => 2.0 * M * N * K / 1e9;

    public override string ToString() => $"{Kind} {M}x{N}x{K} ({GFlop:F2} GFlop)";
}

/// <summary>
/// x . W^T, a step's h . W^T and dW = dG^T . X at the LSTM 50x64x512 and ReLU-RNN 50x128x1760 sizes; x . W^T and
/// h . W^T at LSTM 25x64x1024; dW at LSTM 25x16x1024 (K small); x . W^T and h . W^T at LSTM 35x32x650 (H not a multiple of 32).
/// </summary>
[Config(typeof(SuiteConfig))]
public unsafe class GemmProducts
{
    private AlignedFloats? _a, _b, _packed, _c;

    public static IEnumerable<GemmCase> Cases() =>
        AllCases().Where(c => Environment.GetEnvironmentVariable("RNNFAST_BENCH_GEMM") is not { Length: > 0 } only ||
                              c.ToString().Contains(only, StringComparison.Ordinal));

    private static IEnumerable<GemmCase> AllCases() =>
    [
        new("x.W^T", 3200, 2048, 512, false, true),
        new("step h.W^T", 64, 2048, 512, false, true),
        new("x.W^T", 1600, 4096, 1024, false, true),
        new("step h.W^T", 64, 4096, 1024, false, true),
        new("dW=dG^T.X", 2048, 512, 3200, true, false),
        new("x.W^T", 6400, 1760, 1760, false, true),
        new("dW=dG^T.X", 1760, 1760, 6400, true, false),
        new("dW=dG^T.X", 4096, 1024, 400, true, false),
        new("x.W^T", 1120, 2600, 650, false, true),
        new("step h.W^T", 32, 2600, 650, false, true),
    ];

    [ParamsSource(nameof(Cases))]
    public GemmCase Case { get; set; } = AllCases().First();

    [GlobalSetup]
    public void Setup()
    {
        if (Environment.GetEnvironmentVariable("RNNFAST_BENCH_THREADS") is { Length: > 0 } t) WorkerPool.Resize(int.Parse(t));
        var c = Case;
        var rng = new Random(7);
        _a = Filled((long)c.M * c.K, rng);
        _b = Filled((long)c.K * c.N, rng); // (N, K) for a packed W^T, (K, N) raw
        _c = Filled((long)c.M * c.N, rng);
        _packed = AlignedFloats.Allocate(Sgemm.PackedBSize(c.K, c.N));
        if (c.PackedB)
            Sgemm.PackB(new GemmB(_b.Buf, c.K, transposed: true), c.N, null, null, new PackedB(_packed.Buf, c.K), 0, Sgemm.Panels(c.N));
        Product();
        Check();
    }

    [Benchmark]
    public void Product()
    {
        var c = Case;
        var a = new GemmA(_a!.Buf, c.TransposedA ? c.M : c.K, c.TransposedA);
        var b = c.PackedB ? GemmB.FromPacked(new PackedB(_packed!.Buf, c.K)) : new GemmB(_b!.Buf, c.N);
        Sgemm.Gemm(new GemmShape(c.M, c.N, c.K), a, b, new GemmC(_c!.Buf, c.N), GemmInit.Zero);
    }

    /// <summary>Refuses to time a wrong product: a corner of C against a double loop.</summary>
    private void Check()
    {
        var c = Case;
        float* a = _a!.Buf.Ptr, b = _b!.Buf.Ptr, cp = _c!.Buf.Ptr;
        for (int m = 0; m < Math.Min(c.M, 9); m++)
            for (int n = 0; n < Math.Min(c.N, 33); n++)
            {
                double acc = 0;
                for (int k = 0; k < c.K; k++)
                    acc += (double)(c.TransposedA ? a[(long)k * c.M + m] : a[(long)m * c.K + k]) *
                           (c.PackedB ? b[(long)n * c.K + k] : b[(long)k * c.N + n]);
                if (Math.Abs(cp[(long)m * c.N + n] - acc) > 1e-3 * (1 + Math.Abs(acc)))
                    throw new InvalidOperationException($"GemmProducts {c}: C[{m},{n}] = {cp[(long)m * c.N + n]}, expected {acc}");
            }
    }

    private static AlignedFloats Filled(long n, Random rng)
    {
        var f = AlignedFloats.Allocate(n);
        for (long i = 0; i < n; i++) f.Buf.Ptr[i] = (float)(rng.NextDouble() - 0.5);
        return f;
    }
}
