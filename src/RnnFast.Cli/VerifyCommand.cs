// `rnnfast verify --backend NAME [--goldens DIR | --no-goldens] [--oracle reference] [--atol A] [--rtol R]`: everything a
// backend must get right, in one run. First every PyTorch reference case (the goldens: --goldens DIR, else
// $RNNFAST_GOLDENS, else ../shared/goldens from the current folder, else none, which is said), through
// ReferenceCaseRunner as `rnnfast check` runs them; then the built-in sweep (BackendSweep: every cell x 1/2 layers x
// uni/bi x fixed/variable lengths; inference, training forward and every gradient) against the oracle backend.
// Tolerance: |a-b| <= atol + rtol*|b| per element (default 1e-4 + 1e-3|b|, the goldens' own). One line per case
// ("PASS"/"FAIL", the case, tensors passed, the worst error as a fraction of the tolerance), then a summary line.
// Exit 0 all pass, 1 any case fails, 2 the backend is unavailable (with its reason) or the input is unusable.
using System.CommandLine;
using System.Globalization;
using RnnFast.Backends;
using RnnFast.Checks;

namespace RnnFast.Cli;

/// <summary>The parsed options of `rnnfast verify`.</summary>
internal sealed record VerifyArgs
{
    public string? Backend { get; init; }
    public string? Goldens { get; init; }
    public bool NoGoldens { get; init; }
    public string Oracle { get; init; } = "reference";
    public double Atol { get; init; } = TensorComparison.DefaultAbsTolerance;
    public double Rtol { get; init; } = TensorComparison.DefaultRelTolerance;
}

internal static class VerifyCommand
{
    public const string GoldensVariable = "RNNFAST_GOLDENS";

    public static Command Create()
    {
        var backend = BackendOption.Create();
        var goldens = new Option<string?>("--goldens", "-g")
        {
            Description = "folder of PyTorch reference cases (default: $RNNFAST_GOLDENS, else ../shared/goldens if it exists)",
        };
        var noGoldens = new Option<bool>("--no-goldens") { Description = "run only the built-in sweep" };
        var oracle = new Option<string>("--oracle")
        {
            Description = "the backend the sweep compares against",
            DefaultValueFactory = _ => "reference",
        };
        var atol = new Option<double>("--atol")
        {
            Description = "absolute tolerance of |a-b| <= atol + rtol*|b|",
            DefaultValueFactory = _ => TensorComparison.DefaultAbsTolerance,
        };
        var rtol = new Option<double>("--rtol")
        {
            Description = "relative tolerance of |a-b| <= atol + rtol*|b|",
            DefaultValueFactory = _ => TensorComparison.DefaultRelTolerance,
        };
        var cmd = new Command("verify",
            "Check a backend on every PyTorch reference case and on a sweep of every mode, layers 1/2, uni/bi, fixed/variable lengths " +
            "(forward inference, forward training, all gradients) against the reference backend")
        {
            backend, goldens, noGoldens, oracle, atol, rtol,
        };
        cmd.SetAction(r => Run(new VerifyArgs
        {
            Backend = r.GetValue(backend),
            Goldens = r.GetValue(goldens),
            NoGoldens = r.GetValue(noGoldens),
            Oracle = r.GetValue(oracle) ?? "reference",
            Atol = r.GetValue(atol),
            Rtol = r.GetValue(rtol),
        }, Console.Out, Console.Error));
        return cmd;
    }

