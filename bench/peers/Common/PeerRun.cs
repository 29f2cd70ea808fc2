// What the two peer benchmarks share: reading a problem list (bench/shapes format, rnnfast's own parser), warming up
// and timing one problem the way `rnnfast bench` does (WarmUp until the timings settle, then timed calls for the
// budget, at least 3, at most MaxReps; the median), the FLOP count (rnnfast's FlopCount: forward 2*G*H*(I_l+H)*N*T
// per layer and direction, training 3x), and one JSON line per problem with `rnnfast bench --format json`'s field names
// (cell dir L T N I H phase backend gflops correct, plus timings). A problem whose full-T call would not fit the budget
// twice is timed at a shorter T and at half that T, and the full T's time read off the line through both, exactly as
// `rnnfast bench` cuts T (RnnFast.Bench.CutT; timed_T, timed_half_T, cut), so a cut line compares like with like. An
// engine that cannot start prints one line {"backend": ..., "unavailable": reason} and exits 3.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RnnFast.Bench;

namespace RnnFast.Peers;

/// <summary>Command-line settings of a peer benchmark: SHAPES [--seconds S] [--threads N] [--max-reps R] [--models DIR].</summary>
internal sealed class PeerArgs
{
    public string Shapes { get; private init; } = "";
    public double Seconds { get; private init; } = 2;
    public int Threads { get; private init; } = Environment.ProcessorCount;
    public int MaxReps { get; private init; } = 50;
    public string? Models { get; private init; }

    public static PeerArgs Parse(string[] args, string usage)
    {
        if (args.Length == 0 || args[0].StartsWith('-')) throw new ArgumentException("usage: " + usage);
        string shapes = args[0], models = null!;
        double seconds = 2;
        int threads = Environment.ProcessorCount, reps = 50;
        for (int i = 1; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]}: needs a value; usage: {usage}");
            switch (args[i])
            {
                case "--seconds": seconds = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--max-reps": reps = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--models": models = Value(); break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'; usage: {usage}");
            }
        }
        if (!(seconds > 0)) throw new ArgumentException("--seconds: must be positive");
        if (threads < 1) throw new ArgumentException("--threads: must be at least 1");
        if (reps < 1) throw new ArgumentException("--max-reps: must be at least 1");
        return new PeerArgs { Shapes = shapes, Seconds = seconds, Threads = threads, MaxReps = reps, Models = models };
    }
}

/// <summary>The outcome of one problem on a peer engine.</summary>
internal sealed class PeerResult
{
    public bool? Correct { get; set; }
    public string Check { get; set; } = "";
    public string? Error { get; set; }
    public int WarmupRuns { get; set; }
    public double WarmupSeconds { get; set; }
    public bool WarmupSettled { get; set; }
    public int Reps { get; set; }
    public double MsMedian { get; set; } = double.NaN;
    public double MsMin { get; set; } = double.NaN;
    public double Gflops { get; set; } = double.NaN;
    public int TimedT { get; set; }
    public int? TimedHalfT { get; set; }
    public double MsTimedMedian { get; set; } = double.NaN;
}

internal static class PeerRun
{
    /// <summary>
    /// Times the problem the way `rnnfast bench` does: <paramref name="callAt"/>(t) gives a call over the first t steps
    /// (seconds per call). A T=1 probe (the cheaper of two unless already slow) sets the T that fits the budget twice;
    /// warm-up until settled (a longer T after all, warmed up in turn, when the last warm call shows it fits); timed calls within the
    /// budget (at least 3, at most MaxReps), the median; where T was cut, half that T is timed too and the full T's
    /// time read off the line through both (plain scaling where the two give no positive slope and intercept).
    /// </summary>
    public static void Time(BenchProblem p, Func<int, Func<double>> callAt, PeerArgs a, PeerResult r)
    {
        double budget = a.Seconds;
        int timedT = p.T;
        if (p.T > 1)
        {
            var probe = callAt(1);
            double once = probe();
            if (once < budget / 10) once = Math.Min(once, probe());
            timedT = CutT.Fitting(p.T, once, budget);
        }
        var call = callAt(timedT);
        var warm = WarmUp.Run(call, new WarmUpPolicy());
        r.WarmupRuns = warm.Calls;
        r.WarmupSeconds = warm.Seconds;
        r.WarmupSettled = warm.Settled;
        int better = CutT.Fitting(p.T, warm.LastSeconds / timedT, budget);
        if (better > timedT && 2 * warm.LastSeconds * better / timedT <= 1.5 * budget)
        {
            timedT = better; // a warm-up of its own, as rnnfast bench does (its first calls are cold)
            call = callAt(timedT);
            var again = WarmUp.Run(call, new WarmUpPolicy());
            r.WarmupSeconds += again.Seconds;
            r.WarmupRuns += again.Calls;
            r.WarmupSettled = again.Settled;
        }
        var samples = new List<double>();
        var clock = Stopwatch.StartNew();
        while (samples.Count < a.MaxReps && (samples.Count < 3 || clock.Elapsed.TotalSeconds < budget))
            samples.Add(call());
        double median = CutT.Median(samples);
        double scale = (double)p.T / timedT;
        if (timedT < p.T && timedT >= 2)
        {
            int halfT = timedT / 2;
            double halfMedian = CutT.TimeHalf(callAt(halfT), samples.Count, budget);
            if (CutT.LineScale(p.T, timedT, median, halfT, halfMedian, p.Flops(), MachinePeak(a.Threads)) is double line)
            {
                scale = line;
                r.TimedHalfT = halfT;
            }
        }
        r.Reps = samples.Count;
        r.TimedT = timedT;
        r.MsTimedMedian = median * 1e3;
        r.MsMedian = median * scale * 1e3;
        r.MsMin = samples[0] * scale * 1e3;
        r.Gflops = p.Flops() / (median * scale) / 1e9;
    }

