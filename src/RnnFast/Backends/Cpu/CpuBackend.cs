// The managed CPU backend: packed SGEMM micro-kernels and fused gate math on Vector512 / Vector256 / scalar paths
// (picked at run time), on a persistent worker pool. Always available; preferred over the reference by `auto`.
namespace RnnFast.Backends.Cpu;

/// <summary>The managed CPU backend ("cpu"): SIMD SGEMM and fused gate kernels in C#, on all cores.</summary>
public sealed class CpuBackend : Backend
{
    public override string Name => "cpu";
    public override BackendKind Kind => BackendKind.Cpu;

    public override string Description =>
        $"managed SIMD kernels ({Pointwise.PathName}, {Sgemm.MR}x{Sgemm.NR} SGEMM tiles), {WorkerPool.Shared.Size} thread(s)";

    public override int Score => 10;

    protected override BackendAvailability Probe() => BackendAvailability.Yes($"always ({Pointwise.PathName})");

    public override IRnnPlan CreateRnnPlan(RnnParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return new CpuRnnPlan(parameters);
    }
}
