// What the two peer benchmarks share: reading a problem list (bench/shapes format, rnnfast's own parser), warming up
// and timing one problem the way `rnnfast bench` does (WarmUp until the timings settle, then timed calls for the
// budget, at least 3, at most MaxReps; the median), the FLOP count (rnnfast's FlopCount: forward 2*G*H*(I_l+H)*N*T
// per layer and direction, training 3x), and one JSON line per problem with `rnnfast bench --format json`'s field names
// (cell dir L T N I H phase backend gflops correct, plus timings). A problem whose full-T call would not fit the budget
// twice is timed at a shorter T and at half that T, and the full T's time read off the line through both, exactly as
// `rnnfast bench` cuts T (RnnFast.Bench.CallTimer; timed_T, timed_half_T, cut), so a cut line compares like with like.
// With --paired-with BACKEND (e.g. cpu) an rnnfast backend is checked and timed in the same process too, in windows
// alternating with the peer's (rounds of about 0.25 s: peer, rnnfast; then rnnfast, peer; ...), and the line adds
// rnnfast's speed over the peer's as the median of the per-round ratios with quartiles ("paired_speedup"): on a shared
// machine whose speed swings between stretches, both sides of each round see nearly the same machine. An engine that
// cannot start prints one line {"backend": ..., "unavailable": reason} and exits 3.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RnnFast.Backends;
using RnnFast.Bench;

namespace RnnFast.Peers;

/// <summary>Command-line settings of a peer benchmark: SHAPES [--seconds S] [--threads N] [--max-reps R] [--models DIR] [--paired-with BACKEND].</summary>
internal sealed class PeerArgs
{
    public string Shapes { get; private init; } = "";
    public double Seconds { get; private init; } = 2;
    public int Threads { get; private init; } = Environment.ProcessorCount;
    public int MaxReps { get; private init; } = 50;
    public string? Models { get; private init; }
    public string? PairedWith { get; private init; }
    public int PairGapMs { get; private init; } = 100;

    public static PeerArgs Parse(string[] args, string usage)
    {
        if (args.Length == 0 || args[0].StartsWith('-')) throw new ArgumentException("usage: " + usage);
        string shapes = args[0], models = null!;
        string? paired = null;
        int gap = 100;
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
                case "--paired-with": paired = Value(); break;
                case "--pair-gap-ms": gap = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'; usage: {usage}");
            }
        }
        if (!(seconds > 0)) throw new ArgumentException("--seconds: must be positive");
        if (threads < 1) throw new ArgumentException("--threads: must be at least 1");
        if (reps < 1) throw new ArgumentException("--max-reps: must be at least 1");
        if (gap < 0) throw new ArgumentException("--pair-gap-ms: must be 0 or more");
        return new PeerArgs { Shapes = shapes, Seconds = seconds, Threads = threads, MaxReps = reps, Models = models, PairedWith = paired, PairGapMs = gap };
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

    // ---- --paired-with: the rnnfast backend timed in the same rounds
    public string? PairedWith { get; set; }
    public bool? PairedCorrect { get; set; }
    public string? PairedError { get; set; }
    public double PairedGflops { get; set; } = double.NaN;
    /// <summary>Per round: the peer's window median ms / rnnfast's (above 1: rnnfast is faster).</summary>
    public PairedRatio? Paired { get; set; }
}

