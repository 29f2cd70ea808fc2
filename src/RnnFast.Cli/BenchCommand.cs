// `rnnfast bench`: throughput of every backend on a problem list (bench/shapes/*.txt), CPU against GPU in one run.
// Per problem and backend: a correctness check against the reference, warm-up, then timing within --max-seconds;
// output as a Spectre.Console table (with a GFLOP/s bar chart), markdown, JSON or CSV; an SVG plot of GFLOP/s per
// backend against batch size N; a progress display on stderr while it runs (stdout stays clean for JSON).
// A problem a backend refuses (NotSupportedException) is a row marked "not run" with the backend's reason.
// Exit 0 all checks pass, 1 a backend gave a wrong result, failed or refused a problem, 2 unusable input.
using System.CommandLine;
using System.Globalization;
using System.Text;
using RnnFast.Backends;
using RnnFast.Bench;
using RnnFast.Charts;
using Spectre.Console;

namespace RnnFast.Cli;

/// <summary>The parsed options of `rnnfast bench`.</summary>
internal sealed record BenchArgs
{
    public string Shapes { get; init; } = "small";
    public string Backends { get; init; } = "all";
    public string? Phase { get; init; }
    public int? Threads { get; init; }
    public string Format { get; init; } = "table";
    public string? Out { get; init; }
    public string? Plot { get; init; }
    public double MaxSeconds { get; init; } = 2;
    public int MaxReps { get; init; } = 50;
    public string? Baseline { get; init; }
    public bool Interleave { get; init; }
}

internal static class BenchCommand
{
    /// <summary>Backend names the project ships or plans; asked for but not registered, they are listed as unavailable.</summary>
    private static readonly string[] KnownNames = ["reference", "cpu", "onednn", "opencl", "cuda"];

    private static readonly string[] Formats = ["table", "markdown", "json", "csv"];

    public static Command Create()
    {
        var shapes = new Option<string>("--shapes", "-s")
        {
            Description = "problem list: NAME of bench/shapes/NAME.txt (small, lstm-yardstick, deepbench-inference, deepbench-training) or a FILE " +
                          "with lines 'cell dir layers T N I H phase'",
            DefaultValueFactory = _ => "small",
        };
        var backends = new Option<string>("--backends", "-b")
        {
            Description = "comma-separated backends (reference, cpu, cpu:bf16, cpu:int8, onednn, opencl, opencl:N, cuda) or 'all'; unavailable ones are listed with their reason",
            DefaultValueFactory = _ => "all",
        };
        var phase = new Option<string?>("--phase")
        {
            Description = "inference | training | both: run every shape in that phase (default: the phase each line names)",
        };
        var threads = new Option<int?>("--threads")
        {
            Description = "worker threads, for backends that take a count (cpu, onednn; recorded as 'threads'); default: one per logical core",
        };
        var format = new Option<string>("--format", "-f")
        {
            Description = "table | markdown | json | csv",
            DefaultValueFactory = _ => "table",
        };
        var output = new Option<string?>("--out", "-o") { Description = "write the results to FILE instead of stdout" };
        var plot = new Option<string?>("--plot") { Description = "write an SVG plot of GFLOP/s per backend against batch size N to FILE.svg" };
        var maxSeconds = new Option<double>("--max-seconds")
        {
            Description = "time budget per problem and backend (warm-up + timing; the correctness check is extra). A sequence too long " +
                          "to time twice within it is timed at a shorter T, reported as timed_T / cut, ms scaled to the full T",
            DefaultValueFactory = _ => 2.0,
        };
        var maxReps = new Option<int>("--max-reps")
        {
            Description = "at most this many timed calls per problem and backend (the reference backend: at most 3)",
            DefaultValueFactory = _ => 50,
        };
        var baseline = new Option<string?>("--baseline") { Description = "backend the ratio column compares with (default: the first one timed)" };
        var interleave = new Option<bool>("--interleave")
        {
            Description = "time each problem's backends in alternating windows of about 0.25 s and report ratios as the median of the " +
                          "per-round ratios (paired_speedup_vs, with quartiles): steadier ratios on a shared, noisy machine",
        };
        var cmd = new Command("bench", "Benchmark backends on a problem list: correctness vs the reference, ms, GFLOP/s, % of measured peak, ratios")
        {
            shapes, backends, phase, threads, format, output, plot, maxSeconds, maxReps, baseline, interleave,
        };
        cmd.SetAction(r =>
        {
            var args = new BenchArgs
            {
                Shapes = r.GetValue(shapes) ?? "small",
                Backends = r.GetValue(backends) ?? "all",
                Phase = r.GetValue(phase),
                Threads = r.GetValue(threads),
                Format = r.GetValue(format) ?? "table",
                Out = r.GetValue(output),
                Plot = r.GetValue(plot),
                MaxSeconds = r.GetValue(maxSeconds),
                MaxReps = r.GetValue(maxReps),
                Baseline = r.GetValue(baseline),
                Interleave = r.GetValue(interleave),
            };
            return Run(args, Console.Out, Console.Error, interactive: !Console.IsErrorRedirected);
        });
        return cmd;
    }

