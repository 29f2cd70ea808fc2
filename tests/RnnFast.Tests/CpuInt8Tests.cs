// The cpu backend's opt-in int8 recurrent weights (cpu:int8, inference at batch 1-4): quantisation keeps every value within
// half a step (scale / 2) of fp32; every int8 kernel this machine has (AVX-VNNI, AVX-512BW, AVX2, scalar) gives the same
// int32 sums as an exact scalar reference, so the same results; the GEMV stays within the stated worst-case bound;
// the multi-row product equals one row at a time on every kernel; whole plans (every cell, projection, peephole, uni/bi)
// at N = 1-4 stay within cpu:int8's CheckTolerance of fp32 on every kernel, PyTorch's golden weights included, and
// N > 4 / training are fp32 bit for bit; the qualifier parses;
// `rnnfast bench` checks cpu:int8 at its own tolerance; each SIMD path (child processes) runs its own int8 kernel.
// Shapes: a packed panel is K x 32 (Sgemm.NR columns); x (T, N, I).
using System.Text.Json;
using RnnFast.Backends;
using RnnFast.Backends.Cpu;
using RnnFast.Checks;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

public sealed unsafe class CpuInt8Tests(ITestOutputHelper output)
{
    private static readonly (double Abs, double Rel) Tol = new CpuBackend(CpuWeightPrecision.Int8).CheckTolerance;

