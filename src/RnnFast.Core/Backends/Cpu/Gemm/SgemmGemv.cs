// Sgemm's batch-1 and small-batch products: one row of A times one packed B panel (Gemv), or 1-4 rows times 1-4
// consecutive panels at once (GemvPanels: every gate of one chunk of hidden units, several memory streams in flight,
// the whole K in registers). Bound by memory bandwidth.
using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnFast.Backends.Cpu;

internal static unsafe partial class Sgemm
{
    /// <summary>
    /// One row times one B panel: c[0..cols) = init + a (K) . Bpanel (K x 32), for batch-1 recurrences (GEMV).
    /// Four independent accumulator sets hide the FMA latency; the panel streams once.
    /// </summary>
    public static void Gemv(int K, float* a, float* b, float* c, GemmInit init, float* bias, int cols)
    {
        Debug.Assert(K >= 1 && cols >= 1 && cols <= NR && (init != GemmInit.Bias || bias != null));
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
        StoreRow(c, res, cols, init, bias);
    }

    /// <summary>
    /// <paramref name="panels"/> (1-4) consecutive panels of <paramref name="b"/> from <paramref name="p0"/> on times
    /// <paramref name="rows"/> (1-4) rows of A (read in place, row stride <paramref name="lda"/>, K = b.K) at once:
    /// C[r, g*32 + j] (row stride <paramref name="ldc"/>) = init + a_r . Bpanel_(p0+g)[:, j], the small-batch step of
    /// every gate of one chunk of hidden units. Reading the gates' panels side by side keeps several memory streams
    /// in flight (the step is bound by memory bandwidth), and the whole K runs in registers: A (a few rows of h) stays
    /// in L1. Up to 16 accumulators at 1-2 rows (4 panels at once), 24 at 3-4 rows (3 panels at once; 4 panels run as
    /// two passes of 2). AVX-512 only; <paramref name="cols"/> valid columns in each panel (a bias holds panels * 32 floats).
    /// </summary>
    public static void GemvPanels(float* a, nint lda, int rows, in PackedB b, int p0, int panels, float* c, nint ldc,
        GemmInit init, float* bias, int cols)
    {
        Debug.Assert(rows >= 1 && rows <= 4 && panels >= 1 && panels <= 4 && cols >= 1 && cols <= NR && (rows == 1 || lda >= b.K)
            && (init != GemmInit.Bias || bias != null));
        int step = PanelGroupSize(rows, panels);
        for (int g0 = 0; g0 < panels; g0 += step)
        {
            int n = Math.Min(step, panels - g0);
            PanelGroup(a, lda, rows, b, p0 + g0, n, c + g0 * NR, ldc, init, bias == null ? null : bias + g0 * NR, cols);
        }
    }

    /// <summary>One group of GemvPanels: at most 4 panels at 1-2 rows, 3 at 3-4 rows.</summary>
    private static void PanelGroup(float* a, nint lda, int rows, in PackedB b, int p0, int panels, float* c, nint ldc,
        GemmInit init, float* bias, int cols)
    {
        nint K = b.K, stride = K * NR;
        float* bp = b.Panels(p0, panels);
        float* b0 = bp, b1 = panels > 1 ? bp + stride : bp, b2 = panels > 2 ? bp + 2 * stride : bp, b3 = panels > 3 ? bp + 3 * stride : bp;
        float* a0 = a, a1 = rows > 1 ? a + lda : a, a2 = rows > 2 ? a + 2 * lda : a, a3 = rows > 3 ? a + 3 * lda : a;
        if (init == GemmInit.Load) // C (the input projection's gates) comes from memory: ask for it now, the K loop is long
            for (int r = 0; r < rows; r++)
            for (int g = 0; g < panels; g++)
            {
                Sse.Prefetch0(c + r * ldc + g * NR);
                Sse.Prefetch0(c + r * ldc + g * NR + 16);
            }
        float* res = stackalloc float[4 * 4 * NR]; // [row][panel][32]
        if (rows == 1) { if (panels == 3) Rows1x3(K, a0, b0, b1, b2, res); else Rows1(K, a0, b0, b1, b2, b3, res); }
        else if (rows == 2) Rows2(K, a0, a1, b0, b1, b2, b3, res); // a 2-row x 3-panel kernel measured equal (GRU 50x2x512)
        else if (panels == 3) Rows4(K, a0, a1, a2, a3, b0, b1, b2, res);
        else Rows4x2(K, a0, a1, a2, a3, b0, b1, res);
        StoreGroup(res, rows, panels, c, ldc, init, bias, cols);
    }

