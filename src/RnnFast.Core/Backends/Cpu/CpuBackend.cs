// The managed CPU backend: packed SGEMM micro-kernels and fused gate math on Vector512 / Vector256 / scalar paths
// (picked at run time), on a persistent worker pool. Always available; preferred over the reference by `auto`.
namespace RnnFast.Backends.Cpu;

/// <summary>The managed CPU backend ("cpu"): SIMD SGEMM and fused gate kernels in C#, on all cores.</summary>
public sealed class CpuBackend : Backend, IBackendThreads
{
    /// <summary>
    /// Threads the cpu backend computes with, the calling thread included (default: one per logical core). The pool is
    /// one per process: setting it on any cpu backend instance (cpu, cpu:bf16, cpu:int8) sets it for all. At least 1.
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
    public CpuBackend() : this(CpuWeightPrecision.Fp32) { }

    /// <param name="bf16Weights">
    /// Inference at batch 1 (and 2-4 on AVX-512) streams bf16 copies of the recurrent weights (and, at batch 1, the
    /// projection's), halving the memory traffic of each step; everything else stays fp32. Results differ from fp32 by
    /// the weights' rounding (relative 2^-8).
    /// </param>
    public CpuBackend(bool bf16Weights) : this(bf16Weights ? CpuWeightPrecision.Bf16 : CpuWeightPrecision.Fp32) { }

    /// <param name="recurrentWeights">
    /// The precision small-batch inference reads the recurrent (and projection) weights in (see
    /// <see cref="CpuWeightPrecision"/>: int8 at batch 1-4, bf16 at batch 1-4 on AVX-512); training, larger batches and the input
    /// projection stay fp32.
    /// </param>
    public CpuBackend(CpuWeightPrecision recurrentWeights)
    {
        if (!Enum.IsDefined(recurrentWeights))
            throw new ArgumentOutOfRangeException(nameof(recurrentWeights), recurrentWeights, $"CpuBackend: unknown CpuWeightPrecision {(int)recurrentWeights}");
        RecurrentWeights = recurrentWeights;
    }

    /// <summary>The precision small-batch inference reads the recurrent weights in (see the constructor).</summary>
    public CpuWeightPrecision RecurrentWeights { get; }

    /// <summary>Whether small-batch inference reads bf16 recurrent weights (see the constructor).</summary>
    public bool Bf16Weights => RecurrentWeights == CpuWeightPrecision.Bf16;

    /// <summary>"cpu", or "cpu:bf16" / "cpu:int8" for the reduced-precision variants.</summary>
    public override string Name => RecurrentWeights switch
    {
        CpuWeightPrecision.Bf16 => "cpu:bf16",
        CpuWeightPrecision.Int8 => "cpu:int8",
        _ => "cpu",
    };
    /// <inheritdoc/>
    public override BackendKind Kind => BackendKind.Cpu;

    /// <inheritdoc/>
    public override string Description =>
        $"managed SIMD kernels ({Pointwise.PathName}, {Sgemm.MR}x{Sgemm.NR} SGEMM tiles), {WorkerPool.Shared.Size} thread(s)" +
        RecurrentWeights switch
        {
            CpuWeightPrecision.Bf16 => System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated
                ? ", bf16 recurrent weights at batch 1-4" : ", bf16 recurrent weights at batch 1",
            CpuWeightPrecision.Int8 => $", int8 recurrent weights at batch 1-4 ({Int8.Name(Int8.Best)})",
            _ => "",
        };

    /// <inheritdoc/>
    public override int Score => 10;

    /// <summary>
    /// cpu:bf16 is checked at 1e-2 + 1e-2 |b| (bf16 weights: 8 significant bits), cpu:int8 at 3e-2 + 3e-2 |b| (weights and
    /// hidden state rounded to 1/254 of their row's / vector's largest magnitude); plain cpu at the default.
    /// </summary>
    public override (double Abs, double Rel) CheckTolerance => RecurrentWeights switch
    {
        CpuWeightPrecision.Bf16 => (1e-2, 1e-2),
        CpuWeightPrecision.Int8 => (3e-2, 3e-2),
        _ => base.CheckTolerance,
    };

    /// <inheritdoc/>
    protected override BackendAvailability Probe() => BackendAvailability.Yes($"always ({Pointwise.PathName})");

    private CpuBackend? _bf16Variant, _int8Variant;
    private CpuBackend? _root; // the instance a variant was made from (cpu:bf16 -> cpu:int8 resolves through it)

    /// <summary>
    /// "cpu:bf16" / "cpu:int8" (also `--backend cpu:bf16`, `--backend cpu:int8`): the variants with bf16 or int8 recurrent
    /// weights for small-batch inference (batch 1-4; bf16 beyond batch 1 on AVX-512).
    /// </summary>
    public override Backend WithQualifier(string qualifier)
    {
        ArgumentNullException.ThrowIfNull(qualifier);
        CpuWeightPrecision want;
        if (qualifier.Equals("bf16", StringComparison.OrdinalIgnoreCase)) want = CpuWeightPrecision.Bf16;
        else if (qualifier.Equals("int8", StringComparison.OrdinalIgnoreCase)) want = CpuWeightPrecision.Int8;
        else
            throw new ArgumentException($"backend: 'cpu:{qualifier}': the cpu backend's qualifiers are 'bf16' and 'int8' (bf16 / int8 recurrent weights for small-batch inference)", nameof(qualifier));
        if (RecurrentWeights == want) return this;
        if (_root != null) return _root.WithQualifier(qualifier);
        return want == CpuWeightPrecision.Bf16
            ? LazyInitializer.EnsureInitialized(ref _bf16Variant, () => new CpuBackend(CpuWeightPrecision.Bf16) { _root = this })
            : LazyInitializer.EnsureInitialized(ref _int8Variant, () => new CpuBackend(CpuWeightPrecision.Int8) { _root = this });
    }

    /// <inheritdoc/>
    public override IRnnPlan CreateRnnPlan(RnnParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return new CpuRnnPlan(parameters, RecurrentWeights, this);
    }
}