    /// <summary>
    /// The machine's measured FP32 peak on <paramref name="threads"/> threads (rnnfast bench's FMA probe), measured once,
    /// for the cut-T line's guard: without it two noisy timings at T = 2 and 4 put TorchSharp's GRU 1500x32x1536
    /// training at 9107 GFLOP/s on a 420 GFLOP/s machine.
    /// </summary>
    private static double MachinePeak(int threads)
    {
        if (double.IsNaN(_peak)) _peak = PeakProbe.Measure(threads).Gflops;
        return _peak;
    }

    private static double _peak = double.NaN;

    /// <summary>Seconds one call of <paramref name="action"/> takes.</summary>
    public static double Seconds(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Compares with rnnfast bench's default tolerance |a-b| &lt;= 1e-4 + 1e-3|b|; null when within, else what differed.</summary>
    public static string? Compare(ReadOnlySpan<float> got, ReadOnlySpan<float> want)
    {
        if (got.Length != want.Length) return $"{got.Length} values, expected {want.Length}";
        double worst = 0;
        int at = -1;
        for (int i = 0; i < want.Length; i++)
        {
            double excess = Math.Abs((double)got[i] - want[i]) - (1e-4 + 1e-3 * Math.Abs(want[i]));
            if (double.IsNaN(excess)) excess = double.PositiveInfinity;
            if (excess > worst) { worst = excess; at = i; }
        }
        return at < 0 ? null : $"element {at}: {got[at]} vs {want[at]}";
    }

    /// <summary>One JSON line with rnnfast bench's field names.</summary>
    public static void Print(BenchProblem p, string backend, int threads, PeerResult r)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("problem", p.Name);
            w.WriteString("cell", p.CellName);
            w.WriteString("dir", p.Bidirectional ? "bi" : "uni");
            w.WriteNumber("L", p.Layers);
            w.WriteNumber("T", p.T);
            w.WriteNumber("N", p.N);
            w.WriteNumber("I", p.I);
            w.WriteNumber("H", p.H);
            w.WriteString("phase", p.PhaseName);
            w.WriteString("backend", backend);
            w.WriteNumber("threads", threads);
            if (r.Correct is bool c) w.WriteBoolean("correct", c);
            else w.WriteNull("correct");
            w.WriteString("check", r.Check);
            if (r.Error == null) w.WriteNull("error");
            else w.WriteString("error", r.Error);
            w.WriteNumber("warmup_runs", r.WarmupRuns);
            Num(w, "warmup_s", r.WarmupSeconds);
            w.WriteBoolean("warmup_settled", r.WarmupSettled);
            w.WriteNumber("reps", r.Reps);
            w.WriteNumber("timed_T", r.TimedT);
            if (r.TimedHalfT is int half) w.WriteNumber("timed_half_T", half);
            else w.WriteNull("timed_half_T");
            w.WriteBoolean("cut", r.TimedT > 0 && r.TimedT < p.T);
            Num(w, "ms_timed_median", r.MsTimedMedian);
            Num(w, "ms_median", r.MsMedian);
            Num(w, "ms_min", r.MsMin);
            Num(w, "gflop", p.Flops() / 1e9);
            Num(w, "gflops", r.Gflops);
            w.WriteEndObject();
        }
        Console.WriteLine(System.Text.Encoding.UTF8.GetString(ms.ToArray()));
    }

    /// <summary>The engine cannot run at all here: one line saying why (exit code 3).</summary>
    public static int Unavailable(string backend, string reason)
    {
        var options = new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, string> { ["backend"] = backend, ["unavailable"] = reason }, options));
        return 3;
    }

    private static void Num(Utf8JsonWriter w, string name, double v)
    {
        if (double.IsFinite(v)) w.WriteNumber(name, Math.Round(v, 6));
        else w.WriteNull(name);
    }
}
