// Sgemm's register-tiled micro-kernels: C tile (MR x 32) = init + A . Bpanel over one K block. Packed A: 8x32 with
// Vector512 (16 accumulators), 6x32 with Vector256 (two 6x16 halves of 12), 4x32 scalar. Unpacked A (AVX-512 only,
// read in place with a row stride): 8x32 and the small-batch 4x32. The AVX-512 kernels prefetch the next B panel (and
// the next tile's C) through stepped pointers. Edge tiles go through a local tile.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnFast.Backends.Cpu;

internal static unsafe partial class Sgemm
{
    /// <summary>
    /// C (MR x 32, row stride ldc) = init + Ap (kc x MR) . Bp (kc x 32); init: zero, C itself, or the bias row. The
    /// AVX-512 kernel prefetches a line a k from each of <paramref name="pf"/> and <paramref name="pf2"/> (see PrefetchFor).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Kernel(nint kc, float* a, float* b, float* c, nint ldc, GemmInit init, float* bias, float* pf, float* pf2, float* pfc)
    {
        if (Vector512.IsHardwareAccelerated) Kernel512(kc, a, b, c, ldc, init, bias, pf, pf2, pfc);
        else if (Vector256.IsHardwareAccelerated) Kernel256(kc, a, b, c, ldc, init, bias);
        else KernelScalar(kc, a, b, c, ldc, init, bias);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> F512(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
        Avx512F.IsSupported ? Avx512F.FusedMultiplyAdd(a, b, c) : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> F256(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : a * b + c;

    private static void Kernel512(nint kc, float* a, float* b, float* c, nint ldc, GemmInit init, float* bias, float* pf, float* pf2, float* pfc)
    {
        PrefetchTile(pfc, ldc, 8);
        Vector512<float> c0a, c0b, c1a, c1b, c2a, c2b, c3a, c3b, c4a, c4b, c5a, c5b, c6a, c6b, c7a, c7b;
        if (init == GemmInit.Load)
        {
            c0a = Vector512.Load(c); c0b = Vector512.Load(c + 16);
            c1a = Vector512.Load(c + ldc); c1b = Vector512.Load(c + ldc + 16);
            c2a = Vector512.Load(c + 2 * ldc); c2b = Vector512.Load(c + 2 * ldc + 16);
            c3a = Vector512.Load(c + 3 * ldc); c3b = Vector512.Load(c + 3 * ldc + 16);
            c4a = Vector512.Load(c + 4 * ldc); c4b = Vector512.Load(c + 4 * ldc + 16);
            c5a = Vector512.Load(c + 5 * ldc); c5b = Vector512.Load(c + 5 * ldc + 16);
            c6a = Vector512.Load(c + 6 * ldc); c6b = Vector512.Load(c + 6 * ldc + 16);
            c7a = Vector512.Load(c + 7 * ldc); c7b = Vector512.Load(c + 7 * ldc + 16);
        }
        else
        {
            var za = init == GemmInit.Bias ? Vector512.Load(bias) : Vector512<float>.Zero;
            var zb = init == GemmInit.Bias ? Vector512.Load(bias + 16) : Vector512<float>.Zero;
            c0a = za; c0b = zb; c1a = za; c1b = zb; c2a = za; c2b = zb; c3a = za; c3b = zb;
            c4a = za; c4b = zb; c5a = za; c5b = zb; c6a = za; c6b = zb; c7a = za; c7b = zb;
        }
        for (nint k = 0; k < kc; k++)
        {
            Sse.Prefetch1(pf); // a line a k from each (see PrefetchFor), the pointers stepped (see Kernel512Rows)
            Sse.Prefetch1(pf2);
            pf += 16;
            pf2 += 16;
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var av = Vector512.Create(a[0]); c0a = F512(av, b0, c0a); c0b = F512(av, b1, c0b);
            av = Vector512.Create(a[1]); c1a = F512(av, b0, c1a); c1b = F512(av, b1, c1b);
            av = Vector512.Create(a[2]); c2a = F512(av, b0, c2a); c2b = F512(av, b1, c2b);
            av = Vector512.Create(a[3]); c3a = F512(av, b0, c3a); c3b = F512(av, b1, c3b);
            av = Vector512.Create(a[4]); c4a = F512(av, b0, c4a); c4b = F512(av, b1, c4b);
            av = Vector512.Create(a[5]); c5a = F512(av, b0, c5a); c5b = F512(av, b1, c5b);
            av = Vector512.Create(a[6]); c6a = F512(av, b0, c6a); c6b = F512(av, b1, c6b);
            av = Vector512.Create(a[7]); c7a = F512(av, b0, c7a); c7b = F512(av, b1, c7b);
            a += 8;
            b += 32;
        }
        Vector512.Store(c0a, c); Vector512.Store(c0b, c + 16);
        Vector512.Store(c1a, c + ldc); Vector512.Store(c1b, c + ldc + 16);
        Vector512.Store(c2a, c + 2 * ldc); Vector512.Store(c2b, c + 2 * ldc + 16);
        Vector512.Store(c3a, c + 3 * ldc); Vector512.Store(c3b, c + 3 * ldc + 16);
        Vector512.Store(c4a, c + 4 * ldc); Vector512.Store(c4b, c + 4 * ldc + 16);
        Vector512.Store(c5a, c + 5 * ldc); Vector512.Store(c5b, c + 5 * ldc + 16);
        Vector512.Store(c6a, c + 6 * ldc); Vector512.Store(c6b, c + 6 * ldc + 16);
        Vector512.Store(c7a, c + 7 * ldc); Vector512.Store(c7b, c + 7 * ldc + 16);
    }

    /// <summary>
    /// The AVX2 kernel: C (6 x 32) as two 6 x 16 halves, each over the whole kc (12 accumulators, 2 B vectors and a
    /// broadcast: 15 of the 16 ymm registers). A 3 x 32 tile needed 17 and spilled an accumulator through the stack on
    /// every k (measured: see Sgemm.MR).
    /// </summary>
    private static void Kernel256(nint kc, float* a, float* b, float* c, nint ldc, GemmInit init, float* bias)
    {
        Kernel256Half(kc, a, b, c, ldc, init, bias);
        Kernel256Half(kc, a, b + 16, c + 16, ldc, init, bias == null ? null : bias + 16);
    }

    /// <summary>C (6 x 16, row stride ldc) = init + Ap (kc x 6) . 16 columns of Bp (kc rows, stride 32).</summary>
    private static void Kernel256Half(nint kc, float* a, float* b, float* c, nint ldc, GemmInit init, float* bias)
    {
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (init == GemmInit.Load)
        {
            c00 = Vector256.Load(c); c01 = Vector256.Load(c + 8);
            c10 = Vector256.Load(c + ldc); c11 = Vector256.Load(c + ldc + 8);
            c20 = Vector256.Load(c + 2 * ldc); c21 = Vector256.Load(c + 2 * ldc + 8);
            c30 = Vector256.Load(c + 3 * ldc); c31 = Vector256.Load(c + 3 * ldc + 8);
            c40 = Vector256.Load(c + 4 * ldc); c41 = Vector256.Load(c + 4 * ldc + 8);
            c50 = Vector256.Load(c + 5 * ldc); c51 = Vector256.Load(c + 5 * ldc + 8);
        }
        else
        {
            bool hb = init == GemmInit.Bias;
            var z0 = hb ? Vector256.Load(bias) : Vector256<float>.Zero;
            var z1 = hb ? Vector256.Load(bias + 8) : Vector256<float>.Zero;
            c00 = z0; c01 = z1; c10 = z0; c11 = z1; c20 = z0; c21 = z1;
            c30 = z0; c31 = z1; c40 = z0; c41 = z1; c50 = z0; c51 = z1;
        }
        for (nint k = 0; k < kc; k++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var av = Vector256.Create(a[0]); c00 = F256(av, b0, c00); c01 = F256(av, b1, c01);
            av = Vector256.Create(a[1]); c10 = F256(av, b0, c10); c11 = F256(av, b1, c11);
            av = Vector256.Create(a[2]); c20 = F256(av, b0, c20); c21 = F256(av, b1, c21);
            av = Vector256.Create(a[3]); c30 = F256(av, b0, c30); c31 = F256(av, b1, c31);
            av = Vector256.Create(a[4]); c40 = F256(av, b0, c40); c41 = F256(av, b1, c41);
            av = Vector256.Create(a[5]); c50 = F256(av, b0, c50); c51 = F256(av, b1, c51);
            a += 6;
            b += 32;
        }
        Vector256.Store(c00, c); Vector256.Store(c01, c + 8);
        Vector256.Store(c10, c + ldc); Vector256.Store(c11, c + ldc + 8);
        Vector256.Store(c20, c + 2 * ldc); Vector256.Store(c21, c + 2 * ldc + 8);
        Vector256.Store(c30, c + 3 * ldc); Vector256.Store(c31, c + 3 * ldc + 8);
        Vector256.Store(c40, c + 4 * ldc); Vector256.Store(c41, c + 4 * ldc + 8);
        Vector256.Store(c50, c + 5 * ldc); Vector256.Store(c51, c + 5 * ldc + 8);
    }

    private static void KernelScalar(nint kc, float* a, float* b, float* c, nint ldc, GemmInit init, float* bias)
    {
        const int mr = 4;
        float* acc = stackalloc float[mr * NR];
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < NR; j++)
                acc[r * NR + j] = init == GemmInit.Load ? c[r * ldc + j] : init == GemmInit.Bias ? bias[j] : 0f;
        for (nint k = 0; k < kc; k++)
        {
            for (int r = 0; r < mr; r++)
            {
                float av = a[r];
                float* row = acc + r * NR;
                for (int j = 0; j < NR; j++) row[j] += av * b[j];
            }
            a += mr;
            b += NR;
        }
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < NR; j++)
                c[r * ldc + j] = acc[r * NR + j];
    }

    /// <summary>c[0..cols) = init + res[0..cols): res added into c (Load), onto the bias row (Bias), or stored (Zero); the edge tiles' and GEMVs' last step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreRow(float* c, float* res, int cols, GemmInit init, float* bias)
    {
        if (init == GemmInit.Load) for (int j = 0; j < cols; j++) c[j] += res[j];
        else if (init == GemmInit.Bias) for (int j = 0; j < cols; j++) c[j] = bias[j] + res[j];
        else for (int j = 0; j < cols; j++) c[j] = res[j];
    }

    /// <summary>A micro-kernel tile with only <paramref name="rows"/> x <paramref name="cols"/> of C valid (edges go through a local tile).</summary>
    public static void Tile(nint kc, float* a, float* b, float* c, nint ldc, GemmInit init, float* bias, int rows, int cols, float* pf, float* pf2, float* pfc)
    {
        Debug.Assert(kc >= 1 && rows >= 1 && rows <= MR && cols >= 1 && cols <= NR && ldc >= cols);
        if (rows == MR && cols == NR)
        {
            Kernel(kc, a, b, c, ldc, init, bias, pf, pf2, pfc);
            return;
        }
        float* tile = stackalloc float[8 * NR];
        Kernel(kc, a, b, tile, NR, GemmInit.Zero, null, pf, pf2, null);
        for (int r = 0; r < rows; r++)
        {
            StoreRow(c + r * ldc, tile + r * NR, cols, init, bias);
        }
    }

    /// <summary>
    /// C (8 x 32) = init + A (8 rows of kc, row stride lda, not packed) . Bp (kc x 32): the AVX-512 kernel reading A
    /// in place (rows past <paramref name="rows"/> re-read row 0; the caller stores only the valid rows). The prefetch
    /// pointers are stepped, not computed from k: computed, they cost ~37 instructions a k for 16 FMAs (the addresses,
    /// a register spilled to the stack and reloaded, the loop). Measured (best of the timed calls, x . W^T 3200 x 2048 x
    /// 512): one thread 143-146 -> 155-157 GFLOP/s (oneDNN's dnnl_sgemm 153-159), a step's 64 x 2048 x 512 on two
    /// threads 302-306 -> 323-329; two k a pass on top measured the same (155.6-156.5 against 155.5-156.4).
    /// </summary>
    private static void Kernel512Rows(nint kc, float* a, nint lda, int rows, float* b, float* c, nint ldc, GemmInit init, float* bias, float* pf, float* pf2, float* pfc)
    {
        PrefetchTile(pfc, ldc, 8);
        float* a0 = a, a1 = rows > 1 ? a + lda : a, a2 = rows > 2 ? a + 2 * lda : a, a3 = rows > 3 ? a + 3 * lda : a;
        float* a4 = rows > 4 ? a + 4 * lda : a, a5 = rows > 5 ? a + 5 * lda : a, a6 = rows > 6 ? a + 6 * lda : a, a7 = rows > 7 ? a + 7 * lda : a;
        Vector512<float> c0a, c0b, c1a, c1b, c2a, c2b, c3a, c3b, c4a, c4b, c5a, c5b, c6a, c6b, c7a, c7b;
        if (init == GemmInit.Load)
        {
            c0a = Vector512.Load(c); c0b = Vector512.Load(c + 16);
            c1a = Vector512.Load(c + ldc); c1b = Vector512.Load(c + ldc + 16);
            c2a = Vector512.Load(c + 2 * ldc); c2b = Vector512.Load(c + 2 * ldc + 16);
            c3a = Vector512.Load(c + 3 * ldc); c3b = Vector512.Load(c + 3 * ldc + 16);
            c4a = Vector512.Load(c + 4 * ldc); c4b = Vector512.Load(c + 4 * ldc + 16);
            c5a = Vector512.Load(c + 5 * ldc); c5b = Vector512.Load(c + 5 * ldc + 16);
            c6a = Vector512.Load(c + 6 * ldc); c6b = Vector512.Load(c + 6 * ldc + 16);
            c7a = Vector512.Load(c + 7 * ldc); c7b = Vector512.Load(c + 7 * ldc + 16);
        }
        else
        {
            var za = init == GemmInit.Bias ? Vector512.Load(bias) : Vector512<float>.Zero;
            var zb = init == GemmInit.Bias ? Vector512.Load(bias + 16) : Vector512<float>.Zero;
            c0a = za; c0b = zb; c1a = za; c1b = zb; c2a = za; c2b = zb; c3a = za; c3b = zb;
            c4a = za; c4b = zb; c5a = za; c5b = zb; c6a = za; c6b = zb; c7a = za; c7b = zb;
        }
        for (nint k = 0; k < kc; k++)
        {
            Sse.Prefetch1(pf); // two cache lines a k, of the next panel's B block or this one's (see PrefetchFor)
            Sse.Prefetch1(pf2);
            pf += 16;
            pf2 += 16;
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var av = Vector512.Create(a0[k]); c0a = F512(av, b0, c0a); c0b = F512(av, b1, c0b);
            av = Vector512.Create(a1[k]); c1a = F512(av, b0, c1a); c1b = F512(av, b1, c1b);
            av = Vector512.Create(a2[k]); c2a = F512(av, b0, c2a); c2b = F512(av, b1, c2b);
            av = Vector512.Create(a3[k]); c3a = F512(av, b0, c3a); c3b = F512(av, b1, c3b);
            av = Vector512.Create(a4[k]); c4a = F512(av, b0, c4a); c4b = F512(av, b1, c4b);
            av = Vector512.Create(a5[k]); c5a = F512(av, b0, c5a); c5b = F512(av, b1, c5b);
            av = Vector512.Create(a6[k]); c6a = F512(av, b0, c6a); c6b = F512(av, b1, c6b);
            av = Vector512.Create(a7[k]); c7a = F512(av, b0, c7a); c7b = F512(av, b1, c7b);
            b += 32;
        }
        Vector512.Store(c0a, c); Vector512.Store(c0b, c + 16);
        Vector512.Store(c1a, c + ldc); Vector512.Store(c1b, c + ldc + 16);
        Vector512.Store(c2a, c + 2 * ldc); Vector512.Store(c2b, c + 2 * ldc + 16);
        Vector512.Store(c3a, c + 3 * ldc); Vector512.Store(c3b, c + 3 * ldc + 16);
        Vector512.Store(c4a, c + 4 * ldc); Vector512.Store(c4b, c + 4 * ldc + 16);
        Vector512.Store(c5a, c + 5 * ldc); Vector512.Store(c5b, c + 5 * ldc + 16);
        Vector512.Store(c6a, c + 6 * ldc); Vector512.Store(c6b, c + 6 * ldc + 16);
        Vector512.Store(c7a, c + 7 * ldc); Vector512.Store(c7b, c + 7 * ldc + 16);
    }

    /// <summary>
    /// C (4 x 32) = init + A (4 rows, unpacked) . Bp (kc x 32): the small-batch kernel (N = 2..4 and M tails), 8
    /// accumulators, so a batch of 2-4 does not pay for the 8-row kernel's duplicated rows (4x the FMAs at N = 2).
    /// </summary>
    private static void Kernel512Rows4(nint kc, float* a, nint lda, int rows, float* b, float* c, nint ldc, GemmInit init, float* bias, float* pf, float* pf2, float* pfc)
    {
        PrefetchTile(pfc, ldc, 4);
        float* a0 = a, a1 = rows > 1 ? a + lda : a, a2 = rows > 2 ? a + 2 * lda : a, a3 = rows > 3 ? a + 3 * lda : a;
        Vector512<float> c0a, c0b, c1a, c1b, c2a, c2b, c3a, c3b;
        if (init == GemmInit.Load)
        {
            c0a = Vector512.Load(c); c0b = Vector512.Load(c + 16);
            c1a = Vector512.Load(c + ldc); c1b = Vector512.Load(c + ldc + 16);
            c2a = Vector512.Load(c + 2 * ldc); c2b = Vector512.Load(c + 2 * ldc + 16);
            c3a = Vector512.Load(c + 3 * ldc); c3b = Vector512.Load(c + 3 * ldc + 16);
        }
        else
        {
            var za = init == GemmInit.Bias ? Vector512.Load(bias) : Vector512<float>.Zero;
            var zb = init == GemmInit.Bias ? Vector512.Load(bias + 16) : Vector512<float>.Zero;
            c0a = za; c0b = zb; c1a = za; c1b = zb; c2a = za; c2b = zb; c3a = za; c3b = zb;
        }
        for (nint k = 0; k < kc; k++)
        {
            Sse.Prefetch1(pf);
            Sse.Prefetch1(pf2);
            pf += 16;
            pf2 += 16;
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var av = Vector512.Create(a0[k]); c0a = F512(av, b0, c0a); c0b = F512(av, b1, c0b);
            av = Vector512.Create(a1[k]); c1a = F512(av, b0, c1a); c1b = F512(av, b1, c1b);
            av = Vector512.Create(a2[k]); c2a = F512(av, b0, c2a); c2b = F512(av, b1, c2b);
            av = Vector512.Create(a3[k]); c3a = F512(av, b0, c3a); c3b = F512(av, b1, c3b);
            b += 32;
        }
        Vector512.Store(c0a, c); Vector512.Store(c0b, c + 16);
        Vector512.Store(c1a, c + ldc); Vector512.Store(c1b, c + ldc + 16);
        Vector512.Store(c2a, c + 2 * ldc); Vector512.Store(c2b, c + 2 * ldc + 16);
        Vector512.Store(c3a, c + 3 * ldc); Vector512.Store(c3b, c + 3 * ldc + 16);
    }

    /// <summary><see cref="Tile"/> for an unpacked A (AVX-512 only).</summary>
    private static void TileRows(nint kc, float* a, nint lda, float* b, float* c, nint ldc, GemmInit init, float* bias, int rows, int cols, float* pf, float* pf2, float* pfc)
    {
        Debug.Assert(kc >= 1 && rows >= 1 && rows <= 8 && cols >= 1 && cols <= NR && ldc >= cols && (rows == 1 || lda >= kc));
        if (cols <= HalfNR)
        {
            TileRowsHalf(kc, a, lda, b, c, ldc, init, bias, rows, cols, false, pf, pf2, pfc);
            return;
        }
        bool small = rows <= 4;
        if ((rows == 8 || rows == 4) && cols == NR)
        {
            if (small) Kernel512Rows4(kc, a, lda, rows, b, c, ldc, init, bias, pf, pf2, pfc);
            else Kernel512Rows(kc, a, lda, rows, b, c, ldc, init, bias, pf, pf2, pfc);
            return;
        }
        float* tile = stackalloc float[8 * NR];
        if (small) Kernel512Rows4(kc, a, lda, rows, b, tile, NR, GemmInit.Zero, null, pf, pf2, null);
        else Kernel512Rows(kc, a, lda, rows, b, tile, NR, GemmInit.Zero, null, pf, pf2, null);
        for (int r = 0; r < rows; r++)
        {
            StoreRow(c + r * ldc, tile + r * NR, cols, init, bias);
        }
    }

    /// <summary>
    /// Prefetches (into L1) the C tile the next kernel call will load: <paramref name="rows"/> rows of 32 floats (two
    /// cache lines each) at row stride <paramref name="ldc"/>; null does nothing. The per-step products load C tiles
    /// the input projection wrote for all T steps at once (tens of MB, so from memory, 4 KB apart: no hardware
    /// prefetcher follows them); issued a whole kernel call (about 2000 cycles) ahead, they arrive in time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchTile(float* c, nint ldc, int rows)
    {
        if (c == null) return;
        for (int r = 0; r < rows; r++)
        {
            Sse.Prefetch0(c + r * ldc);
            Sse.Prefetch0(c + r * ldc + 16);
        }
    }

    /// <summary>
    /// The two B lines a k that row tile <paramref name="ir"/> of <paramref name="tiles"/> prefetches into L2 (a kc x 32
    /// block is 2*kc cache lines): the next panel's block (<paramref name="next"/>) has to arrive while this one is
    /// used. With two tiles or more, tile 0 fetches its first half and tile 1 its second half, and every other prefetch
    /// re-touches the tile's own block (L1 hits, harmless); a lone tile (M &lt;= 8: batch 2-8, where the step streams
    /// the weights from memory) fetches both halves itself. Prefetches never fault, so <paramref name="next"/> may point
    /// past the last panel. Measured: the (50,64,512) LSTM forward, single thread, faster in 7 of 8 alternating pairs by
    /// about 4-5% (tiles 0 and 1); one 4-row tile streaming a 2048 x 8192 B from memory, best of 5: 14.0 GB/s fetching
    /// one half, 24.1 GB/s both; LSTM T=10 I=H=2048 inference, one thread, 3 alternating rounds: N=2 27-32 -> 27-36,
    /// N=4 38-52 -> 47-59, N=8 48-62 -> 64-92 GFLOP/s (N=1, the GEMV path, unchanged at 17-21).
    /// </summary>
    private static void PrefetchFor(int ir, int tiles, float* next, nint kc, float* own, out float* pf, out float* pf2)
    {
        pf = ir == 0 ? next : ir == 1 ? next + kc * 16 : own;
        pf2 = tiles == 1 ? next + kc * 16 : own;
    }
}
