// Sgemm's batch-1 products: one row of A times one packed B panel (Gemv), or times 2-4 consecutive panels at once
// (GemvPanels: every gate of one chunk of hidden units, several memory streams in flight). Bound by memory bandwidth.
using System.Diagnostics;
using System.Runtime.Intrinsics;

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
        if (init == GemmInit.Load) for (int j = 0; j < cols; j++) c[j] += res[j];
        else if (init == GemmInit.Bias) for (int j = 0; j < cols; j++) c[j] = bias[j] + res[j];
        else for (int j = 0; j < cols; j++) c[j] = res[j];
    }

    /// <summary>
    /// <paramref name="panels"/> (2-4) consecutive panels of <paramref name="b"/> from <paramref name="p0"/> on times one
    /// row a (K = b.K) at once: c[g*32 + j] = init + a . Bpanel_(p0+g)[:, j], the batch-1 step of every gate of one chunk of
    /// hidden units. Reading the gates' panels side by side keeps several memory streams in flight (the step is bound
    /// by memory bandwidth). AVX-512 only; <paramref name="cols"/> valid columns in each panel (c and a bias hold
    /// panels * 32 floats).
    /// </summary>
    public static void GemvPanels(float* a, in PackedB b, int p0, int panels, float* c, GemmInit init, float* bias, int cols)
    {
        int K = b.K;
        Debug.Assert(K >= 1 && panels >= 2 && panels <= 4 && cols >= 1 && cols <= NR && (init != GemmInit.Bias || bias != null));
        float* res = stackalloc float[4 * NR];
        float* bp = b.Panels(p0, panels);
        nint stride = (nint)K * NR;
        float* b0 = bp, b1 = bp + stride, b2 = panels > 2 ? bp + 2 * stride : bp, b3 = panels > 3 ? bp + 3 * stride : bp;
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
            if (init == GemmInit.Load) for (int j = 0; j < cols; j++) cg[j] += rg[j];
            else if (init == GemmInit.Bias) for (int j = 0; j < cols; j++) cg[j] = bg[j] + rg[j];
            else for (int j = 0; j < cols; j++) cg[j] = rg[j];
        }
    }
}