internal static class PeerRun
{
    /// <summary>
    /// Times the problem the way `rnnfast bench` does (CallTimer): <paramref name="callAt"/>(t) gives a call over the
    /// first t steps (seconds per call). With --paired-with, that rnnfast backend is checked against the reference and
    /// timed in alternating windows with the peer (see the file's header).
    /// </summary>
    public static void Time(BenchProblem p, Func<int, Func<double>> callAt, PeerArgs a, PeerResult r)
    {
        double peak = MachinePeak(a.Threads);
        var peer = new CallTimer(p, callAt, a.Seconds, a.MaxReps, peak);
        if (a.PairedWith == null)
        {
            peer.Prepare(new WarmUpPolicy());
            peer.Window(a.Seconds, a.MaxReps);
            peer.Finish();
            Fill(p, peer, r);
            return;
        }
        r.PairedWith = a.PairedWith;
        BenchCalls? mine = null;
        try
        {
            var backend = BackendRegistry.Get(a.PairedWith);
            if (backend is IBackendThreads bt) bt.Threads = a.Threads;
            var check = BenchRunner.CheckOnly(p, backend);
            r.PairedCorrect = check.Correct;
            if (!check.Correct) r.PairedError = check.CheckFailure ?? check.Error ?? "check failed";
            else mine = new BenchCalls(p, backend);
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or ArgumentException)
        {
            r.PairedCorrect = false;
            r.PairedError = $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ");
        }
        using (mine)
        {
            var ours = mine == null ? null : new CallTimer(p, mine.At, a.Seconds, a.MaxReps, peak);
            peer.Prepare(new WarmUpPolicy());
            ours?.Prepare(new WarmUpPolicy());
            int rounds = ours == null ? 1 : BenchRunner.Rounds(a.Seconds, 0.25, Math.Max(peer.LastWarmSeconds, ours.LastWarmSeconds));
            int cap = Math.Max(1, (a.MaxReps + rounds - 1) / rounds);
            // Each window starts after a pause (--pair-gap-ms, default 100) and one untimed call: an engine's idle
            // threads spin for a while before they sleep, and the pause lets them go quiet first. Measured (LSTM
            // 50x1x512, 12 rounds, rnnfast cpu / ONNX Runtime): the lower quartile of the round ratios 0.35 with no
            // pause, 0.64-0.66 after 20 ms, 0.99-1.03 after 50-200 ms (ONNX Runtime's intra-op threads spin by default).
            void Window(CallTimer t)
            {
                Thread.Sleep(a.PairGapMs);
                t.Window(a.Seconds / rounds, cap, untimed: 1);
            }
            for (int round = 0; round < rounds; round++)
            {
                if (round % 2 == 1 && ours != null) Window(ours);
                Window(peer);
                if (round % 2 == 0 && ours != null) Window(ours);
            }
            peer.Finish();
            Fill(p, peer, r);
            if (ours == null) return;
            ours.Finish();
            r.PairedGflops = p.Flops() / (ours.MsMedian / 1e3) / 1e9;
            r.Paired = CallTimer.Paired(ours, peer);
        }
    }

    private static void Fill(BenchProblem p, CallTimer t, PeerResult r)
    {
        r.WarmupRuns = t.WarmCalls;
        r.WarmupSeconds = t.WarmSeconds;
        r.WarmupSettled = t.WarmSettled;
        r.Reps = t.Samples.Count;
        r.TimedT = t.TimedT;
        if (t.TimedHalfT > 0) r.TimedHalfT = t.TimedHalfT;
        r.MsTimedMedian = t.MedianSeconds * 1e3;
        r.MsMedian = t.MsMedian;
        r.MsMin = t.Samples[0] * t.MsScale;
        r.Gflops = p.Flops() / (t.MsMedian / 1e3) / 1e9;
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
            if (r.PairedWith != null)
            {
                w.WriteString("paired_with", r.PairedWith);
                if (r.PairedCorrect is bool pc) w.WriteBoolean("paired_correct", pc);
                else w.WriteNull("paired_correct");
                if (r.PairedError == null) w.WriteNull("paired_error");
                else w.WriteString("paired_error", r.PairedError);
                Num(w, "paired_gflops", r.PairedGflops);
                if (r.Paired is { } pr)
                {
                    w.WriteStartObject("paired_speedup"); // rnnfast's speed / the peer's, per round
                    Num(w, "median", pr.Median);
                    Num(w, "q1", pr.Q1);
                    Num(w, "q3", pr.Q3);
                    w.WriteNumber("rounds", pr.Rounds);
                    w.WriteStartArray("ratios");
                    foreach (var x in pr.Ratios) w.WriteNumberValue(Math.Round(x, 6));
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                else w.WriteNull("paired_speedup");
            }
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
