// The cell level, backward: one time step of one layer-direction. Per chunk of hidden units the gate-gradient
// kernel (after the LSTM projection's dh_raw (N, H) = dH_t (N, P) . W_hr), then dh_prev (N, H_out) = dGh_t (N, GP) .
// W_hh per 32-column panel of H_out (plus GRU's direct z * dh term). Threads own chunks (gates) and panels (dh_prev).
namespace RnnFast.Backends.Cpu;

internal static unsafe class CellBackward
{
    private const int U = GateLayout.U;

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
                float* dt = st->DTot.At((long)n * P, P);
                if (b.Len == null || st->T < b.Len[n])
                {
                    var op = new AddOp(st->DhCur.At((long)n * P, P), st->Dy.At(n * b.Ldy, P), dt);
                    Pointwise.Run(ref op, P);
                }
                else Pointwise.Clear(dt, P);
            }
        }
        var pool = WorkerPool.Shared;
        pool.Run(&GatesWorker, st, CellForward.StepParts(pool, b.SplitSteps, N, b.Layout.Q));
        pool.Run(&DhPrevWorker, st, CellForward.StepParts(pool, b.SplitSteps, N, Sgemm.Panels(b.Ho)));
    }

    /// <summary>Backward through one step's gate math for this part's chunks (LSTM projection first: dh_raw = dH_t . W_hr).</summary>
    private static void GatesWorker(void* ctx, int index, int count)
    {
        ref StepBwd st = ref *(StepBwd*)ctx;
        ref DirBwd b = ref *st.D;
        var L = b.Layout;
        WorkerPool.Split(L.Q, index, count, out int q0, out int q1);
        if (q0 >= q1) return;
        int N = b.N, H = L.H, Ho = b.Ho, G = L.G, P = b.P;
        var mode = b.Mode;
        if (P > 0)
        {
            // W_hr's packed panels run over H: panel q is chunk q's units
            var ap = Sgemm.PrepareA(N, P, st.DTot.At(0, (long)N * P), P);
            for (int q = q0; q < q1; q++)
                Sgemm.PanelProduct(ap, b.WhrB, q, new GemmC(b.DhRaw.From(L.FirstUnit(q)), H), GemmInit.Zero, null, L.Units(q));
        }
        for (int q = q0; q < q1; q++)
        {
            int j0 = L.FirstUnit(q), w = L.Units(q);
            for (int n = 0; n < N; n++)
            {
                long gOff = L.At(n, q);
                float* dg = st.DGt.At(gOff, L.ChunkColumns);
                if (b.Len != null && st.T >= b.Len[n])
                {
                    for (int g = 0; g < G; g++)
                    {
                        Pointwise.Clear(dg + GateLayout.InChunk(g), w);
                        if (mode == RnnMode.Gru) Pointwise.Clear(st.DGht.At(gOff + GateLayout.InChunk(g), w), w);
                    }
                    continue;
                }
                float* gates = st.Gates.At(gOff, L.ChunkColumns);
                float* dy = P > 0 ? null : st.Dy.At(n * b.Ldy + j0, w); // with a projection, dy went into dH_t
                long h = (long)n * Ho + j0, c = (long)n * H + j0;      // unit j0 of row n in (N, H_out) and (N, H)
                switch (mode)
                {
                    case RnnMode.Lstm when b.Ph.IsNull:
                    {
                        var op = new LstmBwdOp
                        {
                            G = gates, Cp = st.CPrev.At(c, w), Cn = st.CNext.At(c, w),
                            Dh = P > 0 ? b.DhRaw.At(c, w) : st.DhCur.At(h, w), Dy = dy, Dc = b.Dc.At(c, w), DG = dg,
                        };
                        Pointwise.Run(ref op, w);
                        break;
                    }
                    case RnnMode.Lstm:
                    {
                        float* ph = b.Ph.At((long)q * 3 * U, 3 * U); // chunk q's p_i, p_f, p_o
                        var op = new LstmPeepBwdOp
                        {
                            G = gates, Cp = st.CPrev.At(c, w), Cn = st.CNext.At(c, w),
                            Dh = P > 0 ? b.DhRaw.At(c, w) : st.DhCur.At(h, w), Dy = dy, Dc = b.Dc.At(c, w), DG = dg,
                            Pi = ph, Pf = ph + U, Po = ph + 2 * U,
                        };
                        Pointwise.Run(ref op, w);
                        break;
                    }
                    case RnnMode.Gru:
                    {
                        var op = new GruBwdOp
                        {
                            G = gates, Hn = st.HhN.At(c, w), Hp = st.HPrev.At(h, w), Dh = st.DhCur.At(h, w), Dy = dy, DG = dg,
                            DGh = st.DGht.At(gOff, L.ChunkColumns),
                        };
                        Pointwise.Run(ref op, w);
                        break;
                    }
                    default:
                    {
                        var op = new RnnBwdOp { G = gates, Dh = st.DhCur.At(h, w), Dy = dy, DG = dg, Relu = mode == RnnMode.RnnRelu };
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
        var L = b.Layout;
        int N = b.N, Ho = b.Ho, GP = L.GP;
        WorkerPool.Split(Sgemm.Panels(Ho), index, count, out int p0, out int p1);
        if (p0 >= p1) return;
        bool gru = b.Mode == RnnMode.Gru;
        var ap = Sgemm.PrepareA(N, GP, st.DGht.At(0, L.Row(N)), GP);
        for (int p = p0; p < p1; p++)
        {
            int j0 = p * U, cols = Math.Min(U, Ho - j0);
            Sgemm.PanelProduct(ap, b.WhhB, p, new GemmC(st.DhNext.From(j0), Ho), GemmInit.Zero, null, cols);
            for (int n = 0; n < N; n++)
            {
                float* dn = st.DhNext.At((long)n * Ho + j0, cols), dcur = st.DhCur.At((long)n * Ho + j0, cols);
                if (b.Len != null && st.T >= b.Len[n]) Pointwise.Copy(dcur, dn, cols);
                else if (gru)
                {
                    // h' = n + z (h - n): dh_prev gets z * dh directly. GRU has Ho == H, so panel p of H_out is chunk p
                    // of the units, and unit j0 + j's z is in that chunk's z gate.
                    float* dy = st.Dy.At(n * b.Ldy + j0, cols);
                    float* z = st.Gates.At(L.At(n, p) + GruGates.Z, cols);
                    for (int j = 0; j < cols; j++) dn[j] += (dcur[j] + dy[j]) * z[j];
                }
            }
        }
    }
}
