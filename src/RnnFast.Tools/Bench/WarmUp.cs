// Warm-up until the timings settle, so that a benchmark times optimised code only. .NET first runs a method as quickly
// jitted tier-0 code; it is recompiled optimised (tier 1, with dynamic PGO; loops via on-stack replacement) only after
// it has been called enough, some 100 ms after the last new tier-0 method, on a background thread. A fixed short
// warm-up therefore timed tier-0 code (a 30x error on a 0.7 ms call). The rule here does not depend on the timing
// budget: warm calls go on until (1) at least MinCalls calls and MinSeconds have passed, and TierCalls calls (the
// runtime's call-count threshold for tier 1) or LongSeconds, so that a steady stretch of tier-0 calls is not taken
// for the end, (2) the JIT compiled no
// method during the last QuietSeconds (and the last 2 calls), and (3) the median of the last window of calls is no more
// than Tolerance faster than the median of the window before it (the calls stopped getting faster). MaxSeconds and
// MaxCalls bound it; then Settled is false and the report says so.
using System.Diagnostics;
using System.Runtime;

namespace RnnFast.Bench;

/// <summary>When a warm-up counts as settled (see <see cref="WarmUp"/>).</summary>
public sealed record WarmUpPolicy
{
    /// <summary>At least this many warm calls.</summary>
    public int MinCalls { get; init; } = 3;

    /// <summary>At least this many seconds of warm calls (longer than the runtime's 100 ms tiering delay).</summary>
    public double MinSeconds { get; init; } = 0.25;

    /// <summary>At least this many warm calls (the runtime promotes a method after 30 calls) unless they took LongSeconds.</summary>
    public int TierCalls { get; init; } = 30;

    /// <summary>Warm calls that took this many seconds in all need not reach TierCalls.</summary>
    public double LongSeconds { get; init; } = 1;

    /// <summary>The JIT must have compiled nothing for this many seconds of calls.</summary>
    public double QuietSeconds { get; init; } = 0.15;

    /// <summary>Calls in each of the two windows compared (fewer while there are fewer calls).</summary>
    public int Window { get; init; } = 5;

    /// <summary>Settled when the last window's median is at most this fraction faster than the window before's.</summary>
    public double Tolerance { get; init; } = 0.05;

    /// <summary>Give up (not settled) after this many seconds of warm calls.</summary>
    public double MaxSeconds { get; init; } = 15;

    /// <summary>Give up (not settled) after this many warm calls.</summary>
    public int MaxCalls { get; init; } = 5000;

    /// <summary>One warm call, for backends whose speed does not depend on a JIT (the scalar reference).</summary>
    public static WarmUpPolicy Single { get; } = new() { MinCalls = 1, MinSeconds = 0, QuietSeconds = 0, MaxCalls = 1, TierCalls = 1 };

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first property out of range.</summary>
    public void Validate()
    {
        if (MinCalls < 1) throw new ArgumentOutOfRangeException(nameof(MinCalls), MinCalls, "WarmUpPolicy.MinCalls must be at least 1");
        if (MaxCalls < MinCalls) throw new ArgumentOutOfRangeException(nameof(MaxCalls), MaxCalls, "WarmUpPolicy.MaxCalls must be at least WarmUpPolicy.MinCalls");
        if (Window < 1) throw new ArgumentOutOfRangeException(nameof(Window), Window, "WarmUpPolicy.Window must be at least 1");
        if (!(Tolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "WarmUpPolicy.Tolerance must be 0 or more");
        if (!(MinSeconds >= 0) || !(QuietSeconds >= 0) || !(MaxSeconds >= MinSeconds))
            throw new ArgumentOutOfRangeException(nameof(MaxSeconds), MaxSeconds, "WarmUpPolicy: need 0 <= MinSeconds <= MaxSeconds and QuietSeconds >= 0");
    }
}

/// <summary>What a warm-up did: calls, seconds, whether the timings settled, and the last call's seconds.</summary>
public sealed record WarmUpResult(int Calls, double Seconds, bool Settled, double LastSeconds);

/// <summary>Runs warm calls until the timings settle (see the file header for the rule).</summary>
public static class WarmUp
{
    /// <summary>
    /// Calls <paramref name="call"/> (which returns the seconds it took) until <paramref name="policy"/> says the
    /// timings settled or its limits are reached. <paramref name="jitCount"/> reads how many methods the JIT has compiled
    /// (default: <see cref="JitInfo.GetCompiledMethodCount"/> over all threads; a test passes its own).
    /// </summary>
    public static WarmUpResult Run(Func<double> call, WarmUpPolicy policy, Func<long>? jitCount = null)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(policy);
        policy.Validate();
        jitCount ??= () => JitInfo.GetCompiledMethodCount(currentThread: false);
        var times = new List<double>();
        double total = 0, sinceJit = 0;
        int callsSinceJit = 0;
        long compiled = jitCount();
        while (true)
        {
            double s = call();
            times.Add(s);
            total += s;
            long now = jitCount();
            if (now != compiled)
            {
                compiled = now;
                sinceJit = 0;
                callsSinceJit = 0;
            }
            else
            {
                sinceJit += s;
                callsSinceJit++;
            }
            if (times.Count >= policy.MinCalls && total >= policy.MinSeconds && (times.Count >= policy.TierCalls || total >= policy.LongSeconds) &&
                (policy.QuietSeconds == 0 || (sinceJit >= policy.QuietSeconds && callsSinceJit >= 2)) &&
                StoppedImproving(times, policy))
                return new WarmUpResult(times.Count, total, true, s);
            if (times.Count >= policy.MaxCalls || total >= policy.MaxSeconds)
                return new WarmUpResult(times.Count, total, false, s);
        }
    }

    /// <summary>True when the median of the last window is at most Tolerance faster than the window before it.</summary>
    internal static bool StoppedImproving(IReadOnlyList<double> times, WarmUpPolicy policy)
    {
        if (policy.MaxCalls == 1) return true; // a single warm call: nothing to compare
        int w = Math.Min(policy.Window, times.Count / 2);
        if (w < 1) return false;
        double last = Median(times, times.Count - w, w), before = Median(times, times.Count - 2 * w, w);
        return last >= before / (1 + policy.Tolerance);
    }

    private static double Median(IReadOnlyList<double> times, int start, int count)
    {
        var a = new double[count];
        for (int i = 0; i < count; i++) a[i] = times[start + i];
        Array.Sort(a);
        return count % 2 == 1 ? a[count / 2] : (a[count / 2 - 1] + a[count / 2]) / 2;
    }
}
