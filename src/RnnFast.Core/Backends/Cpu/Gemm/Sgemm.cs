// Blocked float32 GEMM for the managed CPU backend: C (M x N) = or += op(A) (M x K) . op(B) (K x N) [+ bias row].
// B is packed into column panels of NR = 32 floats (panel p holds K rows of 32: Bp[(p*K + k)*32 + c]), once for
// weights (at plan creation / re-pack) or per call for activations. A is packed per call, per thread, into row
// panels of MR (Ap[(ir*kc + k)*MR + r]), which handles a transposed A and the M tail (zero rows) in one place.
// Micro-kernels: 8x32 with Vector512 (16 accumulators), 3x32 with Vector256 (12), 4x32 scalar. Loops:
// for K blocks of KC, for M blocks of MC: pack A; for this thread's panels: for MR tiles: micro-kernel.
// Threads split the N panels (the gate rows of a weight matrix); tiny products run on the calling thread.
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnFast.Backends.Cpu;

internal static unsafe class Sgemm
{
    public const int NR = 32;
    public const int KC = 256;
    public const int MC = 96; // a multiple of every MR
    public const int NCPanels = 8; // column block of the general GEMM: KC x 256 floats of packed B (256 KB)
    public const int InitZero = 0, InitLoad = 1, InitBias = 2;
    public const int GemmMaxKC = 512; // the general GEMM's K block: C (often far bigger than the caches) is written once per block

    /// <summary>The general GEMM's K block for depth <paramref name="k"/>: K split evenly into blocks of at most <see cref="GemmMaxKC"/>.</summary>
    public static int GemmKBlock(int k)
    {
        int blocks = (k + GemmMaxKC - 1) / GemmMaxKC;
        return (k + blocks - 1) / blocks;
    }

    /// <summary>Rows per micro-kernel tile on this machine's path.</summary>
    public static readonly int MR = Vector512.IsHardwareAccelerated ? 8 : Vector256.IsHardwareAccelerated ? 3 : 4;

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

    // ------------------------------------------------------------------ packing

    /// <summary>
    /// Packs panels [p0, p1) of B (K x N) with B[k, n] = src[kMap(k) * rsK + nMap(n) * csN] into <paramref name="dst"/>.
    /// A null map is the identity; a map entry &lt; 0 (and n &gt;= N) gives zeros.
    /// </summary>
    public static void PackB(float* src, nint rsK, nint csN, int K, int N, int* kMap, int* nMap, float* dst, int p0, int p1)
    {
        for (int p = p0; p < p1; p++)
        {
            float* d = dst + (nint)p * K * NR;
            int n0 = p * NR, w = Math.Min(NR, N - n0);
            if (csN == 1 && nMap == null)
            {
                for (int k = 0; k < K; k++)
                {
                    int kk = kMap == null ? k : kMap[k];
                    float* dr = d + (nint)k * NR;
                    if (kk < 0)
                    {
                        new Span<float>(dr, NR).Clear();
                        continue;
                    }
                    new ReadOnlySpan<float>(src + kk * rsK + n0, w).CopyTo(new Span<float>(dr, w));
                    if (w < NR) new Span<float>(dr + w, NR - w).Clear();
                }
            }
            else
            {
                for (int c = 0; c < NR; c++)
                {
                    int n = n0 + c;
                    int nn = n < N ? (nMap == null ? n : nMap[n]) : -1;
                    if (nn < 0)
                    {
                        for (int k = 0; k < K; k++) d[(nint)k * NR + c] = 0;
                        continue;
                    }
                    float* s = src + nn * csN;
                    if (kMap == null)
                        for (int k = 0; k < K; k++) d[(nint)k * NR + c] = s[k * rsK];
                    else
                        for (int k = 0; k < K; k++)
                        {
                            int kk = kMap[k];
                            d[(nint)k * NR + c] = kk < 0 ? 0 : s[kk * rsK];
                        }
                }
            }
        }
    }

