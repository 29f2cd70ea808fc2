// `rnnfast info --format json`: the facts of the text listing (version, runtime, CPU and SIMD, every backend with its
// availability, reason, kind, score and devices, and the selection) as one JSON object, for scripts. Keys are
// camelCase; an unavailable backend has null kind and score (as "-" in the listing). Exit 2, after the object, when
// RNNFAST_BACKEND names no backend, as the listing does.
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using System.Text.Json.Nodes;
using RnnFast.Backends;

namespace RnnFast.Cli;

internal static class InfoJson
{
    /// <summary>Writes the JSON object to <paramref name="o"/>; an unknown RNNFAST_BACKEND is also an error line on <paramref name="err"/> (exit 2).</summary>
    public static int Run(TextWriter o, TextWriter err)
    {
        Backend? auto = null;
        string? selectionProblem = null, unknownName = null;
        try { auto = BackendRegistry.Get(null); }
        catch (BackendUnavailableException e) { selectionProblem = e.BackendName == "auto" ? "no backend is available" : $"'{e.BackendName}' is not available"; }
        catch (ArgumentException e) { unknownName = CliErrors.OneLine(e); }
        var backends = new JsonArray();
        foreach (var b in BackendRegistry.All)
        {
            var a = b.Availability;
            var devices = new JsonArray();
            if (b is IBackendDevices d)
                foreach (var line in d.DescribeDevices()) devices.Add((JsonNode?)JsonValue.Create(line));
            backends.Add((JsonNode)new JsonObject
            {
                ["name"] = b.Name,
                ["description"] = b.Description,
                ["available"] = a.IsAvailable,
                ["reason"] = a.IsAvailable ? null : a.Reason,
                ["kind"] = a.IsAvailable ? b.Kind.ToString() : null,
                ["score"] = a.IsAvailable ? b.Score : null,
                ["selected"] = ReferenceEquals(b, auto),
                ["devices"] = devices,
            });
        }
        var env = Environment.GetEnvironmentVariable(BackendRegistry.EnvironmentVariable);
        var root = new JsonObject
        {
            ["version"] = InfoCommand.Version(),
            ["runtime"] = new JsonObject
            {
                ["dotnet"] = Environment.Version.ToString(),
                ["os"] = RuntimeInformation.OSDescription,
                ["architecture"] = RuntimeInformation.ProcessArchitecture.ToString(),
            },
            ["machine"] = new JsonObject
            {
                ["cpu"] = RnnFast.Bench.BenchMachine.CpuModel(),
                ["logicalCores"] = Environment.ProcessorCount,
                ["isa"] = InfoCommand.IsaSummary(),
                ["simd"] = new JsonObject
                {
                    ["avx512"] = Vector512.IsHardwareAccelerated && Avx512F.IsSupported,
                    ["avx512bw"] = Vector512.IsHardwareAccelerated && Avx512BW.IsSupported,
                    ["avx2"] = Avx2.IsSupported,
                    ["fma"] = Fma.IsSupported,
                    ["neon"] = AdvSimd.IsSupported,
                },
            },
            ["backends"] = backends,
            ["selection"] = new JsonObject
            {
                ["backend"] = auto?.Name,
                ["source"] = string.IsNullOrEmpty(env) ? "auto" : $"{BackendRegistry.EnvironmentVariable}={env}",
                ["problem"] = unknownName ?? selectionProblem ?? (auto == null ? "none available" : null),
            },
        };
        // Relaxed escaping: the object goes to a terminal or a script, never into HTML; "+" in a version stays "+".
        o.WriteLine(root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        if (unknownName == null) return CliErrors.Ok;
        err.WriteLine($"error: {unknownName}");
        return CliErrors.BadInput;
    }
}
