// The outcome of a benchmark run: the machine, the backends that could not run (with why), and one result per
// problem and backend (correctness against the reference, timing statistics, GFLOP/s, % of peak, ratios), or the
// reason a backend refused a problem (then the row says so and was run by no one).
namespace RnnFast.Bench;

/// <summary>A requested backend that did not run, and why.</summary>
public sealed record UnavailableBackend(string Backend, string Reason);

/// <summary>
/// One backend's speed relative to another's over the rounds of an interleaved run: the median of the per-round ratios
/// (the other's window median ms / this one's; above 1: this one is faster), the quartiles, the number of rounds, and
/// the ratios themselves (round order), so that several runs' rounds can be pooled.
/// </summary>
public sealed record PairedRatio(double Median, double Q1, double Q3, int Rounds)
{
    /// <summary>Each round's ratio, in round order.</summary>
    public IReadOnlyList<double> Ratios { get; init; } = [];

    /// <summary>The median and quartiles of <paramref name="ratios"/> (nearest rank; NaN when empty).</summary>
    public static PairedRatio Of(IReadOnlyList<double> ratios)
    {
        ArgumentNullException.ThrowIfNull(ratios);
        if (ratios.Count == 0) return new PairedRatio(double.NaN, double.NaN, double.NaN, 0);
        var s = ratios.Order().ToList();
        int n = s.Count;
        double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        return new PairedRatio(median, s[(int)Math.Ceiling(0.25 * n) - 1], s[(int)Math.Ceiling(0.75 * n) - 1], n) { Ratios = ratios.ToArray() };
    }
}

/// <summary>One problem timed on one backend.</summary>
public sealed class BenchResult
{
    /// <summary>The problem this result times.</summary>
    public required BenchProblem Problem { get; init; }
    /// <summary>The backend's name.</summary>
    public required string Backend { get; init; }

    /// <summary>"cpu" or "gpu".</summary>
    public required string Kind { get; init; }

    /// <summary>Worker threads the backend computed with.</summary>
    public int Threads { get; init; }

    // ---- correctness (checked before timing, against the reference backend on a reduced T and N)

    /// <summary>Every compared tensor within |a-b| &lt;= 1e-4 + 1e-3|b| (and no error).</summary>
    public bool Correct { get; set; }

    /// <summary>The largest |a-b| over every compared tensor (0 for the reference itself).</summary>
    public double MaxAbsError { get; set; }

    /// <summary>What was compared, e.g. "vs reference at T=4 N=8: output, h_n, c_n".</summary>
    public string Check { get; set; } = "";

    /// <summary>The first failing tensor's report, or null.</summary>
    public string? CheckFailure { get; set; }

    /// <summary>T of the correctness check run before timing (smaller than the problem's to keep the oracle fast).</summary>
    public int CheckT { get; set; }
    /// <summary>N of the correctness check run before timing.</summary>
    public int CheckN { get; set; }

    /// <summary>Seconds the check's computation took on this backend (the oracle's for the reference).</summary>
    public double CheckSeconds { get; set; }

    /// <summary>Why the problem was checked but not timed (one step far over the budget), or null.</summary>
    public string? NotTimed { get; set; }

    /// <summary>An exception's message when the backend failed to run the problem (then no timing).</summary>
    public string? Error { get; set; }

    /// <summary>
    /// The backend's reason when it refused the problem (its plan threw <see cref="NotSupportedException"/>, e.g. oneDNN
    /// has no primitive for it): the row was not run at all, by this backend or any other; <see cref="Correct"/> is
    /// false, nothing is timed, and <see cref="Error"/> says who refused. Null when the backend ran the problem.
    /// </summary>
    public string? Refused { get; set; }

    /// <summary>True when the backend refused the problem (see <see cref="Refused"/>).</summary>
    public bool NotRun => Refused != null;

    // ---- timing (ms per call of the whole problem: a forward, or a forward with workspace plus the backward)

    /// <summary>Warm calls before the timed ones (see <see cref="WarmUp"/>).</summary>
    public int WarmupRuns { get; set; }

    /// <summary>Seconds the warm calls took.</summary>
    public double WarmupSeconds { get; set; }

    /// <summary>False when the warm-up stopped at its limits before the timings settled (the times may include slower code).</summary>
    public bool WarmupSettled { get; set; }

    /// <summary>The number of timed calls.</summary>
    public int Repetitions { get; set; }

    /// <summary>The sequence length actually timed: T, or fewer when one call at T would not fit the time budget.</summary>
    public int TimedT { get; set; }

    /// <summary>
    /// When cut: the second, shorter T timed (TimedT / 2), whose median with TimedT's gives the line t = a + b T the full
    /// T's time is read from (a: the per-call cost); 0 when the full T's time is TimedT's scaled by T / TimedT (not cut,
    /// TimedT = 1, or the two did not give a positive slope and intercept).
    /// </summary>
    public int TimedHalfT { get; set; }