    /// <summary>
    /// Packs rows [m0, m0+mc) and columns [k0, k0+kc) of A (A[m, k] = src[m * rsM + k * csK]) into MR-row panels,
    /// zero-filling the rows past mc.
    /// </summary>
    public static void PackA(float* src, nint rsM, nint csK, int m0, int mc, int k0, int kc, float* dst)
    {
        int mr = MR;
        for (int ir = 0; ir * mr < mc; ir++)
        {
            float* d = dst + (nint)ir * kc * mr;
            int rows = Math.Min(mr, mc - ir * mr);
            if (rsM == 1)
            {
                float* s = src + m0 + ir * mr + k0 * csK;
                if (rows == 8 && Vector256.IsHardwareAccelerated)
                    for (int k = 0; k < kc; k++, s += csK, d += 8) Vector256.Store(Vector256.Load(s), d);
                else
                    for (int k = 0; k < kc; k++, s += csK, d += mr)
                    {
                        int r = 0;
                        for (; r < rows; r++) d[r] = s[r];
                        for (; r < mr; r++) d[r] = 0;
                    }
            }
            else
            {
                for (int r = 0; r < mr; r++)
                {
                    if (r >= rows)
                    {
                        for (int k = 0; k < kc; k++) d[(nint)k * mr + r] = 0;
                        continue;
                    }
                    float* s = src + (m0 + ir * mr + r) * rsM + k0 * csK;
                    if (csK == 1)
                        for (int k = 0; k < kc; k++) d[(nint)k * mr + r] = s[k];
                    else
                        for (int k = 0; k < kc; k++) d[(nint)k * mr + r] = s[k * csK];
                }
            }
        }
    }

    // ------------------------------------------------------------------ micro-kernels

