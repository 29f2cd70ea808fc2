// The cpu backend's opt-in bf16 recurrent weights (inference at batch 1, and 2-4 on AVX-512): rounding is
// round-to-nearest-even with at most 2^-8 relative error, the bf16 GEMV and multi-row kernel equal fp32 products over
// the rounded weights, and a bf16 plan stays within the documented tolerance of fp32 at those batches while every other
// case (larger batches, training) is bit-identical to fp32.
using RnnFast.Backends.Cpu;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

public sealed unsafe class CpuBf16Tests(ITestOutputHelper output)
{
    private static float[] RandomArray(Random r, int n, float scale = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1) * scale;
        return a;
    }

    [Fact]
    public void Rounding_is_to_nearest_even_within_two_to_the_minus_eight()
    {
        // 1 + 2^-8 lies halfway between bf16 1.0 and 1 + 2^-7: ties go to the even mantissa (1.0)
        Assert.Equal(1f, Bf16.ToSingle(Bf16.FromSingle(1f + MathF.Pow(2, -8))));
        // 1 + 3*2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even)
        Assert.Equal(1f + MathF.Pow(2, -6), Bf16.ToSingle(Bf16.FromSingle(1f + 3 * MathF.Pow(2, -8))));
        Assert.True(float.IsNaN(Bf16.ToSingle(Bf16.FromSingle(float.NaN))));
        Assert.Equal(float.PositiveInfinity, Bf16.ToSingle(Bf16.FromSingle(float.PositiveInfinity)));
        var r = new Random(5);
        double worst = 0;
        for (int i = 0; i < 100_000; i++)
        {
            float x = (float)((r.NextDouble() * 2 - 1) * Math.Pow(10, r.Next(-6, 6)));
            if (x == 0) continue;
            worst = Math.Max(worst, Math.Abs(Bf16.ToSingle(Bf16.FromSingle(x)) - x) / Math.Abs(x));
        }
        output.WriteLine($"worst relative rounding error {worst:E3} (bound 2^-8 = {Math.Pow(2, -8):E3})");
        Assert.True(worst <= Math.Pow(2, -8), $"worst relative error {worst}");
    }

    [Theory]
    [InlineData(1, 32)]
    [InlineData(7, 5)]
    [InlineData(300, 32)]
    [InlineData(513, 17)]
    public void Gemv_equals_fp32_gemv_over_the_rounded_weights(int K, int cols)
    {
        var r = new Random(K);
        var a = RandomArray(r, K);
        var panel = RandomArray(r, K * Sgemm.NR);
        var rounded = panel.Select(v => Bf16.ToSingle(Bf16.FromSingle(v))).ToArray();
        var bf = panel.Select(Bf16.FromSingle).ToArray();
        var bias = RandomArray(r, Sgemm.NR);
        foreach (var init in new[] { GemmInit.Zero, GemmInit.Load, GemmInit.Bias })
        {
            var start = RandomArray(r, Sgemm.NR);
            var got = (float[])start.Clone();
            fixed (float* pa = a, pg = got, pb = bias)
            fixed (ushort* pw = bf)
                Bf16.Gemv(K, pa, pw, pg, init, pb, cols);
            for (int j = 0; j < Sgemm.NR; j++)
            {
                if (j >= cols)
                {
                    Assert.Equal(start[j], got[j]); // columns past cols are never written
                    continue;
                }
                double want = init == GemmInit.Load ? start[j] : init == GemmInit.Bias ? bias[j] : 0;
                for (int k = 0; k < K; k++) want += (double)a[k] * rounded[k * Sgemm.NR + j];
                Assert.True(Math.Abs(got[j] - want) <= 1e-5 * Math.Max(1, Math.Sqrt(K)), $"init {init} col {j}: {got[j]} vs {want}");
            }
        }
    }

    [Avx512Theory]
    [InlineData(1, 3, 40)]
    [InlineData(2, 4, 129)]
    [InlineData(2, 1, 7)]
    [InlineData(3, 3, 64)]
    [InlineData(4, 4, 33)]
    [InlineData(4, 2, 1)]
    public void GemvPanels_equals_fp32_over_the_rounded_weights(int rows, int panels, int K)
    {
        var r = new Random(rows * 1000 + panels * 10 + K);
        int lda = K + 5, ldc = panels * Sgemm.NR + 3, cols = K % 2 == 0 ? Sgemm.NR : 29;
        var a = RandomArray(r, rows * lda);
        var w = RandomArray(r, panels * K * Sgemm.NR);
        var rounded = w.Select(v => Bf16.ToSingle(Bf16.FromSingle(v))).ToArray();
        var bf = w.Select(Bf16.FromSingle).ToArray();
        var bias = RandomArray(r, panels * Sgemm.NR);
        foreach (var init in new[] { GemmInit.Zero, GemmInit.Load, GemmInit.Bias })
        {
            var start = RandomArray(r, rows * ldc);
            var got = (float[])start.Clone();
            fixed (float* pa = a, pg = got, pb = bias)
            fixed (ushort* pw = bf)
                Bf16.GemvPanels(K, pa, lda, rows, pw, (nint)K * Sgemm.NR, panels, pg, ldc, init, pb, cols);
            for (int i = 0; i < got.Length; i++)
            {
                int row = i / ldc, g = i % ldc / Sgemm.NR, j = i % ldc % Sgemm.NR;
                if (g >= panels || j >= cols)
                {
                    Assert.True(start[i] == got[i], $"row {row} column {i % ldc} is outside the product but changed");
                    continue;
                }
                double want = init == GemmInit.Load ? start[i] : init == GemmInit.Bias ? bias[g * Sgemm.NR + j] : 0;
                for (int k = 0; k < K; k++) want += (double)a[row * lda + k] * rounded[(g * K + k) * Sgemm.NR + j];
                Assert.True(Math.Abs(got[i] - want) <= 1e-5 * Math.Max(1, Math.Sqrt(K)), $"init {init} row {row} panel {g} col {j}: {got[i]} vs {want}");
            }
        }
    }

    [Theory]
    [InlineData("lstm", 0)]
    [InlineData("lstm", 24)]
    [InlineData("gru", 0)]
    [InlineData("rnn_tanh", 0)]
    [InlineData("rnn_relu", 0)]
    public void Bf16_plan_is_close_at_small_batches_and_exact_elsewhere(string mode, int proj)
    {
        var r = new Random(11);
        var desc = new RnnDesc(RnnDesc.ParseMode(mode), 40, 72, 2, bidirectional: true, projSize: proj);
        var parameters = RnnParameters.Create(desc, r);
        using var fp32 = new CpuBackend().CreateRnnPlan(parameters);
        using var bf16 = new CpuBackend(bf16Weights: true).CreateRnnPlan(parameters);
        const int T = 30;

        var one = RnnRunner.Prepare(desc, Tensor.FromArray(RandomArray(r, T * 40), T, 1, 40));
        // batch 1 always reads the bf16 copy; batches 2-4 on AVX-512 (the multi-row kernel); larger batches never
        foreach (int N in new[] { 1, 2, 3, 4, 5 })
        {
            var x = N == 1 ? one : RnnRunner.Prepare(desc, Tensor.FromArray(RandomArray(r, T * N * 40), T, N, 40));
            var ya = fp32.Forward(x, training: false).Output.ToArray();
            var yb = bf16.Forward(x, training: false).Output.ToArray();
            double worst = 0, scale = 0;
            for (int i = 0; i < ya.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(ya[i] - yb[i]));
                scale = Math.Max(scale, Math.Abs(ya[i]));
            }
            output.WriteLine($"{mode} proj={proj}: N={N} bf16 vs fp32 max |diff| {worst:E2} (max |y| {scale:F3})");
            bool reduced = N == 1 || (N <= Bf16.MaxRows && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated);
            if (reduced)
            {
                Assert.True(worst > 0, $"bf16 weights were not used at batch {N}");
                Assert.True(worst < 2e-2, $"bf16 output at batch {N} differs by {worst}");
            }
            else Assert.True(worst == 0, $"batch {N} should run in fp32 but differs by {worst}");
        }

        // training never uses the bf16 copies
        Assert.Equal(fp32.Forward(one, training: true).Output.ToArray(), bf16.Forward(one, training: true).Output.ToArray());
    }

    [Fact]
    public void Bf16_backend_says_so_in_its_description()
    {
        var b = new CpuBackend(bf16Weights: true);
        Assert.True(b.Bf16Weights);
        Assert.Contains("bf16", b.Description);
        Assert.DoesNotContain("bf16", new CpuBackend().Description);
    }

    [Fact]
    public void Bench_checks_cpu_bf16_at_its_own_tolerance_and_cpu_at_the_default()
    {
        var problem = RnnFast.Bench.ProblemFile.Parse("lstm uni 1 8 1 64 64 inference\n", "inline")[0];
        var bf16 = RnnFast.Bench.BenchRunner.CheckOnly(problem, RnnFast.Backends.BackendRegistry.Get("cpu:bf16"));
        output.WriteLine($"{bf16.Check}: max abs error {bf16.MaxAbsError:E2}");
        Assert.True(bf16.Correct, bf16.CheckFailure);
        Assert.Contains("own tolerance", bf16.Check);
        Assert.True(bf16.MaxAbsError > RnnFast.Checks.TensorComparison.DefaultAbsTolerance / 100, "bf16 weights should differ from fp32 at batch 1");
        var fp32 = RnnFast.Bench.BenchRunner.CheckOnly(problem, new CpuBackend());
        Assert.True(fp32.Correct, fp32.CheckFailure);
        Assert.DoesNotContain("own tolerance", fp32.Check);
    }

    [Fact]
    public void Registry_resolves_cpu_bf16_and_rejects_other_qualifiers()
    {
        var b = Assert.IsType<CpuBackend>(RnnFast.Backends.BackendRegistry.Get("cpu:bf16"));
        Assert.True(b.Bf16Weights);
        Assert.Equal("cpu:bf16", b.Name);
        Assert.Same(b, RnnFast.Backends.BackendRegistry.Get("cpu:BF16"));
        var e = Assert.Throws<ArgumentException>(() => RnnFast.Backends.BackendRegistry.Get("cpu:fp16"));
        Assert.Contains("cpu:fp16", e.Message);
    }
}
