// The cpu backend's batch parts (TimeLoop.ForwardBatchParts): inference with small recurrent weights cuts the batch into
// row ranges that run every step on their own thread. Each case first asserts that the plan takes that path (so the
// test cannot pass on the other one), then compares outputs, h_n and c_n with the reference: uneven parts, variable
// lengths (rows finishing inside a part), initial states, projection, GRU's separate recurrent product, both
// directions, stacked layers. Serial (ReliabilityCollection): it sets the process's worker pool to 2 threads.
using RnnFast.Backends;
using RnnFast.Backends.Cpu;
using Xunit;

namespace RnnFast.Tests;

[Collection(ReliabilityCollection.Name)]
public sealed class CpuBatchPartsTests : IDisposable
{
    private static readonly int Cores = Math.Max(1, Environment.ProcessorCount);

    public CpuBatchPartsTests() => WorkerPool.Resize(2);

    public void Dispose() => WorkerPool.Resize(Cores);

    // Bidirectional cases are small enough (T=3) that the two directions do not run side by side on the two threads.
    [Theory]
    [InlineData("lstm", 8, 16, 0, 1, false, 8, 7)]
    [InlineData("lstm", 12, 16, 0, 2, true, 8, 3)]
    [InlineData("lstm", 8, 40, 24, 1, false, 13, 7)]
    [InlineData("lstm", 8, 40, 24, 2, false, 9, 7)]
    [InlineData("gru", 10, 48, 0, 1, false, 17, 7)]
    [InlineData("gru", 6, 16, 0, 2, true, 8, 3)]
    [InlineData("rnn_tanh", 8, 20, 0, 2, true, 11, 3)]
    [InlineData("rnn_relu", 5, 16, 0, 1, false, 33, 7)]
    // past half the L2 (1 MiB of W_hh), streamed parts of whole row tiles: 48 rows are 24 a thread, 3 tiles of 8 (AVX-512) or 4 of 6 (AVX2), over 8 steps
    [InlineData("lstm", 8, 256, 0, 1, false, 48, 8)]
    [InlineData("rnn_tanh", 8, 512, 0, 2, false, 48, 8)]
    public void Inference_in_batch_parts_matches_the_reference(string mode, int I, int H, int P, int L, bool bidirectional, int N, int T)
    {
        using var c = new PartsCase(mode, I, H, P, L, bidirectional, N, T, seed: N * 31 + H);
        int runs = TimeLoop.BatchPartRuns;
        var got = c.Ours.Forward(c.Inputs, training: false);
        Assert.Equal(c.Slots, TimeLoop.BatchPartRuns - runs); // every layer-direction ran in parts
        var want = c.Oracle.Forward(c.Inputs, training: false);
        RnnTestProblems.AssertClose(want.Output, got.Output, "output");
        RnnTestProblems.AssertClose(want.HN, got.HN, "h_n");
        if (c.Desc.HasCellState) RnnTestProblems.AssertClose(want.CN!, got.CN!, "c_n");
        RnnTestProblems.AssertPaddingIsZero(got.Output, c.Lengths);
    }

