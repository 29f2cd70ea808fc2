// Sgemm's per-time-step product: C rows [0, M) x one packed B panel (32 columns), called by the cell level for the
// recurrent GEMM panels a thread owns. A (the step's h, N x K) is prepared once per thread: read in place on AVX-512
// and at M == 1 (GEMV), else packed into the thread's scratch.
using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace RnnFast.Backends.Cpu;

internal static unsafe partial class Sgemm
{
    /// <summary>The A operand of a small (per time step) product: read in place on the AVX-512 path, else packed.</summary>
    public readonly struct SmallA
    {
        public SmallA(float* ptr, nint ld, bool packed)
        {
            Ptr = ptr;
            Ld = ld;
            Packed = packed;
        }

        public readonly float* Ptr;
        public readonly nint Ld;
        public readonly bool Packed;
    }

    /// <summary>
    /// Prepares A (M x K, row stride lda) for several <see cref="PanelProduct"/> calls on this thread: in place on the
    /// AVX-512 path and for M == 1 (GEMV), otherwise packed once into this thread's scratch.
    /// </summary>
    public static SmallA PrepareA(int M, int K, float* a, nint lda)
    {
        if (Vector512.IsHardwareAccelerated || M == 1) return new SmallA(a, lda, false);
        float* ap = ThreadScratch(PackedASize(M, K));
        PackA(a, lda, 1, 0, M, 0, K, ap);
        return new SmallA(ap, 0, true);
    }

    /// <summary>
    /// C rows [0, M) x one B panel (32 columns, <paramref name="cols"/> valid) = init + A . Bpanel, K-blocked;
    /// M == 1 takes the GEMV path.
    /// </summary>
    public static void PanelProduct(int M, int K, in SmallA a, float* bPanel, float* c, nint ldc, int init, float* bias, int cols)
    {
        Debug.Assert(M >= 1 && K >= 1 && cols >= 1 && cols <= NR && (M == 1 || ldc >= cols) && (init != InitBias || bias != null));
        if (M == 1)
        {
            Gemv(K, a.Ptr, bPanel, c, init, bias, cols);
            return;
        }
        int mr = MR;
        for (int pc = 0; pc < K; pc += KC)
        {
            int kc = Math.Min(KC, K - pc);
            int ini = pc == 0 ? init : InitLoad;
            for (int ir = 0; ir * mr < M; ir++)
            {
                int rows = Math.Min(mr, M - ir * mr);
                float* cp = c + (nint)ir * mr * ldc;
                if (a.Packed)
                    Tile(kc, a.Ptr + ((nint)ir * K + pc) * mr, bPanel + (nint)pc * NR, cp, ldc, ini, bias, rows, cols);
                else
                    TileRows(kc, a.Ptr + (nint)ir * mr * a.Ld + pc, a.Ld, bPanel + (nint)pc * NR, cp, ldc, ini, bias, rows, cols,
                        PrefetchFor(ir, bPanel + ((nint)K + pc) * NR, kc, bPanel + (nint)pc * NR));
            }
        }
    }
}