    /// <summary>The largest --shapes file read (a problem list is a few lines; anything larger is not one).</summary>
    private const long MaxShapesBytes = 1 << 20;

    /// <summary>
    /// Runs the benchmark. <paramref name="backendsOverride"/> replaces the registry (tests pass a deliberately wrong
    /// backend); <paramref name="interactive"/> draws a live progress display on <paramref name="err"/>.
    /// </summary>
    public static int Run(BenchArgs a, TextWriter o, TextWriter err, bool interactive = false, IReadOnlyList<Backend>? backendsOverride = null,
        BenchMachine? machine = null)
    {
        string format;
        PhaseSelection phase;
        IReadOnlyList<BenchProblem> problems;
        string shapesPath;
        List<Backend> backends;
        List<UnavailableBackend> missing;
        try
        {
            format = a.Format.Trim().ToLowerInvariant();
            if (!Formats.Contains(format))
                throw new ArgumentException($"--format: unknown format '{a.Format}' (expected {string.Join(", ", Formats)})");
            phase = ParsePhase(a.Phase);
            if (!(a.MaxSeconds > 0) || !double.IsFinite(a.MaxSeconds))
                throw new ArgumentException($"--max-seconds: must be a positive number of seconds, got {a.MaxSeconds.ToString(CultureInfo.InvariantCulture)}");
            if (a.MaxReps < 1) throw new ArgumentException($"--max-reps: must be at least 1, got {a.MaxReps}");
            if (a.Threads is int t && t < 1) throw new ArgumentException($"--threads: must be at least 1, got {t}");
            if (a.Plot != null && !a.Plot.EndsWith(".svg", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"--plot: '{a.Plot}': only SVG plots are written (the project's chart writer makes SVG); name the file *.svg");
            shapesPath = ProblemFile.Resolve(a.Shapes);
            if (File.Exists(shapesPath))
            {
                // a FIFO or a device would block the read or never end; a problem list is a short text file
                InputFiles.RequireRegular("--shapes", shapesPath);
                long length = new FileInfo(shapesPath).Length;
                if (length > MaxShapesBytes)
                    throw new ArgumentException($"--shapes: {shapesPath} is {length} bytes; a problem list is a text file of at most {MaxShapesBytes >> 20} MiB");
            }
            problems = ProblemFile.Load(shapesPath);
            (backends, missing) = backendsOverride != null ? (backendsOverride.ToList(), []) : SelectBackends(a.Backends);
            if (a.Baseline != null && !backends.Any(b => b.Name == a.Baseline))
                throw new ArgumentException($"--baseline: '{a.Baseline}' is not among the backends run ({string.Join(", ", backends.Select(b => b.Name))})");
        }
        catch (Exception e) when (CliErrors.IsUserError(e))
        {
            err.WriteLine($"error: {CliErrors.OneLine(e)}");
            return CliErrors.BadInput;
        }

        var options = new BenchOptions
        {
            MaxSeconds = a.MaxSeconds,
            MaxRepetitions = a.MaxReps,
            Threads = a.Threads,
            Phase = phase,
            Baseline = a.Baseline,
            Shapes = ShortPath(shapesPath),
            Interleave = a.Interleave,
        };
        var runner = new BenchRunner(backends, options, missing);
        foreach (var u in missing.Concat(backends.Where(b => !b.IsAvailable).Select(b => new UnavailableBackend(b.Name, b.Availability.Reason))))
            err.WriteLine($"note: backend '{u.Backend}' unavailable: {u.Reason}");
        if (runner.Backends.Count == 0)
        {
            err.WriteLine($"error: none of the requested backends ({a.Backends}) is available here");
            return CliErrors.BadInput;
        }

        int count = BenchRunner.Select(problems, phase).Count * runner.Backends.Count;
        err.WriteLine($"rnnfast bench: {count} run(s) from {options.Shapes} on {string.Join(", ", runner.Backends.Select(b => b.Name))}; " +
                      $"budget {a.MaxSeconds.ToString(CultureInfo.InvariantCulture)} s per problem and backend" +
                      (a.Interleave && runner.Backends.Count > 1 ? ", the backends in alternating windows" : "") + "; measuring the FMA peak...");
        machine ??= BenchMachine.Detect(runner.Backends);
        err.WriteLine($"machine: {machine.Cpu}, {machine.Cores} cores, {machine.Isa}, measured peak {BenchWriters.F(machine.PeakGflops, 1)} GFLOP/s");
        foreach (var d in machine.Devices) err.WriteLine($"device: {d.Name} ({d.Backend})");

        var report = interactive ? RunWithProgressDisplay(runner, problems, machine, err) : runner.Run(problems, PlainProgress(err), machine);

        try
        {
            if (format == "table")
            {
                using var target = a.Out != null ? new StringWriter() : null;
                WriteTable(report, target ?? o, ansi: target == null && !Console.IsOutputRedirected && ReferenceEquals(o, Console.Out));
                if (target != null) WriteFile(a.Out!, target.ToString());
            }
            else
            {
                string text = format switch
                {
                    "json" => BenchWriters.ToJson(report),
                    "csv" => BenchWriters.ToCsv(report),
                    _ => BenchWriters.ToMarkdown(report, CommandLine(a)),
                };
                if (a.Out != null) WriteFile(a.Out, text);
                else o.Write(text);
            }
            if (a.Out != null) err.WriteLine($"results written to {a.Out}");
            if (a.Plot != null)
            {
                Plot(report).Save(a.Plot);
                err.WriteLine($"plot written to {a.Plot}");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            err.WriteLine($"error: {CliErrors.OneLine(e)}");
            return CliErrors.BadInput;
        }

        var refused = report.Refused.ToList();
        foreach (var r in refused)
            err.WriteLine($"NOT RUN {r.Problem}: backend '{r.Backend}' refused it: {r.Refused}");
        var bad = report.Results.Where(r => !r.Correct && !r.NotRun).ToList();
        foreach (var r in bad)
            err.WriteLine($"FAIL {r.Problem} on {r.Backend}: {r.Error ?? r.CheckFailure ?? "wrong result"}");
        string notRun = refused.Count == 0 ? "" : $"; {refused.Count} not run (refused by their backend)";
        err.WriteLine(bad.Count > 0 ? $"{bad.Count} of {report.Results.Count} result(s) do not match the reference" + notRun
            : refused.Count == 0 ? $"all {report.Results.Count} result(s) match the reference"
            : $"all {report.Results.Count - refused.Count} result(s) that ran match the reference" + notRun);
        return bad.Count == 0 && refused.Count == 0 ? CliErrors.Ok : CliErrors.CheckFailed;
    }

    private static PhaseSelection ParsePhase(string? phase) => phase?.Trim().ToLowerInvariant() switch
    {
        null or "" => PhaseSelection.AsWritten,
        "inference" => PhaseSelection.Inference,
        "training" => PhaseSelection.Training,
        "both" => PhaseSelection.Both,
        _ => throw new ArgumentException($"--phase: unknown phase '{phase}' (expected inference, training or both)"),
    };

    /// <summary>
    /// Resolves --backends: 'all' is every registered backend plus the known names not built in; a known name that is
    /// not registered is reported unavailable; an unknown name is an error listing the known ones.
    /// </summary>
    internal static (List<Backend> Backends, List<UnavailableBackend> Missing) SelectBackends(string spec)
    {
        var registered = BackendRegistry.All;
        var backends = new List<Backend>();
        var missing = new List<UnavailableBackend>();
        var names = spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0) throw new ArgumentException("--backends: empty list (name backends, or 'all')");
        if (names.Any(n => n.Equals("all", StringComparison.OrdinalIgnoreCase)))
            names = registered.Select(b => b.Name).Concat(KnownNames).ToArray();
        foreach (var name in names)
        {
            var b = registered.FirstOrDefault(x => string.Equals(x.Name, name, StringComparison.OrdinalIgnoreCase));
            if (b == null && name.Contains(':')) b = BackendRegistry.Find(name); // "opencl:1": a device of a registered backend
            if (b != null)
            {
                if (!backends.Contains(b)) backends.Add(b);
            }
            else if (KnownNames.Contains(name.ToLowerInvariant()))
            {
                if (!missing.Any(m => m.Backend == name.ToLowerInvariant()))
                    missing.Add(new UnavailableBackend(name.ToLowerInvariant(), "not registered in this build of rnnfast (its backend assembly is not part of it yet)"));
            }
            else
            {
                throw new ArgumentException($"--backends: unknown backend '{name}' (known: all, {string.Join(", ", registered.Select(x => x.Name).Union(KnownNames))})");
            }
        }
        return (backends, missing);
    }

    // ------------------------------------------------------------------ progress

    private static Action<BenchProgress> PlainProgress(TextWriter err) => p =>
    {
        if (p.Stage != "done" || p.Result is not { } r) return;
        err.WriteLine($"[{p.Index}/{p.Total}] {p.Problem} on {p.Backend}: {Summary(r)}");
    };

    private static string Summary(BenchResult r)
    {
        if (r.NotRun) return $"NOT RUN: backend '{r.Backend}' refused it: {r.Refused}";
        if (r.Error != null) return "ERROR " + r.Error;
        string check = r.Correct ? "correct" : "WRONG";
        if (r.NotTimed != null) return $"{check}, not timed: {r.NotTimed}";
        if (!r.Timed) return check;
        return $"{check}, {BenchWriters.Ms(r.MsMedian)} ms, {BenchWriters.F(r.Gflops, 1)} GFLOP/s ({BenchWriters.Pct(r.PeakFraction)} of peak)" +
               (r.Cut ? $", timed at T={r.TimedT}" : "");
    }

    private static BenchReport RunWithProgressDisplay(BenchRunner runner, IReadOnlyList<BenchProblem> problems, BenchMachine machine, TextWriter err)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(err) });
        BenchReport? report = null;
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("benchmark", maxValue: 1);
                report = runner.Run(problems, p =>
                {
                    task.MaxValue = p.Total;
                    if (p.Stage == "done")
                    {
                        task.Value = p.Index;
                        if (p.Result is { } r)
                            console.MarkupLine($"[grey][[{p.Index}/{p.Total}]][/] {Markup.Escape(p.Problem.ToString())} on [bold]{Markup.Escape(p.Backend)}[/]: " +
                                               (r.Correct ? "" : "[red]") + Markup.Escape(Summary(r)) + (r.Correct ? "" : "[/]"));
                    }
                    task.Description = Markup.Escape($"{p.Problem.Name} {p.Problem.PhaseName} on {p.Backend}: {p.Stage}");
                }, machine);
                task.Description = "benchmark done";
            });
        return report!;
    }

    // ------------------------------------------------------------------ table (Spectre.Console) and terminal bar chart

    private static void WriteTable(BenchReport report, TextWriter target, bool ansi)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(target),
            Ansi = ansi ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = ansi ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!ansi) console.Profile.Width = 200;
        var m = report.Machine;
        var header = new StringBuilder();
        header.Append($"[bold]CPU[/] {Markup.Escape(m.Cpu)}, {m.Cores} logical cores   [bold]ISA[/] {Markup.Escape(m.Isa)} ({Markup.Escape(m.IsaDetail)})\n");
        header.Append($"[bold]peak[/] {BenchWriters.F(m.PeakGflops, 1)} GFLOP/s FP32 ({Markup.Escape(m.PeakMethod)})");
        foreach (var d in m.Devices)
            header.Append($"\n[bold]GPU[/] {Markup.Escape(d.Name)} ({Markup.Escape(d.Backend)}), peak {(d.PeakGflops is double g ? BenchWriters.F(g, 0) + " GFLOP/s" : "unknown")}");
        console.Write(new Panel(new Markup(header.ToString())) { Header = new PanelHeader($" rnnfast bench: {Markup.Escape(report.Shapes)} ") });

        string vs = report.Baseline != null ? $"x vs {report.Baseline}" : "ratio";
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("problem");
        table.AddColumn("phase");
        table.AddColumn("backend");
        table.AddColumn("correct");
        table.AddColumn(new TableColumn("ms median").RightAligned());
        table.AddColumn(new TableColumn("[[min, max]]").RightAligned());
        table.AddColumn(new TableColumn("seq/s").RightAligned());
        table.AddColumn(new TableColumn("GFLOP/s").RightAligned());
        table.AddColumn(new TableColumn("% peak").RightAligned());
        table.AddColumn(new TableColumn(Markup.Escape(vs)).RightAligned());
        bool anyCut = false;
        foreach (var r in report.Results)
        {
            anyCut |= r.Cut;
            string correct = r.NotRun ? "[yellow]not run[/]" : r.Error != null ? "[red]error[/]" : r.Correct ? $"[green]yes[/] {BenchWriters.Sci(r.MaxAbsError)}" : $"[red]NO[/] {BenchWriters.Sci(r.MaxAbsError)}";
            table.AddRow(
                Markup.Escape(r.Problem.Name),
                r.Problem.PhaseName,
                Markup.Escape(r.Backend),
                correct,
                r.NotTimed != null ? "not timed" : BenchWriters.Ms(r.MsMedian) + (r.Cut ? $" (T={r.TimedT})*" : ""),
                r.Timed ? $"[[{BenchWriters.Ms(r.MsMin)}, {BenchWriters.Ms(r.MsMax)}]]" : "-",
                BenchWriters.F(r.SequencesPerSecond, r.SequencesPerSecond < 100 ? 1 : 0),
                BenchWriters.F(r.Gflops, r.Gflops < 10 ? 2 : 1),
                BenchWriters.Pct(r.PeakFraction),
                BenchWriters.Ratio(report.SpeedupVsBaseline(r)));
        }
        console.Write(table);
        if (report.Interleaved && report.Baseline != null)
            console.MarkupLine($"{Markup.Escape(vs)}: median of the per-round ratios (backends timed in alternating windows)");
        if (anyCut)
            console.MarkupLine($"* timed at a shorter T (one call at the full T would not fit the {BenchWriters.F(report.MaxSeconds, 1)} s budget twice); ms scaled to the full T");
        foreach (var u in report.Unavailable)
            console.MarkupLine($"[yellow]unavailable[/] [bold]{Markup.Escape(u.Backend)}[/]: {Markup.Escape(u.Reason)}");
        foreach (var n in report.Notes) console.MarkupLine($"[yellow]note[/] {Markup.Escape(n)}");
        foreach (var r in report.Results.Where(r => r.NotTimed != null))
            console.MarkupLine($"[yellow]not timed[/] {Markup.Escape($"{r.Problem} on {r.Backend}: {r.NotTimed}")}");
        foreach (var r in report.Refused)
            console.MarkupLine($"[yellow]not run[/] {Markup.Escape($"{r.Problem}: backend '{r.Backend}' refused it: {r.Refused}")}");

        var timed = report.Results.Where(r => r.Timed && double.IsFinite(r.Gflops)).ToList();
        if (timed.Count > 0)
        {
            var names = timed.Select(r => r.Backend).Distinct().ToList();
            var chart = new Spectre.Console.BarChart().Width(Math.Min(140, Math.Max(60, console.Profile.Width - 2))).Label("[bold]GFLOP/s[/]").LeftAlignLabel();
            foreach (var r in timed)
                chart.AddItem(Markup.Escape($"{Short(r.Problem)} {r.Backend}"), Math.Round(r.Gflops, 2), Palette[names.IndexOf(r.Backend) % Palette.Length]);
            console.Write(chart);
        }
    }

    private static readonly Color[] Palette = [Color.Grey, Color.Green, Color.Blue, Color.Orange1, Color.Purple, Color.Teal];

    private static string Short(BenchProblem p, bool withN = true) =>
        $"{p.CellName} T={p.T}" + (withN ? $" N={p.N}" : "") + $" H={p.H}" + (p.I != p.H ? $" I={p.I}" : "") + (p.Layers > 1 ? $" L={p.Layers}" : "") +
        (p.Bidirectional ? " bi" : "") + (p.Phase == BenchPhase.Training ? " train" : "");

    // ------------------------------------------------------------------ SVG plot

    /// <summary>
    /// GFLOP/s against batch size N (log x, markers): one line per backend and shape (the problems that differ only in
    /// N); with more than 12 such lines, one line per backend and phase (geometric mean over the shapes at each N).
    /// </summary>
    internal static LineChart Plot(BenchReport report)
    {
        var timed = report.Results.Where(r => r.Timed && r.Gflops > 0).ToList();
        var chart = new LineChart
        {
            Title = $"rnnfast bench {report.Shapes}: {report.Machine.Cpu}",
            XLabel = "batch size N",
            YLabel = "GFLOP/s",
            LogX = true,
            Markers = true,
            Width = 960,
            Height = 540,
        };
        var byShape = timed.GroupBy(r => (r.Backend, Shape: r.Problem.ShapeWithoutBatch, r.Problem.Phase)).ToList();
        if (byShape.Count <= 12)
        {
            foreach (var g in byShape)
                chart.Series.Add(new ChartSeries($"{g.Key.Backend}: {Short(g.First().Problem, withN: false)}",
                    g.OrderBy(r => r.Problem.N).Select(r => ((double)r.Problem.N, r.Gflops)).ToList()));
        }
        else
        {
            foreach (var g in timed.GroupBy(r => (r.Backend, r.Problem.Phase)))
                chart.Series.Add(new ChartSeries($"{g.Key.Backend} {BenchProblem.PhaseNameOf(g.Key.Phase)} (geo-mean over shapes)",
                    g.GroupBy(r => r.Problem.N).OrderBy(n => n.Key)
                        .Select(n => ((double)n.Key, Math.Exp(n.Average(r => Math.Log(r.Gflops))))).ToList()));
        }
        return chart;
    }

    // ------------------------------------------------------------------ helpers

    private static void WriteFile(string path, string text)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllText(path, text);
    }

    private static string ShortPath(string path)
    {
        var rel = Path.GetRelativePath(Directory.GetCurrentDirectory(), path);
        return rel.StartsWith("..", StringComparison.Ordinal) ? path : rel;
    }

    private static string CommandLine(BenchArgs a)
    {
        var sb = new StringBuilder("rnnfast bench --shapes ").Append(a.Shapes).Append(" --backends ").Append(a.Backends);
        if (a.Phase != null) sb.Append(" --phase ").Append(a.Phase);
        if (a.Threads != null) sb.Append(" --threads ").Append(a.Threads.Value.ToString(CultureInfo.InvariantCulture));
        if (a.MaxSeconds != 2) sb.Append(" --max-seconds ").Append(a.MaxSeconds.ToString(CultureInfo.InvariantCulture));
        if (a.MaxReps != 50) sb.Append(" --max-reps ").Append(a.MaxReps.ToString(CultureInfo.InvariantCulture));
        if (a.Baseline != null) sb.Append(" --baseline ").Append(a.Baseline);
        if (a.Interleave) sb.Append(" --interleave");
        sb.Append(" --format ").Append(a.Format);
        return sb.ToString();
    }
}
