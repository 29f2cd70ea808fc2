// The cell level, forward: one time step of one layer-direction. The recurrent GEMM h_prev (N, H_out) . W_hh^T per
// 32-column panel, added into the step's gates (LSTM/RNN) or into HH (GRU), then the fused gate kernel (pointwise
// level) on the same thread for the chunk of hidden units it just computed; then the LSTM projection h = h_raw . W_hr^T.
// Threads own chunks of 32 hidden units (all G gate panels of them). StepLayer is the stepper's per-layer step.
using System.Runtime.Intrinsics;

namespace RnnFast.Backends.Cpu;

internal static unsafe class CellForward
{
    private const int U = Sgemm.NR; // hidden units per chunk

    /// <summary>Whether one step's recurrent work (N x GP x H_out) is worth cutting into parts for the pool's threads.</summary>
    public static bool SplitsSteps(int N, int GP, int Ho, int Q) =>
        WorkerPool.Shared.Size > 1 && Q >= 2 && (long)N * GP * Ho >= 1 << 15;

    /// <summary>
    /// One inference step of one unidirectional layer for N rows on the caller's buffers (CpuRnnStepper's path: the
    /// kernels of Forward at T=1). gates (N,GP) = x (N,I_l) . W_ih^T + bias, one GEMM; then the recurrent panels and the
    /// fused gate math per chunk, then the LSTM projection. hPrev (N,H_out) is only read (other threads' panels read
    /// all of it while a chunk's h is written), hNext (N,H_out) gets h; c (N,H) is advanced in place; y (N,H_out) gets
    /// h too. hh (N,GP) is GRU's scratch, hRaw (N,H) the projection's input (else null). y may alias x (x is read
    /// before any y is written). bf16 weights (cpu:bf16) are read at N == 1.
    /// </summary>
    public static void StepLayer(RnnMode mode, DirWeights dw, int N, float* x, float* gates, float* hh, float* hRaw,
        float* hPrev, float* hNext, float* c, float* y)
    {
        Sgemm.Gemm(N, dw.GP, dw.I, x, dw.I, 1, Sgemm.Addr(dw.WihT), null, 0, 0, gates, dw.GP, false,
            dw.XBias == null ? null : Sgemm.Addr(dw.XBias), true);
        var f = DirFwd.Create(mode, dw, 1, N, 0, training: false, SplitsSteps(N, dw.GP, dw.Ho, dw.Q), bf16Batch1: true);
        f.XW = gates;
        f.HH = hh;
        f.HRaw = hRaw;
        f.CBuf = c;
        f.Y = y;
        f.Ldy = dw.Ho;
        var st = new StepFwd { D = &f, T = 0, Gates = gates, HPrev = hPrev, HNext = hNext, CPrev = c, CNext = c, HRaw = hRaw, Y = y };
        Step(&st);
    }

    /// <summary>Step st->T of its direction: the recurrent part on the pool (cut into parts when the direction splits steps), then the projection.</summary>
    public static void Step(StepFwd* st)
    {
        ref DirFwd d = ref *st->D;
        var pool = WorkerPool.Shared;
        pool.Run(&GatesWorker, st, d.SplitSteps ? pool.Parts(d.Q) : 1);
        if (d.P > 0) pool.Run(&ProjectionWorker, st, d.SplitSteps ? pool.Parts(Sgemm.Panels(d.P)) : 1);
    }

