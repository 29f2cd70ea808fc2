// bfloat16 weight storage for small-batch inference (opt-in, `cpu:bf16`): at N = 1-4 each time step streams the whole
// recurrent weight matrix for a few rows of h, so the step is bound by memory bandwidth, and halving the bytes halves
// the traffic. Weights are rounded once (round to nearest even) into the same 32-column panel layout as the fp32
// packed B; the GEMV (N = 1 without AVX-512) and the multi-panel kernel (N = 1-4, AVX-512) widen them back to fp32
// (bf16 is the upper half of an fp32) and accumulate in fp32. Measured (one run, 2 cores): GRU N=2 H=2048 88 -> 137
// GFLOP/s, LSTM N=2 H=1024 89 -> 150, GRU N=4 H=1024 150 -> 206; LSTM N=4 H=512 no gain (its 4 MB of weights mostly
// stay in cache).
// Error: each weight carries a relative rounding error of at most 2^-8 (~0.4%, bf16 keeps 8 significant bits); results are not bit-exact to fp32.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnFast.Backends.Cpu;

internal static unsafe class Bf16
{
    /// <summary>The most rows (batch) <see cref="GemvPanels"/> takes.</summary>
    public const int MaxRows = 4;

    /// <summary>fp32 -> bf16, round to nearest even; NaN stays NaN.</summary>
    public static ushort FromSingle(float x)
    {
        uint bits = BitConverter.SingleToUInt32Bits(x);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) return (ushort)((bits >> 16) | 0x40); // quiet NaN
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public static float ToSingle(ushort b) => BitConverter.UInt32BitsToSingle((uint)b << 16);

    /// <summary>A pinned bf16 copy of packed fp32 panels (same layout, element for element).</summary>
    public static ushort[] FromPacked(ReadOnlySpan<float> packed)
    {
        var dst = GC.AllocateUninitializedArray<ushort>(packed.Length, pinned: true);
        for (int i = 0; i < packed.Length; i++) dst[i] = FromSingle(packed[i]);
        return dst;
    }

