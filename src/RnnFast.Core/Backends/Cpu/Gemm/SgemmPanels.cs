// Sgemm's per-time-step product: C rows [0, M) x one packed B panel (32 columns), called by the cell level for the
// recurrent GEMM panels a thread owns. A (the step's h, N x K) is prepared once per thread: read in place on AVX-512
// and at M == 1 (GEMV), else packed into the thread's scratch.
using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace RnnFast.Backends.Cpu;

internal static unsafe partial class Sgemm
{
    /// <summary>
    /// The A operand (M x K) of a small (per time step) product, prepared by <see cref="PrepareA"/>: read in place
    /// (row stride Ld) on the AVX-512 path and at M == 1, else packed into this thread's scratch.
    /// </summary>
    public readonly struct SmallA
    {
        public SmallA(int m, int k, float* ptr, nint ld, bool packed)
        {
            M = m;
            K = k;
            Ptr = ptr;
            Ld = ld;
            Packed = packed;
        }

        public readonly int M, K;
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
        Debug.Assert(M >= 1 && K >= 1 && (M == 1 || lda >= K));
        if (Vector512.IsHardwareAccelerated || M == 1) return new SmallA(M, K, a, lda, false);
        float* ap = ThreadScratch(PackedASize(M, K));
        PackA(a, lda, 1, 0, M, 0, K, ap);
        return new SmallA(M, K, ap, 0, true);
    }

    /// <summary>
    /// C rows [0, M) x panel <paramref name="panel"/> of <paramref name="b"/> (32 columns, <paramref name="cols"/> valid)
    /// = init + A . Bpanel, K-blocked; M == 1 takes the GEMV path. C points at the panel's first column; a bias (for
    /// <see cref="GemmInit.Bias"/>) holds the panel's 32 columns. <paramref name="nextC"/> (optional): where the caller's
    /// next product's C starts (same row stride), prefetched during the last row tile so its first tile does not wait.
    /// <paramref name="paddedHalf"/>: only the panel's first 16 columns of B are nonzero (a padded gate panel, see
    /// <see cref="GateLayout.HalfPanelsFrom"/>) and C has all 32: on AVX-512 with A in place, half the FMAs (<see cref="TileRowsHalf"/>).
    /// </summary>
    public static void PanelProduct(in SmallA a, in PackedB b, int panel, in GemmC c, GemmInit init, float* bias, int cols, float* nextC = null,
        bool paddedHalf = false)
    {
        int M = a.M, K = a.K;
        Debug.Assert(K == b.K && cols >= 1 && cols <= NR && c.Fits(M, cols) && (init != GemmInit.Bias || bias != null));
        float* bPanel = b.Panel(panel), cp0 = c.Buf.Ptr;
        nint ldc = c.Ld;
        if (M == 1)
        {
            Gemv(K, a.Ptr, bPanel, cp0, init, bias, cols);
            return;
        }
        int mr = MR, tiles = (M + mr - 1) / mr;
        // K blocks: on AVX-512 (A read in place) the general GEMM's even split of at most 512, so K = 512 is one pass
        // and each C tile (the input projection's gates, from memory) is loaded and stored once, not twice; packed
        // (AVX2), KC. Measured, one thread, T = 50 steps of h . W_hh^T into the gates with the C prefetch, medians of
        // 6-10 alternating rounds: 64 x 2048 x 512 100.2 -> 104.9 GFLOP/s, 16 x 2048 x 512 104.8 -> 109.4, 64 x 4096 x
        // 1024 99.3 -> 101.6, 32 x 2600 x 650 93.2 -> 94.6 (blocks of 325); the backward dh = dG . W_hh 32 x 512 x 1536
        // 108.9 -> 110.4, 64 x 1024 x 4096 94.8 -> 96.8, 64 x 512 x 2048 equal. The same sums in the same order
        int kBlock = a.Packed ? KC : GemmKBlock(K);
        for (int pc = 0; pc < K; pc += kBlock)
        {
            int kc = Math.Min(kBlock, K - pc);
            GemmInit ini = pc == 0 ? init : GemmInit.Load;
            bool lastBlock = pc + kc >= K;
            for (int ir = 0; ir * mr < M; ir++)
            {
                int rows = Math.Min(mr, M - ir * mr);
                float* cp = cp0 + (nint)ir * mr * ldc;
                float* pfc = (ir + 1) * mr < M ? cp + (nint)mr * ldc : lastBlock ? nextC : null;
                if (a.Packed)
                    Tile(kc, a.Ptr + ((nint)ir * K + pc) * mr, bPanel + (nint)pc * NR, cp, ldc, ini, bias, rows, cols, bPanel, bPanel, null);
                else
                {
                    PrefetchFor(ir, tiles, bPanel + ((nint)K + pc) * NR, kc, bPanel + (nint)pc * NR, out float* pf, out float* pf2);
                    if (paddedHalf)
                        TileRowsHalf(kc, a.Ptr + (nint)ir * mr * a.Ld + pc, a.Ld, bPanel + (nint)pc * NR, cp, ldc, ini, bias, rows, HalfNR, true, pf, pf2, pfc);
                    else
                        TileRows(kc, a.Ptr + (nint)ir * mr * a.Ld + pc, a.Ld, bPanel + (nint)pc * NR, cp, ldc, ini, bias, rows, cols, pf, pf2, pfc);
                }
            }
        }
    }
}
