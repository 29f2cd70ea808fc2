// Plain-text forms of a BenchReport: JSON (the issue's shape: machine, unavailable[], results[] — plus more fields),
// a markdown table (for the README) and CSV (one row per result). The Spectre.Console table lives in the CLI.
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RnnFast.Bench;

/// <summary>Writes a <see cref="BenchReport"/> as JSON, markdown or CSV (invariant culture throughout).</summary>
public static class BenchWriters
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    // ------------------------------------------------------------------ JSON

    /// <summary>
    /// The report as indented JSON: {"machine": {cpu, cores, isa, peak_gflops, ...}, "unavailable": [{backend, reason}],
    /// "results": [{problem, cell, T, N, I, H, phase, backend, correct, max_abs_err, ms_median, ms_min, ms_max, gflops,
    /// peak_fraction, error, refused, ...}]}. Unknown numbers (NaN) are null; a refused row has correct false, null
    /// timings and its backend's reason in "refused".
    /// </summary>
    public static string ToJson(BenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var ms = new MemoryStream();
        var jsonOptions = new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var w = new Utf8JsonWriter(ms, jsonOptions))
        {
            w.WriteStartObject();
            var m = report.Machine;
            w.WriteStartObject("machine");
            w.WriteString("cpu", m.Cpu);
            w.WriteNumber("cores", m.Cores);
            w.WriteString("isa", m.Isa);
            Num(w, "peak_gflops", m.PeakGflops);
            w.WriteString("isa_detail", m.IsaDetail);
            w.WriteString("peak_method", m.PeakMethod);
            w.WriteNumber("threads", m.Threads);
            w.WriteString("runtime", m.Runtime);
            w.WriteString("os", m.Os);
            w.WriteStartArray("devices");
            foreach (var d in m.Devices)
            {
                w.WriteStartObject();
                w.WriteString("backend", d.Backend);
                w.WriteString("name", d.Name);
                Num(w, "peak_gflops", d.PeakGflops ?? double.NaN);
                w.WriteString("peak_source", d.PeakSource);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteString("shapes", report.Shapes);
            Num(w, "max_seconds", report.MaxSeconds);
            w.WriteBoolean("interleaved", report.Interleaved);
            if (report.Baseline == null) w.WriteNull("baseline");
            else w.WriteString("baseline", report.Baseline);
            w.WriteStartArray("notes");
            foreach (var n in report.Notes) w.WriteStringValue(n);
            w.WriteEndArray();

            w.WriteStartArray("unavailable");
            foreach (var u in report.Unavailable)
            {
                w.WriteStartObject();
                w.WriteString("backend", u.Backend);
                w.WriteString("reason", u.Reason);
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WriteStartArray("results");
            foreach (var r in report.Results) WriteResult(w, report, r);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    private static void WriteResult(Utf8JsonWriter w, BenchReport report, BenchResult r)
    {
        var p = r.Problem;
        w.WriteStartObject();
        w.WriteString("problem", p.Name);
        w.WriteString("cell", p.CellName);
        w.WriteString("dir", p.Bidirectional ? "bi" : "uni");
        w.WriteNumber("L", p.Layers);
        w.WriteNumber("D", p.Directions);
        w.WriteNumber("T", p.T);
        w.WriteNumber("N", p.N);
        w.WriteNumber("I", p.I);
        w.WriteNumber("H", p.H);
        w.WriteString("phase", p.PhaseName);
        w.WriteString("backend", r.Backend);
        w.WriteString("kind", r.Kind);
        w.WriteNumber("threads", r.Threads);
        w.WriteBoolean("correct", r.Correct);
        Num(w, "max_abs_err", r.MaxAbsError);
        w.WriteString("check", r.Check);
        w.WriteNumber("check_T", r.CheckT);
        w.WriteNumber("check_N", r.CheckN);
        Str(w, "check_failure", r.CheckFailure);
        Str(w, "error", r.Error);
        Str(w, "refused", r.Refused);
        Str(w, "not_timed", r.NotTimed);
        w.WriteNumber("warmup_runs", r.WarmupRuns);
        Num(w, "warmup_s", r.WarmupSeconds);
        w.WriteBoolean("warmup_settled", r.WarmupSettled);
        w.WriteNumber("reps", r.Repetitions);
        w.WriteNumber("timed_T", r.TimedT);
        w.WriteBoolean("cut", r.Cut);
        Num(w, "ms_median", r.MsMedian);
        Num(w, "ms_min", r.MsMin);
        Num(w, "ms_max", r.MsMax);
        Num(w, "ms_timed_median", r.MsTimedMedian);
        w.WriteNumber("timed_half_T", r.TimedHalfT);
        Num(w, "ms_timed_half_median", r.MsTimedHalfMedian);
        Num(w, "cpu_ms_median", r.CpuMsMedian);
        Num(w, "sequences_per_s", r.SequencesPerSecond);
        Num(w, "gflop", r.Gflop);
        Num(w, "gflops", r.Gflops);
        Num(w, "peak_gflops", r.PeakGflops);
        Num(w, "peak_fraction", r.PeakFraction);
        w.WriteStartObject("speedup_vs");
        foreach (var (other, ratio) in r.SpeedupVs.OrderBy(kv => kv.Key, StringComparer.Ordinal)) Num(w, other, ratio);
        w.WriteEndObject();
        w.WriteStartObject("paired_speedup_vs"); // interleaved runs: per-round ratios' median and quartiles
        foreach (var (other, pr) in r.PairedSpeedupVs.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            w.WriteStartObject(other);
            Num(w, "median", pr.Median);
            Num(w, "q1", pr.Q1);
            Num(w, "q3", pr.Q3);
            w.WriteNumber("rounds", pr.Rounds);
            w.WriteStartArray("ratios");
            foreach (var x in pr.Ratios) w.WriteNumberValue(Round(x));
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndObject();
        Num(w, "speedup_vs_baseline", report.SpeedupVsBaseline(r));
        w.WriteEndObject();
    }

    private static void Num(Utf8JsonWriter w, string name, double v)
    {
        if (double.IsFinite(v)) w.WriteNumber(name, Round(v));
        else w.WriteNull(name);
    }

    private static void Str(Utf8JsonWriter w, string name, string? v)
    {
        if (v == null) w.WriteNull(name);
        else w.WriteString(name, v);
    }

    /// <summary>Six significant digits: enough for timings, short to read.</summary>
    private static double Round(double v) => v == 0 ? 0 : double.Parse(v.ToString("G6", Inv), Inv);

    // ------------------------------------------------------------------ markdown

    /// <summary>A markdown section: the machine, a results table (ratios against the baseline), unavailable backends, notes.</summary>
    public static string ToMarkdown(BenchReport report, string? command = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        var sb = new StringBuilder();
        var m = report.Machine;
        if (command != null) sb.Append("Command: `").Append(command).Append("`\n\n");
        sb.Append($"Machine: {m.Cpu}, {m.Cores} logical cores, {m.Isa} ({m.IsaDetail}); measured FP32 peak {F(m.PeakGflops, 1)} GFLOP/s ({m.PeakMethod}); {m.Runtime}\n");
        foreach (var d in m.Devices)
            sb.Append($"Device: {d.Name} ({d.Backend}), peak {(d.PeakGflops is double g ? F(g, 0) + " GFLOP/s" : "unknown")} ({d.PeakSource})\n");
        sb.Append('\n');
        string vs = report.Baseline != null ? $"x vs {report.Baseline}" : "ratio";
        sb.Append($"| problem | phase | backend | correct (max abs err) | warm-up | ms median [min, max] | seq/s | GFLOP/s | % peak | {vs} |\n");
        sb.Append("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        bool anyCut = false;
        foreach (var r in report.Results)
        {
            string correct = r.NotRun ? "not run (refused)" : r.Error != null ? "error" : (r.Correct ? "yes" : "**NO**") + $" ({Sci(r.MaxAbsError)})";
            string ms = r.Timed ? $"{Ms(r.MsMedian)} [{Ms(r.MsMin)}, {Ms(r.MsMax)}]" + (r.Cut ? $" (T={r.TimedT})\u2020" : "") : r.NotTimed != null ? "not timed" : "-";
            anyCut |= r.Cut;
            string warm = r.Timed ? $"{I(r.WarmupRuns)} calls, {F(r.WarmupSeconds, 2)} s" + (r.WarmupSettled ? "" : " (unsettled)") : "-";
            sb.Append($"| {r.Problem.Name} | {r.Problem.PhaseName} | {r.Backend} | {correct} | {warm} | {ms} | {F(r.SequencesPerSecond, r.SequencesPerSecond < 100 ? 1 : 0)} | " +
                      $"{F(r.Gflops, r.Gflops < 10 ? 2 : 1)} | {Pct(r.PeakFraction)} | {Ratio(report.SpeedupVsBaseline(r))} |\n");
        }
        sb.Append("\nWarm-up: calls before timing until the JIT stopped compiling and the calls stopped getting faster (unsettled: stopped at its limit).\n");
        if (report.Interleaved && report.Baseline != null)
            sb.Append($"\nInterleaved: each problem's backends were timed in alternating windows; {vs} is the median of the per-round ratios " +
                      "(quartiles in the JSON), the other columns cover all of a backend's timed calls.\n");
        if (anyCut)
            sb.Append($"\n\u2020 one call at the full T would not fit the {F(report.MaxSeconds, 1)} s budget twice: timed at the T shown, ms scaled to the full T (raise --max-seconds to time the full sequence).\n");
        if (report.Unavailable.Count > 0)
        {
            sb.Append("\nUnavailable backends:\n");
            foreach (var u in report.Unavailable) sb.Append($"- `{u.Backend}`: {u.Reason}\n");
        }
        foreach (var n in report.Notes) sb.Append($"\nNote: {n}\n");
        foreach (var r in report.Results.Where(r => r.Error != null || r.CheckFailure != null || r.NotTimed != null))
            sb.Append($"\n{r.Problem} on {r.Backend}: {r.Error ?? r.CheckFailure ?? "not timed: " + r.NotTimed}\n");
        return sb.ToString();
    }

    // ------------------------------------------------------------------ CSV

    /// <summary>One header row, then one row per result (RFC 4180 quoting where needed).</summary>
    public static string ToCsv(BenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var sb = new StringBuilder();
        sb.Append("problem,cell,dir,L,D,T,N,I,H,phase,backend,kind,threads,correct,max_abs_err,check_T,check_N,timed_T,cut,reps," +
                  "ms_median,ms_min,ms_max,sequences_per_s,gflop,gflops,peak_gflops,peak_fraction,speedup_vs_baseline,baseline,error,not_timed,refused\n");
        foreach (var r in report.Results)
        {
            var p = r.Problem;
            var cells = new[]
            {
                p.Name, p.CellName, p.Bidirectional ? "bi" : "uni", I(p.Layers), I(p.Directions), I(p.T), I(p.N), I(p.I), I(p.H), p.PhaseName,
                r.Backend, r.Kind, I(r.Threads), r.Correct ? "true" : "false", G(r.MaxAbsError), I(r.CheckT), I(r.CheckN), I(r.TimedT),
                r.Cut ? "true" : "false", I(r.Repetitions), G(r.MsMedian), G(r.MsMin), G(r.MsMax), G(r.SequencesPerSecond), G(r.Gflop),
                G(r.Gflops), G(r.PeakGflops), G(r.PeakFraction), G(report.SpeedupVsBaseline(r)), report.Baseline ?? "", r.Error ?? "", r.NotTimed ?? "", r.Refused ?? "",
            };
            sb.Append(string.Join(',', cells.Select(Quote))).Append('\n');
        }
        return sb.ToString();
    }

    private static string Quote(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    // ------------------------------------------------------------------ number formats (shared with the CLI table)

    /// <summary>An integer in invariant culture.</summary>
    public static string I(int v) => v.ToString(Inv);

    /// <summary>A double rounded for CSV/JSON (round-trip format; empty when not finite).</summary>
    public static string G(double v) => double.IsFinite(v) ? Round(v).ToString("R", Inv) : "";

    /// <summary>A double with <paramref name="decimals"/> decimals ("-" when not finite).</summary>
    public static string F(double v, int decimals) => double.IsFinite(v) ? v.ToString("F" + I(decimals), Inv) : "-";

    /// <summary>Milliseconds with three significant digits (at least two decimals below 1 ms).</summary>
    public static string Ms(double v) =>
        !double.IsFinite(v) ? "-" : v >= 100 ? v.ToString("F0", Inv) : v >= 10 ? v.ToString("F1", Inv) : v >= 1 ? v.ToString("F2", Inv) : v.ToString("F3", Inv);

    /// <summary>A fraction as a percentage ("12%", "3.4%" below 10%; "-" when not finite).</summary>
    public static string Pct(double fraction) => double.IsFinite(fraction) ? (fraction * 100).ToString(fraction < 0.1 ? "F1" : "F0", Inv) + "%" : "-";

    /// <summary>A speed ratio such as "1.25x" or "12x" ("-" when not finite).</summary>
    public static string Ratio(double v) => double.IsFinite(v) ? (v >= 10 ? v.ToString("F0", Inv) : v.ToString("F2", Inv)) + "x" : "-";

    /// <summary>Scientific notation with one decimal ("1.2E-5"; "-" when not finite).</summary>
    public static string Sci(double v) => double.IsFinite(v) ? (v == 0 ? "0" : v.ToString("0.0E+0", Inv)) : "-";
}