    public static ushort* Addr(ushort[] pinnedArray) => (ushort*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinnedArray));

    /// <summary>
    /// c[0..cols) = init + a (K) . Bpanel (K x 32 bf16): <see cref="Sgemm.Gemv"/> over bf16 weights, fp32 accumulation.
    /// </summary>
    public static void Gemv(int K, float* a, ushort* b, float* c, GemmInit init, float* bias, int cols)
    {
        Debug.Assert(K >= 1 && cols >= 1 && cols <= Sgemm.NR && (init != GemmInit.Bias || bias != null));
        float* res = stackalloc float[Sgemm.NR];
        nint k = 0, kn = K;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> s0 = default, s1 = default, t0 = default, t1 = default;
            for (; k + 2 <= kn; k += 2)
            {
                var w = Vector512.Load(b + k * Sgemm.NR);
                var x = Vector512.Create(a[k]);
                s0 = Vector512.FusedMultiplyAdd(x, Even(w), s0);
                s1 = Vector512.FusedMultiplyAdd(x, Odd(w), s1);
                w = Vector512.Load(b + (k + 1) * Sgemm.NR);
                x = Vector512.Create(a[k + 1]);
                t0 = Vector512.FusedMultiplyAdd(x, Even(w), t0);
                t1 = Vector512.FusedMultiplyAdd(x, Odd(w), t1);
            }
            for (; k < kn; k++)
            {
                var w = Vector512.Load(b + k * Sgemm.NR);
                var x = Vector512.Create(a[k]);
                s0 = Vector512.FusedMultiplyAdd(x, Even(w), s0);
                s1 = Vector512.FusedMultiplyAdd(x, Odd(w), s1);
            }
            Vector512.Store(s0 + t0, res);
            Vector512.Store(s1 + t1, res + 16);
            Interleave(res);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; k < kn; k++)
            {
                ushort* bk = b + k * Sgemm.NR;
                var x = Vector256.Create(a[k]);
                var w = Vector256.Load(bk);
                s0 = Vector256.FusedMultiplyAdd(x, Even(w), s0);
                s1 = Vector256.FusedMultiplyAdd(x, Odd(w), s1);
                w = Vector256.Load(bk + 16);
                s2 = Vector256.FusedMultiplyAdd(x, Even(w), s2);
                s3 = Vector256.FusedMultiplyAdd(x, Odd(w), s3);
            }
            Interleave(s0, s1, res);
            Interleave(s2, s3, res + 16);
        }
        else
        {
            for (int j = 0; j < Sgemm.NR; j++) res[j] = 0;
            for (; k < kn; k++)
            {
                float x = a[k];
                ushort* bk = b + k * Sgemm.NR;
                for (int j = 0; j < Sgemm.NR; j++) res[j] = MathF.FusedMultiplyAdd(x, ToSingle(bk[j]), res[j]);
            }
        }
        Sgemm.StoreRow(c, res, cols, init, bias);
    }

    /// <summary>
    /// <see cref="Sgemm.GemvPanels"/> over bf16 weights (AVX-512 only): <paramref name="panels"/> (1-4) consecutive bf16
    /// panels from <paramref name="b"/> (each K x 32, <paramref name="panelStride"/> apart) times <paramref name="rows"/>
    /// (1-4) rows of A (row stride <paramref name="lda"/>) in one pass over K, fp32 accumulation (several memory streams):
    /// C[r, g*32 + j] (row stride <paramref name="ldc"/>) = init + a_r . Bpanel_g[:, j]. At most 4 panels at once at 1-2
    /// rows, 3 at 3-4 rows (4 panels then run as two passes of 2).
    /// </summary>
    public static void GemvPanels(int K, float* a, nint lda, int rows, ushort* b, nint panelStride, int panels, float* c, nint ldc,
        GemmInit init, float* bias, int cols)
    {
        Debug.Assert(Vector512.IsHardwareAccelerated && K >= 1 && rows >= 1 && rows <= 4 && panels >= 1 && panels <= 4
            && cols >= 1 && cols <= Sgemm.NR && (rows == 1 || lda >= K) && (init != GemmInit.Bias || bias != null));
        int step = Sgemm.PanelGroupSize(rows, panels);
        float* res = stackalloc float[4 * 4 * Sgemm.NR]; // [row][panel][32]
        for (int g0 = 0; g0 < panels; g0 += step)
        {
            int n = Math.Min(step, panels - g0);
            ushort* b0 = b + g0 * panelStride;
            ushort* b1 = n > 1 ? b0 + panelStride : b0, b2 = n > 2 ? b0 + 2 * panelStride : b0, b3 = n > 3 ? b0 + 3 * panelStride : b0;
            float* a1 = rows > 1 ? a + lda : a, a2 = rows > 2 ? a + 2 * lda : a, a3 = rows > 3 ? a + 3 * lda : a;
            if (rows == 1 && n == 3) Rows1x3(K, a, b0, b1, b2, res);
            else if (rows == 1) Rows1(K, a, b0, b1, b2, b3, res);
            else if (rows == 2) Rows2(K, a, a1, b0, b1, b2, b3, res);
            else if (n == 3) Rows4(K, a, a1, a2, a3, b0, b1, b2, res);
            else Rows4x2(K, a, a1, a2, a3, b0, b1, res);
            for (int r = 0; r < rows; r++)
                for (int g = 0; g < n; g++) Interleave(res + (r * 4 + g) * Sgemm.NR);
            Sgemm.StoreGroup(res, rows, n, c + g0 * Sgemm.NR, ldc, init, bias == null ? null : bias + g0 * Sgemm.NR, cols);
        }
    }

    /// <summary>Row a0 times bf16 panels b0..b3 over all K: res[g] (32 floats each), 8 accumulators.</summary>
    private static void Rows1(nint K, float* a0, ushort* b0, ushort* b1, ushort* b2, ushort* b3, float* res)
    {
        Vector512<float> p0a = default, p0b = default, p1a = default, p1b = default, p2a = default, p2b = default, p3a = default, p3b = default;
        for (nint k = 0, o = 0; k < K; k++, o += Sgemm.NR)
        {
            var x = Vector512.Create(a0[k]);
            var w = Vector512.Load(b0 + o);
            p0a = Vector512.FusedMultiplyAdd(x, Even(w), p0a); p0b = Vector512.FusedMultiplyAdd(x, Odd(w), p0b);
            w = Vector512.Load(b1 + o);
            p1a = Vector512.FusedMultiplyAdd(x, Even(w), p1a); p1b = Vector512.FusedMultiplyAdd(x, Odd(w), p1b);
            w = Vector512.Load(b2 + o);
            p2a = Vector512.FusedMultiplyAdd(x, Even(w), p2a); p2b = Vector512.FusedMultiplyAdd(x, Odd(w), p2b);
            w = Vector512.Load(b3 + o);
            p3a = Vector512.FusedMultiplyAdd(x, Even(w), p3a); p3b = Vector512.FusedMultiplyAdd(x, Odd(w), p3b);
        }
        Vector512.Store(p0a, res); Vector512.Store(p0b, res + 16); Vector512.Store(p1a, res + 32); Vector512.Store(p1b, res + 48);
        Vector512.Store(p2a, res + 64); Vector512.Store(p2b, res + 80); Vector512.Store(p3a, res + 96); Vector512.Store(p3b, res + 112);
    }

    /// <summary>
    /// Row a0 times bf16 panels b0..b2 over all K: res[g], 6 accumulators: a GRU chunk's 3 gates, which repeated panel 0
    /// as a fourth in <see cref="Rows1"/> (4/3 of the widening and FMAs). cpu:bf16 GRU N=1, 6 alternating rounds:
    /// 187x1x1536 90.4 -> 108.4 GFLOP/s, 50x1x512 89.9 -> 107.8. A flag in Rows1's loop instead cost the 4-panel
    /// (LSTM) pass in one 6-round run (LSTM 150x1x256 105.9 -> 76.9); with this kernel, 8 rounds: 98.3 -> 98.5.
    /// </summary>
    private static void Rows1x3(nint K, float* a0, ushort* b0, ushort* b1, ushort* b2, float* res)
    {
        Vector512<float> p0a = default, p0b = default, p1a = default, p1b = default, p2a = default, p2b = default;
        for (nint k = 0, o = 0; k < K; k++, o += Sgemm.NR)
        {
            var x = Vector512.Create(a0[k]);
            var w = Vector512.Load(b0 + o);
            p0a = Vector512.FusedMultiplyAdd(x, Even(w), p0a); p0b = Vector512.FusedMultiplyAdd(x, Odd(w), p0b);
            w = Vector512.Load(b1 + o);
            p1a = Vector512.FusedMultiplyAdd(x, Even(w), p1a); p1b = Vector512.FusedMultiplyAdd(x, Odd(w), p1b);
            w = Vector512.Load(b2 + o);
            p2a = Vector512.FusedMultiplyAdd(x, Even(w), p2a); p2b = Vector512.FusedMultiplyAdd(x, Odd(w), p2b);
        }
        Vector512.Store(p0a, res); Vector512.Store(p0b, res + 16); Vector512.Store(p1a, res + 32); Vector512.Store(p1b, res + 48);
        Vector512.Store(p2a, res + 64); Vector512.Store(p2b, res + 80);
    }

    /// <summary>Rows a0, a1 times bf16 panels b0..b3 over all K: res[r*4 + g] (32 floats each), 16 accumulators.</summary>
    private static void Rows2(nint K, float* a0, float* a1, ushort* b0, ushort* b1, ushort* b2, ushort* b3, float* res)
    {
        Vector512<float> p0a = default, p0b = default, p1a = default, p1b = default, p2a = default, p2b = default, p3a = default, p3b = default;
        Vector512<float> q0a = default, q0b = default, q1a = default, q1b = default, q2a = default, q2b = default, q3a = default, q3b = default;
        for (nint k = 0, o = 0; k < K; k++, o += Sgemm.NR)
        {
            var x = Vector512.Create(a0[k]);
            var y = Vector512.Create(a1[k]);
            var w = Vector512.Load(b0 + o);
            var lo = Even(w); var hi = Odd(w);
            p0a = Vector512.FusedMultiplyAdd(x, lo, p0a); p0b = Vector512.FusedMultiplyAdd(x, hi, p0b);
            q0a = Vector512.FusedMultiplyAdd(y, lo, q0a); q0b = Vector512.FusedMultiplyAdd(y, hi, q0b);
            w = Vector512.Load(b1 + o);
            lo = Even(w); hi = Odd(w);
            p1a = Vector512.FusedMultiplyAdd(x, lo, p1a); p1b = Vector512.FusedMultiplyAdd(x, hi, p1b);
            q1a = Vector512.FusedMultiplyAdd(y, lo, q1a); q1b = Vector512.FusedMultiplyAdd(y, hi, q1b);
            w = Vector512.Load(b2 + o);
            lo = Even(w); hi = Odd(w);
            p2a = Vector512.FusedMultiplyAdd(x, lo, p2a); p2b = Vector512.FusedMultiplyAdd(x, hi, p2b);
            q2a = Vector512.FusedMultiplyAdd(y, lo, q2a); q2b = Vector512.FusedMultiplyAdd(y, hi, q2b);
            w = Vector512.Load(b3 + o);
            lo = Even(w); hi = Odd(w);
            p3a = Vector512.FusedMultiplyAdd(x, lo, p3a); p3b = Vector512.FusedMultiplyAdd(x, hi, p3b);
            q3a = Vector512.FusedMultiplyAdd(y, lo, q3a); q3b = Vector512.FusedMultiplyAdd(y, hi, q3b);
        }
        Vector512.Store(p0a, res); Vector512.Store(p0b, res + 16); Vector512.Store(p1a, res + 32); Vector512.Store(p1b, res + 48);
        Vector512.Store(p2a, res + 64); Vector512.Store(p2b, res + 80); Vector512.Store(p3a, res + 96); Vector512.Store(p3b, res + 112);
        res += 4 * Sgemm.NR;
        Vector512.Store(q0a, res); Vector512.Store(q0b, res + 16); Vector512.Store(q1a, res + 32); Vector512.Store(q1b, res + 48);
        Vector512.Store(q2a, res + 64); Vector512.Store(q2b, res + 80); Vector512.Store(q3a, res + 96); Vector512.Store(q3b, res + 112);
    }

    /// <summary>Rows a0..a3 times bf16 panels b0, b1 over all K: res[r*4 + g], 16 accumulators (the 2-panel passes; see Sgemm's Rows4x2).</summary>
    private static void Rows4x2(nint K, float* a0, float* a1, float* a2, float* a3, ushort* b0, ushort* b1, float* res)
    {
        Vector512<float> p0a = default, p0b = default, p1a = default, p1b = default;
        Vector512<float> q0a = default, q0b = default, q1a = default, q1b = default;
        Vector512<float> r0a = default, r0b = default, r1a = default, r1b = default;
        Vector512<float> s0a = default, s0b = default, s1a = default, s1b = default;
        for (nint k = 0, o = 0; k < K; k++, o += Sgemm.NR)
        {
            var w = Vector512.Load(b0 + o);
            var lo = Even(w); var hi = Odd(w);
            w = Vector512.Load(b1 + o);
            var lo1 = Even(w); var hi1 = Odd(w);
            var x = Vector512.Create(a0[k]);
            p0a = Vector512.FusedMultiplyAdd(x, lo, p0a); p0b = Vector512.FusedMultiplyAdd(x, hi, p0b);
            p1a = Vector512.FusedMultiplyAdd(x, lo1, p1a); p1b = Vector512.FusedMultiplyAdd(x, hi1, p1b);
            x = Vector512.Create(a1[k]);
            q0a = Vector512.FusedMultiplyAdd(x, lo, q0a); q0b = Vector512.FusedMultiplyAdd(x, hi, q0b);
            q1a = Vector512.FusedMultiplyAdd(x, lo1, q1a); q1b = Vector512.FusedMultiplyAdd(x, hi1, q1b);
            x = Vector512.Create(a2[k]);
            r0a = Vector512.FusedMultiplyAdd(x, lo, r0a); r0b = Vector512.FusedMultiplyAdd(x, hi, r0b);
            r1a = Vector512.FusedMultiplyAdd(x, lo1, r1a); r1b = Vector512.FusedMultiplyAdd(x, hi1, r1b);
            x = Vector512.Create(a3[k]);
            s0a = Vector512.FusedMultiplyAdd(x, lo, s0a); s0b = Vector512.FusedMultiplyAdd(x, hi, s0b);
            s1a = Vector512.FusedMultiplyAdd(x, lo1, s1a); s1b = Vector512.FusedMultiplyAdd(x, hi1, s1b);
        }
        Vector512.Store(p0a, res); Vector512.Store(p0b, res + 16); Vector512.Store(p1a, res + 32); Vector512.Store(p1b, res + 48);
        res += 4 * Sgemm.NR;
        Vector512.Store(q0a, res); Vector512.Store(q0b, res + 16); Vector512.Store(q1a, res + 32); Vector512.Store(q1b, res + 48);
        res += 4 * Sgemm.NR;
        Vector512.Store(r0a, res); Vector512.Store(r0b, res + 16); Vector512.Store(r1a, res + 32); Vector512.Store(r1b, res + 48);
        res += 4 * Sgemm.NR;
        Vector512.Store(s0a, res); Vector512.Store(s0b, res + 16); Vector512.Store(s1a, res + 32); Vector512.Store(s1b, res + 48);
    }

    /// <summary>Rows a0..a3 times bf16 panels b0..b2 over all K: res[r*4 + g] (32 floats each), 24 accumulators.</summary>
    private static void Rows4(nint K, float* a0, float* a1, float* a2, float* a3, ushort* b0, ushort* b1, ushort* b2, float* res)
    {
        Vector512<float> p0a = default, p0b = default, p1a = default, p1b = default, p2a = default, p2b = default;
        Vector512<float> q0a = default, q0b = default, q1a = default, q1b = default, q2a = default, q2b = default;
        Vector512<float> r0a = default, r0b = default, r1a = default, r1b = default, r2a = default, r2b = default;
        Vector512<float> s0a = default, s0b = default, s1a = default, s1b = default, s2a = default, s2b = default;
        for (nint k = 0, o = 0; k < K; k++, o += Sgemm.NR)
        {
            var w = Vector512.Load(b0 + o);
            var lo = Even(w); var hi = Odd(w);
            var x = Vector512.Create(a0[k]); p0a = Vector512.FusedMultiplyAdd(x, lo, p0a); p0b = Vector512.FusedMultiplyAdd(x, hi, p0b);
            x = Vector512.Create(a1[k]); q0a = Vector512.FusedMultiplyAdd(x, lo, q0a); q0b = Vector512.FusedMultiplyAdd(x, hi, q0b);
            x = Vector512.Create(a2[k]); r0a = Vector512.FusedMultiplyAdd(x, lo, r0a); r0b = Vector512.FusedMultiplyAdd(x, hi, r0b);
            x = Vector512.Create(a3[k]); s0a = Vector512.FusedMultiplyAdd(x, lo, s0a); s0b = Vector512.FusedMultiplyAdd(x, hi, s0b);
            w = Vector512.Load(b1 + o);
            lo = Even(w); hi = Odd(w);
            x = Vector512.Create(a0[k]); p1a = Vector512.FusedMultiplyAdd(x, lo, p1a); p1b = Vector512.FusedMultiplyAdd(x, hi, p1b);
            x = Vector512.Create(a1[k]); q1a = Vector512.FusedMultiplyAdd(x, lo, q1a); q1b = Vector512.FusedMultiplyAdd(x, hi, q1b);
            x = Vector512.Create(a2[k]); r1a = Vector512.FusedMultiplyAdd(x, lo, r1a); r1b = Vector512.FusedMultiplyAdd(x, hi, r1b);
            x = Vector512.Create(a3[k]); s1a = Vector512.FusedMultiplyAdd(x, lo, s1a); s1b = Vector512.FusedMultiplyAdd(x, hi, s1b);
            w = Vector512.Load(b2 + o);
            lo = Even(w); hi = Odd(w);
            x = Vector512.Create(a0[k]); p2a = Vector512.FusedMultiplyAdd(x, lo, p2a); p2b = Vector512.FusedMultiplyAdd(x, hi, p2b);
            x = Vector512.Create(a1[k]); q2a = Vector512.FusedMultiplyAdd(x, lo, q2a); q2b = Vector512.FusedMultiplyAdd(x, hi, q2b);
            x = Vector512.Create(a2[k]); r2a = Vector512.FusedMultiplyAdd(x, lo, r2a); r2b = Vector512.FusedMultiplyAdd(x, hi, r2b);
            x = Vector512.Create(a3[k]); s2a = Vector512.FusedMultiplyAdd(x, lo, s2a); s2b = Vector512.FusedMultiplyAdd(x, hi, s2b);
        }
        Vector512.Store(p0a, res); Vector512.Store(p0b, res + 16); Vector512.Store(p1a, res + 32); Vector512.Store(p1b, res + 48);
        Vector512.Store(p2a, res + 64); Vector512.Store(p2b, res + 80);
        res += 4 * Sgemm.NR;
        Vector512.Store(q0a, res); Vector512.Store(q0b, res + 16); Vector512.Store(q1a, res + 32); Vector512.Store(q1b, res + 48);
        Vector512.Store(q2a, res + 64); Vector512.Store(q2b, res + 80);
        res += 4 * Sgemm.NR;
        Vector512.Store(r0a, res); Vector512.Store(r0b, res + 16); Vector512.Store(r1a, res + 32); Vector512.Store(r1b, res + 48);
        Vector512.Store(r2a, res + 64); Vector512.Store(r2b, res + 80);
        res += 4 * Sgemm.NR;
        Vector512.Store(s0a, res); Vector512.Store(s0b, res + 16); Vector512.Store(s1a, res + 32); Vector512.Store(s1b, res + 48);
        Vector512.Store(s2a, res + 64); Vector512.Store(s2b, res + 80);
    }

    // A 32-column bf16 panel row (64 bytes) read as 16 dwords holds columns (2j, 2j+1) in dword j: shifting each dword
    // left by 16 gives the even columns as fp32, masking off its low half the odd ones. Two cheap in-lane operations per
    // 32 weights, where widening each half (a cross-lane zero-extension, then the shift) took four: at N = 1 that made
    // the bf16 pass as slow as fp32's from L2 (LSTM 150x1x256: Rows1 47% of the samples against fp32's 45%). The
    // kernels accumulate even and odd columns apart (res[0..16), res[16..32) of each panel), and Interleave puts them
    // back in column order once per pass.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Even(Vector512<ushort> w) => Vector512.ShiftLeft(w.AsUInt32(), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Odd(Vector512<ushort> w) => (w.AsUInt32() & Vector512.Create(0xFFFF_0000u)).AsSingle();

    /// <summary>A panel's 32 results from (even columns, odd columns) back into column order, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave(float* block)
    {
        var even = Vector512.Load(block);
        var odd = Vector512.Load(block + 16);
        var lo = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var hi = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        Vector512.Store(Avx512F.PermuteVar16x32x2(even, lo, odd), block);
        Vector512.Store(Avx512F.PermuteVar16x32x2(even, hi, odd), block + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Even(Vector256<ushort> w) => Vector256.ShiftLeft(w.AsUInt32(), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Odd(Vector256<ushort> w) => (w.AsUInt32() & Vector256.Create(0xFFFF_0000u)).AsSingle();

    /// <summary>16 columns from (even columns, odd columns) into column order at dst (AVX2: in-lane unpacks, then lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave(Vector256<float> even, Vector256<float> odd, float* dst)
    {
        var lo = Avx.UnpackLow(even, odd);  // columns 0-3 | 8-11
        var hi = Avx.UnpackHigh(even, odd); // columns 4-7 | 12-15
        Vector256.Store(Avx.Permute2x128(lo, hi, 0x20), dst);
        Vector256.Store(Avx.Permute2x128(lo, hi, 0x31), dst + 8);
    }
}