    // Training: the forward (gates, h, c, GRU's W_hn h kept per step) and the backward time loop (gate gradients,
    // dh_prev, the LSTM projection's dH and dh_raw) both run in parts; the whole-sequence dW, bias and dX products after.
    [Theory]
    [InlineData("lstm", 8, 16, 0, 1, false, 8, 7)]
    [InlineData("lstm", 8, 40, 24, 2, false, 9, 7)]
    [InlineData("lstm", 12, 16, 0, 2, true, 8, 3)]
    [InlineData("gru", 10, 48, 0, 1, false, 17, 7)]
    [InlineData("gru", 6, 16, 0, 2, true, 8, 3)]
    [InlineData("rnn_relu", 5, 16, 0, 1, false, 33, 7)]
    [InlineData("rnn_tanh", 8, 512, 0, 1, false, 48, 8)] // streamed parts (see the inference cases)
    [InlineData("lstm", 8, 256, 0, 1, false, 48, 8)]
    public void Training_in_batch_parts_matches_the_reference(string mode, int I, int H, int P, int L, bool bidirectional, int N, int T)
    {
        using var c = new PartsCase(mode, I, H, P, L, bidirectional, N, T, seed: N * 37 + H);
        var (desc, inputs, ours, oracle) = (c.Desc, c.Inputs, c.Ours, c.Oracle);
        int S = c.Slots;
        int runs = TimeLoop.BatchPartRuns;
        var a = ours.Forward(inputs, training: true);
        Assert.Equal(S, TimeLoop.BatchPartRuns - runs);
        var b = oracle.Forward(inputs, training: true);
        RnnTestProblems.AssertClose(b.Output, a.Output, "output");
        RnnTestProblems.AssertClose(b.HN, a.HN, "h_n");
        if (desc.HasCellState) RnnTestProblems.AssertClose(b.CN!, a.CN!, "c_n");

        var r = new Random(N * 41 + H);
        var dY = RnnTestProblems.RandomTensor(r, a.Output.Shape);
        var dH = RnnTestProblems.RandomTensor(r, a.HN.Shape);
        var dC = desc.HasCellState ? RnnTestProblems.RandomTensor(r, a.CN!.Shape) : null;
        runs = TimeLoop.BatchPartRuns;
        var ga = ours.Backward(inputs, a, dY, dH, dC);
        Assert.Equal(S, TimeLoop.BatchPartRuns - runs); // every layer-direction's backward loop ran in parts
        var gb = oracle.Backward(inputs, b, dY, dH, dC);
        RnnTestProblems.AssertClose(gb.DInput, ga.DInput, "grad_input");
        RnnTestProblems.AssertClose(gb.DH0, ga.DH0, "grad_h0");
        if (desc.HasCellState) RnnTestProblems.AssertClose(gb.DC0!, ga.DC0!, "grad_c0");
        for (int i = 0; i < c.Parameters.Ids.Count; i++)
            RnnTestProblems.AssertClose(gb.DParams.Tensors[i], ga.DParams.Tensors[i], "grad." + c.Parameters.Ids[i].TorchName);
    }

    /// <summary>
    /// A random problem (variable lengths, one row at full length, initial states) on the cpu backend and the
    /// reference, asserting first that every layer-direction takes the batch-parts path.
    /// </summary>
    private sealed class PartsCase : IDisposable
    {
        public PartsCase(string mode, int I, int H, int P, int L, bool bidirectional, int N, int T, int seed)
        {
            Desc = new RnnDesc(RnnDesc.ParseMode(mode), I, H, L, bidirectional, projSize: P);
            var r = new Random(seed);
            var x = RnnTestProblems.RandomTensor(r, [T, N, I]);
            Slots = L * Desc.Directions;
            var h0 = RnnTestProblems.RandomTensor(r, [Slots, N, Desc.OutputHiddenSize]);
            var c0 = Desc.HasCellState ? RnnTestProblems.RandomTensor(r, [Slots, N, H]) : null;
            Lengths = Enumerable.Range(0, N).Select(i => 1 + (i * 5 + 3) % T).ToArray();
            Lengths[N / 2] = T;
            Inputs = RnnRunner.Prepare(Desc, x, h0, c0, Lengths);
            Parameters = RnnParameters.Create(Desc, new Random(5));
            Ours = BackendRegistry.Get("cpu").CreateRnnPlan(Parameters);
            Oracle = BackendRegistry.Get("reference").CreateRnnPlan(Parameters);
            var weights = ((CpuRnnPlan)Ours).CurrentWeights();
            for (int s = 0; s < weights.Dirs.Length; s++)
                Assert.True(TimeLoop.BatchParts(weights.Dirs[s], N, T) >= 2, $"layer-direction {s}: expected the batch-parts path at N={N}, H={H}");
        }

