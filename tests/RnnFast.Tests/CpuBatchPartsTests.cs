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
    public void Inference_in_batch_parts_matches_the_reference(string mode, int I, int H, int P, int L, bool bidirectional, int N, int T)
    {
        var desc = new RnnDesc(RnnDesc.ParseMode(mode), I, H, L, bidirectional, projSize: P);
        var r = new Random(N * 31 + H);
        var x = RnnTestProblems.RandomTensor(r, [T, N, I]);
        int S = L * desc.Directions;
        var h0 = RnnTestProblems.RandomTensor(r, [S, N, desc.OutputHiddenSize]);
        var c0 = desc.HasCellState ? RnnTestProblems.RandomTensor(r, [S, N, H]) : null;
        var lengths = Enumerable.Range(0, N).Select(i => 1 + (i * 5 + 3) % T).ToArray();
        lengths[N / 2] = T;
        var inputs = RnnRunner.Prepare(desc, x, h0, c0, lengths);
        var parameters = RnnParameters.Create(desc, new Random(5));

        using var ours = BackendRegistry.Get("cpu").CreateRnnPlan(parameters);
        using var oracle = BackendRegistry.Get("reference").CreateRnnPlan(parameters);
        var weights = ((CpuRnnPlan)ours).CurrentWeights();
        for (int s = 0; s < weights.Dirs.Length; s++)
            Assert.True(TimeLoop.BatchParts(weights.Dirs[s], N) >= 2, $"layer-direction {s}: expected the batch-parts path at N={N}, H={H}");

        int runs = TimeLoop.BatchPartRuns;
        var got = ours.Forward(inputs, training: false);
        Assert.Equal(L * desc.Directions, TimeLoop.BatchPartRuns - runs); // every layer-direction ran in parts
        var want = oracle.Forward(inputs, training: false);
        RnnTestProblems.AssertClose(want.Output, got.Output, "output");
        RnnTestProblems.AssertClose(want.HN, got.HN, "h_n");
        if (desc.HasCellState) RnnTestProblems.AssertClose(want.CN!, got.CN!, "c_n");
        RnnTestProblems.AssertPaddingIsZero(got.Output, lengths);
    }

    [Fact]
    public void Large_recurrent_weights_or_small_batches_keep_the_per_step_split()
    {
        using var big = new CpuRnnPlan(RnnParameters.Create(new RnnDesc(RnnMode.Lstm, 16, 1024, 1, false), new Random(1)));
        Assert.Equal(0, TimeLoop.BatchParts(big.CurrentWeights().Dirs[0], 64)); // 16 MB of W_hh: over any L2
        using var small = new CpuRnnPlan(RnnParameters.Create(new RnnDesc(RnnMode.Lstm, 16, 32, 1, false), new Random(1)));
        Assert.Equal(0, TimeLoop.BatchParts(small.CurrentWeights().Dirs[0], 7)); // fewer than 2 parts of 4 rows
        Assert.Equal(2, TimeLoop.BatchParts(small.CurrentWeights().Dirs[0], 8));
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