    /// <summary>
    /// Panels a pass of the multi-panel kernels (fp32 and bf16) take at <paramref name="rows"/> rows: 4 at 1-2 rows; at
    /// 3-4 rows 3, and 4 panels as 2 + 2 (measured a little faster than 3 + 1).
    /// </summary>
    internal static int PanelGroupSize(int rows, int panels) => rows <= 2 ? 4 : panels == 4 ? 2 : 3;

    /// <summary>
    /// Writes a pass's results res[r*4 + g] (32 floats each) to C[r, g*32 + j] (row stride <paramref name="ldc"/>) for
    /// <paramref name="rows"/> rows, <paramref name="panels"/> panels and <paramref name="cols"/> columns each: init + res
    /// (init zero, C itself, or the bias of panel g).
    /// </summary>
    internal static void StoreGroup(float* res, int rows, int panels, float* c, nint ldc, GemmInit init, float* bias, int cols)
    {
        for (int r = 0; r < rows; r++)
        for (int g = 0; g < panels; g++)
        {
            float* cg = c + r * ldc + g * NR, rg = res + (r * 4 + g) * NR, bg = bias == null ? null : bias + g * NR;
            if (cols == NR)
            {
                var lo = Vector512.Load(rg);
                var hi = Vector512.Load(rg + 16);
                if (init == GemmInit.Load) { lo += Vector512.Load(cg); hi += Vector512.Load(cg + 16); }
                else if (init == GemmInit.Bias) { lo += Vector512.Load(bg); hi += Vector512.Load(bg + 16); }
                Vector512.Store(lo, cg);
                Vector512.Store(hi, cg + 16);
            }
            else StoreRow(cg, rg, cols, init, bg);
        }
    }

    /// <summary>Row a0 times panels b0..b3 over all K: res[g] (32 floats each), 8 accumulators.</summary>
    private static void Rows1(nint K, float* a0, float* b0, float* b1, float* b2, float* b3, float* res)
    {
        Vector512<float> s0 = default, s1 = default, t0 = default, t1 = default, u0 = default, u1 = default, v0 = default, v1 = default;
        for (nint k = 0, o = 0; k < K; k++, o += NR)
        {
            var x = Vector512.Create(a0[k]);
            s0 = F512(x, Vector512.Load(b0 + o), s0); s1 = F512(x, Vector512.Load(b0 + o + 16), s1);
            t0 = F512(x, Vector512.Load(b1 + o), t0); t1 = F512(x, Vector512.Load(b1 + o + 16), t1);
            u0 = F512(x, Vector512.Load(b2 + o), u0); u1 = F512(x, Vector512.Load(b2 + o + 16), u1);
            v0 = F512(x, Vector512.Load(b3 + o), v0); v1 = F512(x, Vector512.Load(b3 + o + 16), v1);
        }
        Vector512.Store(s0, res); Vector512.Store(s1, res + 16); Vector512.Store(t0, res + 32); Vector512.Store(t1, res + 48);
        Vector512.Store(u0, res + 64); Vector512.Store(u1, res + 80); Vector512.Store(v0, res + 96); Vector512.Store(v1, res + 112);
    }

    /// <summary>Rows a0, a1 times panels b0..b3 over all K: res[r*4 + g] (32 floats each), 16 accumulators.</summary>
    private static void Rows2(nint K, float* a0, float* a1, float* b0, float* b1, float* b2, float* b3, float* res)
    {
        Vector512<float> p0a = default, p0b = default, p1a = default, p1b = default, p2a = default, p2b = default, p3a = default, p3b = default;
        Vector512<float> q0a = default, q0b = default, q1a = default, q1b = default, q2a = default, q2b = default, q3a = default, q3b = default;
        for (nint k = 0, o = 0; k < K; k++, o += NR)
        {
            var x = Vector512.Create(a0[k]);
            var y = Vector512.Create(a1[k]);
            var v = Vector512.Load(b0 + o); p0a = F512(x, v, p0a); q0a = F512(y, v, q0a);
            v = Vector512.Load(b0 + o + 16); p0b = F512(x, v, p0b); q0b = F512(y, v, q0b);
            v = Vector512.Load(b1 + o); p1a = F512(x, v, p1a); q1a = F512(y, v, q1a);
            v = Vector512.Load(b1 + o + 16); p1b = F512(x, v, p1b); q1b = F512(y, v, q1b);
            v = Vector512.Load(b2 + o); p2a = F512(x, v, p2a); q2a = F512(y, v, q2a);
            v = Vector512.Load(b2 + o + 16); p2b = F512(x, v, p2b); q2b = F512(y, v, q2b);
            v = Vector512.Load(b3 + o); p3a = F512(x, v, p3a); q3a = F512(y, v, q3a);
            v = Vector512.Load(b3 + o + 16); p3b = F512(x, v, p3b); q3b = F512(y, v, q3b);
        }
        Vector512.Store(p0a, res); Vector512.Store(p0b, res + 16); Vector512.Store(p1a, res + 32); Vector512.Store(p1b, res + 48);
        Vector512.Store(p2a, res + 64); Vector512.Store(p2b, res + 80); Vector512.Store(p3a, res + 96); Vector512.Store(p3b, res + 112);
        res += 4 * NR;
        Vector512.Store(q0a, res); Vector512.Store(q0b, res + 16); Vector512.Store(q1a, res + 32); Vector512.Store(q1b, res + 48);
        Vector512.Store(q2a, res + 64); Vector512.Store(q2b, res + 80); Vector512.Store(q3a, res + 96); Vector512.Store(q3b, res + 112);
    }

