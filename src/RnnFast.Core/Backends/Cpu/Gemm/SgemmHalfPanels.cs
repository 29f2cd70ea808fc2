// Sgemm's half-panel products (AVX-512, A read in place): C (8 x 16) = init + A . the first 16 columns of a 32-column
// B panel, for panels with at most 16 columns that count. Two kinds: the last panel of a product whose N leaves 16 or
// fewer columns (dX, dh at I or H = 650: 10 of 32), computed through a local tile; and the padded gate panels of a
// GateLayout whose last chunk holds 16 or fewer hidden units (LSTM H = 650: 10 of 32 units, 22 zero columns in each of
// its G panels), where C has all 32 columns: 16 are computed in place and the other 16 get what init gives them (the
// full kernel's value there, as B's columns are zero). Half the FMAs of the full kernel on such a panel, the same sums
// in the same order on the columns that count, so bit for bit the same C. Measured (one layer, 2 cores, alternating
// 0.25 s windows in one process, median ratio of 15-25 pairs, half panels on against off): LSTM T=35 H=650 N=32
// inference 1.036 (q1 1.029), N=20 training 1.056; H=512 (no half panels) 1.014, within the noise.
using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnFast.Backends.Cpu;

internal static unsafe partial class Sgemm
{
    /// <summary>Columns of a half panel: the first half of a <see cref="NR"/>-column B panel.</summary>
    public const int HalfNR = NR / 2;

    /// <summary>
    /// <see cref="TileRows"/> for a panel of at most <see cref="HalfNR"/> columns. <paramref name="padded"/>: C has all
    /// <see cref="NR"/> columns of the panel and B's columns past 16 are zero (a padded gate panel): 16 columns are
    /// computed and the rest set from init; else only <paramref name="cols"/> columns of C are written.
    /// </summary>
    internal static void TileRowsHalf(nint kc, float* a, nint lda, float* b, float* c, nint ldc, GemmInit init, float* bias, int rows, int cols,
        bool padded, float* pf, float* pf2, float* pfc)
    {
        Debug.Assert(Vector512.IsHardwareAccelerated && kc >= 1 && rows >= 1 && rows <= 8 && cols >= 1 && cols <= HalfNR
                     && (rows == 1 || lda >= kc) && ldc >= (padded ? NR : cols) && (init != GemmInit.Bias || bias != null));
        if (rows == 8 && (padded || cols == HalfNR))
            Kernel512Half(kc, a, lda, rows, b, c, ldc, init, bias, pf, pf2, pfc);
        else
        {
            float* tile = stackalloc float[8 * HalfNR];
            Kernel512Half(kc, a, lda, rows, b, tile, HalfNR, GemmInit.Zero, null, pf, pf2, null);
            int w = padded ? HalfNR : cols;
            for (int r = 0; r < rows; r++) StoreRow(c + r * ldc, tile + r * HalfNR, w, init, bias);
        }
        if (!padded || init == GemmInit.Load) return;
        // the padding half: init's value (the zero columns of B add nothing)
        var upper = init == GemmInit.Bias ? Vector512.Load(bias + HalfNR) : Vector512<float>.Zero;
        for (int r = 0; r < rows; r++) Vector512.Store(upper, c + r * ldc + HalfNR);
    }

    /// <summary>
    /// C (8 x 16) = init + A (8 rows of kc, row stride lda, not packed; rows past <paramref name="rows"/> re-read row 0)
    /// . the first 16 columns of Bp (kc rows, stride 32): 8 accumulators, one B vector a k. Prefetches as <see cref="Kernel512Rows"/>.
    /// </summary>
    private static void Kernel512Half(nint kc, float* a, nint lda, int rows, float* b, float* c, nint ldc, GemmInit init, float* bias,
        float* pf, float* pf2, float* pfc)
    {
        if (pfc != null)
            for (int r = 0; r < 8; r++) Sse.Prefetch0(pfc + r * ldc);
        float* a0 = a, a1 = rows > 1 ? a + lda : a, a2 = rows > 2 ? a + 2 * lda : a, a3 = rows > 3 ? a + 3 * lda : a;
        float* a4 = rows > 4 ? a + 4 * lda : a, a5 = rows > 5 ? a + 5 * lda : a, a6 = rows > 6 ? a + 6 * lda : a, a7 = rows > 7 ? a + 7 * lda : a;
        Vector512<float> c0, c1, c2, c3, c4, c5, c6, c7;
        if (init == GemmInit.Load)
        {
            c0 = Vector512.Load(c); c1 = Vector512.Load(c + ldc); c2 = Vector512.Load(c + 2 * ldc); c3 = Vector512.Load(c + 3 * ldc);
            c4 = Vector512.Load(c + 4 * ldc); c5 = Vector512.Load(c + 5 * ldc); c6 = Vector512.Load(c + 6 * ldc); c7 = Vector512.Load(c + 7 * ldc);
        }
        else
        {
            var z = init == GemmInit.Bias ? Vector512.Load(bias) : Vector512<float>.Zero;
            c0 = z; c1 = z; c2 = z; c3 = z; c4 = z; c5 = z; c6 = z; c7 = z;
        }
        for (nint k = 0; k < kc; k++)
        {
            Sse.Prefetch1(pf);
            Sse.Prefetch1(pf2);
            pf += 16;
            pf2 += 16;
            var b0 = Vector512.Load(b);
            c0 = F512(Vector512.Create(a0[k]), b0, c0);
            c1 = F512(Vector512.Create(a1[k]), b0, c1);
            c2 = F512(Vector512.Create(a2[k]), b0, c2);
            c3 = F512(Vector512.Create(a3[k]), b0, c3);
            c4 = F512(Vector512.Create(a4[k]), b0, c4);
            c5 = F512(Vector512.Create(a5[k]), b0, c5);
            c6 = F512(Vector512.Create(a6[k]), b0, c6);
            c7 = F512(Vector512.Create(a7[k]), b0, c7);
            b += NR;
        }
        Vector512.Store(c0, c); Vector512.Store(c1, c + ldc); Vector512.Store(c2, c + 2 * ldc); Vector512.Store(c3, c + 3 * ldc);
        Vector512.Store(c4, c + 4 * ldc); Vector512.Store(c5, c + 5 * ldc); Vector512.Store(c6, c + 6 * ldc); Vector512.Store(c7, c + 7 * ldc);
    }
}
