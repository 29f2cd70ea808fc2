// DataParallel without MPI: K ranks as K threads of this process, exchanging through an in-process stand-in for the
// collectives (sum allreduce, max, broadcast). Proves, on any machine, that the split batch with 1/K-scaled, summed
// gradients follows the single-process loss curve, and that ranks whose parameters drift apart are caught by the
// hash check on every rank (the mpirun tests in DistributedTrainingTests prove the same through Open MPI).
using RnnFast.Data;
using RnnFast.Distributed;
using RnnFast.Training;
using Xunit;

namespace RnnFast.Tests;

public sealed class DataParallelInProcessTests
{
    /// <summary>K ranks as threads: every collective is a rendezvous on a barrier, reduced in rank order.</summary>
    internal sealed class ThreadGroup(int size)
    {
        private readonly Barrier _barrier = new(size);
        private readonly object?[] _slots = new object?[size];

        public ICollectives Rank(int rank) => new Member(this, rank);

        private T[] Exchange<T>(int rank, T[] mine)
        {
            _slots[rank] = mine;
            _barrier.SignalAndWait();
            var all = _slots.Select(s => (T[])s!).ToArray();
            _barrier.SignalAndWait(); // everyone has read the slots before any rank writes the next ones
            return all.SelectMany(a => a).ToArray();
        }

        private sealed class Member(ThreadGroup group, int rank) : ICollectives
        {
            public int Rank => rank;
            public int Size => group._slots.Length;

            public void AllreduceSum(Span<float> data)
            {
                var all = group.Exchange(rank, data.ToArray());
                for (int i = 0; i < data.Length; i++)
                {
                    float s = 0;
                    for (int r = 0; r < Size; r++) s += all[r * data.Length + i];
                    data[i] = s;
                }
            }

            public void AllreduceSum(Span<int> data)
            {
                var all = group.Exchange(rank, data.ToArray());
                for (int i = 0; i < data.Length; i++)
                {
                    int s = 0;
                    for (int r = 0; r < Size; r++) s += all[r * data.Length + i];
                    data[i] = s;
                }
            }

            public int AllreduceMax(int value) => group.Exchange(rank, [value]).Max();

            public void Broadcast(Span<byte> data, int root = 0)
            {
                var all = group.Exchange(rank, data.ToArray());
                all.AsSpan(root * data.Length, data.Length).CopyTo(data);
            }
        }
    }

    private static TrainOptions Options => new()
    {
        Layers = 1, Hidden = 24, Embed = 8, SeqLen = 12, Batch = 8, Steps = 8, EvalEvery = 0, CheckpointEvery = 0,
        SampleLength = 0, Seed = 11, Backend = "reference",
    };

    /// <summary>Trains <paramref name="size"/> ranks on threads; each rank's result, or the exception it threw.</summary>
    private static (TrainResult? Result, Exception? Error)[] TrainRanks(string text, int size, Func<int, TrainOptions, TrainOptions>? perRank = null)
    {
        var group = new ThreadGroup(size);
        var results = new (TrainResult?, Exception?)[size];
        var threads = Enumerable.Range(0, size).Select(r => new Thread(() =>
        {
            try
            {
                var o = Options with { DataParallel = new DataParallel(group.Rank(r), checkEvery: 2) };
                if (perRank != null) o = perRank(r, o);
                results[r] = (new CharLmTrainer().Train(text, "text", o), null);
            }
            catch (Exception e) { results[r] = (null, e); }
        })).ToList();
        threads.ForEach(t => t.Start());
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(120)), "a rank did not finish: a collective is waiting forever");
        return results;
    }

    [Fact]
    public void Two_ranks_on_threads_follow_the_single_process_loss_curve()
    {
        string text = ProgramCorpus.Generate(8_000, 3);
        var single = new CharLmTrainer().Train(text, "text", Options);
        var ranks = TrainRanks(text, 2);
        foreach (var (_, error) in ranks) Assert.Null(error);
        var two = ranks[0].Result!.TrainLoss;
        Assert.Equal(single.TrainLoss.Count, two.Count);
        for (int i = 0; i < two.Count; i++)
            Assert.True(Math.Abs(two[i] - single.TrainLoss[i]) <= 1e-4 * Math.Abs(single.TrainLoss[i]), $"step {i + 1}: 2 ranks {two[i]}, 1 process {single.TrainLoss[i]}");
        Assert.Equal(ranks[0].Result!.TrainLoss, ranks[1].Result!.TrainLoss); // every rank reports the global loss
        Assert.True(double.IsNaN(ranks[1].Result!.ValLoss)); // rank 0 alone validates
        Assert.Equal(single.ValLoss, ranks[0].Result!.ValLoss, 1e-4);
    }

    [Fact]
    public void Ranks_whose_parameters_differ_are_stopped_on_every_rank()
    {
        string text = ProgramCorpus.Generate(8_000, 3);
        // Rank 1 nudges one of its weights during the third step (a gradient nudge would be summed away by the allreduce):
        // the check after step 4 finds it.
        var ranks = TrainRanks(text, 2, (r, o) => r == 1
            ? o with { AfterBackward = (step, ps) => { if (step == 2) ps[0].Value.Span[0] += 1e-3f; } }
            : o);
        foreach (var (result, error) in ranks)
        {
            Assert.Null(result);
            var e = Assert.IsType<MpiException>(error);
            Assert.Contains("after step 4: the parameters of 1 of 2 rank(s) differ from rank 0's", e.Message);
        }
        Assert.Contains("this rank 1", ranks[1].Error!.Message);
    }

    [Fact]
    public void A_global_batch_not_divisible_by_the_ranks_is_refused_naming_the_property()
    {
        var ranks = TrainRanks(ProgramCorpus.Generate(8_000, 3), 3);
        foreach (var (_, error) in ranks)
            Assert.Contains("TrainOptions.Batch: the global batch 8 is not divisible by the 3 ranks", Assert.IsType<ArgumentException>(error).Message);
    }
}
