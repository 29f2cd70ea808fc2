// The cpu backend's fork/join pool (WorkerPool): every part of a job runs exactly once, on a private pool of two
// participants, including across the wrap of its 24-bit job generation (a long-running server reaches 2^23 jobs in
// hours of per-step calls). The pool is built and its generation moved through reflection: no hook in the product.
using System.Reflection;
using RnnFast.Backends.Cpu;
using Xunit;

namespace RnnFast.Tests;

public sealed unsafe class WorkerPoolTests
{
    private const int Parts = 37;

    private static WorkerPool NewPool(int participants) =>
        (WorkerPool)Activator.CreateInstance(typeof(WorkerPool), BindingFlags.Instance | BindingFlags.NonPublic, null, [participants], null)!;

    private static void SetGeneration(WorkerPool pool, int generation) =>
        typeof(WorkerPool).GetField("_generation", BindingFlags.Instance | BindingFlags.NonPublic)!.SetValue(pool, generation);

    private static void RetireWorkers(WorkerPool pool) =>
        typeof(WorkerPool).GetMethod("Retire", BindingFlags.Instance | BindingFlags.NonPublic)!.Invoke(pool, null);

    private static void CountPart(void* ctx, int index, int count) => Interlocked.Increment(ref ((int*)ctx)[index]);

    /// <summary>Runs <paramref name="jobs"/> jobs of <see cref="Parts"/> parts, each counting its runs, under a deadline (a job nobody can claim never returns).</summary>
    private static int[][] RunJobs(WorkerPool pool, int jobs)
    {
        var runs = new int[jobs][];
        var task = Task.Factory.StartNew(() =>
        {
            for (int j = 0; j < jobs; j++)
            {
                runs[j] = new int[Parts];
                fixed (int* p = runs[j]) pool.Run(&CountPart, p, Parts);
            }
        }, TaskCreationOptions.LongRunning);
        Assert.True(task.Wait(TimeSpan.FromSeconds(30)), $"{jobs} pool jobs did not finish in 30 s: a job's parts were never claimed");
        return runs;
    }

    [Theory]
    [InlineData(0)]                 // a new pool
    [InlineData((1 << 23) - 4)]     // the generation's top bit (bit 63 of a claim word) is set from the 5th job on
    [InlineData((1 << 24) - 4)]     // the 24-bit generation wraps to 0 at the 4th job
    public void Every_part_runs_exactly_once_per_job(int generation)
    {
        var pool = NewPool(2);
        try
        {
            SetGeneration(pool, generation);
            var runs = RunJobs(pool, 16);
            for (int j = 0; j < runs.Length; j++)
                for (int i = 0; i < Parts; i++)
                    Assert.True(runs[j][i] == 1, $"job {j} (generation {generation + j + 1}): part {i} ran {runs[j][i]} times");
        }
        finally
        {
            RetireWorkers(pool);
        }
    }
}
