// The managed CPU backend: packed SGEMM micro-kernels and fused gate math on Vector512 / Vector256 / scalar paths
// (picked at run time), on a persistent worker pool. Always available; preferred over the reference by `auto`.
namespace RnnFast.Backends.Cpu;

/// <summary>The managed CPU backend ("cpu"): SIMD SGEMM and fused gate kernels in C#, on all cores.</summary>
public sealed class CpuBackend : Backend, IBackendThreads
{
    /// <summary>
    /// Threads the cpu backend computes with, the calling thread included (default: one per logical core). The pool is
    /// one per process: setting it on any cpu backend instance (cpu, cpu:bf16) sets it for all. At least 1.
    /// </summary>
    public int Threads
    {
        get => WorkerPool.Shared.Size;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(Threads), value, $"CpuBackend.Threads: must be at least 1, got {value}");
            WorkerPool.Resize(value);
        }
    }

    /// <summary>The default backend: fp32 weights everywhere.</summary>
    public CpuBackend() : this(false) { }

    /// <param name="bf16Weights">
    /// Batch-1 inference streams bf16 copies of the recurrent (and projection) weights, halving the memory traffic of
    /// each step's GEMV; everything else stays fp32. Results differ from fp32 by the weights' rounding (relative 2^-8).
    /// </param>
    public CpuBackend(bool bf16Weights) => Bf16Weights = bf16Weights;

    /// <summary>Whether batch-1 inference reads bf16 recurrent weights (see the constructor).</summary>
    public bool Bf16Weights { get; }

    /// <summary>"cpu", or "cpu:bf16" for the bf16-weights variant.</summary>
    public override string Name => Bf16Weights ? "cpu:bf16" : "cpu";
    /// <inheritdoc/>
    public override BackendKind Kind => BackendKind.Cpu;

    /// <inheritdoc/>
    public override string Description =>
        $"managed SIMD kernels ({Pointwise.PathName}, {Sgemm.MR}x{Sgemm.NR} SGEMM tiles), {WorkerPool.Shared.Size} thread(s)" +
        (Bf16Weights ? ", bf16 recurrent weights at batch 1" : "");

    /// <inheritdoc/>
    public override int Score => 10;

    /// <summary>cpu:bf16 is checked at 1e-2 + 1e-2 |b| (bf16 weights: 8 significant bits); plain cpu at the default.</summary>
    public override (double Abs, double Rel) CheckTolerance => Bf16Weights ? (1e-2, 1e-2) : base.CheckTolerance;

    /// <inheritdoc/>
    protected override BackendAvailability Probe() => BackendAvailability.Yes($"always ({Pointwise.PathName})");

    private CpuBackend? _bf16Variant;

    /// <summary>"cpu:bf16" (also `--backend cpu:bf16`): the variant with bf16 recurrent weights at batch 1.</summary>
    public override Backend WithQualifier(string qualifier)
    {
        ArgumentNullException.ThrowIfNull(qualifier);
        if (!qualifier.Equals("bf16", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"backend: 'cpu:{qualifier}': the cpu backend's only qualifier is 'bf16' (bf16 recurrent weights at batch 1)", nameof(qualifier));
        if (Bf16Weights) return this;
        return LazyInitializer.EnsureInitialized(ref _bf16Variant, () => new CpuBackend(bf16Weights: true));
    }

    /// <inheritdoc/>
    public override IRnnPlan CreateRnnPlan(RnnParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return new CpuRnnPlan(parameters, Bf16Weights, this);
    }
}
