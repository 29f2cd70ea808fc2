// The precision of the recurrent (and projection) weights the cpu backend streams at small-batch inference: fp32
// ("cpu"), bf16 ("cpu:bf16", Gemm/Bf16.cs; batch 1, and 2-4 on AVX-512) or int8 with per-row scales ("cpu:int8",
// Gemm/Int8.cs; batch 1-4). Training, larger batches and the input projection always use fp32.
namespace RnnFast.Backends.Cpu;

/// <summary>
/// The precision of the recurrent and projection weights the cpu backend reads at small-batch inference (int8 at batch
/// 1-4; bf16 at batch 1, and 2-4 on AVX-512; beyond batch 1 the projection stays fp32).
/// </summary>
public enum CpuWeightPrecision
{
    /// <summary>fp32 everywhere ("cpu").</summary>
    Fp32 = 0,

    /// <summary>bf16 copies (8 significant bits, relative rounding error at most 2^-8), fp32 accumulation ("cpu:bf16").</summary>
    Bf16 = 1,

    /// <summary>
    /// int8 copies with one fp32 scale per output row (max|w_row| / 127), the hidden state quantised to int8 per step,
    /// exact int32 accumulation (VNNI where the CPU has it), fp32 activations and cell state ("cpu:int8").
    /// </summary>
    Int8 = 2,
}