    /// <summary>C (MR x 32, row stride ldc) = init + Ap (kc x MR) . Bp (kc x 32); init: zero, C itself, or the bias row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Kernel(nint kc, float* a, float* b, float* c, nint ldc, int init, float* bias)
    {
        if (Vector512.IsHardwareAccelerated) Kernel512(kc, a, b, c, ldc, init, bias);
        else if (Vector256.IsHardwareAccelerated) Kernel256(kc, a, b, c, ldc, init, bias);
        else KernelScalar(kc, a, b, c, ldc, init, bias);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> F512(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
        Avx512F.IsSupported ? Avx512F.FusedMultiplyAdd(a, b, c) : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> F256(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : a * b + c;

    private static void Kernel512(nint kc, float* a, float* b, float* c, nint ldc, int init, float* bias)
    {
        Vector512<float> c0a, c0b, c1a, c1b, c2a, c2b, c3a, c3b, c4a, c4b, c5a, c5b, c6a, c6b, c7a, c7b;
        if (init == InitLoad)
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
            var za = init == InitBias ? Vector512.Load(bias) : Vector512<float>.Zero;
            var zb = init == InitBias ? Vector512.Load(bias + 16) : Vector512<float>.Zero;
            c0a = za; c0b = zb; c1a = za; c1b = zb; c2a = za; c2b = zb; c3a = za; c3b = zb;
            c4a = za; c4b = zb; c5a = za; c5b = zb; c6a = za; c6b = zb; c7a = za; c7b = zb;
        }
        for (nint k = 0; k < kc; k++)
        {
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

    private static void Kernel256(nint kc, float* a, float* b, float* c, nint ldc, int init, float* bias)
    {
        Vector256<float> c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23;
        if (init == InitLoad)
        {
            c00 = Vector256.Load(c); c01 = Vector256.Load(c + 8); c02 = Vector256.Load(c + 16); c03 = Vector256.Load(c + 24);
            float* r1 = c + ldc, r2 = c + 2 * ldc;
            c10 = Vector256.Load(r1); c11 = Vector256.Load(r1 + 8); c12 = Vector256.Load(r1 + 16); c13 = Vector256.Load(r1 + 24);
            c20 = Vector256.Load(r2); c21 = Vector256.Load(r2 + 8); c22 = Vector256.Load(r2 + 16); c23 = Vector256.Load(r2 + 24);
        }
        else
        {
            bool hb = init == InitBias;
            var z0 = hb ? Vector256.Load(bias) : Vector256<float>.Zero;
            var z1 = hb ? Vector256.Load(bias + 8) : Vector256<float>.Zero;
            var z2 = hb ? Vector256.Load(bias + 16) : Vector256<float>.Zero;
            var z3 = hb ? Vector256.Load(bias + 24) : Vector256<float>.Zero;
            c00 = z0; c01 = z1; c02 = z2; c03 = z3;
            c10 = z0; c11 = z1; c12 = z2; c13 = z3;
            c20 = z0; c21 = z1; c22 = z2; c23 = z3;
        }
        for (nint k = 0; k < kc; k++)
        {
            var av = Vector256.Create(a[0]);
            c00 = F256(av, Vector256.Load(b), c00); c01 = F256(av, Vector256.Load(b + 8), c01);
            c02 = F256(av, Vector256.Load(b + 16), c02); c03 = F256(av, Vector256.Load(b + 24), c03);
            av = Vector256.Create(a[1]);
            c10 = F256(av, Vector256.Load(b), c10); c11 = F256(av, Vector256.Load(b + 8), c11);
            c12 = F256(av, Vector256.Load(b + 16), c12); c13 = F256(av, Vector256.Load(b + 24), c13);
            av = Vector256.Create(a[2]);
            c20 = F256(av, Vector256.Load(b), c20); c21 = F256(av, Vector256.Load(b + 8), c21);
            c22 = F256(av, Vector256.Load(b + 16), c22); c23 = F256(av, Vector256.Load(b + 24), c23);
            a += 3;
            b += 32;
        }
        Vector256.Store(c00, c); Vector256.Store(c01, c + 8); Vector256.Store(c02, c + 16); Vector256.Store(c03, c + 24);
        float* w1 = c + ldc, w2 = c + 2 * ldc;
        Vector256.Store(c10, w1); Vector256.Store(c11, w1 + 8); Vector256.Store(c12, w1 + 16); Vector256.Store(c13, w1 + 24);
        Vector256.Store(c20, w2); Vector256.Store(c21, w2 + 8); Vector256.Store(c22, w2 + 16); Vector256.Store(c23, w2 + 24);
    }

    private static void KernelScalar(nint kc, float* a, float* b, float* c, nint ldc, int init, float* bias)
    {
        const int mr = 4;
        float* acc = stackalloc float[mr * NR];
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < NR; j++)
                acc[r * NR + j] = init == InitLoad ? c[r * ldc + j] : init == InitBias ? bias[j] : 0f;
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

    /// <summary>A micro-kernel tile with only <paramref name="rows"/> x <paramref name="cols"/> of C valid (edges go through a local tile).</summary>
    public static void Tile(nint kc, float* a, float* b, float* c, nint ldc, int init, float* bias, int rows, int cols)
    {
        if (rows == MR && cols == NR)
        {
            Kernel(kc, a, b, c, ldc, init, bias);
            return;
        }
        float* tile = stackalloc float[8 * NR];
        Kernel(kc, a, b, tile, NR, InitZero, null);
        for (int r = 0; r < rows; r++)
        {
            float* cr = c + r * ldc, tr = tile + r * NR;
            if (init == InitLoad) for (int j = 0; j < cols; j++) cr[j] += tr[j];
            else if (init == InitBias) for (int j = 0; j < cols; j++) cr[j] = bias[j] + tr[j];
            else for (int j = 0; j < cols; j++) cr[j] = tr[j];
        }
    }

    /// <summary>
    /// One row times one B panel: c[0..cols) = init + a (K) . Bpanel (K x 32), for batch-1 recurrences (GEMV).
    /// Four independent accumulator sets hide the FMA latency; the panel streams once.
    /// </summary>
    public static void Gemv(int K, float* a, float* b, float* c, int init, float* bias, int cols)
    {
        float* res = stackalloc float[NR];
        nint k = 0, kn = K;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> s0 = default, s1 = default, t0 = default, t1 = default, u0 = default, u1 = default, v0 = default, v1 = default;
            for (; k + 4 <= kn; k += 4)
            {
                float* bk = b + k * NR;
                var x = Vector512.Create(a[k]); s0 = F512(x, Vector512.Load(bk), s0); s1 = F512(x, Vector512.Load(bk + 16), s1);
                x = Vector512.Create(a[k + 1]); t0 = F512(x, Vector512.Load(bk + 32), t0); t1 = F512(x, Vector512.Load(bk + 48), t1);
                x = Vector512.Create(a[k + 2]); u0 = F512(x, Vector512.Load(bk + 64), u0); u1 = F512(x, Vector512.Load(bk + 80), u1);
                x = Vector512.Create(a[k + 3]); v0 = F512(x, Vector512.Load(bk + 96), v0); v1 = F512(x, Vector512.Load(bk + 112), v1);
            }
            for (; k < kn; k++)
            {
                var x = Vector512.Create(a[k]);
                s0 = F512(x, Vector512.Load(b + k * NR), s0); s1 = F512(x, Vector512.Load(b + k * NR + 16), s1);
            }
            Vector512.Store((s0 + t0) + (u0 + v0), res);
            Vector512.Store((s1 + t1) + (u1 + v1), res + 16);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, t0 = default, t1 = default, t2 = default, t3 = default;
            for (; k + 2 <= kn; k += 2)
            {
                float* bk = b + k * NR;
                var x = Vector256.Create(a[k]);
                s0 = F256(x, Vector256.Load(bk), s0); s1 = F256(x, Vector256.Load(bk + 8), s1);
                s2 = F256(x, Vector256.Load(bk + 16), s2); s3 = F256(x, Vector256.Load(bk + 24), s3);
                x = Vector256.Create(a[k + 1]);
                t0 = F256(x, Vector256.Load(bk + 32), t0); t1 = F256(x, Vector256.Load(bk + 40), t1);
                t2 = F256(x, Vector256.Load(bk + 48), t2); t3 = F256(x, Vector256.Load(bk + 56), t3);
            }
            for (; k < kn; k++)
            {
                float* bk = b + k * NR;
                var x = Vector256.Create(a[k]);
                s0 = F256(x, Vector256.Load(bk), s0); s1 = F256(x, Vector256.Load(bk + 8), s1);
                s2 = F256(x, Vector256.Load(bk + 16), s2); s3 = F256(x, Vector256.Load(bk + 24), s3);
            }
            Vector256.Store(s0 + t0, res); Vector256.Store(s1 + t1, res + 8);
            Vector256.Store(s2 + t2, res + 16); Vector256.Store(s3 + t3, res + 24);
        }
        else
        {
            for (int j = 0; j < NR; j++) res[j] = 0;
            for (; k < kn; k++)
            {
                float x = a[k];
                float* bk = b + k * NR;
                for (int j = 0; j < NR; j++) res[j] += x * bk[j];
            }
        }
        if (init == InitLoad) for (int j = 0; j < cols; j++) c[j] += res[j];
        else if (init == InitBias) for (int j = 0; j < cols; j++) c[j] = bias[j] + res[j];
        else for (int j = 0; j < cols; j++) c[j] = res[j];
    }

    /// <summary>
    /// <paramref name="panels"/> (2-4) consecutive B panels (each K x 32, one after another) times one row at once:
    /// c[g*32 + j] = init + a . Bpanel_g[:, j], the batch-1 step of every gate of one chunk of hidden units. Reading the
    /// gates' panels side by side keeps several memory streams in flight (the step is bound by memory bandwidth).
    /// AVX-512 only; <paramref name="cols"/> valid columns in each panel.
    /// </summary>
    public static void GemvPanels(int K, float* a, float* b, int panels, float* c, int init, float* bias, int cols)
    {
        float* res = stackalloc float[4 * NR];
        nint stride = (nint)K * NR;
        float* b0 = b, b1 = b + stride, b2 = panels > 2 ? b + 2 * stride : b, b3 = panels > 3 ? b + 3 * stride : b;
        Vector512<float> s0 = default, s1 = default, t0 = default, t1 = default, u0 = default, u1 = default, v0 = default, v1 = default;
        for (nint k = 0, o = 0; k < K; k++, o += NR)
        {
            var x = Vector512.Create(a[k]);
            s0 = F512(x, Vector512.Load(b0 + o), s0); s1 = F512(x, Vector512.Load(b0 + o + 16), s1);
            t0 = F512(x, Vector512.Load(b1 + o), t0); t1 = F512(x, Vector512.Load(b1 + o + 16), t1);
            u0 = F512(x, Vector512.Load(b2 + o), u0); u1 = F512(x, Vector512.Load(b2 + o + 16), u1);
            v0 = F512(x, Vector512.Load(b3 + o), v0); v1 = F512(x, Vector512.Load(b3 + o + 16), v1);
        }
        Vector512.Store(s0, res); Vector512.Store(s1, res + 16);
        Vector512.Store(t0, res + 32); Vector512.Store(t1, res + 48);
        Vector512.Store(u0, res + 64); Vector512.Store(u1, res + 80);
        Vector512.Store(v0, res + 96); Vector512.Store(v1, res + 112);
        for (int g = 0; g < panels; g++)
        {
            float* cg = c + g * NR, rg = res + g * NR, bg = bias == null ? null : bias + g * NR;
            if (init == InitLoad) for (int j = 0; j < cols; j++) cg[j] += rg[j];
            else if (init == InitBias) for (int j = 0; j < cols; j++) cg[j] = bg[j] + rg[j];
            else for (int j = 0; j < cols; j++) cg[j] = rg[j];
        }
    }

    /// <summary>
    /// C (8 x 32) = init + A (8 rows of kc, row stride lda, not packed) . Bp (kc x 32): the AVX-512 kernel reading A
    /// in place (rows past <paramref name="rows"/> re-read row 0; the caller stores only the valid rows).
    /// </summary>
    private static void Kernel512Rows(nint kc, float* a, nint lda, int rows, float* b, float* c, nint ldc, int init, float* bias, float* pf)
    {
        float* a0 = a, a1 = rows > 1 ? a + lda : a, a2 = rows > 2 ? a + 2 * lda : a, a3 = rows > 3 ? a + 3 * lda : a;
        float* a4 = rows > 4 ? a + 4 * lda : a, a5 = rows > 5 ? a + 5 * lda : a, a6 = rows > 6 ? a + 6 * lda : a, a7 = rows > 7 ? a + 7 * lda : a;
        Vector512<float> c0a, c0b, c1a, c1b, c2a, c2b, c3a, c3b, c4a, c4b, c5a, c5b, c6a, c6b, c7a, c7b;
        if (init == InitLoad)
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
            var za = init == InitBias ? Vector512.Load(bias) : Vector512<float>.Zero;
            var zb = init == InitBias ? Vector512.Load(bias + 16) : Vector512<float>.Zero;
            c0a = za; c0b = zb; c1a = za; c1b = zb; c2a = za; c2b = zb; c3a = za; c3b = zb;
            c4a = za; c4b = zb; c5a = za; c5b = zb; c6a = za; c6b = zb; c7a = za; c7b = zb;
        }
        for (nint k = 0; k < kc; k++)
        {
            Sse.Prefetch1(pf + k * 16); // one cache line of the next panel's B block per k (see PrefetchFor)
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
    private static void Kernel512Rows4(nint kc, float* a, nint lda, int rows, float* b, float* c, nint ldc, int init, float* bias, float* pf)
    {
        float* a0 = a, a1 = rows > 1 ? a + lda : a, a2 = rows > 2 ? a + 2 * lda : a, a3 = rows > 3 ? a + 3 * lda : a;
        Vector512<float> c0a, c0b, c1a, c1b, c2a, c2b, c3a, c3b;
        if (init == InitLoad)
        {
            c0a = Vector512.Load(c); c0b = Vector512.Load(c + 16);
            c1a = Vector512.Load(c + ldc); c1b = Vector512.Load(c + ldc + 16);
            c2a = Vector512.Load(c + 2 * ldc); c2b = Vector512.Load(c + 2 * ldc + 16);
            c3a = Vector512.Load(c + 3 * ldc); c3b = Vector512.Load(c + 3 * ldc + 16);
        }
        else
        {
            var za = init == InitBias ? Vector512.Load(bias) : Vector512<float>.Zero;
            var zb = init == InitBias ? Vector512.Load(bias + 16) : Vector512<float>.Zero;
            c0a = za; c0b = zb; c1a = za; c1b = zb; c2a = za; c2b = zb; c3a = za; c3b = zb;
        }
        for (nint k = 0; k < kc; k++)
        {
            Sse.Prefetch1(pf + k * 16);
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
    private static void TileRows(nint kc, float* a, nint lda, float* b, float* c, nint ldc, int init, float* bias, int rows, int cols, float* pf)
    {
        bool small = rows <= 4;
        if ((rows == 8 || rows == 4) && cols == NR)
        {
            if (small) Kernel512Rows4(kc, a, lda, rows, b, c, ldc, init, bias, pf);
            else Kernel512Rows(kc, a, lda, rows, b, c, ldc, init, bias, pf);
            return;
        }
        float* tile = stackalloc float[8 * NR];
        if (small) Kernel512Rows4(kc, a, lda, rows, b, tile, NR, InitZero, null, pf);
        else Kernel512Rows(kc, a, lda, rows, b, tile, NR, InitZero, null, pf);
        for (int r = 0; r < rows; r++)
        {
            float* cr = c + r * ldc, tr = tile + r * NR;
            if (init == InitLoad) for (int j = 0; j < cols; j++) cr[j] += tr[j];
            else if (init == InitBias) for (int j = 0; j < cols; j++) cr[j] = bias[j] + tr[j];
            else for (int j = 0; j < cols; j++) cr[j] = tr[j];
        }
    }

    /// <summary>
    /// What row tile <paramref name="ir"/> of a B block (kc x 32 floats = 2*kc cache lines) prefetches into L2, one line
    /// per k: tiles 0 and 1 fetch the two halves of the next panel's block (<paramref name="next"/>), so it arrives
    /// while tiles 2.. reuse the current block from L1; later tiles re-touch their own block (L1 hits, harmless).
    /// Prefetches never fault, so <paramref name="next"/> may point past the last panel. Measured on the (50,64,512)
    /// LSTM forward, single thread, 8 alternating runs: faster in 7 of 8 pairs, by about 4-5% (the recurrent weights,
    /// 2 MB per thread, come from L3 each step, and the first row tile of each panel waited for them).
    /// </summary>
    private static float* PrefetchFor(int ir, float* next, nint kc, float* own) =>
        ir == 0 ? next : ir == 1 ? next + kc * 16 : own;

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

    // ------------------------------------------------------------------ general GEMM

    private struct GemmJob
    {
        public int M, N, K, Panels;
        public float* A;
        public nint RsA, CsA;
        public float* Bp;          // packed B (filled by the workers when BRaw != null)
        public float* BRaw;
        public nint RsB, CsB;
        public float* C;
        public nint Ldc;
        public int Init;           // for the first K block
        public float* Bias;
    }

    /// <summary>
    /// C (M x N, row stride ldc) (+)= A . B where A[m, k] = a[m * rsA + k * csA] and B is either pre-packed
    /// (<paramref name="bPacked"/>, K x N) or B[k, n] = bRaw[k * rsB + n * csB] (packed here, each thread its own panels).
    /// Without <paramref name="accumulate"/> C is overwritten (plus <paramref name="bias"/>[n] when given; bias must
    /// hold whole panels). Runs on the shared pool when <paramref name="parallel"/> and the product is not tiny.
    /// </summary>
    public static void Gemm(int M, int N, int K, float* a, nint rsA, nint csA,
        float* bPacked, float* bRaw, nint rsB, nint csB,
        float* c, nint ldc, bool accumulate, float* bias, bool parallel)
    {
        if (M <= 0 || N <= 0) return;
        if (K <= 0)
        {
            if (!accumulate)
                for (int m = 0; m < M; m++)
                    for (int n = 0; n < N; n++) c[m * ldc + n] = bias != null ? bias[n] : 0f;
            return;
        }
        var job = new GemmJob
        {
            M = M, N = N, K = K, Panels = Panels(N), A = a, RsA = rsA, CsA = csA, Bp = bPacked, BRaw = bPacked == null ? bRaw : null,
            RsB = rsB, CsB = csB, C = c, Ldc = ldc,
            Init = accumulate ? InitLoad : bias != null ? InitBias : InitZero, Bias = bias,
        };
        var pool = WorkerPool.Shared;
        // parts of about NCPanels panels each; the pool's threads take them (and take over each other's)
        int count = parallel && pool.Size > 1 && (long)M * N * K >= 1 << 18 ? Math.Max(2, (job.Panels + NCPanels - 1) / NCPanels) : 1;
        count = Math.Min(count, job.Panels);
        float[]? rented = null;
        try
        {
            if (bPacked == null)
            {
                rented = ArrayPool<float>.Shared.Rent((int)PackedBSize(K, N));
                fixed (float* bp = rented)
                {
                    job.Bp = bp;
                    pool.Run(&GemmWorker, &job, count);
                }
            }
            else pool.Run(&GemmWorker, &job, count);
        }
        finally
        {
            if (rented != null) ArrayPool<float>.Shared.Return(rented);
        }
    }

    private static void GemmWorker(void* ctx, int index, int count)
    {
        ref GemmJob j = ref *(GemmJob*)ctx;
        WorkerPool.Split(j.Panels, index, count, out int p0, out int p1);
        if (p0 >= p1) return;
        if (j.BRaw != null) PackB(j.BRaw, j.RsB, j.CsB, j.K, j.N, null, null, j.Bp, p0, p1);
        int mr = MR;
        int KCg = GemmKBlock(j.K);
        float* ap = ThreadScratch((long)MC * KCg);
        // B blocks of kc x (NCPanels*32) stay in L2 while every M block passes over them; A blocks of MC x kc are
        // read in place or packed per (column block, K block, M block) and stay in L2; a B micro-panel (kc x 32)
        // streams from L1/L2. kc up to 512 (not 256) halves the passes over C, which for the input projection of all
        // T steps is tens of MB (measured: M=3200 N=2048 K=512 single-thread, 103-106 -> 110-112 GFLOP/s).
        for (int jb = p0; jb < p1; jb += NCPanels)
        {
            int jbEnd = Math.Min(p1, jb + NCPanels);
            for (int pc = 0; pc < j.K; pc += KCg)
            {
                int kc = Math.Min(KCg, j.K - pc);
                int init = pc == 0 ? j.Init : InitLoad;
                for (int ic = 0; ic < j.M; ic += MC)
                {
                    int mc = Math.Min(MC, j.M - ic);
                    bool inPlace = Vector512.IsHardwareAccelerated && j.CsA == 1; // row-major A: the kernel reads it as is
                    if (!inPlace) PackA(j.A, j.RsA, j.CsA, ic, mc, pc, kc, ap);
                    for (int p = jb; p < jbEnd; p++)
                    {
                        float* bp = j.Bp + ((nint)p * j.K + pc) * NR;
                        int cols = Math.Min(NR, j.N - p * NR);
                        float* bias = j.Bias == null ? null : j.Bias + p * NR;
                        float* cp = j.C + (nint)ic * j.Ldc + p * NR;
                        for (int ir = 0; ir * mr < mc; ir++)
                        {
                            int rows = Math.Min(mr, mc - ir * mr);
                            float* ct = cp + (nint)ir * mr * j.Ldc;
                            if (inPlace)
                                TileRows(kc, j.A + (ic + (nint)ir * mr) * j.RsA + pc, j.RsA, bp, ct, j.Ldc, init, bias, rows, cols,
                                    PrefetchFor(ir, bp + (nint)j.K * NR, kc, bp));
                            else
                                Tile(kc, ap + (nint)ir * kc * mr, bp, ct, j.Ldc, init, bias, rows, cols);
                        }
                    }
                }
            }
        }
    }
}