    /// <summary>
    /// Row a0 times panels b0..b2 over all K: res[g], 6 accumulators: a GRU chunk's three gates, which ran through the
    /// 4-panel kernel with panel 0 repeated (4/3 of the FMAs).
    /// </summary>
    private static void Rows1x3(nint K, float* a0, float* b0, float* b1, float* b2, float* res)
    {
        Vector512<float> s0 = default, s1 = default, t0 = default, t1 = default, u0 = default, u1 = default;
        for (nint k = 0, o = 0; k < K; k++, o += NR)
        {
            var x = Vector512.Create(a0[k]);
            s0 = F512(x, Vector512.Load(b0 + o), s0); s1 = F512(x, Vector512.Load(b0 + o + 16), s1);
            t0 = F512(x, Vector512.Load(b1 + o), t0); t1 = F512(x, Vector512.Load(b1 + o + 16), t1);
            u0 = F512(x, Vector512.Load(b2 + o), u0); u1 = F512(x, Vector512.Load(b2 + o + 16), u1);
        }
        Vector512.Store(s0, res); Vector512.Store(s1, res + 16); Vector512.Store(t0, res + 32); Vector512.Store(t1, res + 48);
        Vector512.Store(u0, res + 64); Vector512.Store(u1, res + 80);
    }

    /// <summary>
    /// Rows a0..a3 times panels b0, b1 over all K: res[r*4 + g] (32 floats each), 16 accumulators: the 2-panel passes
    /// (an LSTM chunk's 4 gates as 2 + 2). They ran through the 3-panel kernel with panel 0 repeated, 3/2 of the FMAs:
    /// free while the weights stream from memory, a third of the step's time where they sit in L2.
    /// </summary>
    private static void Rows4x2(nint K, float* a0, float* a1, float* a2, float* a3, float* b0, float* b1, float* res)
    {
        Vector512<float> p0a = default, p0b = default, p1a = default, p1b = default;
        Vector512<float> q0a = default, q0b = default, q1a = default, q1b = default;
        Vector512<float> r0a = default, r0b = default, r1a = default, r1b = default;
        Vector512<float> s0a = default, s0b = default, s1a = default, s1b = default;
        for (nint k = 0, o = 0; k < K; k++, o += NR)
        {
            var v = Vector512.Load(b0 + o);
            var w = Vector512.Load(b0 + o + 16);
            var y = Vector512.Load(b1 + o);
            var z = Vector512.Load(b1 + o + 16);
            var x = Vector512.Create(a0[k]); p0a = F512(x, v, p0a); p0b = F512(x, w, p0b); p1a = F512(x, y, p1a); p1b = F512(x, z, p1b);
            x = Vector512.Create(a1[k]); q0a = F512(x, v, q0a); q0b = F512(x, w, q0b); q1a = F512(x, y, q1a); q1b = F512(x, z, q1b);
            x = Vector512.Create(a2[k]); r0a = F512(x, v, r0a); r0b = F512(x, w, r0b); r1a = F512(x, y, r1a); r1b = F512(x, z, r1b);
            x = Vector512.Create(a3[k]); s0a = F512(x, v, s0a); s0b = F512(x, w, s0b); s1a = F512(x, y, s1a); s1b = F512(x, z, s1b);
        }
        Vector512.Store(p0a, res); Vector512.Store(p0b, res + 16); Vector512.Store(p1a, res + 32); Vector512.Store(p1b, res + 48);
        res += 4 * NR;
        Vector512.Store(q0a, res); Vector512.Store(q0b, res + 16); Vector512.Store(q1a, res + 32); Vector512.Store(q1b, res + 48);
        res += 4 * NR;
        Vector512.Store(r0a, res); Vector512.Store(r0b, res + 16); Vector512.Store(r1a, res + 32); Vector512.Store(r1b, res + 48);
        res += 4 * NR;
        Vector512.Store(s0a, res); Vector512.Store(s0b, res + 16); Vector512.Store(s1a, res + 32); Vector512.Store(s1b, res + 48);
    }

