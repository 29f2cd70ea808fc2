// One loaded model shared by many threads, each with its own states: 256 sequences streamed at once (16 threads with
// 16 live RnnStates each, stepped round-robin) and 96 variable-length batch Forward calls on the backend's plan,
// all compared bit for bit with the single-threaded results. Runs on every registered backend ([BackendTheory]), with
// a bound on the time (a hang fails the test instead of stalling the run).
using System.Diagnostics;
using RnnFast.Backends;
using RnnFast.Data;
using RnnFast.Models;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

[Collection(ReliabilityCollection.Name)]
public sealed class ConcurrencyStressTests(ITestOutputHelper output) : IDisposable
{
    private const int Threads = 16, StatesPerThread = 16, Sequences = Threads * StatesPerThread, BatchSize = 8, Rounds = 3;
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static IEnumerable<object[]> Backends() => BackendData.Backends();

    [BackendTheory]
    [MemberData(nameof(Backends))]
    public void Many_threads_with_their_own_states_get_exactly_the_single_threaded_results(string backend)
    {
        string text = ProgramCorpus.Generate(20_000, 12);
        string path = Path.Combine(_dir, "shared.safetensors");
        var config = new NetworkConfig { Kind = NetworkKind.LanguageModel, Mode = RnnMode.Lstm, Layers = 2, Hidden = 24, Embed = 12, Vocab = CharVocab.FromText(text) };
        using (var net = new CharNetwork(config, BackendRegistry.Get("reference"), new Random(8)))
            Checkpoint.Save(path, net);
        using var model = RnnModel.Load(path, backend);
        Assert.Equal(backend, model.Backend.Name);

        var rng = new Random(21);
        var ids = model.Vocab.Encode(text);
        int[] Window(int len)
        {
            int start = rng.Next(ids.Length - len);
            return ids[start..(start + len)];
        }
        // Streamed sequences: any length 1..48. Batches: two lengths per batch (4 sequences each) out of four, so that
        // every batch is a variable-length one while a backend that compiles per shape (oneDNN) sees only a few shapes.
        var sequences = Enumerable.Range(0, Sequences).Select(_ => Window(rng.Next(1, 49))).ToArray();
        int[] batchLengths = [5, 17, 33, 48];
        var batches = Enumerable.Range(0, Sequences / BatchSize).Select(b => Enumerable.Range(0, BatchSize)
            .Select(k => Window(batchLengths[(b + (k < BatchSize / 2 ? 0 : 1)) % batchLengths.Length])).OrderBy(_ => rng.Next()).ToArray()).ToArray();

        // Single-threaded: each sequence streamed alone, each batch through Forward once.
        var clock = Stopwatch.StartNew();
        var expectedStream = sequences.Select(s => Stream(model, s)).ToArray();
        var expectedBatch = batches.Select(b => model.Forward(b).ToArray()).ToArray();
        var single = clock.Elapsed;

        // Concurrent: every thread streams its 16 sequences interleaved, then takes batch jobs from a shared counter.
        var jobs = Enumerable.Range(0, Rounds * batches.Length).Select(j => j % batches.Length).OrderBy(_ => rng.Next()).ToArray();
        int nextJob = -1, mismatches = 0, forwardCalls = 0;
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var start = new ManualResetEventSlim(false);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            try
            {
                start.Wait();
                var mine = Enumerable.Range(t * StatesPerThread, StatesPerThread).ToArray();
                var states = mine.Select(_ => model.NewState()).ToArray();
                var last = new float[StatesPerThread][];
                int longest = mine.Max(i => sequences[i].Length);
                for (int step = 0; step < longest; step++)
                for (int k = 0; k < StatesPerThread; k++)
                {
                    var seq = sequences[mine[k]];
                    if (step < seq.Length) last[k] = model.Step(states[k], seq[step]).ToArray();
                }
                for (int k = 0; k < StatesPerThread; k++)
                    if (!last[k].AsSpan().SequenceEqual(expectedStream[mine[k]]))
                    {
                        Interlocked.Increment(ref mismatches);
                        errors.Enqueue($"thread {t}: streamed sequence {mine[k]} differs from the single-threaded result");
                    }
                for (int j = Interlocked.Increment(ref nextJob); j < jobs.Length; j = Interlocked.Increment(ref nextJob))
                {
                    var got = model.Forward(batches[jobs[j]]).ToArray();
                    Interlocked.Increment(ref forwardCalls);
                    if (!got.AsSpan().SequenceEqual(expectedBatch[jobs[j]]))
                    {
                        Interlocked.Increment(ref mismatches);
                        errors.Enqueue($"thread {t}: batch {jobs[j]} differs from the single-threaded result");
                    }
                }
            }
            catch (Exception e)
            {
                errors.Enqueue($"thread {t}: {e.GetType().Name}: {e.Message}");
            }
        }) { IsBackground = true, Name = $"stress-{t}" }).ToList();
        clock.Restart();
        threads.ForEach(th => th.Start());
        start.Set();
        foreach (var th in threads)
            Assert.True(th.Join(Limit - clock.Elapsed > TimeSpan.Zero ? Limit - clock.Elapsed : TimeSpan.Zero), $"{th.Name} did not finish within {Limit.TotalSeconds} s (hang?)");
        var concurrent = clock.Elapsed;

        output.WriteLine($"{backend}: {Threads} threads sharing one model; {Sequences} sequences streamed concurrently ({StatesPerThread} live states per thread), " +
                         $"{forwardCalls} concurrent Forward calls ({batches.Length} batches of {BatchSize} x {Rounds}); mismatches {mismatches}; " +
                         $"single-threaded {single.TotalSeconds:F2} s, concurrent {concurrent.TotalSeconds:F2} s");
        Assert.True(errors.IsEmpty, string.Join("\n", errors.Take(10)));
        Assert.Equal(jobs.Length, forwardCalls);
    }

    private static float[] Stream(RnnModel model, int[] sequence)
    {
        var state = model.NewState();
        float[] last = [];
        foreach (var id in sequence) last = model.Step(state, id).ToArray();
        return last;
    }
}