    /// <summary>Median ms of one call at <see cref="TimedHalfT"/> (NaN when not timed).</summary>
    public double MsTimedHalfMedian { get; set; } = double.NaN;

    /// <summary>True when <see cref="TimedT"/> &lt; T: the ms figures are then the full T's, extrapolated (see <see cref="TimedHalfT"/>).</summary>
    public bool Cut => TimedT > 0 && TimedT < Problem.T;

    /// <summary>Median milliseconds per call of the whole problem (NaN when not timed).</summary>
    public double MsMedian { get; set; } = double.NaN;
    /// <summary>Fastest call, in milliseconds.</summary>
    public double MsMin { get; set; } = double.NaN;
    /// <summary>Slowest call, in milliseconds.</summary>
    public double MsMax { get; set; } = double.NaN;

    /// <summary>
    /// Median process CPU milliseconds per call (every thread; scaled like <see cref="MsMedian"/>), NaN where the clock
    /// is unavailable. With one thread it is the work of the call, nearly unaffected by other processes on the machine.
    /// </summary>
    public double CpuMsMedian { get; set; } = double.NaN;

    /// <summary>Median ms of one call at <see cref="TimedT"/> (equals <see cref="MsMedian"/> unless cut).</summary>
    public double MsTimedMedian { get; set; } = double.NaN;

    /// <summary>N / median seconds per call.</summary>
    public double SequencesPerSecond { get; set; } = double.NaN;

    /// <summary>FLOPs of one call of the whole problem (see <see cref="FlopCount"/>).</summary>
    public double Gflop => Problem.Flops() / 1e9;

    /// <summary>Achieved GFLOP/s: <see cref="Gflop"/> / median seconds.</summary>
    public double Gflops { get; set; } = double.NaN;

    /// <summary>The peak this backend is compared with (the measured CPU peak, or the GPU's), NaN when unknown.</summary>
    public double PeakGflops { get; set; } = double.NaN;

    /// <summary>Gflops / PeakGflops (0..1).</summary>
    public double PeakFraction { get; set; } = double.NaN;

    /// <summary>For every other backend timed on the same problem: its median ms / this one's (above 1: this is faster).</summary>
    public Dictionary<string, double> SpeedupVs { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Interleaved runs only (<see cref="BenchOptions.Interleave"/>): for every other backend timed on the same problem,
    /// the median over the rounds of its window's median ms / this one's in the same round, with the quartiles (above 1:
    /// this is faster). Empty when the backends were timed one after another.
    /// </summary>
    public Dictionary<string, PairedRatio> PairedSpeedupVs { get; } = new(StringComparer.Ordinal);

    /// <summary>True when the backend was timed (it passed its check and ran).</summary>
    public bool Timed => double.IsFinite(MsMedian);
}

/// <summary>A whole benchmark run.</summary>
public sealed class BenchReport
{
    /// <summary>The machine the run was on (CPU, cores, OS, runtime).</summary>
    public required BenchMachine Machine { get; init; }
    /// <summary>Backends that were asked for but could not run, with the reason.</summary>
    public required IReadOnlyList<UnavailableBackend> Unavailable { get; init; }
    /// <summary>One result per problem and backend, in run order.</summary>
    public required IReadOnlyList<BenchResult> Results { get; init; }

    /// <summary>The backend the ratio column is against (the first backend timed), or null.</summary>
    public string? Baseline { get; init; }

    /// <summary>Where the problems came from (the shapes file).</summary>
    public string Shapes { get; init; } = "";

    /// <summary>The per-problem, per-backend time budget in seconds.</summary>
    public double MaxSeconds { get; init; }

    /// <summary>Whether each problem's backends were timed in alternating windows (<see cref="BenchOptions.Interleave"/>).</summary>
    public bool Interleaved { get; init; }

    /// <summary>Notes for the reader (e.g. that --threads could not be applied to a backend).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>True when every result passed its correctness check (a refused problem did not).</summary>
    public bool AllCorrect => Results.All(r => r.Correct);

    /// <summary>The results a backend refused to run (see <see cref="BenchResult.Refused"/>).</summary>
    public IEnumerable<BenchResult> Refused => Results.Where(r => r.NotRun);

    /// <summary>
    /// The result's speed relative to the baseline's on the same problem (NaN when none): the median of the per-round
    /// ratios when interleaved, else the ratio of the two medians.
    /// </summary>
    public double SpeedupVsBaseline(BenchResult r) =>
        Baseline == null ? double.NaN
        : r.Backend == Baseline ? (r.Timed ? 1 : double.NaN)
        : r.PairedSpeedupVs.TryGetValue(Baseline, out var paired) ? paired.Median
        : r.SpeedupVs.GetValueOrDefault(Baseline, double.NaN);
}
