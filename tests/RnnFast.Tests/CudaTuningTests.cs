// The cuda backend's automatic algorithm choice and padded-I/O rule, without a GPU: the tuning sequence (one untimed
// call of each algorithm, then timed calls alternating), the faster one kept, a declined persistent algorithm, the
// sequence-length buckets, the settings that select them, and the descriptor flags each choice produces. The mock
// (CudaMockTests) runs both data layouts end to end.
using RnnFast.Backends.Cuda;
using RnnFast.Bindings.Cuda;
using Xunit;

namespace RnnFast.Tests;

public sealed class CudaTuningTests
{
    [Fact]
    public void Tuning_alternates_warms_up_then_keeps_the_faster_algorithm()
    {
        var t = new AlgorithmTuning(timedCalls: 2);
        var seen = new List<(CudnnRnnAlgo, bool)>();
        double[] standard = [0.9, 0.5], persistent = [0.7, 0.6];
        int s = 0, p = 0;
        while (t.Chosen == null)
        {
            var algo = t.Next(out bool timed);
            seen.Add((algo, timed));
            double secs = !timed ? 99 : algo == CudnnRnnAlgo.Standard ? standard[s++] : persistent[p++];
            t.Report(algo, timed, secs);
            Assert.True(seen.Count <= 6, "tuning did not settle after 6 calls");
        }
        Assert.Equal(new[]
        {
            (CudnnRnnAlgo.Standard, false), (CudnnRnnAlgo.PersistStatic, false),
            (CudnnRnnAlgo.Standard, true), (CudnnRnnAlgo.PersistStatic, true),
            (CudnnRnnAlgo.Standard, true), (CudnnRnnAlgo.PersistStatic, true),
        }, seen);
        // best times: standard 0.5, persistent 0.6 (the untimed 99 s calls count for nothing)
        Assert.Equal(CudnnRnnAlgo.Standard, t.Chosen);
        Assert.Equal((0.5, 0.6), t.Best);
        Assert.Equal(CudnnRnnAlgo.Standard, t.Next(out bool later));
        Assert.False(later);
    }

    [Fact]
    public void Tuning_keeps_persistent_when_it_is_faster_and_standard_once_declined()
    {
        var t = new AlgorithmTuning(timedCalls: 1);
        for (int i = 0; i < 4; i++)
        {
            var algo = t.Next(out bool timed);
            t.Report(algo, timed, algo == CudnnRnnAlgo.Standard ? 2.0 : 0.25);
        }
        Assert.Equal(CudnnRnnAlgo.PersistStatic, t.Chosen);

        var d = new AlgorithmTuning(timedCalls: 2);
        d.Report(d.Next(out bool t0), t0, 0);
        Assert.Equal(CudnnRnnAlgo.PersistStatic, d.Next(out _));
        d.Decline();
        Assert.Equal(CudnnRnnAlgo.Standard, d.Chosen);
        Assert.Equal(CudnnRnnAlgo.Standard, d.Next(out bool timed2));
        Assert.False(timed2);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(150, 256)]
    [InlineData(256, 256)]
    [InlineData(257, 512)]
    [InlineData(1500, 2048)]
    public void Lengths_share_a_tuning_up_to_the_next_power_of_two(int t, int bucket) =>
        Assert.Equal(bucket, AlgorithmTuning.LengthBucket(t));

    [Fact]
    public void Auto_is_the_default_and_tunes_small_batches_only()
    {
        var o = CudaBackendOptions.FromEnvironment(_ => null);
        Assert.Equal(CudaRnnAlgorithm.Auto, o.Algorithm);
        Assert.False(o.AlwaysPaddedIo);
        Assert.True(o.TunesFor(1));
        Assert.True(o.TunesFor(32));
        Assert.False(o.TunesFor(33));
        Assert.Equal(CudnnRnnAlgo.Standard, o.AlgoFor(1)); // what an untuned batch (N > 32) runs

        var fixedStd = CudaBackendOptions.FromEnvironment(k => k == "RNNFAST_CUDA_ALGO" ? "standard" : null);
        Assert.Equal(CudaRnnAlgorithm.Standard, fixedStd.Algorithm);
        Assert.False(fixedStd.TunesFor(1));
        Assert.Equal(CudaRnnAlgorithm.Auto, CudaBackendOptions.FromEnvironment(k => k == "RNNFAST_CUDA_ALGO" ? " Auto " : null).Algorithm);

        Assert.True(CudaBackendOptions.FromEnvironment(k => k == "RNNFAST_CUDA_PADDED_IO" ? "always" : null).AlwaysPaddedIo);
        Assert.False(CudaBackendOptions.FromEnvironment(k => k == "RNNFAST_CUDA_PADDED_IO" ? "variable" : null).AlwaysPaddedIo);
        var e = Assert.Throws<ArgumentException>(() => CudaBackendOptions.FromEnvironment(k => k == "RNNFAST_CUDA_PADDED_IO" ? "sometimes" : null));
        Assert.Contains("RNNFAST_CUDA_PADDED_IO='sometimes'", e.Message);
    }

    [Fact]
    public void Padded_io_flag_follows_the_batch_kind()
    {
        var desc = new RnnDesc(RnnMode.Gru, 5, 7, 1, false);
        Assert.Equal(CudnnRnnAuxFlags.PaddedIoEnabled, CudnnRnnSettings.From(desc, CudnnMathType.Fma, CudnnRnnAlgo.Standard).AuxFlags);
        Assert.Equal(CudnnRnnAuxFlags.PaddedIoDisabled, CudnnRnnSettings.From(desc, CudnnMathType.Fma, CudnnRnnAlgo.Standard, paddedIo: false).AuxFlags);
        Assert.Equal(0, (int)CudnnRnnAuxFlags.PaddedIoDisabled);
        Assert.Equal(1, (int)CudnnRnnDataLayout.SeqMajorPacked);
    }
}