    /// <summary>Rows a0..a3 times panels b0..b2 over all K: res[r*4 + g] (32 floats each), 24 accumulators.</summary>
    private static void Rows4(nint K, float* a0, float* a1, float* a2, float* a3, float* b0, float* b1, float* b2, float* res)
    {
        Vector512<float> p0a = default, p0b = default, p1a = default, p1b = default, p2a = default, p2b = default;
        Vector512<float> q0a = default, q0b = default, q1a = default, q1b = default, q2a = default, q2b = default;
        Vector512<float> r0a = default, r0b = default, r1a = default, r1b = default, r2a = default, r2b = default;
        Vector512<float> s0a = default, s0b = default, s1a = default, s1b = default, s2a = default, s2b = default;
        for (nint k = 0, o = 0; k < K; k++, o += NR)
        {
            var v = Vector512.Load(b0 + o);
            var w = Vector512.Load(b0 + o + 16);
            var x = Vector512.Create(a0[k]); p0a = F512(x, v, p0a); p0b = F512(x, w, p0b);
            x = Vector512.Create(a1[k]); q0a = F512(x, v, q0a); q0b = F512(x, w, q0b);
            x = Vector512.Create(a2[k]); r0a = F512(x, v, r0a); r0b = F512(x, w, r0b);
            x = Vector512.Create(a3[k]); s0a = F512(x, v, s0a); s0b = F512(x, w, s0b);
            v = Vector512.Load(b1 + o);
            w = Vector512.Load(b1 + o + 16);
            x = Vector512.Create(a0[k]); p1a = F512(x, v, p1a); p1b = F512(x, w, p1b);
            x = Vector512.Create(a1[k]); q1a = F512(x, v, q1a); q1b = F512(x, w, q1b);
            x = Vector512.Create(a2[k]); r1a = F512(x, v, r1a); r1b = F512(x, w, r1b);
            x = Vector512.Create(a3[k]); s1a = F512(x, v, s1a); s1b = F512(x, w, s1b);
            v = Vector512.Load(b2 + o);
            w = Vector512.Load(b2 + o + 16);
            x = Vector512.Create(a0[k]); p2a = F512(x, v, p2a); p2b = F512(x, w, p2b);
            x = Vector512.Create(a1[k]); q2a = F512(x, v, q2a); q2b = F512(x, w, q2b);
            x = Vector512.Create(a2[k]); r2a = F512(x, v, r2a); r2b = F512(x, w, r2b);
            x = Vector512.Create(a3[k]); s2a = F512(x, v, s2a); s2b = F512(x, w, s2b);
        }
        Vector512.Store(p0a, res); Vector512.Store(p0b, res + 16); Vector512.Store(p1a, res + 32); Vector512.Store(p1b, res + 48);
        Vector512.Store(p2a, res + 64); Vector512.Store(p2b, res + 80);
        res += 4 * NR;
        Vector512.Store(q0a, res); Vector512.Store(q0b, res + 16); Vector512.Store(q1a, res + 32); Vector512.Store(q1b, res + 48);
        Vector512.Store(q2a, res + 64); Vector512.Store(q2b, res + 80);
        res += 4 * NR;
        Vector512.Store(r0a, res); Vector512.Store(r0b, res + 16); Vector512.Store(r1a, res + 32); Vector512.Store(r1b, res + 48);
        Vector512.Store(r2a, res + 64); Vector512.Store(r2b, res + 80);
        res += 4 * NR;
        Vector512.Store(s0a, res); Vector512.Store(s0b, res + 16); Vector512.Store(s1a, res + 32); Vector512.Store(s1b, res + 48);
        Vector512.Store(s2a, res + 64); Vector512.Store(s2b, res + 80);
    }
}
