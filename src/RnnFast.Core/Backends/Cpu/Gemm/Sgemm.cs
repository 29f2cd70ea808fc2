// Blocked float32 GEMM for the managed CPU backend (the gemm level under cell and grid): the shared constants, sizes and
// per-thread scratch. The rest of the partial class, one concern per file: SgemmPacking (A and B panels), SgemmKernels
// (micro-kernels), SgemmGemv (batch-1 panel products), SgemmPanels (the per-step panel product), SgemmGeneral (the
// threaded general GEMM); the operands are described by GemmDescriptors (GemmShape, GemmA, GemmB, PackedB, GemmC,
// GemmInit). Conventions: B packed into column panels of NR = 32 floats, A into row panels of MR;
// C (M x N) = init (zero, C itself, or a bias row) + op(A) (M x K) . op(B) (K x N).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnFast.Backends.Cpu;

internal static unsafe partial class Sgemm
{
    public const int NR = 32;
    public const int KC = 256;
    public const int MC = 96; // a multiple of every MR
    public const int NCPanels = 8; // column block of the general GEMM: KC x 256 floats of packed B (256 KB)
    public const int GemmMaxKC = 512;
    public const int GemmRowChunk = 192; // the general GEMM's row chunk (see RunInRowChunks) // the general GEMM's K block: C (often far bigger than the caches) is written once per block

    /// <summary>The general GEMM's K block for depth <paramref name="k"/>: K split evenly into blocks of at most <see cref="GemmMaxKC"/>.</summary>
    public static int GemmKBlock(int k)
    {
        int blocks = (k + GemmMaxKC - 1) / GemmMaxKC;
        return (k + blocks - 1) / blocks;
    }

    /// <summary>
    /// Rows per micro-kernel tile on this machine's path. AVX2: 6 (two 6 x 16 halves, no spilled accumulator; it was 3
    /// x 32). Measured with AVX-512 off (DOTNET_EnableAVX512=0), best of the timed calls: x . W^T 3200 x 2048 x 512 one
    /// thread 51.6 -> 69.5-69.9 GFLOP/s (oneDNN's AVX2 sgemm 80); `rnnfast bench` 3 alternating rounds: LSTM 50x64x512
    /// inference 75-90 -> 116-134, 25x64x512 training 81-87 -> 99-114, LSTM 100x2x256 inference 50-54 -> 60-63.
    /// </summary>
    public static readonly int MR = Vector512.IsHardwareAccelerated ? 8 : Vector256.IsHardwareAccelerated ? 6 : 4;

    public static int Panels(int n) => (n + NR - 1) / NR;

    /// <summary>Floats in a packed B of K rows and N columns (N rounded up to whole panels).</summary>
    public static long PackedBSize(int k, int n) => (long)Panels(n) * k * NR;

    /// <summary>Floats in a packed A of M rows and K columns (M rounded up to whole MR panels).</summary>
    public static long PackedASize(int m, int k) => (long)((m + MR - 1) / MR) * MR * k;

    [ThreadStatic] private static float[]? t_scratch;

    /// <summary>This thread's pinned scratch of at least <paramref name="floats"/> (for A packing). Do not hold across another call.</summary>
    public static float* ThreadScratch(long floats)
    {
        var s = t_scratch;
        if (s == null || s.Length < floats)
        {
            s = GC.AllocateUninitializedArray<float>((int)Math.Max(floats, 1 << 15), pinned: true);
            t_scratch = s;
        }
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(s));
    }

    /// <summary>Address of element 0 of a pinned (POH) array.</summary>
    public static float* Addr(float[] pinnedArray) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinnedArray));
}
