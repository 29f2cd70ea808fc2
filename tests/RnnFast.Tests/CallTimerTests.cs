// RnnFast.Bench.CallTimer, the timing rules `rnnfast bench` and the peer programs share, on fake calls that report a
// chosen number of seconds (and take next to none): the T chosen by the probe, untimed calls not counted, the call cap,
// the cut-T line, and paired ratios computed round by round. Nothing here measures a real speed.
using RnnFast.Bench;
using Xunit;

namespace RnnFast.Tests;

public sealed class CallTimerTests
{
    private static readonly WarmUpPolicy OneCall = WarmUpPolicy.Single;

    private static BenchProblem Problem(int T) => ProblemFile.Parse($"lstm uni 1 {T} 2 5 4 inference\n", "inline")[0];

    /// <summary>Calls that report fixed + perStep * t seconds, counted per t.</summary>
    private sealed class FakeCalls(double fixedSeconds, double perStep)
    {
        public Dictionary<int, int> Count { get; } = [];

        public Func<double> At(int t) => () =>
        {
            Count[t] = Count.GetValueOrDefault(t) + 1;
            return fixedSeconds + perStep * t;
        };
    }

    [Fact]
    public void A_call_that_fits_the_budget_twice_is_timed_at_the_full_T()
    {
        var fake = new FakeCalls(0, 0.001); // 0.1 s at T = 100; budget 1 s
        var timer = new CallTimer(Problem(100), fake.At, budget: 1, maxCalls: 7, peakGflops: double.NaN);
        timer.Prepare(OneCall);
        Assert.Equal(100, timer.TimedT);
        timer.Window(1, 7, untimed: 2);
        Assert.Equal(7, timer.Samples.Count);        // the cap
        Assert.Equal(1 + 2 + 7, fake.Count[100]); // the warm call, 2 untimed, 7 timed
        Assert.Equal(2, fake.Count[1]);          // the T=1 probe: the cheaper of two (the first was quick)
        timer.Finish();
        Assert.Equal(0.1, timer.MedianSeconds, 12);
        Assert.Equal(100.0, timer.MsMedian, 9);
    }

    [Fact]
    public void A_long_call_is_cut_and_the_line_counts_the_per_call_cost_once()
    {
        var fake = new FakeCalls(0.04, 0.002); // T=100: 0.24 s, too long for a 0.3 s budget twice
        var timer = new CallTimer(Problem(100), fake.At, budget: 0.3, maxCalls: 50, peakGflops: double.NaN);
        timer.Prepare(OneCall);
        Assert.InRange(timer.TimedT, 2, 99);
        timer.Window(0.3, 50);
        timer.Finish();
        Assert.Equal(timer.TimedT / 2, timer.TimedHalfT);
        Assert.Equal(240.0, timer.MsMedian, 6); // 40 ms + 100 * 2 ms, exactly on the line
    }

    [Fact]
    public void Paired_ratios_are_taken_round_by_round()
    {
        var fast = new CallTimer(Problem(10), new FakeCalls(0, 0.001).At, 1, 50, double.NaN);
        var slow = new CallTimer(Problem(10), new FakeCalls(0, 0.003).At, 1, 50, double.NaN);
        fast.Prepare(OneCall);
        slow.Prepare(OneCall);
        for (int round = 0; round < 5; round++)
        {
            fast.Window(0.01, 2);
            slow.Window(0.01, 2);
        }
        fast.Finish();
        slow.Finish();
        var p = CallTimer.Paired(fast, slow);
        Assert.Equal(5, p.Rounds);
        Assert.All(p.Ratios, r => Assert.Equal(3.0, r, 9));
        Assert.Equal(1 / 3.0, CallTimer.Paired(slow, fast).Median, 9);
    }

    [Fact]
    public void Window_and_finish_out_of_order_say_what_to_call_first()
    {
        var timer = new CallTimer(Problem(4), new FakeCalls(0, 0.001).At, 1, 5, double.NaN);
        Assert.Contains("Prepare", Assert.Throws<InvalidOperationException>(() => timer.Window(1, 5)).Message);
        timer.Prepare(OneCall);
        Assert.Contains("Window", Assert.Throws<InvalidOperationException>(() => timer.Finish()).Message);
    }
}
