// Tests of the managed CPU backend's parts and of its plan against the reference: SGEMM (every variant, odd sizes)
// against a double-precision loop, pointwise operators at every length 0..80, the fast sigmoid/tanh error bound,
// CpuRnnPlan vs ReferenceRnnPlan forward and backward on random problems, concurrent inference, weight re-packing.
// The SIMD path is the machine's; run with DOTNET_EnableAVX512F=0 or DOTNET_EnableHWIntrinsic=0 for the others.
using RnnFast.Backends.Cpu;
using RnnFast.Backends.Reference;
using RnnFast.Checks;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

public sealed unsafe class CpuKernelTests(ITestOutputHelper output)
{
    private static readonly int[] Sizes = [1, 2, 3, 5, 7, 8, 12, 15, 16, 17, 20, 24, 31, 33, 64, 65, 100];

    private static float[] RandomArray(Random r, int n, float scale = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1) * scale;
        return a;
    }

    [Avx512Theory]
    [InlineData(1, 2, 1, 32)]
    [InlineData(1, 3, 300, 32)]
    [InlineData(1, 4, 77, 5)]
    [InlineData(1, 1, 40, 32)]
    [InlineData(2, 4, 129, 32)]
    [InlineData(2, 3, 5, 17)]
    [InlineData(3, 3, 64, 32)]
    [InlineData(3, 4, 33, 31)]
    [InlineData(4, 4, 200, 32)]
    [InlineData(4, 2, 1, 32)]
    [InlineData(4, 1, 9, 3)]
    public void GemvPanels_matches_a_double_loop_for_every_row_and_panel(int rows, int panels, int K, int cols)
    {
        var r = new Random(rows * 100000 + panels * 1000 + K);
        int lda = K + 3, ldc = panels * Sgemm.NR + 5; // strided rows: A and C are read and written in place
        var a = RandomArray(r, rows * lda);
        var b = RandomArray(r, panels * K * Sgemm.NR);
        var bias = RandomArray(r, panels * Sgemm.NR);
        foreach (var init in new[] { GemmInit.Zero, GemmInit.Load, GemmInit.Bias })
        {
            var start = RandomArray(r, rows * ldc);
            var got = (float[])start.Clone();
            fixed (float* pa = a, pb = b, pg = got, pbias = bias)
                Sgemm.GemvPanels(pa, lda, rows, new PackedB(new FloatBuf(pb, b.Length), K), 0, panels, pg, ldc, init, pbias, cols);
            for (int i = 0; i < rows * ldc; i++)
            {
                int row = i / ldc, g = i % ldc / Sgemm.NR, j = i % ldc % Sgemm.NR;
                if (g >= panels || j >= cols)
                {
                    Assert.True(start[i] == got[i], $"row {row} column {i % ldc} is outside the product but changed (init {init})");
                    continue;
                }
                double want = init == GemmInit.Load ? start[i] : init == GemmInit.Bias ? bias[g * Sgemm.NR + j] : 0;
                for (int k = 0; k < K; k++) want += (double)a[row * lda + k] * b[(long)g * K * Sgemm.NR + k * Sgemm.NR + j];
                Assert.True(Math.Abs(got[i] - want) <= 1e-5 * Math.Max(1, Math.Sqrt(K)), $"row {row} panel {g} col {j} init {init}: {got[i]} vs {want}");
            }
        }
    }

    [Fact]
    public void Cpu_backend_describes_its_path()
    {
        var b = new CpuBackend();
        output.WriteLine(b.Description);
        Assert.True(b.IsAvailable);
        Assert.Equal("cpu", b.Name);
        Assert.True(b.Score > new ReferenceBackend().Score);
        Assert.Contains(Pointwise.PathName, b.Description);
    }

    [Fact]
    public void Sgemm_matches_double_loop_for_odd_sizes_and_every_variant()
    {
        var r = new Random(1234);
        var triples = new List<(int M, int N, int K)>();
        foreach (int s in Sizes) triples.Add((s, s, s));
        for (int i = 0; i < 70; i++) triples.Add((Sizes[r.Next(Sizes.Length)], Sizes[r.Next(Sizes.Length)], Sizes[r.Next(Sizes.Length)]));
        triples.Add((300, 40, 600)); // several M and K blocks
        for (int i = 0; i < 24; i++) // row chunks (M > GemmRowChunk): a raw B packed by the first chunk, read by the rest
            triples.Add((Sgemm.GemmRowChunk + 1 + r.Next(3 * Sgemm.GemmRowChunk), 1 + r.Next(100), 1 + r.Next(60)));
        for (int i = 0; i < 16; i++) // 1-4 rows (AVX-512: panels in groups over the whole K), many panels, a partial last one
            triples.Add((1 + i % 4, 1 + r.Next(300), 1 + r.Next(400)));
        for (int i = 0; i < 32; i++) // several M blocks, K blocks and panels (a partial last one), odd K: every variant
            triples.Add((2 * Sgemm.MC + 5, 2 * Sgemm.NR + 7, Sgemm.GemmMaxKC + 3 + i % 2));
        int checkedCount = 0;
        foreach (var (M, N, K) in triples)
        {
            int variant = checkedCount++;
            bool transA = (variant & 1) != 0, accumulate = (variant & 2) != 0, useBias = (variant & 4) != 0 && !accumulate;
            int bForm = (variant >> 3) % 3; // 0 raw, 1 raw transposed, 2 pre-packed
            bool parallel = (variant & 16) != 0;
            var a = RandomArray(r, M * K);    // stored (M,K), or (K,M) when transA
            var b = RandomArray(r, K * N);    // stored (K,N), or (N,K) when transposed
            var bias = RandomArray(r, Sgemm.Panels(N) * Sgemm.NR);
            int ldc = N + 3;
            var c = RandomArray(r, M * ldc);
            var expected = new double[M * ldc];
            for (int m = 0; m < M; m++)
            for (int n = 0; n < ldc; n++)
            {
                if (n >= N) { expected[m * ldc + n] = c[m * ldc + n]; continue; }
                double acc = accumulate ? c[m * ldc + n] : useBias ? bias[n] : 0;
                for (int k = 0; k < K; k++)
                {
                    double av = transA ? a[k * M + m] : a[m * K + k];
                    double bv = bForm == 1 ? b[n * K + k] : b[k * N + n];
                    acc += av * bv;
                }
                expected[m * ldc + n] = acc;
            }
            var packed = new float[Sgemm.PackedBSize(K, N)];
            fixed (float* pa = a, pb = b, pbias = bias, pc = c, pp = packed)
            {
                var shape = new GemmShape(M, N, K);
                var ga = new GemmA(new FloatBuf(pa, a.Length), transA ? M : K, transA);
                var gc = new GemmC(new FloatBuf(pc, c.Length), ldc);
                var init = accumulate ? GemmInit.Load : useBias ? GemmInit.Bias : GemmInit.Zero;
                var gbias = useBias ? new FloatBuf(pbias, bias.Length) : default;
                var raw = new GemmB(new FloatBuf(pb, b.Length), bForm == 1 ? K : N, transposed: bForm == 1);
                if (bForm == 2)
                {
                    var panels = new PackedB(new FloatBuf(pp, packed.Length), K);
                    Sgemm.PackB(raw, N, null, null, panels, 0, Sgemm.Panels(N));
                    Sgemm.Gemm(shape, ga, GemmB.FromPacked(panels), gc, init, gbias, parallel);
                }
                else Sgemm.Gemm(shape, ga, raw, gc, init, gbias, parallel);
            }
            for (int i = 0; i < expected.Length; i++)
            {
                double tol = 1e-5 * (Math.Sqrt(K) + 1) + 1e-6 * Math.Abs(expected[i]);
                Assert.True(Math.Abs(c[i] - expected[i]) <= tol,
                    $"M={M} N={N} K={K} transA={transA} bForm={bForm} acc={accumulate} bias={useBias}: [{i / ldc},{i % ldc}] {c[i]} vs {expected[i]}");
            }
        }
    }

    [PoolThreadsFact]
    public void A_transposed_product_split_by_rows_equals_the_serial_one_bit_for_bit()
    {
        // dW = dG^T . X: with the pool's threads, A (stored transposed) is split by rows, each part packing its own rows
        // (B packed first by all); the sums run in the same order as on one thread, so the results are identical
        var r = new Random(5);
        foreach (var (M, N, K) in new[] { (4 * Sgemm.MC + 13, 70, 600), (2 * 2 * Sgemm.MC, 33, 40), (1000, 300, 17) })
        {
            var a = RandomArray(r, K * M); // stored (K, M)
            var b = RandomArray(r, K * N); // raw (K, N)
            var serial = new float[M * N];
            var parallel = new float[M * N];
            fixed (float* pa = a, pb = b, ps = serial, pp = parallel)
            {
                var ga = new GemmA(new FloatBuf(pa, a.Length), M, transposed: true);
                var gb = new GemmB(new FloatBuf(pb, b.Length), N);
                Sgemm.Gemm(new GemmShape(M, N, K), ga, gb, new GemmC(new FloatBuf(ps, serial.Length), N), GemmInit.Zero, parallel: false);
                Sgemm.Gemm(new GemmShape(M, N, K), ga, gb, new GemmC(new FloatBuf(pp, parallel.Length), N), GemmInit.Zero, parallel: true);
            }
            for (int i = 0; i < serial.Length; i++)
                Assert.True(serial[i] == parallel[i], $"M={M} N={N} K={K}: C[{i / N},{i % N}] {parallel[i]} split by rows vs {serial[i]} serial");
            double e = 0;
            for (int k = 0; k < K; k++) e += (double)a[k * M + M - 1] * b[k * N + N - 1];
            Assert.True(Math.Abs(parallel[M * N - 1] - e) <= 1e-4 * (Math.Sqrt(K) + 1), $"M={M} N={N} K={K}: last element {parallel[M * N - 1]} vs {e}");
        }
    }

    [Fact]
    public void Panel_product_and_gemv_match_double_loop()
    {
        var r = new Random(77);
        foreach (int M in new[] { 1, 2, 5, 9, 12, 16, 17, 20, 24, 29, 64 }) // in-place tiles: whole and partial 8- and 4-row ones
        foreach (int K in new[] { 1, 3, 16, 31, 257, 300 })
        foreach (var init in new[] { GemmInit.Zero, GemmInit.Load, GemmInit.Bias })
        {
            int cols = 1 + r.Next(Sgemm.NR);
            var a = RandomArray(r, M * K);
            var bp = RandomArray(r, K * Sgemm.NR);   // one packed panel
            var bias = RandomArray(r, Sgemm.NR);
            int ldc = Sgemm.NR + 5;
            var c = RandomArray(r, M * ldc);
            var before = (float[])c.Clone();
            fixed (float* pa = a, pbp = bp, pbias = bias, pc = c)
            {
                var ap = Sgemm.PrepareA(M, K, pa, K);
                Sgemm.PanelProduct(ap, new PackedB(new FloatBuf(pbp, bp.Length), K), 0, new GemmC(new FloatBuf(pc, c.Length), ldc), init, pbias, cols);
            }
            for (int m = 0; m < M; m++)
            for (int j = 0; j < ldc; j++)
            {
                double e;
                if (j >= cols) e = before[m * ldc + j];
                else
                {
                    e = init == GemmInit.Load ? before[m * ldc + j] : init == GemmInit.Bias ? bias[j] : 0;
                    for (int k = 0; k < K; k++) e += (double)a[m * K + k] * bp[k * Sgemm.NR + j];
                }
                Assert.True(Math.Abs(c[m * ldc + j] - e) <= 1e-5 * (Math.Sqrt(K) + 1), $"M={M} K={K} init={init} [{m},{j}] {c[m * ldc + j]} vs {e}");
            }
        }
    }

    [Fact]
    public void Padded_half_panels_give_the_full_kernels_result_bit_for_bit()
    {
        // a gate panel whose last 16 columns of B are zero (GateLayout.HalfPanelsFrom): the half kernel computes 16
        // columns and gives the other 16 their init; the full kernel's C must come out identical, whole tiles and edges
        var r = new Random(78);
        const int NR = Sgemm.NR;
        foreach (int M in new[] { 1, 3, 5, 8, 9, 16, 21 })
        foreach (int K in new[] { 1, 17, 300, 1100 }) // 1100: K blocks, later ones loading C
        foreach (var init in new[] { GemmInit.Zero, GemmInit.Load, GemmInit.Bias })
        {
            var a = RandomArray(r, M * K);
            var bp = RandomArray(r, K * NR);
            for (int k = 0; k < K; k++) Array.Clear(bp, k * NR + Sgemm.HalfNR, Sgemm.HalfNR);
            var bias = RandomArray(r, NR);
            int ldc = NR + 3;
            var full = RandomArray(r, M * ldc);
            var half = (float[])full.Clone();
            fixed (float* pa = a, pbp = bp, pbias = bias, pf = full, ph = half)
            {
                var ap = Sgemm.PrepareA(M, K, pa, K);
                var b = new PackedB(new FloatBuf(pbp, bp.Length), K);
                Sgemm.PanelProduct(ap, b, 0, new GemmC(new FloatBuf(pf, full.Length), ldc), init, pbias, NR);
                Sgemm.PanelProduct(ap, b, 0, new GemmC(new FloatBuf(ph, half.Length), ldc), init, pbias, NR, paddedHalf: true);
            }
            for (int i = 0; i < full.Length; i++)
                Assert.True(full[i].Equals(half[i]), $"M={M} K={K} init={init} [{i / ldc},{i % ldc}] half {half[i]} vs full {full[i]}");
        }
        // the general product: the last panels marked half (GemmB.FromPacked's halfFrom), row chunks, K blocks, both thread counts
        foreach (var (M, panels, K) in new[] { (9, 3, 40), (Sgemm.GemmRowChunk * 2 + 13, 8, 600), (37, 5, 1030) })
        foreach (var init in new[] { GemmInit.Zero, GemmInit.Load, GemmInit.Bias })
        foreach (bool parallel in new[] { false, true })
        {
            int N = panels * NR, halfFrom = panels - 2;
            var a = RandomArray(r, M * K);
            var packed = RandomArray(r, K * N);
            for (int p = halfFrom; p < panels; p++)
                for (int k = 0; k < K; k++) Array.Clear(packed, (p * K + k) * NR + Sgemm.HalfNR, Sgemm.HalfNR);
            var bias = RandomArray(r, N);
            var full = RandomArray(r, M * N);
            var half = (float[])full.Clone();
            fixed (float* pa = a, pp = packed, pbias = bias, pf = full, ph = half)
            {
                var ga = new GemmA(new FloatBuf(pa, a.Length), K);
                var b = new PackedB(new FloatBuf(pp, packed.Length), K);
                var gbias = init == GemmInit.Bias ? new FloatBuf(pbias, bias.Length) : default;
                Sgemm.Gemm(new GemmShape(M, N, K), ga, GemmB.FromPacked(b), new GemmC(new FloatBuf(pf, full.Length), N), init, gbias, parallel);
                Sgemm.Gemm(new GemmShape(M, N, K), ga, GemmB.FromPacked(b, halfFrom), new GemmC(new FloatBuf(ph, half.Length), N), init, gbias, parallel);
            }
            for (int i = 0; i < full.Length; i++)
                Assert.True(full[i].Equals(half[i]), $"M={M} N={N} K={K} init={init} parallel={parallel} [{i / N},{i % N}] half {half[i]} vs full {full[i]}");
        }
    }

    [Fact]
    public void Pointwise_ops_are_exact_at_every_length_and_write_nothing_past_it()
    {
        var r = new Random(5);
        for (int len = 0; len <= 80; len++)
        {
            var x = RandomArray(r, len + 1, 6f);
            var b = RandomArray(r, len + 1, 6f);
            var sig = new float[len + 1];
            var tnh = new float[len + 1];
            var sum = new float[len + 1];
            var axpy = (float[])b.Clone();
            sig[len] = tnh[len] = sum[len] = 42f;
            fixed (float* px = x, pb = b, ps = sig, pt = tnh, pu = sum, py = axpy)
            {
                var s = new SigmoidOp(px, ps); Pointwise.Run(ref s, len);
                var t = new TanhOp(px, pt); Pointwise.Run(ref t, len);
                var u = new AddOp(px, pb, pu); Pointwise.Run(ref u, len);
                var y = new AxpyOp(0.5f, px, py); Pointwise.Run(ref y, len);
            }
            for (int i = 0; i < len; i++)
            {
                Assert.True(Math.Abs(sig[i] - 1 / (1 + Math.Exp(-x[i]))) <= 1e-6, $"sigmoid len={len} i={i}");
                Assert.True(Math.Abs(tnh[i] - Math.Tanh(x[i])) <= 1e-6, $"tanh len={len} i={i}");
                Assert.Equal(x[i] + b[i], sum[i]);
                Assert.True(Math.Abs(axpy[i] - (b[i] + 0.5 * x[i])) <= 1e-6, $"axpy len={len} i={i}");
            }
            Assert.Equal(42f, sig[len]);
            Assert.Equal(42f, tnh[len]);
            Assert.Equal(42f, sum[len]);
            Assert.Equal(b[len], axpy[len]);
        }
    }

    [Fact]
    public void Fast_sigmoid_and_tanh_stay_within_their_documented_error()
    {
        const int count = 400_001; // [-20, 20] in steps of 1e-4
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)(-20.0 + i * 1e-4);
        var sig = new float[count];
        var tnh = new float[count];
        fixed (float* px = x, ps = sig, pt = tnh)
        {
            var s = new SigmoidOp(px, ps); Pointwise.Run(ref s, count);
            var t = new TanhOp(px, pt); Pointwise.Run(ref t, count);
        }
        double sigErr = 0, tanhErr = 0, sigScalar = 0, tanhScalar = 0, expRel = 0;
        for (int i = 0; i < count; i++)
        {
            double xs = x[i];
            sigErr = Math.Max(sigErr, Math.Abs(sig[i] - 1 / (1 + Math.Exp(-xs))));
            tanhErr = Math.Max(tanhErr, Math.Abs(tnh[i] - Math.Tanh(xs)));
            sigScalar = Math.Max(sigScalar, Math.Abs(FastMath.Sigmoid(x[i]) - 1 / (1 + Math.Exp(-xs))));
            tanhScalar = Math.Max(tanhScalar, Math.Abs(FastMath.Tanh(x[i]) - Math.Tanh(xs)));
            expRel = Math.Max(expRel, Math.Abs(FastMath.Exp(x[i]) / Math.Exp(xs) - 1));
        }
        output.WriteLine($"path {Pointwise.PathName}: sigmoid {sigErr:E2} (scalar {sigScalar:E2}), tanh {tanhErr:E2} (scalar {tanhScalar:E2}), exp rel {expRel:E2}");
        Assert.True(sigErr <= 1e-6 && sigScalar <= 1e-6, $"sigmoid max abs error {sigErr:E2} / {sigScalar:E2}");
        Assert.True(tanhErr <= 1e-6 && tanhScalar <= 1e-6, $"tanh max abs error {tanhErr:E2} / {tanhScalar:E2}");
        Assert.True(expRel <= 1e-6, $"exp max rel error {expRel:E2}");
        Assert.Equal(1f, FastMath.Sigmoid(100f));
        Assert.True(FastMath.Sigmoid(-100f) is >= 0f and < 1e-30f);
        Assert.Equal(1f, FastMath.Tanh(100f));
        Assert.Equal(-1f, FastMath.Tanh(-100f));
    }

    public static IEnumerable<object[]> Problems() => new[]
    {
        // mode, I, H, layers, bidir, proj, bias, T, N, varlen, h0
        new object[] { "lstm", 5, 7, 2, true, 0, true, 6, 4, true, true },
        // H a multiple of 32 (no padding columns: dG is not cleared before reuse), masked steps, every cell
        new object[] { "lstm", 6, 64, 2, true, 0, true, 5, 3, true, true },
        new object[] { "gru", 5, 32, 2, true, 0, true, 5, 4, true, true },
        new object[] { "rnn_relu", 4, 32, 1, false, 0, true, 6, 5, true, false },
        new object[] { "lstm", 7, 32, 1, false, 16, true, 4, 3, true, true },
        new object[] { "lstm", 6, 40, 2, true, 3, true, 5, 3, true, true },
        new object[] { "lstm", 4, 36, 1, false, 0, false, 7, 1, false, false },
        new object[] { "lstm", 9, 70, 1, false, 0, true, 4, 9, true, true },   // per-step split across threads
        new object[] { "lstm", 9, 70, 1, true, 40, true, 4, 9, false, true },  // directions in parallel, projection
        new object[] { "gru", 3, 33, 2, true, 0, true, 5, 4, true, true },
        new object[] { "gru", 8, 65, 1, false, 0, false, 4, 1, false, true },
        new object[] { "gru", 9, 70, 2, false, 0, true, 3, 9, true, false },
        new object[] { "rnn_tanh", 4, 5, 2, false, 0, true, 7, 1, false, true },
        new object[] { "rnn_relu", 6, 17, 1, true, 0, false, 5, 5, true, true },
        new object[] { "rnn_tanh", 7, 100, 1, true, 0, true, 3, 11, false, false },
        // batch 2-4: the multi-panel small-batch step (one gate: up to 4 chunks a pass, split between threads)
        new object[] { "rnn_tanh", 7, 150, 2, false, 0, true, 5, 2, true, true },
        new object[] { "rnn_relu", 5, 100, 1, true, 0, true, 4, 3, true, false },
        new object[] { "lstm", 6, 70, 1, false, 0, true, 5, 2, true, true },
        new object[] { "gru", 6, 97, 1, false, 0, true, 5, 3, true, true },
        new object[] { "lstm", 5, 140, 2, true, 100, true, 4, 2, true, true }, // projection: 3 full panels and a partial one
    };

    [Theory]
    [MemberData(nameof(Problems))]
    public void Plan_matches_reference_forward_and_backward(string mode, int I, int H, int L, bool bidir, int proj, bool bias,
        int T, int N, bool varlen, bool withH0)
    {
        var desc = new RnnDesc(RnnDesc.ParseMode(mode), I, H, L, bidir, projSize: proj, bias: bias);
        var r = new Random(HashCode.Combine(mode, I, H, L, T, N));
        var parameters = RnnParameters.Create(desc, r);
        int LD = L * desc.Directions, Ho = desc.OutputHiddenSize;
        var x = Tensor.FromArray(RandomArray(r, T * N * I), T, N, I);
        var h0 = withH0 ? Tensor.FromArray(RandomArray(r, LD * N * Ho), LD, N, Ho) : null;
        var c0 = withH0 && desc.HasCellState ? Tensor.FromArray(RandomArray(r, LD * N * H), LD, N, H) : null;
        int[]? lengths = null;
        if (varlen && N > 1)
        {
            lengths = new int[N];
            for (int n = 0; n < N; n++) lengths[n] = 1 + r.Next(T);
            lengths[N / 2] = T;
        }
        var inputs = RnnRunner.Prepare(desc, x, h0, c0, lengths);
        using var cpu = new CpuBackend().CreateRnnPlan(parameters);
        using var reference = new ReferenceBackend().CreateRnnPlan(parameters);

        var fc = cpu.Forward(inputs, training: true);
        var fr = reference.Forward(inputs, training: true);
        var fi = cpu.Forward(inputs, training: false);
        var checks = new List<TensorCheck>
        {
            TensorComparison.Compare("output", fc.Output, fr.Output),
            TensorComparison.Compare("h_n", fc.HN, fr.HN),
            TensorComparison.Compare("inference output", fi.Output, fr.Output),
            TensorComparison.Compare("inference h_n", fi.HN, fr.HN),
        };
        if (desc.HasCellState)
        {
            checks.Add(TensorComparison.Compare("c_n", fc.CN!, fr.CN!));
            checks.Add(TensorComparison.Compare("inference c_n", fi.CN!, fr.CN!));
        }

        var dOut = Tensor.FromArray(RandomArray(r, fr.Output.Length), fr.Output.Shape);
        var dHN = Tensor.FromArray(RandomArray(r, fr.HN.Length), fr.HN.Shape);
        var dCN = desc.HasCellState ? Tensor.FromArray(RandomArray(r, fr.CN!.Length), fr.CN.Shape) : null;
        var gc = cpu.Backward(inputs, fc, dOut, dHN, dCN);
        var gr = reference.Backward(inputs, fr, dOut, dHN, dCN);
        checks.Add(TensorComparison.Compare("grad_input", gc.DInput, gr.DInput));
        checks.Add(TensorComparison.Compare("grad_h0", gc.DH0, gr.DH0));
        if (desc.HasCellState) checks.Add(TensorComparison.Compare("grad_c0", gc.DC0!, gr.DC0!));
        for (int i = 0; i < parameters.Ids.Count; i++)
            checks.Add(TensorComparison.Compare("grad." + parameters.Ids[i].TorchName, gc.DParams.Tensors[i], gr.DParams.Tensors[i]));

        // only some upstream gradients given (null = zero)
        var gc2 = cpu.Backward(inputs, fc, null, dHN, null);
        var gr2 = reference.Backward(inputs, fr, null, dHN, null);
        checks.Add(TensorComparison.Compare("grad_input (dh_n only)", gc2.DInput, gr2.DInput));
        checks.Add(TensorComparison.Compare("grad.weight_hh_l0 (dh_n only)", gc2.DParams.Tensors[1], gr2.DParams.Tensors[1]));

        foreach (var c in checks) output.WriteLine(c.ToString());
        var failed = checks.Where(c => !c.Passed).Select(c => c.ToString()).ToList();
        Assert.True(failed.Count == 0, string.Join("; ", failed));

        // the same backward adding into kept gradient buffers, on the buffers the disposed forward gave back
        RnnTestProblems.AssertAccumulatedBackward(cpu, inputs, fc, gr, dOut, dHN, dCN);
    }

    [Fact]
    public void Concurrent_inference_gives_the_single_threaded_result()
    {
        var desc = new RnnDesc(RnnMode.Lstm, 24, 96, 2, bidirectional: true);
        var r = new Random(9);
        var parameters = RnnParameters.Create(desc, r);
        using var plan = new CpuBackend().CreateRnnPlan(parameters);
        var inputs = new RnnInputs[8];
        for (int k = 0; k < inputs.Length; k++)
            inputs[k] = RnnRunner.Prepare(desc, Tensor.FromArray(RandomArray(r, 12 * 6 * 24), 12, 6, 24), lengths: [12, 3, 7, 12, 1, 9]);
        var expected = inputs.Select(i => plan.Forward(i, training: false)).ToArray();

        var results = new RnnForwardResult[inputs.Length][];
        var threads = Enumerable.Range(0, inputs.Length).Select(k => new Thread(() =>
        {
            var mine = new RnnForwardResult[inputs.Length];
            for (int j = 0; j < inputs.Length; j++) mine[j] = plan.Forward(inputs[(j + k) % inputs.Length], training: false);
            results[k] = mine;
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        for (int k = 0; k < inputs.Length; k++)
        for (int j = 0; j < inputs.Length; j++)
        {
            var e = expected[(j + k) % inputs.Length];
            Assert.Equal(e.Output.ToArray(), results[k][j].Output.ToArray());
            Assert.Equal(e.HN.ToArray(), results[k][j].HN.ToArray());
            Assert.Equal(e.CN!.ToArray(), results[k][j].CN!.ToArray());
        }
    }

    [Theory]
    [InlineData(1, 32)]
    [InlineData(3, 40)]
    [InlineData(200, 1536)]
    [InlineData(257, 4112)]
    public void Gradient_rows_on_the_pool_equal_the_serial_loop_bit_for_bit(int rows, int cols)
    {
        var r = new Random(rows * 7919 + cols);
        var m = RandomArray(r, rows * cols);
        // rows of m in physical order into a target of rows - rows / 5 rows (every fifth physical row is padding)
        int kept = rows - rows / 5;
        var physToRow = new int[rows];
        for (int c = 0, next = kept - 1; c < rows; c++) physToRow[c] = c % 5 == 4 ? -1 : next--;
        foreach (bool add in new[] { false, true })
        {
            var start = RandomArray(r, kept * cols);
            var target = Tensor.FromArray((float[])start.Clone(), kept, cols);
            fixed (float* pm = m) GradientRows.Unpermute(pm, cols, physToRow, target, add);
            var expect = (float[])start.Clone();
            for (int c = 0; c < rows; c++)
                if (physToRow[c] >= 0)
                    for (int j = 0; j < cols; j++)
                    {
                        int i = physToRow[c] * cols + j;
                        expect[i] = add ? start[i] + m[c * cols + j] : m[c * cols + j];
                    }
            Assert.Equal(expect, target.ToArray());
        }
    }

    [Theory]
    [InlineData(1, 3, 1, true)]
    [InlineData(40, 17, 9, true)]
    [InlineData(200, 100, 300, true)]
    [InlineData(1536, 64, 1280, true)]
    [InlineData(2048, 40, 700, true)]
    [InlineData(37, 50, 300, false)]
    [InlineData(600, 33, 260, false)]
    public void A_products_row_sums_are_the_serial_column_sums_and_leave_C_alone(int M, int N, int K, bool transposed)
    {
        // dW = dG^T . X with the bias gradient dG's column sums taken as A is packed; a row-major A (read in place on
        // AVX-512) sums in a loop of its own. Either way: each sum adds its elements in k order from zero.
        var r = new Random(M * 31 + N * 7 + K);
        var a = RandomArray(r, M * K); // transposed: stored K x M (dG); else M x K
        var b = RandomArray(r, K * N);
        float A(int i, int k) => transposed ? a[k * M + i] : a[i * K + k];
        var want = new float[M];
        for (int k = 0; k < K; k++)
            for (int i = 0; i < M; i++) want[i] += A(i, k);
        var sums = GC.AllocateArray<float>(M, pinned: true);
        sums.AsSpan().Fill(float.NaN); // every sum is written
        var plain = new float[M * N];
        var withSums = new float[M * N];
        fixed (float* pa = a, pb = b, pc = plain, pw = withSums)
        {
            var ga = new GemmA(new FloatBuf(pa, a.Length), transposed ? M : K, transposed);
            var gb = new GemmB(new FloatBuf(pb, b.Length), N);
            Sgemm.Gemm(new GemmShape(M, N, K), ga, gb, new GemmC(new FloatBuf(pc, plain.Length), N), GemmInit.Zero);
            Sgemm.Gemm(new GemmShape(M, N, K), ga.WithRowSums(FloatBuf.Of(sums)), gb, new GemmC(new FloatBuf(pw, withSums.Length), N),
                GemmInit.Zero);
        }
        Assert.Equal(want, sums);
        Assert.Equal(plain, withSums);
    }

    [Fact]
    public void A_changed_weight_is_repacked_before_the_next_forward()
    {
        var desc = new RnnDesc(RnnMode.Gru, 6, 20);
        var r = new Random(3);
        var parameters = RnnParameters.Create(desc, r);
        using var plan = new CpuBackend().CreateRnnPlan(parameters);
        using var reference = new ReferenceBackend().CreateRnnPlan(parameters);
        var inputs = RnnRunner.Prepare(desc, Tensor.FromArray(RandomArray(r, 5 * 2 * 6), 5, 2, 6));
        var before = plan.Forward(inputs, training: false).Output.ToArray();

        var whh = parameters.Get(0, 0, RnnParamKind.WeightHh);
        for (int i = 0; i < whh.Length; i += 3) whh.Span[i] += 0.25f;
        parameters.Get(0, 0, RnnParamKind.BiasIh).Span[4] -= 0.5f;
        whh.MarkChanged();
        parameters.Get(0, 0, RnnParamKind.BiasIh).MarkChanged();

        var after = plan.Forward(inputs, training: false).Output;
        Assert.NotEqual(before, after.ToArray());
        var check = TensorComparison.Compare("output after update", after, reference.Forward(inputs, training: false).Output);
        Assert.True(check.Passed, check.ToString());
    }
}

/// <summary>A theory for an AVX-512-only kernel: reported as skipped, with the reason, on a run without Vector512.</summary>
public sealed class Avx512TheoryAttribute : TheoryAttribute
{
    public Avx512TheoryAttribute()
    {
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
            Skip = "AVX-512 kernel: this run has no Vector512 (DOTNET_EnableAVX512=0, HWIntrinsic off, or no AVX-512 CPU)";
    }
}

/// <summary>A fact that needs the cpu backend's pool to have two threads or more: skipped, with the reason, on one.</summary>
public sealed class PoolThreadsFactAttribute : FactAttribute
{
    public PoolThreadsFactAttribute()
    {
        if (RnnFast.Backends.Cpu.WorkerPool.Shared.Size < 2)
            Skip = "the cpu backend's pool has one thread here: nothing runs split between threads to compare";
    }
}
