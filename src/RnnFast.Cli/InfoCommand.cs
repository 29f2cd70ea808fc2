// `rnnfast info`: the runtime, the CPU and its SIMD support, and every backend with its availability and reason.
// `--format json`: the same facts as one JSON object (InfoJson.cs).
using System.CommandLine;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using RnnFast.Backends;

namespace RnnFast.Cli;

internal static class InfoCommand
{
    public static Command Create()
    {
        var format = new Option<string>("--format") { Description = "text (a listing) or json (one JSON object with the same facts)", DefaultValueFactory = _ => "text" };
        var cmd = new Command("info", "Show the runtime, the CPU's SIMD support and every backend's availability") { format };
        cmd.SetAction(r => r.GetValue(format) switch
        {
            "text" => Run(r.InvocationConfiguration.Output, r.InvocationConfiguration.Error),
            "json" => InfoJson.Run(r.InvocationConfiguration.Output, r.InvocationConfiguration.Error),
            var f => CliErrors.Report(new ArgumentException($"--format: must be text or json, got '{f}'"), r.InvocationConfiguration.Error, null),
        });
        return cmd;
    }

    /// <summary>Writes the report to <paramref name="o"/>; an RNNFAST_BACKEND that names no backend is also an error on <paramref name="err"/> (exit 2).</summary>
    public static int Run(TextWriter o, TextWriter? err = null)
    {
        err ??= Console.Error;
        o.WriteLine($"RnnFast {Version()}");
        o.WriteLine($"runtime:  .NET {Environment.Version} on {RuntimeInformation.OSDescription} ({RuntimeInformation.ProcessArchitecture})");
        o.WriteLine($"cpu:      {RnnFast.Bench.BenchMachine.CpuModel()}, {Environment.ProcessorCount} logical cores");
        o.WriteLine($"isa:      {IsaSummary()}");
        o.WriteLine("backends:");
        Backend? auto = null;
        string? selectionProblem = null, unknownName = null;
        try { auto = BackendRegistry.Get(null); }
        catch (BackendUnavailableException e) { selectionProblem = e.BackendName == "auto" ? "no backend is available" : $"'{e.BackendName}' is not available"; }
        catch (ArgumentException e) { unknownName = CliErrors.OneLine(e); } // RNNFAST_BACKEND names no backend: exit 2 below
        foreach (var b in BackendRegistry.All)
        {
            var a = b.Availability;
            string status = a.IsAvailable ? "available" : "unavailable: " + a.Reason;
            // an unavailable backend has no kind or score here (what it would be is not what it is)
            string kind = a.IsAvailable ? b.Kind.ToString() : "-";
            string score = a.IsAvailable ? b.Score.ToString(System.Globalization.CultureInfo.InvariantCulture) : "-";
            o.WriteLine($"  {b.Name,-10} {kind,-4} score {score,4}  {status}{(ReferenceEquals(b, auto) ? "  <- selected" : "")}");
            o.WriteLine($"  {"",-10} {b.Description}");
            if (b is IBackendDevices devices)
                foreach (var line in devices.DescribeDevices()) o.WriteLine($"  {"",-10} {line}");
            if (b is RnnFast.Backends.Cpu.CpuBackend cpu && a.IsAvailable) // its reduced-precision variants (--backend cpu:bf16 / cpu:int8)
                foreach (var q in new[] { "bf16", "int8" })
                {
                    var v = cpu.WithQualifier(q);
                    o.WriteLine($"  {"",-10} {v.Name}: {v.Description}");
                }
        }
        var env = Environment.GetEnvironmentVariable(BackendRegistry.EnvironmentVariable);
        string chosen = auto?.Name ?? (unknownName != null ? "none: " + unknownName : selectionProblem != null ? "none: " + selectionProblem : "none available");
        o.WriteLine($"selection: {chosen} ({(string.IsNullOrEmpty(env) ? "auto" : $"{BackendRegistry.EnvironmentVariable}={env}")}; override with --backend or {BackendRegistry.EnvironmentVariable})");
        if (unknownName == null) return CliErrors.Ok;
        err.WriteLine($"error: {unknownName}");
        return CliErrors.BadInput;
    }

    /// <summary>
    /// The package version (MinVer, from the git tag: e.g. 0.2.0 or 0.2.0-alpha.0.86+sha), not the assembly version,
    /// which MinVer keeps at major.0.0.0 for binary compatibility.
    /// </summary>
    public static string? Version()
    {
        var engine = typeof(Tensor).Assembly;
        string? version = engine.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion;
        return version ?? engine.GetName().Version?.ToString();
    }

    /// <summary>The widest SIMD the JIT will use here (respects DOTNET_EnableAVX512F=0 and friends).</summary>
    public static string IsaSummary()
    {
        var parts = new List<string>();
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported) parts.Add("AVX-512" + (Avx512BW.IsSupported ? " (F, BW" : " (F") + (Avx512Vbmi.IsSupported ? ", VBMI" : "") + ")");
        if (Avx2.IsSupported) parts.Add(Fma.IsSupported ? "AVX2+FMA" : "AVX2");
        else if (Avx.IsSupported) parts.Add("AVX");
        if (AdvSimd.IsSupported) parts.Add("NEON");
        return parts.Count == 0 ? "none (scalar only)" : string.Join(", ", parts);
    }
}