    /// <summary>Runs the verification; <paramref name="backendOverride"/> replaces the registry lookup (tests pass a deliberately wrong backend).</summary>
    public static int Run(VerifyArgs a, TextWriter o, TextWriter err, Backend? backendOverride = null)
    {
        Backend backend, oracle;
        string? goldensDir;
        List<string> goldenFiles;
        try
        {
            if (!(a.Atol >= 0) || !(a.Rtol >= 0) || !double.IsFinite(a.Atol) || !double.IsFinite(a.Rtol))
                throw new ArgumentException($"--atol/--rtol: must be non-negative numbers, got {a.Atol.ToString(CultureInfo.InvariantCulture)} / {a.Rtol.ToString(CultureInfo.InvariantCulture)}");
            backend = backendOverride ?? BackendRegistry.Get(a.Backend);
            backend.EnsureAvailable();
            oracle = BackendRegistry.Get(a.Oracle);
            goldensDir = a.NoGoldens ? null : FindGoldens(a.Goldens);
            goldenFiles = goldensDir == null ? [] : Directory.GetFiles(goldensDir, "*.safetensors").Order(StringComparer.Ordinal).ToList();
            if (a.Goldens != null && goldenFiles.Count == 0) throw new ArgumentException($"--goldens: no .safetensors files in {goldensDir}");
            foreach (var file in goldenFiles) InputFiles.RequireRegular("--goldens", file); // a FIFO would block the read forever
        }
        catch (Exception e) when (CliErrors.IsUserError(e))
        {
            err.WriteLine($"error: {CliErrors.OneLine(e)}");
            return CliErrors.BadInput;
        }

        o.WriteLine($"rnnfast verify: backend {backend.Name} ({backend.Availability.Reason.ReplaceLineEndings(" ")})");
        o.WriteLine($"tolerance: |a-b| <= {Fmt(a.Atol)} + {Fmt(a.Rtol)}*|b| per element; sweep oracle: {oracle.Name}");
        o.WriteLine(goldensDir == null
            ? $"goldens: {(a.NoGoldens ? "skipped (--no-goldens)" : $"none found (pass --goldens DIR or set {GoldensVariable}); running the sweep only")}"
            : $"goldens: {goldensDir} ({goldenFiles.Count} files)");

        int passed = 0, failed = 0, unusable = 0, goldensRun = 0;
        foreach (var path in goldenFiles)
        {
            string name = Path.GetFileName(path);
            try
            {
                var report = ReferenceCaseRunner.Run(path, backend);
                goldensRun++;
                double worst = report.Checks.Select(c => c.WorstToleranceRatio).DefaultIfEmpty(0).Max();
                Line(o, report.Passed, $"golden {name}", report.PassedCount, report.Checks.Count, worst,
                    report.Checks.Where(c => !c.Passed).Select(c => c.ToString()));
                if (report.Passed) passed++;
                else failed++;
            }
            catch (Exception e) when (e is RnnFormatException or IO.SafeTensorsFormatException)
            {
                err.WriteLine($"error: {CliErrors.OneLine(e)}");
                unusable++;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                o.WriteLine($"FAIL  golden {name}: {e.GetType().Name}: {CliErrors.OneLine(e)}");
                failed++;
                goldensRun++;
            }
        }

        var cases = BackendSweep.Cases();
        foreach (var c in cases)
        {
            var r = BackendSweep.Run(c, backend, oracle, seed: 1, a.Atol, a.Rtol);
            if (r.Error != null)
            {
                o.WriteLine($"FAIL  sweep {c.Name}: {r.Error}");
                failed++;
                continue;
            }
            Line(o, r.Passed, $"sweep {c.Name}", r.Checks.Count(x => x.Passed), r.Checks.Count, r.WorstRatio,
                r.Checks.Where(x => !x.Passed).Select(x => x.ToString()));
            if (r.Passed) passed++;
            else failed++;
        }

        int total = passed + failed;
        bool ok = failed == 0 && unusable == 0;
        o.WriteLine($"{(ok ? "PASS" : "FAIL")} {passed}/{total} cases on {backend.Name} ({goldensRun} goldens, {cases.Count} sweep)" +
                    (unusable > 0 ? $"; {unusable} golden file(s) unusable" : ""));
        return unusable > 0 ? CliErrors.BadInput : ok ? CliErrors.Ok : CliErrors.CheckFailed;
    }

    /// <summary>--goldens, else $RNNFAST_GOLDENS, else ../shared/goldens when it exists; null when none. A named folder must exist.</summary>
    public static string? FindGoldens(string? given)
    {
        if (!string.IsNullOrWhiteSpace(given))
        {
            if (!Directory.Exists(given)) throw new DirectoryNotFoundException($"--goldens: folder {given} not found");
            return Path.GetFullPath(given);
        }
        var env = Environment.GetEnvironmentVariable(GoldensVariable);
        if (!string.IsNullOrWhiteSpace(env))
        {
            if (!Directory.Exists(env)) throw new DirectoryNotFoundException($"{GoldensVariable}: folder {env} not found");
            return Path.GetFullPath(env);
        }
        var beside = Path.GetFullPath(Path.Combine("..", "shared", "goldens"));
        return Directory.Exists(beside) ? beside : null;
    }

    private static void Line(TextWriter o, bool pass, string what, int ok, int count, double worst, IEnumerable<string> failures)
    {
        string head = $"{(pass ? "PASS" : "FAIL")}  {what,-62} {ok,3}/{count,-3} tensors  worst {worst.ToString("0.000", CultureInfo.InvariantCulture)} of tolerance";
        var f = failures.Take(3).ToList();
        o.WriteLine(f.Count == 0 ? head : head + ": " + string.Join("; ", f));
    }

    private static string Fmt(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}