    /// <summary>One step, the chunks of hidden units this part owns: recurrent GEMM panels, then the gate math.</summary>
    private static void GatesWorker(void* ctx, int index, int count)
    {
        ref StepFwd st = ref *(StepFwd*)ctx;
        ref DirFwd d = ref *st.D;
        WorkerPool.Split(d.Q, index, count, out int q0, out int q1);
        if (q0 >= q1) return;
        int N = d.N, K = d.Ho, G = d.G, GP = d.GP, H = d.H;
        var mode = (RnnMode)d.Mode;
        bool gru = mode == RnnMode.Gru;
        var ap = Sgemm.PrepareA(N, K, st.HPrev, K);
        float* C = gru ? d.HH : st.Gates;
        int init = gru ? (d.HBias != null ? Sgemm.InitBias : Sgemm.InitZero) : Sgemm.InitLoad;
        // batch 1 on AVX-512: all G gate panels of a chunk in one pass (G memory streams at once; GRU N=1 at H 2560/2816
        // measured 18-27% faster than one panel after another, in 6 of 6 alternating runs)
        bool multi = N == 1 && G > 1 && d.WhhBf16 == null && Vector512.IsHardwareAccelerated;
        for (int q = q0; q < q1; q++)
        {
            if (multi)
            {
                int p0 = q * G;
                Sgemm.GemvPanels(K, st.HPrev, d.WhhT + (long)p0 * K * U, G, C + p0 * U, init, gru && d.HBias != null ? d.HBias + p0 * U : null, U);
            }
            else
            for (int g = 0; g < G; g++)
            {
                int p = q * G + g;
                if (d.WhhBf16 != null)
                    Bf16.Gemv(K, st.HPrev, d.WhhBf16 + (long)p * K * U, C + p * U, init, gru && d.HBias != null ? d.HBias + p * U : null, U);
                else
                    Sgemm.PanelProduct(N, K, ap, d.WhhT + (long)p * K * U, C + p * U, GP, init,
                        gru && d.HBias != null ? d.HBias + p * U : null, U);
            }
            int j0 = q * U, w = Math.Min(U, H - j0);
            for (int n = 0; n < N; n++)
            {
                bool active = d.Len == null || st.T < d.Len[n];
                float* gates = st.Gates + (long)n * GP + q * G * U;
                float* y = st.Y + n * d.Ldy + j0;
                switch (mode)
                {
                    case RnnMode.Lstm:
                    {
                        float* cp = st.CPrev + (long)n * H + j0, cn = st.CNext + (long)n * H + j0;
                        if (active)
                        {
                            var op = new LstmFwdOp
                            {
                                G = gates, Cp = cp, Cn = cn, Store = d.Training,
                                H = d.P > 0 ? st.HRaw + (long)n * H + j0 : st.HNext + (long)n * K + j0,
                                Y = d.P > 0 ? null : y,
                            };
                            Pointwise.Run(ref op, w);
                        }
                        else
                        {
                            if (cp != cn) Pointwise.Copy(cp, cn, w);
                            if (d.P > 0) Pointwise.Clear(st.HRaw + (long)n * H + j0, w);
                            else
                            {
                                Pointwise.Copy(st.HPrev + (long)n * K + j0, st.HNext + (long)n * K + j0, w);
                                Pointwise.Clear(y, w);
                            }
                        }
                        break;
                    }
                    case RnnMode.Gru:
                        if (active)
                        {
                            var op = new GruFwdOp
                            {
                                Gx = gates, Gh = d.HH + (long)n * GP + q * G * U, Hp = st.HPrev + (long)n * K + j0,
                                H = st.HNext + (long)n * K + j0, Y = y, Hn = st.HhN == null ? null : st.HhN + (long)n * H + j0,
                                Store = d.Training,
                            };
                            Pointwise.Run(ref op, w);
                        }
                        else
                        {
                            Pointwise.Copy(st.HPrev + (long)n * K + j0, st.HNext + (long)n * K + j0, w);
                            Pointwise.Clear(y, w);
                        }
                        break;
                    default:
                        if (active)
                        {
                            var op = new RnnFwdOp
                            {
                                G = gates, H = st.HNext + (long)n * K + j0, Y = y, Relu = mode == RnnMode.RnnRelu, Store = d.Training,
                            };
                            Pointwise.Run(ref op, w);
                        }
                        else
                        {
                            Pointwise.Copy(st.HPrev + (long)n * K + j0, st.HNext + (long)n * K + j0, w);
                            Pointwise.Clear(y, w);
                        }
                        break;
                }
            }
        }
    }

    /// <summary>LSTM projection for this part's 32-column panels of P: h = h_raw . W_hr^T, then masking and y.</summary>
    private static void ProjectionWorker(void* ctx, int index, int count)
    {
        ref StepFwd st = ref *(StepFwd*)ctx;
        ref DirFwd d = ref *st.D;
        int P = d.P, N = d.N, H = d.H;
        WorkerPool.Split(Sgemm.Panels(P), index, count, out int p0, out int p1);
        if (p0 >= p1) return;
        var ap = Sgemm.PrepareA(N, H, st.HRaw, H);
        for (int p = p0; p < p1; p++)
        {
            int j0 = p * U, cols = Math.Min(U, P - j0);
            if (d.WhrBf16 != null) Bf16.Gemv(H, st.HRaw, d.WhrBf16 + (long)p * H * U, st.HNext + j0, Sgemm.InitZero, null, cols);
            else Sgemm.PanelProduct(N, H, ap, d.WhrT + (long)p * H * U, st.HNext + j0, P, Sgemm.InitZero, null, cols);
            for (int n = 0; n < N; n++)
            {
                bool active = d.Len == null || st.T < d.Len[n];
                float* hn = st.HNext + (long)n * P + j0, y = st.Y + n * d.Ldy + j0;
                if (active) Pointwise.Copy(hn, y, cols);
                else
                {
                    Pointwise.Copy(st.HPrev + (long)n * P + j0, hn, cols);
                    Pointwise.Clear(y, cols);
                }
            }
        }
    }
}
