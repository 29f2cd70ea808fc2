// What the benchmark ran on: CPU model, logical cores, the SIMD path of the cpu backend, the measured FP32 peak,
// and any GPU a backend reports (name and peak from its properties, through IBackendDeviceInfo).
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using RnnFast.Backends;

namespace RnnFast.Bench;

/// <summary>A GPU (or other device) a backend reported, with its peak.</summary>
public sealed record BenchDevice(string Backend, string Name, double? PeakGflops, string PeakSource);

/// <summary>The machine a report was measured on.</summary>
public sealed record BenchMachine(string Cpu, int Cores, string Isa, string IsaDetail, double PeakGflops, string PeakMethod,
    int Threads, string Runtime, string Os, IReadOnlyList<BenchDevice> Devices)
{
    /// <summary>Describes this machine, measuring the CPU peak with <see cref="PeakProbe"/> (about half a second).</summary>
    public static BenchMachine Detect(IEnumerable<Backend> backends, double probeSeconds = 0.2)
    {
        var peak = PeakProbe.Measure(Environment.ProcessorCount, probeSeconds);
        var devices = new List<BenchDevice>();
        foreach (var b in backends)
            if (b is IBackendDeviceInfo d && b.IsAvailable)
                devices.Add(new BenchDevice(b.Name, d.DeviceName, d.PeakGflops, d.PeakSource));
        return new BenchMachine(CpuModel(), Environment.ProcessorCount, peak.Isa, DescribeIsa(), peak.Gflops, peak.Method,
            Environment.ProcessorCount, $".NET {Environment.Version}", RuntimeInformation.OSDescription, devices);
    }

    /// <summary>The CPU's model name (/proc/cpuinfo), else the process architecture.</summary>
    public static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal))
                        return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>Every SIMD level the JIT uses here, widest first (respects DOTNET_EnableAVX512F=0 and friends).</summary>
    public static string DescribeIsa()
    {
        var parts = new List<string>();
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported) parts.Add("AVX-512F" + (Avx512BW.IsSupported ? "/BW" : ""));
        if (Avx2.IsSupported) parts.Add(Fma.IsSupported ? "AVX2+FMA" : "AVX2");
        else if (Avx.IsSupported) parts.Add("AVX");
        if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported) parts.Add("NEON");
        return parts.Count == 0 ? "scalar" : string.Join(", ", parts);
    }
}
