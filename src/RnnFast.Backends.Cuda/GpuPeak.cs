// A GPU's FP32 peak from its properties (for `rnnfast bench`'s % of peak): SMs x FP32 lanes per SM x 2 (FMA) x clock.
// FP32 lanes per SM by compute capability, from NVIDIA's CUDA C++ Programming Guide ("Arithmetic Instructions"
// throughput table: 32-bit floating-point add/multiply/multiply-add results per clock per SM).
namespace RnnFast.Backends.Cuda;

/// <summary>FP32 peak of an NVIDIA GPU from its compute capability, SM count and clock.</summary>
public static class GpuPeak
{
    /// <summary>FP32 FMA lanes per SM, or null for an architecture this table does not know.</summary>
    public static int? Fp32LanesPerSm(int major, int minor) => (major, minor) switch
    {
        (3, _) => 192,
        (5, _) => 128,
        (6, 0) => 64,
        (6, _) => 128,
        (7, _) => 64,
        (8, 0) => 64,
        (8, _) => 128,
        (9, 0) => 128,
        (10, _) or (11, _) or (12, _) => 128,
        _ => null,
    };

    /// <summary>Peak GFLOP/s and how it was computed, or (null, reason) when the architecture is unknown.</summary>
    public static (double? Gflops, string Source) Estimate(int major, int minor, int multiprocessors, int clockKHz)
    {
        var lanes = Fp32LanesPerSm(major, minor);
        if (lanes == null || multiprocessors <= 0 || clockKHz <= 0)
            return (null, $"unknown for sm_{major}{minor} ({multiprocessors} SMs, {clockKHz} kHz)");
        double ghz = clockKHz / 1e6;
        double gflops = multiprocessors * (double)lanes.Value * 2 * ghz;
        return (gflops, $"{multiprocessors} SMs x {lanes} FP32 lanes x 2 x {ghz:0.###} GHz (sm_{major}{minor})");
    }
}
