// The cell level, backward: one time step of one layer-direction. Per chunk of hidden units the gate-gradient
// kernel (after the LSTM projection's dh_raw = dH_t . W_hr), then dh_prev (N, H_out) = dGh_t (N, GP) . W_hh per
// 32-column panel of H_out (plus GRU's direct z * dh term).
namespace RnnFast.Backends.Cpu;

internal static unsafe class CellBackward
{
    private const int U = Sgemm.NR; // hidden units per chunk

    /// <summary>
    /// Step st->T backward: dH_t = dh + dy (LSTM projection), then the gate gradients and dh_prev on the pool (cut
    /// into parts when the direction splits steps). st.DhCur holds dh for step t; st.DhNext gets dh for its h_prev.
    /// </summary>
    public static void Step(StepBwd* st)
    {
        ref DirBwd b = ref *st->D;
        int N = b.N, P = b.P;
        if (P > 0)
        {
            // dH_t = dh + dy for the sequences running at t, else 0 (it feeds dW_hr and dh_raw)
            for (int n = 0; n < N; n++)
            {
                float* dt = st->DTot + (long)n * P;
                if (b.Len == null || st->T < b.Len[n])
                {
                    var op = new AddOp(st->DhCur + (long)n * P, st->Dy + n * b.Ldy, dt);
                    Pointwise.Run(ref op, P);
                }
                else Pointwise.Clear(dt, P);
            }
        }
        var pool = WorkerPool.Shared;
        pool.Run(&GatesWorker, st, b.SplitSteps ? pool.Parts(b.Q) : 1);
        pool.Run(&DhPrevWorker, st, b.SplitSteps ? pool.Parts(Sgemm.Panels(b.Ho)) : 1);
    }

    /// <summary>Backward through one step's gate math for this part's chunks (LSTM projection first: dh_raw = dH_t . W_hr).</summary>
    private static void GatesWorker(void* ctx, int index, int count)
    {
        ref StepBwd st = ref *(StepBwd*)ctx;
        ref DirBwd b = ref *st.D;
        WorkerPool.Split(b.Q, index, count, out int q0, out int q1);
        if (q0 >= q1) return;
        int N = b.N, H = b.H, Ho = b.Ho, G = b.G, GP = b.GP, P = b.P;
        var mode = (RnnMode)b.Mode;
        if (P > 0)
        {
            var ap = Sgemm.PrepareA(N, P, st.DTot, P);
            for (int q = q0; q < q1; q++)
                Sgemm.PanelProduct(N, P, ap, b.WhrB + (long)q * P * U, b.DhRaw + q * U, H, Sgemm.InitZero, null,
                    Math.Min(U, H - q * U));
        }
        for (int q = q0; q < q1; q++)
        {
            int j0 = q * U, w = Math.Min(U, H - j0);
            for (int n = 0; n < N; n++)
            {
                long gOff = (long)n * GP + q * G * U;
                float* dg = st.DGt + gOff;
                if (b.Len != null && st.T >= b.Len[n])
                {
                    for (int g = 0; g < G; g++)
                    {
                        Pointwise.Clear(dg + g * U, w);
                        if (mode == RnnMode.Gru) Pointwise.Clear(st.DGht + gOff + g * U, w);
                    }
                    continue;
                }
                float* dy = st.Dy + n * b.Ldy + j0;
                switch (mode)
                {
                    case RnnMode.Lstm:
                    {
                        var op = new LstmBwdOp
                        {
                            G = st.Gates + gOff, Cp = st.CPrev + (long)n * H + j0, Cn = st.CNext + (long)n * H + j0,
                            Dh = P > 0 ? b.DhRaw + (long)n * H + j0 : st.DhCur + (long)n * Ho + j0, Dy = P > 0 ? null : dy,
                            Dc = b.Dc + (long)n * H + j0, DG = dg,
                        };
                        Pointwise.Run(ref op, w);
                        break;
                    }
                    case RnnMode.Gru:
                    {
                        var op = new GruBwdOp
                        {
                            G = st.Gates + gOff, Hn = st.HhN + (long)n * H + j0, Hp = st.HPrev + (long)n * Ho + j0,
                            Dh = st.DhCur + (long)n * Ho + j0, Dy = dy, DG = dg, DGh = st.DGht + gOff,
                        };
                        Pointwise.Run(ref op, w);
                        break;
                    }
                    default:
                    {
                        var op = new RnnBwdOp
                        {
                            G = st.Gates + gOff, Dh = st.DhCur + (long)n * Ho + j0, Dy = dy, DG = dg, Relu = mode == RnnMode.RnnRelu,
                        };
                        Pointwise.Run(ref op, w);
                        break;
                    }
                }
            }
        }
    }

    /// <summary>dh_prev for this part's 32-column panels of H_out: dGh_t . W_hh, plus GRU's z*dh, or dh itself where masked.</summary>
    private static void DhPrevWorker(void* ctx, int index, int count)
    {
        ref StepBwd st = ref *(StepBwd*)ctx;
        ref DirBwd b = ref *st.D;
        int N = b.N, Ho = b.Ho, G = b.G, GP = b.GP;
        WorkerPool.Split(Sgemm.Panels(Ho), index, count, out int p0, out int p1);
        if (p0 >= p1) return;
        bool gru = b.Mode == (int)RnnMode.Gru;
        var ap = Sgemm.PrepareA(N, GP, st.DGht, GP);
        for (int p = p0; p < p1; p++)
        {
            int j0 = p * U, cols = Math.Min(U, Ho - j0);
            Sgemm.PanelProduct(N, GP, ap, b.WhhB + (long)p * GP * U, st.DhNext + j0, Ho, Sgemm.InitZero, null, cols);
            for (int n = 0; n < N; n++)
            {
                float* dn = st.DhNext + (long)n * Ho + j0, dcur = st.DhCur + (long)n * Ho + j0;
                if (b.Len != null && st.T >= b.Len[n]) Pointwise.Copy(dcur, dn, cols);
                else if (gru)
                {
                    // h' = n + z (h - n): dh_prev gets z * dh directly (unit j's z is at physical column Phys(1, j))
                    float* dy = st.Dy + n * b.Ldy + j0;
                    float* z = st.Gates + (long)n * GP + p * G * U + U; // chunk p == unit chunk (Ho == H for GRU)
                    for (int j = 0; j < cols; j++) dn[j] += (dcur[j] + dy[j]) * z[j];
                }
            }
        }
    }
}
