// The cpu backend's opt-in bf16 recurrent weights (batch-1 inference): rounding is round-to-nearest-even with at
// most 2^-8 relative error, the bf16 GEMV equals an fp32 GEMV over the rounded weights, and a bf16 plan stays
// within the documented tolerance of fp32 at N = 1 while every other case (N > 1, training) is bit-identical to fp32.
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

    [Theory]
    [InlineData("lstm", 0)]
    [InlineData("lstm", 24)]
    [InlineData("gru", 0)]
    [InlineData("rnn_tanh", 0)]
    [InlineData("rnn_relu", 0)]
    public void Bf16_plan_is_close_at_batch_one_and_exact_elsewhere(string mode, int proj)
    {
        var r = new Random(11);
        var desc = new RnnDesc(RnnDesc.ParseMode(mode), 40, 72, 2, bidirectional: true, projSize: proj);
        var parameters = RnnParameters.Create(desc, r);
        using var fp32 = new CpuBackend().CreateRnnPlan(parameters);
        using var bf16 = new CpuBackend(bf16Weights: true).CreateRnnPlan(parameters);
        const int T = 30;

        var one = RnnRunner.Prepare(desc, Tensor.FromArray(RandomArray(r, T * 40), T, 1, 40));
        var a = fp32.Forward(one, training: false);
        var b = bf16.Forward(one, training: false);
        double worst = 0, scale = 0;
        var ya = a.Output.ToArray();
        var yb = b.Output.ToArray();
        for (int i = 0; i < ya.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(ya[i] - yb[i]));
            scale = Math.Max(scale, Math.Abs(ya[i]));
        }
        output.WriteLine($"{mode} proj={proj}: N=1 bf16 vs fp32 max |diff| {worst:E2} (max |y| {scale:F3})");
        Assert.True(worst > 0, "bf16 weights were not used at batch 1");
        Assert.True(worst < 2e-2, $"bf16 output differs by {worst}");

        // N > 1 and training never use the bf16 copies
        var four = RnnRunner.Prepare(desc, Tensor.FromArray(RandomArray(r, T * 4 * 40), T, 4, 40));
        Assert.Equal(fp32.Forward(four, training: false).Output.ToArray(), bf16.Forward(four, training: false).Output.ToArray());
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