    private static float[] RandomArray(Random r, int n, float scale = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1) * scale;
        return a;
    }

    /// <summary>Runs <paramref name="body"/> with the cell level on <paramref name="kernel"/> (one at a time: the choice is process-wide).</summary>
    private static readonly object KernelGate = new();

    private static T OnKernel<T>(Int8Kernel kernel, Func<T> body)
    {
        lock (KernelGate)
        {
            var was = Int8.Current;
            Int8.Current = kernel;
            try { return body(); }
            finally { Int8.Current = was; }
        }
    }

    public static IEnumerable<object[]> Kernels() => Int8.Supported().Select(k => new object[] { k.ToString() });

    [Fact]
    public void Vector_quantisation_is_within_half_a_step_and_pads_with_zero()
    {
        var r = new Random(3);
        foreach (int K in new[] { 1, 7, 8, 33, 100, 515 })
        {
            var a = RandomArray(r, K, 3f);
            int Kp = Int8.PaddedLength(K);
            Assert.Equal(0, Kp % 8);
            var q = new sbyte[Kp + 8];
            Array.Fill(q, (sbyte)99);
            float s;
            fixed (float* pa = a)
            fixed (sbyte* pq = q)
                s = Int8.Quantize(pa, K, pq);
            float max = a.Max(MathF.Abs);
            Assert.Equal(max / 127f, s);
            for (int k = 0; k < K; k++)
            {
                Assert.InRange((int)q[k], -127, 127);
                Assert.True(Math.Abs(q[k] * s - a[k]) <= s / 2 * 1.0001, $"K={K} k={k}: {a[k]} -> {q[k]} * {s}");
            }
            for (int k = K; k < Kp; k++) Assert.Equal(0, q[k]);
            Assert.Equal(99, q[Kp]); // nothing written past Kp
            Assert.Contains(q.Take(K), v => Math.Abs(v) == 127); // the largest magnitude maps to +-127
        }
        // all zero: scale 0; a NaN or an infinity: NaN scale, so the products come out NaN as fp32's would
        var z = new float[20];
        var qz = new sbyte[24];
        fixed (float* pz = z)
        fixed (sbyte* pq = qz)
        {
            Assert.Equal(0f, Int8.Quantize(pz, 20, pq));
            z[17] = float.NaN;
            Assert.True(float.IsNaN(Int8.Quantize(pz, 20, pq)));
            z[17] = float.PositiveInfinity;
            Assert.True(float.IsNaN(Int8.Quantize(pz, 20, pq)));
        }
    }

    [Fact]
    public void Weight_quantisation_has_one_scale_per_column_within_half_a_step()
    {
        var r = new Random(4);
        int K = 45, N = 70; // three panels, the last one partial (padding columns are zero)
        var packed = RandomArray(r, (int)Sgemm.PackedBSize(K, N), 0.2f);
        for (int p = 0; p < Sgemm.Panels(N); p++)
        for (int k = 0; k < K; k++)
        for (int j = 0; j < Sgemm.NR; j++)
            if (p * Sgemm.NR + j >= N) packed[(p * K + k) * Sgemm.NR + j] = 0;
        packed[(1 * K + 7) * Sgemm.NR + 5] = 3f; // one large weight: only its own column's scale grows
        var w = Int8Panels.FromPacked(packed, K, N, minWeights: 0)!;
        Assert.Equal(48, w.Kp);
        for (int p = 0; p < Sgemm.Panels(N); p++)
        for (int j = 0; j < Sgemm.NR; j++)
        {
            float max = 0;
            for (int k = 0; k < K; k++) max = MathF.Max(max, MathF.Abs(packed[(p * K + k) * Sgemm.NR + j]));
            float s = w.ScaleOf(p, j);
            Assert.Equal(max / 127f, s);
            for (int k = 0; k < K; k++)
                Assert.True(Math.Abs(w.At(p, k, j) * s - packed[(p * K + k) * Sgemm.NR + j]) <= s / 2 * 1.0001);
            for (int k = K; k < w.Kp; k++) Assert.Equal(0, w.At(p, k, j));
        }
        Assert.Equal(127, w.At(1, 7, 5));
        Assert.True(w.ScaleOf(1, 5) > 10 * w.ScaleOf(1, 4));
        Assert.Null(Int8Panels.FromPacked(new float[Int8Panels.MaxK + 1], Int8Panels.MaxK + 1, 1, minWeights: 0)); // past the int32-safe K: stays fp32
        // under MinWeights (fp32 under 32 KB, L1-resident): no int8 copy, the layer stays fp32
        Assert.Null(Int8Panels.FromPacked(packed, K, N, minWeights: Int8Panels.MinWeights));
        Assert.NotNull(Int8Panels.FromPacked(new float[(int)Sgemm.PackedBSize(128, 64)], 128, 64, minWeights: Int8Panels.MinWeights));
    }

    [Theory]
    [InlineData(1, 32)]
    [InlineData(7, 5)]
    [InlineData(300, 32)]
    [InlineData(513, 17)]
    [InlineData(2048, 32)]
    public void Every_kernel_gives_the_exact_integer_product_and_stays_within_the_bound(int K, int cols)
    {
        var r = new Random(K);
        var a = RandomArray(r, K);
        var packed = RandomArray(r, K * Sgemm.NR, 1f / MathF.Sqrt(K));
        var w = Int8Panels.FromPacked(packed, K, Sgemm.NR, minWeights: 0)!;
        var q = new sbyte[Int8.PaddedLength(K)];
        float sa;
        fixed (float* pa = a)
        fixed (sbyte* pq = q)
            sa = Int8.Quantize(pa, K, pq);
        var bias = RandomArray(r, Sgemm.NR);
        var start = RandomArray(r, Sgemm.NR);
        var wp = w.Ptr;
        double worstErr = 0, worstBound = double.MaxValue;
        foreach (var init in new[] { GemmInit.Zero, GemmInit.Load, GemmInit.Bias })
        {
            float[]? first = null;
            foreach (var kernel in Int8.Supported())
            {
                var got = (float[])start.Clone();
                fixed (float* pg = got, pb = bias)
                fixed (sbyte* pq = q)
                    Int8.Gemv(kernel, wp, 0, pq, sa, pg, init, pb, cols);
                for (int j = 0; j < Sgemm.NR; j++)
                {
                    if (j >= cols)
                    {
                        Assert.Equal(start[j], got[j]); // columns past cols are never written
                        continue;
                    }
                    long acc = 0;
                    for (int k = 0; k < K; k++) acc += q[k] * w.At(0, k, j);
                    float baseValue = init == GemmInit.Load ? start[j] : init == GemmInit.Bias ? bias[j] : 0;
                    float want = baseValue + acc * (sa * w.ScaleOf(0, j)); // the documented dequantisation, in fp32
                    Assert.True(want == got[j], $"{kernel} init {init} col {j}: {got[j]} vs exact {want}");
                    // against the fp32 product: within the worst-case bound K max|w_j| max|a| / 127
                    double exact = baseValue;
                    for (int k = 0; k < K; k++) exact += (double)a[k] * packed[k * Sgemm.NR + j];
                    double bound = K * (w.ScaleOf(0, j) * 127.0) * (sa * 127.0) / 127 + 1e-5;
                    Assert.True(Math.Abs(got[j] - exact) <= bound, $"{kernel} col {j}: error {Math.Abs(got[j] - exact)} > bound {bound}");
                    worstErr = Math.Max(worstErr, Math.Abs(got[j] - exact));
                    worstBound = Math.Min(worstBound, bound);
                }
                if (first == null) first = got;
                else Assert.Equal(first, got); // bit for bit the same on every kernel
            }
        }
        output.WriteLine($"K={K}: kernels {string.Join(", ", Int8.Supported())}; worst error {worstErr:E2}, tightest worst-case bound {worstBound:E2}");
    }

    [Theory]
    [InlineData(2, 64, 32)]
    [InlineData(3, 300, 17)]
    [InlineData(4, 513, 32)]
    [InlineData(1, 40, 32)]
    [InlineData(1, 1500, 32)] // past one K block of the AVX-512BW kernel (1024): the blocks' sums are added
    [InlineData(3, 2100, 29)]
    public void Multi_row_product_equals_one_row_at_a_time_on_every_kernel(int rows, int K, int cols)
    {
        var r = new Random(rows * 7919 + K);
        var packed = RandomArray(r, 2 * K * Sgemm.NR, 1f / MathF.Sqrt(K));
        var w = Int8Panels.FromPacked(packed, K, 2 * Sgemm.NR, minWeights: 0)!;
        int kp = Int8.PaddedLength(K), ldc = Sgemm.NR + 3;
        var q = new sbyte[rows * kp];
        var sa = new float[rows];
        var a = RandomArray(r, rows * K);
        fixed (float* pa = a)
        fixed (sbyte* pq = q)
            for (int n = 0; n < rows; n++) sa[n] = Int8.Quantize(pa + n * K, K, pq + n * kp);
        var bias = RandomArray(r, Sgemm.NR);
        foreach (var init in new[] { GemmInit.Zero, GemmInit.Load, GemmInit.Bias })
        foreach (var kernel in Int8.Supported())
        {
            var start = RandomArray(r, rows * ldc);
            var got = (float[])start.Clone();
            var want = (float[])start.Clone();
            fixed (float* pg = got, pw = want, pb = bias, ps = sa)
            fixed (sbyte* pq = q)
            {
                Int8.GemvRows(kernel, w.Ptr, 1, pq, ps, rows, pg, ldc, init, pb, cols);
                for (int n = 0; n < rows; n++) Int8.Gemv(Int8Kernel.Scalar, w.Ptr, 1, pq + n * kp, sa[n], pw + n * ldc, init, pb, cols);
            }
            Assert.True(want.SequenceEqual(got), $"{kernel} init {init}: {rows} rows at once differ from one row at a time on the scalar kernel");
        }
    }

    /// <summary>
    /// Every cell, with projection and peepholes, uni and bidirectional, 2 layers; H = 100 (a padded chunk tail), P = 82: every
    /// recurrent and projection matrix is past Int8Panels.MinWeights, so all of them are int8.
    /// </summary>
    public static IEnumerable<object[]> Cells() =>
        from c in new[] { "lstm", "lstm+proj", "lstm+peephole", "lstm+peephole+proj", "gru", "rnn_tanh", "rnn_relu" }
        from bi in new[] { false, true }
        select new object[] { c, bi };

    private static RnnDesc Desc(string cell, bool bi, int I = 40, int H = 100) => new(
        RnnDesc.ParseMode(cell.Split('+')[0]), I, H, 2, bidirectional: bi,
        projSize: cell.Contains("proj") ? 82 : 0, peephole: cell.Contains("peephole"));

    [Theory]
    [MemberData(nameof(Cells))]
    public void Int8_plan_is_within_its_tolerance_at_batches_one_to_four_on_every_kernel_and_exact_elsewhere(string cell, bool bi)
    {
        var r = new Random(11);
        var desc = Desc(cell, bi);
        var parameters = RnnParameters.Create(desc, r);
        using var fp32 = new CpuBackend().CreateRnnPlan(parameters);
        using var int8 = new CpuBackend(CpuWeightPrecision.Int8).CreateRnnPlan(parameters);
        Assert.All(((CpuRnnPlan)int8).CurrentWeights().Dirs, d => Assert.True(d.WhhI8 != null && (d.P == 0 || d.WhrI8 != null)));
        const int T = 30;
        int ld = desc.NumLayers * desc.Directions;
        var one = RnnRunner.Prepare(desc, Tensor.FromArray(RandomArray(r, T * 40), T, 1, 40),
            Tensor.FromArray(RandomArray(r, ld * desc.OutputHiddenSize), ld, 1, desc.OutputHiddenSize),
            desc.HasCellState ? Tensor.FromArray(RandomArray(r, ld * desc.HiddenSize), ld, 1, desc.HiddenSize) : null);
        var a = fp32.Forward(one, training: false);
        float[]? first = null;
        foreach (var kernel in Int8.Supported())
        {
            var b = OnKernel(kernel, () => int8.Forward(one, training: false));
            var (worst, failures) = Compare(a.Output.ToArray(), b.Output.ToArray());
            var (worstH, failuresH) = Compare(a.HN.ToArray(), b.HN.ToArray());
            output.WriteLine($"{cell} {(bi ? "bi" : "uni")} on {kernel}: N=1 int8 vs fp32 max |diff| y {worst:E2}, h_n {worstH:E2}");
            Assert.True(worst > 0, "int8 weights were not used at batch 1");
            Assert.True(failures == 0 && failuresH == 0, $"{kernel}: {failures} outputs / {failuresH} h_n outside {Tol} (worst {worst})");
            if (desc.HasCellState)
            {
                var (worstC, failuresC) = Compare(a.CN!.ToArray(), b.CN!.ToArray());
                Assert.True(failuresC == 0, $"{kernel}: c_n outside {Tol} (worst {worstC})");
            }
            var y = b.Output.ToArray();
            if (first == null) first = y;
            else Assert.Equal(first, y); // every kernel: the same int32 sums, the same results
        }

        // batches 2-4 use them too (each row of h quantised on its own), on every kernel alike
        foreach (int N in new[] { 2, 4 })
        {
            var x = RnnRunner.Prepare(desc, Tensor.FromArray(RandomArray(r, T * N * 40), T, N, 40));
            var yf = fp32.Forward(x, training: false).Output.ToArray();
            float[]? firstN = null;
            foreach (var kernel in Int8.Supported())
            {
                var y = OnKernel(kernel, () => int8.Forward(x, training: false)).Output.ToArray();
                var (worst, failures) = Compare(yf, y);
                output.WriteLine($"{cell} {(bi ? "bi" : "uni")} on {kernel}: N={N} int8 vs fp32 max |diff| y {worst:E2}");
                Assert.True(worst > 0, $"int8 weights were not used at batch {N}");
                Assert.True(failures == 0, $"{kernel} N={N}: {failures} outputs outside {Tol} (worst {worst})");
                if (firstN == null) firstN = y;
                else Assert.Equal(firstN, y);
            }
        }

        // larger batches and training never use the int8 copies
        var five = RnnRunner.Prepare(desc, Tensor.FromArray(RandomArray(r, T * 5 * 40), T, 5, 40));
        Assert.Equal(fp32.Forward(five, training: false).Output.ToArray(), int8.Forward(five, training: false).Output.ToArray());
        Assert.Equal(fp32.Forward(one, training: true).Output.ToArray(), int8.Forward(one, training: true).Output.ToArray());
    }

    private static (double Worst, int Failures) Compare(float[] want, float[] got)
    {
        Assert.Equal(want.Length, got.Length);
        double worst = 0;
        int failures = 0;
        for (int i = 0; i < want.Length; i++)
        {
            double d = Math.Abs(want[i] - got[i]);
            worst = Math.Max(worst, d);
            if (!(d <= Tol.Abs + Tol.Rel * Math.Abs(want[i]))) failures++;
        }
        return (worst, failures);
    }

    [Fact]
    public void Wide_layers_split_across_threads_stay_within_tolerance()
    {
        // H = 512: a step is cut into parts for the pool; each part quantises h itself
        var r = new Random(2);
        foreach (var cell in new[] { "lstm", "gru" })
        {
            var desc = new RnnDesc(RnnDesc.ParseMode(cell), 64, 512);
            var parameters = RnnParameters.Create(desc, r);
            using var fp32 = new CpuBackend().CreateRnnPlan(parameters);
            using var int8 = new CpuBackend(CpuWeightPrecision.Int8).CreateRnnPlan(parameters);
            var one = RnnRunner.Prepare(desc, Tensor.FromArray(RandomArray(r, 50 * 64), 50, 1, 64));
            var (worst, failures) = Compare(fp32.Forward(one, false).Output.ToArray(), int8.Forward(one, false).Output.ToArray());
            output.WriteLine($"{cell} H=512 T=50 N=1 ({WorkerPool.Shared.Size} threads): max |int8 - fp32| {worst:E2}");
            Assert.True(worst > 0 && failures == 0, $"{cell}: worst {worst}, {failures} outside {Tol}");
        }
    }

    [Fact]
    public void PyTorch_golden_weights_at_batch_one_stay_within_tolerance()
    {
        // The goldens' own weights (PyTorch's initialisation) on the first sequence of each batch, int8 vs fp32; every
        // layer quantised, the small ones (under Int8Panels.MinWeights, fp32 by default) included.
        int cases = 0;
        lock (KernelGate)
        {
            int was = Int8Panels.MinWeightsForCopies;
            Int8Panels.MinWeightsForCopies = 0;
            try { cases = GoldensAtBatchOne(); }
            finally { Int8Panels.MinWeightsForCopies = was; }
        }
        Assert.True(cases >= 10, $"only {cases} goldens");
    }

    private int GoldensAtBatchOne()
    {
        int cases = 0;
        foreach (var name in TestPaths.AllGoldenNames().Where(n => !Path.GetFileName(n).StartsWith("train_")))
        {
            var c = ReferenceCaseRunner.LoadRnnLayer(TestPaths.Golden(name));
            var desc = c.Desc;
            var x = desc.BatchFirst ? RnnRunner.SwapFirstTwo(c.Input) : c.Input; // (T, N, I)
            int T = x.Shape[0], N = x.Shape[1], I = x.Shape[2];
            int len = c.Lengths?[0] ?? T;
            var xs = x.ToArray();
            var row = new float[len * I];
            for (int t = 0; t < len; t++) Array.Copy(xs, ((long)t * N) * I, row, (long)t * I, I);
            var one = RnnRunner.Prepare(desc, desc.BatchFirst ? Tensor.FromArray(row, 1, len, I) : Tensor.FromArray(row, len, 1, I));
            using var fp32 = new CpuBackend().CreateRnnPlan(c.Parameters);
            using var int8 = new CpuBackend(CpuWeightPrecision.Int8).CreateRnnPlan(c.Parameters);
            var (worst, failures) = Compare(fp32.Forward(one, false).Output.ToArray(), int8.Forward(one, false).Output.ToArray());
            output.WriteLine($"{Path.GetFileName(name)} ({desc}) sequence 0: max |int8 - fp32| {worst:E2}");
            Assert.True(worst > 0 && failures == 0, $"{name}: worst {worst}, {failures} outside {Tol}");
            cases++;
        }
        return cases;
    }

    [Fact]
    public void Registry_resolves_cpu_int8_and_names_both_qualifiers_when_refusing()
    {
        var b = Assert.IsType<CpuBackend>(BackendRegistry.Get("cpu:int8"));
        Assert.Equal(CpuWeightPrecision.Int8, b.RecurrentWeights);
        Assert.False(b.Bf16Weights);
        Assert.Equal("cpu:int8", b.Name);
        Assert.Same(b, BackendRegistry.Get("cpu:INT8"));
        Assert.Same(b, BackendRegistry.Get("cpu:bf16").WithQualifier("int8"));
        Assert.Equal("cpu:bf16", b.WithQualifier("bf16").Name);
        Assert.Contains("int8 recurrent weights at batch 1-4 (" + Int8.Name(Int8.Best) + ")", b.Description);
        Assert.DoesNotContain("int8", new CpuBackend().Description);
        Assert.Equal((3e-2, 3e-2), b.CheckTolerance);
        var e = Assert.Throws<ArgumentException>(() => BackendRegistry.Get("cpu:int4"));
        Assert.Contains("cpu:int4", e.Message);
        Assert.Contains("'bf16' and 'int8'", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new CpuBackend((CpuWeightPrecision)7));
    }

    [Fact]
    public void The_cli_refuses_an_unknown_cpu_qualifier_with_exit_2()
    {
        var (code, _, err) = CliProcess.Run(["bench", "--shapes", "small", "--backends", "cpu:int4", "--max-seconds", "0.05"]);
        output.WriteLine(err);
        Assert.Equal(2, code);
        Assert.Contains("cpu:int4", err);
    }

    [Fact]
    public void Bench_checks_cpu_int8_at_its_own_tolerance()
    {
        var problem = RnnFast.Bench.ProblemFile.Parse("lstm uni 1 8 1 64 100 inference\n", "inline")[0];
        var int8 = RnnFast.Bench.BenchRunner.CheckOnly(problem, BackendRegistry.Get("cpu:int8"));
        output.WriteLine($"{int8.Check}: max abs error {int8.MaxAbsError:E2}");
        Assert.True(int8.Correct, int8.CheckFailure);
        Assert.Contains("own tolerance", int8.Check);
        Assert.True(int8.MaxAbsError > TensorComparison.DefaultAbsTolerance, "int8 weights should differ from fp32 at batch 1");
    }

    [Fact]
    public void Bench_prints_cpu_bf16_and_int8_rows_beside_fp32()
    {
        string shapes = Path.Combine(Path.GetTempPath(), $"rnnfast-int8-{Guid.NewGuid():N}.txt");
        File.WriteAllText(shapes, "lstm uni 1 10 1 64 64 inference\ngru bi 1 10 1 48 48 inference\n");
        try
        {
            var (code, stdout, stderr) = CliProcess.Run(["bench", "--shapes", shapes, "--backends", "cpu,cpu:bf16,cpu:int8",
                "--format", "json", "--max-seconds", "0.2", "--max-reps", "3"], timeout: TimeSpan.FromMinutes(3));
            Assert.True(code == 0, $"exit {code}: {stderr}");
            var rows = JsonDocument.Parse(stdout).RootElement.GetProperty("results").EnumerateArray().ToList();
            foreach (var row in rows) output.WriteLine(row.ToString());
            Assert.Equal(6, rows.Count);
            foreach (var backend in new[] { "cpu", "cpu:bf16", "cpu:int8" })
            {
                var mine = rows.Where(x => x.GetProperty("backend").GetString() == backend).ToList();
                Assert.Equal(2, mine.Count);
                Assert.All(mine, x => Assert.True(x.GetProperty("correct").GetBoolean(), x.ToString()));
                Assert.All(mine, x => Assert.True(x.GetProperty("gflops").GetDouble() > 0, x.ToString()));
            }
        }
        finally
        {
            File.Delete(shapes);
        }
    }

    public static TheoryData<string, string?, string?, string> SimdPaths => new()
    {
        { "native", null, null, Int8.Name(Int8.Best) },
        { "AVX-512 without VNNI", "DOTNET_EnableAVXVNNI", "0", "AVX-512BW vpmaddwd" },
        { "AVX2 (VNNI kept)", "DOTNET_EnableAVX512", "0", "AVX-VNNI vpdpbusd" },
        { "AVX2 without VNNI", "DOTNET_EnableAVX512", "0;DOTNET_EnableAVXVNNI=0", "AVX2 vpmaddwd" },
        { "scalar", "DOTNET_EnableHWIntrinsic", "0", "scalar" },
    };

    [EverySimdPathTheory]
    [MemberData(nameof(SimdPaths))]
    public void Each_simd_path_runs_its_own_int8_kernel_within_tolerance(string path, string? variable, string? value, string kernel)
    {
        if (path != "native" && path != "scalar" && !Int8.Supported().Any(k => Int8.Name(k) == kernel))
        {
            output.WriteLine($"{path}: this CPU has no {kernel}; the path is not reachable here");
            Assert.DoesNotContain(kernel, Int8.Supported().Select(Int8.Name)); // the skip is for that reason only
            return;
        }
        var env = new Dictionary<string, string?> { ["DOTNET_EnableAVX512"] = null, ["DOTNET_EnableHWIntrinsic"] = null, ["DOTNET_EnableAVXVNNI"] = null };
        if (variable != null)
        {
            var parts = value!.Split(';');
            env[variable] = parts[0];
            foreach (var extra in parts.Skip(1)) env[extra.Split('=')[0]] = extra.Split('=')[1];
        }
        var (_, info, _) = CliProcess.Run(["info"], env);
        string line = info.Split('\n').FirstOrDefault(l => l.Contains("cpu:int8")) ?? info;
        output.WriteLine(line);
        Assert.Contains($"int8 recurrent weights at batch 1-4 ({kernel})", info);
        string shapes = Path.Combine(Path.GetTempPath(), $"rnnfast-int8-simd-{Guid.NewGuid():N}.txt");
        File.WriteAllText(shapes, string.Join('\n', "lstm uni 2 12 1 40 100 inference", "lstm bi 1 12 1 40 100 inference",
            "gru bi 2 12 1 40 100 inference", "rnn_tanh uni 1 12 1 40 100 inference", "rnn_relu bi 1 12 1 40 100 inference") + "\n");
        try
        {
            var (code, stdout, stderr) = CliProcess.Run(["bench", "--shapes", shapes, "--backends", "cpu:int8", "--format", "json",
                "--max-seconds", "0.05", "--max-reps", "2"], env, TimeSpan.FromMinutes(3));
            Assert.True(code == 0, $"{path}: exit {code}: {stderr}");
            var rows = JsonDocument.Parse(stdout).RootElement.GetProperty("results").EnumerateArray().ToList();
            Assert.Equal(5, rows.Count);
            foreach (var row in rows)
            {
                output.WriteLine($"{row.GetProperty("cell")} {row.GetProperty("dir")}: correct {row.GetProperty("correct")}");
                Assert.True(row.GetProperty("correct").GetBoolean(), $"{path}: {row}");
            }
        }
        finally
        {
            File.Delete(shapes);
        }
    }
}
