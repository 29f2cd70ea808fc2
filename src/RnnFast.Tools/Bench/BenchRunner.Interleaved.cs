// Interleaved timing (BenchOptions.Interleave): each problem's backends are checked and warmed up one after another,
// then timed in rounds of one window each (in order, then in reverse, ...), and each pair of backends gets the median
// of its per-round ratios. On a shared machine whose speed swings between stretches of seconds (up to 2x measured on a
// 2-core VM), one backend timed after another can land in a fast stretch and the other in a slow one; within a round
// both see nearly the same machine, so the ratio's noise shrinks to what is left inside a round. Each window starts after
// a short pause (BenchOptions.InterleaveGapSeconds) and one untimed call, so that the previous backend's spinning idle
// threads do not slow it down.
using RnnFast.Backends;

namespace RnnFast.Bench;

public sealed partial class BenchRunner
{
    /// <summary>The results of one problem on every backend, timed in alternating windows.</summary>
    /// <param name="work">The problem's weights, check inputs and expected outputs.</param>
    /// <param name="machine">The machine (its measured peak for the results).</param>
    /// <param name="done">Called once per backend with its finished result.</param>
    /// <param name="stage">Called with a backend's name and what it is doing now.</param>
    private List<BenchResult> RunInterleaved(ProblemWork work, BenchMachine machine, Action<string, string, BenchResult> done,
        Action<string, string> stage)
    {
        var entries = new List<Entry>();
        try
        {
            foreach (var backend in _backends)
            {
                var entry = new Entry(backend, NewResultFor(work, backend, machine));
                entries.Add(entry);
                Attempt(entry.Result, backend, () =>
                {
                    stage(backend.Name, "check");
                    entry.Plan = backend.CreateRnnPlan(work.Parameters);
                    Check(work, backend, entry.Plan, entry.Result);
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    stage(backend.Name, "warm-up");
                    entry.Calls = Prepare(work, backend, entry.Plan, entry.Result);
                });
            }
            var timed = entries.Where(e => e.Calls != null && e.Result.Error == null).ToList();
            if (timed.Count > 0)
            {
                double budget = Math.Max(0.001, _options.MaxSeconds);
                double longest = timed.Max(e => e.Calls!.LastWarmSeconds);
                int rounds = Rounds(budget, _options.InterleaveWindowSeconds, longest);
                for (int round = 0; round < rounds; round++)
                {
                    stage(string.Join(",", timed.Select(e => e.Backend.Name)), $"interleaved round {round + 1} of {rounds}");
                    var order = round % 2 == 0 ? timed : Enumerable.Reverse(timed);
                    foreach (var e in order)
                        if (e.Result.Error == null)
                            Attempt(e.Result, e.Backend, () =>
                            {
                                // the previous backend's idle threads spin for a while: let them go quiet, then one untimed call
                                Thread.Sleep(TimeSpan.FromSeconds(Math.Max(0, _options.InterleaveGapSeconds)));
                                e.Calls!.Window(budget / rounds, Math.Max(1, (e.Calls!.Cap + rounds - 1) / rounds), untimed: 1);
                            });
                }
                foreach (var e in timed.Where(e => e.Result.Error == null))
                    Attempt(e.Result, e.Backend, () => Finish(e.Result, e.Calls!));
                var finished = timed.Where(e => e.Result.Error == null && e.Result.Timed).ToList();
                foreach (var e in finished)
                    foreach (var other in finished)
                        if (!ReferenceEquals(e, other))
                            e.Result.PairedSpeedupVs[other.Backend.Name] = CallTimer.Paired(e.Calls!, other.Calls!);
            }
        }
        finally
        {
            foreach (var e in entries) e.Plan?.Dispose();
        }
        foreach (var e in entries) done(e.Backend.Name, "done", e.Result);
        return entries.Select(e => e.Result).ToList();
    }

    /// <summary>
    /// Rounds of an interleaved problem: the budget in windows of <paramref name="window"/> seconds (or of the longest
    /// backend's call, when longer), at least <see cref="MinRounds"/>, at most 40.
    /// </summary>
    public static int Rounds(double budget, double window, double longestCall) =>
        Math.Clamp((int)(budget / Math.Max(Math.Max(window, 1e-3), longestCall)), MinRounds, 40);

    /// <summary>
    /// The fewest rounds a problem gets, however short its budget: with 3, one or two rounds hit by a slow stretch
    /// moved the median (LSTM 50x16x512 against TorchSharp: round ratios 0.59, 0.60, 1.16 in one run, 1.06 in the other).
    /// </summary>
    public const int MinRounds = 5;

    private sealed class Entry(Backend backend, BenchResult result)
    {
        public Backend Backend { get; } = backend;
        public BenchResult Result { get; } = result;
        public IRnnPlan? Plan { get; set; }
        public CallTimer? Calls { get; set; }
    }
}
