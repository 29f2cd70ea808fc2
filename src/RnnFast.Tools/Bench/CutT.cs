// How a problem too long for the time budget is timed, shared by `rnnfast bench` and the peer benchmarks (bench/peers)
// so that a cut line compares like with like: the T that fits the budget twice, the timing at half that T, and the full
// T's time read off the line through both (t = a + b T), which counts per-call costs once instead of T / timed_T times.
using System.Diagnostics;

namespace RnnFast.Bench;

/// <summary>The cut-T rules of the benchmark harness.</summary>
public static class CutT
{
    /// <summary>The T to time: the full <paramref name="t"/> when one call (<paramref name="perStep"/> seconds a step) fits the budget twice.</summary>
    public static int Fitting(int t, double perStep, double budget) =>
        perStep * t * 2 <= budget ? t : (int)Math.Clamp(Math.Floor(budget / 2 / Math.Max(perStep, 1e-12)), 1, t);

    /// <summary>The median of <paramref name="values"/> (sorted in place; at least one value).</summary>
    public static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    /// <summary>
    /// Times <paramref name="call"/> (seconds per call, at half the cut T): one warm call, then at least 3 calls, and as
    /// many as the cut T had (<paramref name="timedCalls"/>) while within half the budget. Returns the median.
    /// </summary>
    public static double TimeHalf(Func<double> call, int timedCalls, double budget)
    {
        call(); // its warm call
        var samples = new List<double>();
        var clock = Stopwatch.StartNew();
        while (samples.Count < 3 || (samples.Count < timedCalls && clock.Elapsed.TotalSeconds < budget / 2))
            samples.Add(call());
        return Median(samples);
    }

    /// <summary>
    /// The factor from the cut T's median to the full T's time along the line through (<paramref name="halfT"/>,
    /// <paramref name="halfMedian"/>) and (<paramref name="timedT"/>, <paramref name="median"/>); null where the line
    /// is unusable: no positive slope and intercept (noise), or (where <paramref name="peakGflops"/> is known) a time so
    /// short that <paramref name="flops"/> would run faster than the peak (two short, noisy timings at T = 1 and 2 drew
    /// 722 GFLOP/s on a 337 GFLOP/s machine). The caller then scales plainly by T / timed_T, which errs slow.
    /// </summary>
    public static double? LineScale(int fullT, int timedT, double median, int halfT, double halfMedian, double flops, double peakGflops)
    {
        double slope = (median - halfMedian) / (timedT - halfT), intercept = median - slope * timedT;
        double full = intercept + slope * fullT;
        bool possible = !(double.IsFinite(peakGflops) && peakGflops > 0) || flops / full / 1e9 <= peakGflops;
        return slope > 0 && intercept >= 0 && possible ? full / median : null;
    }
}
