// The bench warm-up (WarmUp): it goes on until the JIT has stopped compiling and the calls have stopped getting faster,
// whatever the timing budget, so that `rnnfast bench --max-seconds 0.3` times the same optimised code as 2 s does.
// The settle rule is tested on scripted call times and JIT counts (deterministic); one test runs the real CLI twice.
using System.Text.Json;
using RnnFast.Bench;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

public sealed class WarmUpTests(ITestOutputHelper output)
{
    /// <summary>Scripted calls: call i takes times(i) seconds and the JIT count after it is jit(i).</summary>
    private static WarmUpResult Scripted(Func<int, double> times, Func<int, long> jit, WarmUpPolicy? policy = null)
    {
        int i = -1;
        return WarmUp.Run(() => times(++i), policy ?? new WarmUpPolicy(), () => jit(Math.Max(i, 0)));
    }

    [Fact]
    public void A_steady_stretch_of_slow_tier0_calls_is_not_taken_for_the_end()
    {
        // 20 calls of 21 ms (tier 0, JIT quiet: promotion pending), then the JIT compiles and calls take 0.7 ms.
        var r = Scripted(i => i < 20 ? 0.021 : 0.0007, i => i < 20 ? 100 : 101);
        Assert.True(r.Settled);
        Assert.Equal(0.0007, r.LastSeconds);
        Assert.True(r.Calls > 20 + 10, $"settled after {r.Calls} calls");
    }

    [Fact]
    public void Calls_that_keep_getting_faster_are_not_settled()
    {
        // 2 ms calls falling 10% per call down to 0.5 ms (after ~14 calls), JIT quiet: settles only once the fall stops.
        var r = Scripted(i => Math.Max(0.0005, 0.002 * Math.Pow(0.9, i)), _ => 7);
        Assert.True(r.Settled);
        Assert.Equal(0.0005, r.LastSeconds, 6);
        Assert.True(r.Seconds >= new WarmUpPolicy().MinSeconds);
    }

    [Fact]
    public void A_JIT_that_keeps_compiling_stops_the_warm_up_at_its_limit_unsettled()
    {
        var policy = new WarmUpPolicy { MaxCalls = 400, MaxSeconds = 100 };
        var r = Scripted(_ => 0.001, i => i, policy);
        Assert.False(r.Settled);
        Assert.Equal(400, r.Calls);
    }

    [Fact]
    public void Long_calls_settle_without_thirty_of_them()
    {
        // 0.5 s calls, the JIT done after the first: LongSeconds (1 s) stands in for TierCalls.
        var r = Scripted(_ => 0.5, i => i == 0 ? 1 : 2);
        Assert.True(r.Settled);
        Assert.InRange(r.Calls, 3, 6);
    }

    [Fact]
    public void The_reference_gets_one_warm_call()
    {
        var r = Scripted(_ => 3.0, i => i, WarmUpPolicy.Single);
        Assert.Equal(1, r.Calls);
        Assert.True(r.Settled);
    }

    [Fact]
    public void A_bad_policy_names_its_property()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => WarmUp.Run(() => 0.001, new WarmUpPolicy { Window = 0 }));
        Assert.StartsWith("WarmUpPolicy.Window", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_warms_up_the_same_way_at_a_short_and_a_long_budget()
    {
        // Before the settle rule, 0.3 s allowed 0.045 s of warm-up and timed tier-0 code (30x slower on the yardstick).
        // The warm-up no longer depends on --max-seconds: both runs make at least the policy's minimum of warm calls.
        // The medians are printed, not compared: speed is the benchmark's to show, not a unit test's (shared machine).
        string shapes = Path.Combine(Path.GetTempPath(), $"rnnfast-warmup-{Guid.NewGuid():N}.txt");
        File.WriteAllText(shapes, "lstm uni 1 25 16 128 128 inference\n");
        try
        {
            (double Median, int Warm) Run(string seconds)
            {
                var (code, stdout, stderr) = CliProcess.Run(["bench", "--shapes", shapes, "--backends", "cpu", "--format", "json", "--max-seconds", seconds],
                    timeout: TimeSpan.FromMinutes(3));
                Assert.True(code == 0, $"bench --max-seconds {seconds}: exit {code}: {stderr}");
                var row = JsonDocument.Parse(stdout).RootElement.GetProperty("results")[0];
                output.WriteLine($"--max-seconds {seconds}: median {row.GetProperty("ms_median").GetDouble()} ms, " +
                                 $"warm-up {row.GetProperty("warmup_runs").GetInt32()} calls {row.GetProperty("warmup_s").GetDouble()} s, " +
                                 $"settled {row.GetProperty("warmup_settled").GetBoolean()}, {row.GetProperty("reps").GetInt32()} reps");
                return (row.GetProperty("ms_median").GetDouble(), row.GetProperty("warmup_runs").GetInt32());
            }
            var shortRun = Run("0.3");
            var longRun = Run("2");
            output.WriteLine($"median ratio 0.3 s / 2 s: {shortRun.Median / longRun.Median:F2}");
            Assert.True(shortRun.Warm >= 30, $"--max-seconds 0.3 warmed up with {shortRun.Warm} calls");
            Assert.True(longRun.Warm >= 30, $"--max-seconds 2 warmed up with {longRun.Warm} calls");
        }
        finally
        {
            File.Delete(shapes);
        }
    }
}