        public RnnDesc Desc { get; }
        public int Slots { get; }
        public int[] Lengths { get; }
        public RnnInputs Inputs { get; }
        public RnnParameters Parameters { get; }
        public IRnnPlan Ours { get; }
        public IRnnPlan Oracle { get; }

        public void Dispose()
        {
            Ours.Dispose();
            Oracle.Dispose();
        }
    }

    [Fact]
    public void Large_recurrent_weights_or_small_batches_keep_the_per_step_split()
    {
        using var big = new CpuRnnPlan(RnnParameters.Create(new RnnDesc(RnnMode.Lstm, 16, 1024, 1, false), new Random(1)));
        Assert.Equal(0, TimeLoop.BatchParts(big.CurrentWeights().Dirs[0], 64, 50)); // 16 MB of W_hh: over any L2
        using var small = new CpuRnnPlan(RnnParameters.Create(new RnnDesc(RnnMode.Lstm, 16, 32, 1, false), new Random(1)));
        Assert.Equal(0, TimeLoop.BatchParts(small.CurrentWeights().Dirs[0], 7, 50)); // fewer than 2 parts of 4 rows
        Assert.Equal(2, TimeLoop.BatchParts(small.CurrentWeights().Dirs[0], 8, 50));
    }

    [Fact]
    public void Weights_past_half_the_L2_run_in_parts_only_of_whole_row_tiles_short_steps_and_up_to_8_L2s()
    {
        long l2 = CacheSizes.L2PerCore;
        // LSTM W_hh is 4 H^2 floats = 16 H^2 bytes: H for just over L2/2, and for just over 8 L2s (multiples of 32)
        int mid = ((int)Math.Sqrt(l2 / 32.0) / 32 + 1) * 32;
        int big = ((int)Math.Sqrt(8.0 * l2 / 16) / 32 + 1) * 32;
        using var m = new CpuRnnPlan(RnnParameters.Create(new RnnDesc(RnnMode.Lstm, 8, mid, 1, false), new Random(1)));
        var dw = m.CurrentWeights().Dirs[0];
        Assert.True(16L * mid * mid > l2 / 2 && 16L * mid * mid <= TimeLoop.StreamedPartsL2s * l2, $"H={mid} for L2 {l2}");
        int tiles = 2 * Sgemm.MR; // one row tile a thread
        Assert.Equal(0, TimeLoop.BatchParts(dw, tiles - 2, 50));
        Assert.Equal(0, TimeLoop.BatchParts(dw, tiles, TimeLoop.StreamedPartsMinSteps - 1)); // too few steps
        Assert.Equal(2, TimeLoop.BatchParts(dw, tiles, 50));
        Assert.Equal(0, TimeLoop.BatchParts(dw, tiles + 4, 50)); // a part of a tile and a half
        // the largest batch of whole tiles whose split step is short enough for a thread (2 threads: N * W_hh floats FLOP each)
        int maxN = (int)(TimeLoop.StreamedPartsMaxStepFlops / (4L * mid * mid)) / tiles * tiles;
        Assert.Equal(2, TimeLoop.BatchParts(dw, maxN, 50));
        Assert.Equal(0, TimeLoop.BatchParts(dw, maxN + tiles, 50));
        using var b = new CpuRnnPlan(RnnParameters.Create(new RnnDesc(RnnMode.Lstm, 8, big, 1, false), new Random(1)));
        Assert.True(16L * big * big > TimeLoop.StreamedPartsL2s * l2, $"H={big} for L2 {l2}");
        Assert.Equal(0, TimeLoop.BatchParts(b.CurrentWeights().Dirs[0], 16, 50));
    }

    [Theory]
    [InlineData("1024K", 1L << 20)]
    [InlineData("2M", 2L << 20)]
    [InlineData("524288", 524288L)]
    [InlineData("", null)]
    [InlineData("12Q", null)]
    [InlineData("-5K", null)]
    public void Sysfs_cache_sizes_are_parsed(string text, long? bytes) => Assert.Equal(bytes, CacheSizes.ParseSize(text));
}
