// Data-parallel `rnnfast classify` (the sequence trainers' shared loop): 2 ranks as threads follow the single-process
// loss curve and evaluate identically, a global batch not divisible by the ranks is refused, and `mpirun -np 2 rnnfast
// classify` on the generated memory task prints the held-out loss and accuracy of a 1-process run (the mpirun test is
// skipped, with the reason, where Open MPI is not installed).
using RnnFast.Data;
using RnnFast.Distributed;
using RnnFast.Training;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

[Collection(ReliabilityCollection.Name)]
public sealed class DistributedClassifierTests(ITestOutputHelper output)
{
    private static TrainOptions Options => new()
    {
        Layers = 1, Hidden = 16, Embed = 8, Batch = 8, Steps = 30, EvalEvery = 0, Seed = 5, Backend = "reference", SeqLen = 1,
    };

    private static IReadOnlyList<(string Label, string Text)> Data() =>
        MemoryTask.Generate(200, 6, 14, 3, 5).Select(e => (MemoryTask.ClassName(e.Label), e.Text)).ToArray();

    /// <summary>Trains the classifier on <paramref name="size"/> ranks as threads; each rank's result, or the exception it threw.</summary>
    private static ((ClassifierEvaluation Test, TrainResult Run)? Result, Exception? Error)[] TrainRanks(int size, TrainOptions options,
        DataParallel[]? parallel = null)
    {
        parallel ??= new DataParallel[size];
        var group = new DataParallelInProcessTests.ThreadGroup(size);
        var data = Data();
        var results = new ((ClassifierEvaluation, TrainResult)?, Exception?)[size];
        var threads = Enumerable.Range(0, size).Select(r => new Thread(() =>
        {
            try
            {
                parallel[r] = new DataParallel(group.Rank(r), checkEvery: 2);
                results[r] = (new ClassifierTrainer().Train(data, 0.2, options with { DataParallel = parallel[r] }), null);
            }
            catch (Exception e) { results[r] = (null, e); }
        })).ToList();
        threads.ForEach(t => t.Start());
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(120)), "a rank did not finish: a collective is waiting forever");
        return results;
    }

    [Fact]
    public void Two_ranks_on_threads_follow_the_single_process_classifier()
    {
        var (singleTest, single) = new ClassifierTrainer().Train(Data(), 0.2, Options);
        var parallel = new DataParallel[2];
        var ranks = TrainRanks(2, Options, parallel);
        foreach (var (_, error) in ranks) Assert.Null(error);
        // The ranks really split the batch and summed their gradients: one allreduce a step on each.
        Assert.All(parallel, dp => Assert.Equal(Options.Steps, dp.Reductions));
        Assert.True(single.TrainLoss.TakeLast(5).Average() < single.TrainLoss.Take(5).Average(), "the loss did not fall: the comparison would prove nothing");
        var (test0, run0) = ranks[0].Result!.Value;
        var (test1, run1) = ranks[1].Result!.Value;
        Assert.Equal(single.TrainLoss.Count, run0.TrainLoss.Count);
        double worst = 0;
        for (int i = 0; i < single.TrainLoss.Count; i++)
        {
            double rel = Math.Abs(run0.TrainLoss[i] - single.TrainLoss[i]) / Math.Abs(single.TrainLoss[i]);
            worst = Math.Max(worst, rel);
            Assert.True(rel <= 1e-4, $"step {i + 1}: 2 ranks {run0.TrainLoss[i]}, 1 process {single.TrainLoss[i]}");
        }
        output.WriteLine($"largest relative loss difference, 2 ranks vs 1 process: {worst:E2}; held-out loss {test0.Loss:F6} vs {singleTest.Loss:F6}, accuracy {test0.Accuracy:F4} vs {singleTest.Accuracy:F4}");
        Assert.Equal(run0.TrainLoss, run1.TrainLoss); // every rank reports the global loss
        Assert.Equal(test0.Loss, test1.Loss);         // and evaluates the same parameters identically
        Assert.Equal(test0.Accuracy, test1.Accuracy);
        Assert.Equal(singleTest.Loss, test0.Loss, 1e-4);
        Assert.Equal(singleTest.Accuracy, test0.Accuracy);
    }

    [Fact]
    public void A_global_batch_not_divisible_by_the_ranks_is_refused_naming_the_property()
    {
        foreach (var (_, error) in TrainRanks(3, Options))
            Assert.Contains("TrainOptions.Batch: the global batch 8 is not divisible by the 3 ranks", Assert.IsType<ArgumentException>(error).Message);
    }

    private static string[] ClassifyArgs(int batch = 8) =>
    [
        "classify", "--examples", "300", "--min-length", "6", "--max-length", "14", "--classes", "3", "--hidden", "16", "--embed", "8",
        "--batch", batch.ToString(System.Globalization.CultureInfo.InvariantCulture), "--steps", "30", "--seed", "5", "--backend", "cpu", "--threads", "1", "--sync-check-every", "2",
    ];

    private static string Line(string text, string key) => Assert.Single(text.Split('\n'), l => l.StartsWith(key, StringComparison.Ordinal)).Trim();

    [FactNeedsMpirun]
    public void Mpirun_two_ranks_print_the_single_process_held_out_scores()
    {
        var single = CliProcess.Run(ClassifyArgs(), timeout: TimeSpan.FromSeconds(120));
        Assert.True(single.Code == 0, single.Err);
        var dual = DistributedTrainingTests.Run(DistributedTrainingTests.Mpirun(2, ClassifyArgs()), TimeSpan.FromSeconds(180));
        Assert.True(dual.Code == 0, dual.Out + dual.Err);
        // Rank 0 alone prints: one test_loss and one accuracy line for the job.
        string loss1 = Line(single.Out, "test_loss="), loss2 = Line(dual.Out, "test_loss=");
        string acc1 = Line(single.Out, "accuracy="), acc2 = Line(dual.Out, "accuracy=");
        output.WriteLine($"1 process: {loss1} {acc1}; mpirun -np 2: {loss2} {acc2}");
        Assert.Equal(acc1, acc2);
        double l1 = double.Parse(loss1["test_loss=".Length..], System.Globalization.CultureInfo.InvariantCulture);
        double l2 = double.Parse(loss2["test_loss=".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Math.Abs(l1 - l2) <= 1.5e-4, $"held-out loss: 1 process {l1}, 2 ranks {l2}");
    }

    [FactNeedsMpirun]
    public void Mpirun_refuses_a_batch_not_divisible_by_the_ranks()
    {
        // The ranks really split the batch (with each rank training the whole batch alone, the scores above would match too).
        var job = DistributedTrainingTests.Run(DistributedTrainingTests.Mpirun(2, ClassifyArgs(batch: 7)), TimeSpan.FromSeconds(120));
        Assert.Equal(2, job.Code);
        Assert.Contains("--batch: the global batch 7 is not divisible by the 2 ranks", job.Err); // from rank 0 or rank 1, whichever aborts first
    }
}
