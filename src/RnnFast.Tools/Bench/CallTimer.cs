// One engine's timed calls on one problem, shared by `rnnfast bench` (BenchRunner) and the peer benchmarks (bench/peers)
// so that every engine is timed by the same rules: a T=1 probe sets the T that fits the budget twice (CutT), warm-up
// until the timings settle (WarmUp; a longer T after all, warmed up in turn, when the last warm call shows it fits),
// timed calls in one window or in several (interleaved with other engines: Window per round), and where T was cut, half
// that T timed too and the full T's time read off the line through both.
using System.Diagnostics;

namespace RnnFast.Bench;

/// <summary>
/// Times one engine on one problem. <c>callAt(t)</c> gives a call over the first t steps that returns its seconds.
/// Use: <see cref="Prepare"/>, then <see cref="Window"/> once (or once per round), then <see cref="Finish"/>.
/// </summary>
public sealed class CallTimer
{
    private readonly BenchProblem _problem;
    private readonly Func<int, Func<double>> _callAt;
    private readonly Func<double?>? _lastCpuSeconds;
    private readonly double _budget, _peakGflops;
    private readonly List<double> _samples = [], _cpuSamples = [], _windowMedians = [];
    private Func<double>? _call;

    /// <param name="problem">The problem (its T, and its FLOPs for the cut-T line's peak guard).</param>
    /// <param name="callAt">A call over the first t steps, returning its wall-clock seconds.</param>
    /// <param name="budget">Seconds of timed calls in all (the probe and the warm-up are extra).</param>
    /// <param name="maxCalls">At most this many timed calls in all.</param>
    /// <param name="peakGflops">The machine's measured peak (NaN: unknown): a cut-T line faster than it is not used.</param>
    /// <param name="lastCpuSeconds">The process CPU seconds of the last call, where the engine measures them (else null).</param>
    public CallTimer(BenchProblem problem, Func<int, Func<double>> callAt, double budget, int maxCalls, double peakGflops,
        Func<double?>? lastCpuSeconds = null)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(callAt);
        _problem = problem;
        _callAt = callAt;
        _budget = Math.Max(0.001, budget);
        Cap = Math.Max(1, maxCalls);
        _peakGflops = peakGflops;
        _lastCpuSeconds = lastCpuSeconds;
    }

    /// <summary>At most this many timed calls in all.</summary>
    public int Cap { get; }

    /// <summary>The T timed: the problem's, or fewer when one call would not fit the budget twice.</summary>
    public int TimedT { get; private set; }

    /// <summary>Warm calls before the timed ones.</summary>
    public int WarmCalls { get; private set; }

    /// <summary>Seconds the warm calls took.</summary>
    public double WarmSeconds { get; private set; }

    /// <summary>False when the warm-up stopped at its limits before the timings settled.</summary>
    public bool WarmSettled { get; private set; }

    /// <summary>Seconds of the last warm call.</summary>
    public double LastWarmSeconds { get; private set; }

    /// <summary>Every timed call's seconds at <see cref="TimedT"/> (sorted once finished).</summary>
    public IReadOnlyList<double> Samples => _samples;

    /// <summary>The process CPU seconds of the timed calls, where the engine gives them (as many as Samples, else fewer).</summary>
    public IReadOnlyList<double> CpuSamples => _cpuSamples;

    /// <summary>Each window's median seconds, in order.</summary>
    public IReadOnlyList<double> WindowMedians => _windowMedians;

    /// <summary>When cut and the line was used: the half T timed (else 0).</summary>
    public int TimedHalfT { get; private set; }

    /// <summary>The median seconds of a call at <see cref="TimedHalfT"/> (NaN when not used).</summary>
    public double HalfMedianSeconds { get; private set; } = double.NaN;

    /// <summary>The median seconds of a timed call at <see cref="TimedT"/> (after <see cref="Finish"/>).</summary>
    public double MedianSeconds { get; private set; } = double.NaN;

    /// <summary>Milliseconds of the full T per second of a call at <see cref="TimedT"/> (after <see cref="Finish"/>).</summary>
    public double MsScale { get; private set; } = double.NaN;

    /// <summary>Median milliseconds of a call at the full T (after <see cref="Finish"/>).</summary>
    public double MsMedian => MedianSeconds * MsScale;

    /// <summary>
    /// The T to time and the warm-up: a T=1 probe (the cheaper of two unless the first is already slow) sets the T that
    /// fits the budget twice, unless <paramref name="fixedT"/> gives it; then warm calls until <paramref name="policy"/>
    /// says they settled. A T=1 call carries per-call costs that make the probe err towards cutting: when the last warm
    /// call shows that a longer T fits after all, that T is timed, after a warm-up of its own (its first calls rent and
    /// fault in new buffers).
    /// </summary>
    public void Prepare(WarmUpPolicy policy, int? fixedT = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        int T = _problem.T, timedT = T;
        if (fixedT is int f) timedT = Math.Clamp(f, 1, T);
        else if (T > 1)
        {
            var probe = _callAt(1);
            double once = probe();
            if (once < _budget / 10) once = Math.Min(once, probe());
            timedT = CutT.Fitting(T, once, _budget);
        }
        _call = _callAt(timedT);
        var warm = WarmUp.Run(_call, policy);
        WarmCalls = warm.Calls;
        WarmSeconds = warm.Seconds;
        double last = warm.LastSeconds;
        int better = CutT.Fitting(T, last / timedT, _budget);
        if (better > timedT && 2 * last * better / timedT <= 1.5 * _budget)
        {
            timedT = better;
            _call = _callAt(timedT);
            warm = WarmUp.Run(_call, policy);
            WarmCalls += warm.Calls;
            WarmSeconds += warm.Seconds;
            last = warm.LastSeconds;
        }
        WarmSettled = warm.Settled;
        LastWarmSeconds = last;
        TimedT = timedT;
    }

    /// <summary>
    /// Timed calls for <paramref name="seconds"/>, at most <paramref name="cap"/>: at least one, and up to 3 while they
    /// fit 1.5 times the window, after <paramref name="untimed"/> calls that are not timed (a window that follows
    /// another engine's: its first call wakes this engine's threads). Records the window's median and returns it.
    /// </summary>
    public double Window(double seconds, int cap, int untimed = 0)
    {
        var call = _call ?? throw new InvalidOperationException("CallTimer.Window: call Prepare first");
        for (int i = 0; i < untimed; i++) call();
        seconds = Math.Max(0.001, seconds);
        var clock = Stopwatch.StartNew();
        var window = new List<double>();
        double sum = 0;
        while (window.Count < Math.Max(1, cap))
        {
            double elapsed = clock.Elapsed.TotalSeconds;
            double avg = window.Count > 0 ? sum / window.Count : _samples.Count > 0 ? _samples.Average() : LastWarmSeconds;
            bool within = elapsed + avg <= seconds;
            bool needMore = window.Count < 3 && elapsed + avg <= 1.5 * seconds;
            if (window.Count > 0 && !within && !needMore) break;
            double s = call();
            window.Add(s);
            if (_lastCpuSeconds?.Invoke() is double cpu) _cpuSamples.Add(cpu);
            sum += s;
        }
        _samples.AddRange(window);
        double median = CutT.Median(window);
        _windowMedians.Add(median);
        return median;
    }

    /// <summary>
    /// The median, and the full T's time: where T was cut (and <paramref name="fitLine"/>), half that T is timed too
    /// and the full T read off the line through both, so per-call costs that do not grow with T (a training call writes
    /// every weight gradient once) count once; plain scaling by T / timed T where the line is unusable (CutT.LineScale).
    /// </summary>
    public void Finish(bool fitLine = true)
    {
        if (_samples.Count == 0) throw new InvalidOperationException("CallTimer.Finish: no timed calls (call Window first)");
        MedianSeconds = CutT.Median(_samples);
        double scale = (double)_problem.T / TimedT;
        if (fitLine && TimedT < _problem.T && TimedT >= 2)
        {
            int halfT = TimedT / 2;
            double halfMedian = CutT.TimeHalf(_callAt(halfT), _samples.Count, _budget);
            if (CutT.LineScale(_problem.T, TimedT, MedianSeconds, halfT, halfMedian, _problem.Flops(), _peakGflops) is double line)
            {
                scale = line;
                TimedHalfT = halfT;
                HalfMedianSeconds = halfMedian;
            }
        }
        MsScale = 1e3 * scale;
    }

    /// <summary>
    /// <paramref name="mine"/> against <paramref name="other"/> timed in the same rounds: per round the other's window
    /// median ms / mine (both at the full T; above 1: mine is faster), their median and quartiles.
    /// </summary>
    public static PairedRatio Paired(CallTimer mine, CallTimer other)
    {
        ArgumentNullException.ThrowIfNull(mine);
        ArgumentNullException.ThrowIfNull(other);
        int n = Math.Min(mine._windowMedians.Count, other._windowMedians.Count);
        var ratios = new List<double>(n);
        for (int i = 0; i < n; i++)
            ratios.Add(other._windowMedians[i] * other.MsScale / (mine._windowMedians[i] * mine.MsScale));
        return PairedRatio.Of(ratios);
    }
}
