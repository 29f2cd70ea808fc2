// The cell level, forward: one time step of one layer-direction. The recurrent GEMM h_prev (N, H_out) . W_hh^T per
// 32-column panel, added into the step's gates (N, GP) (LSTM/RNN) or into HH (N, GP) (GRU), then the fused gate kernel
// (pointwise level) on the same thread for the chunk of hidden units it just computed; then the LSTM projection
// h (N, P) = h_raw (N, H) . W_hr^T. Threads own chunks of 32 hidden units (all G gate panels of them, see GateLayout).
// StepLayer is the stepper's per-layer step (T = 1 on the caller's buffers).
using System.Runtime.Intrinsics;

namespace RnnFast.Backends.Cpu;

internal static unsafe class CellForward
{
    private const int U = GateLayout.U;

    /// <summary>
    /// Batches up to this size take the small-batch multi-panel product (Sgemm.GemvPanels) on AVX-512. Measured against
    /// one panel after another (3 alternating rounds, 2 cores): GRU N=2 H=2048 76-80 -> 85-90 GFLOP/s, N=4 133-139 ->
    /// 149-154; ReLU-RNN N=2 H=2560 70-77 -> 82-92, N=4 H=1760 137-138 -> 143-153; LSTM N=4 H=1024 equal or better.
    /// </summary>
    private const int SmallBatchRows = 4;

    /// <summary>Whether one step's recurrent work (N x GP x H_out) is worth cutting into parts for the pool's threads.</summary>
    public static bool SplitsSteps(int N, int GP, int Ho, int Q) =>
        WorkerPool.Shared.Size > 1 && Q >= 2 && (long)N * GP * Ho >= 1 << 15;

    /// <summary>
    /// One inference step of one unidirectional layer for N rows on the caller's buffers (CpuRnnStepper's path: the
    /// kernels of Forward at T=1). gates (N,GP) = x (N,I_l) . W_ih^T + bias, one GEMM; then the recurrent panels and the
    /// fused gate math per chunk, then the LSTM projection. hPrev (N,H_out) is only read (other threads' panels read
    /// all of it while a chunk's h is written), hNext (N,H_out) gets h; c (N,H) is advanced in place; y (N,H_out) gets
    /// h too. hh (N,GP) is GRU's scratch, hRaw (N,H) the projection's input (else null). y may alias x (x is read
    /// before any y is written). bf16 / int8 weights (cpu:bf16, cpu:int8) are read at N = 1-4 (bf16 beyond 1: AVX-512).
    /// </summary>
    public static void StepLayer(RnnMode mode, DirWeights dw, int N, FloatBuf x, FloatBuf gates, FloatBuf hh, FloatBuf hRaw,
        FloatBuf hPrev, FloatBuf hNext, FloatBuf c, FloatBuf y)
    {
        var L = dw.Layout;
        Sgemm.Gemm(new GemmShape(N, L.GP, dw.I), new GemmA(x, dw.I), GemmB.FromPacked(dw.WihTPanels, L.HalfPanelsFrom), new GemmC(gates, L.GP),
            dw.XInit, FloatBuf.Of(dw.XBias));
        var f = DirFwd.Create(mode, dw, 1, N, 0, training: false, SplitsSteps(N, L.GP, dw.Ho, L.Q), lowPrecisionSmallBatch: true);
        f.XW = gates;
        f.HH = hh;
        f.HRaw = hRaw;
        f.CBuf = c;
        f.Y = y;
        f.Ldy = dw.Ho;
        var st = new StepFwd { D = &f, T = 0, Gates = gates, HPrev = hPrev, HNext = hNext, CPrev = c, CNext = c, HRaw = hRaw, Y = y };
        Step(&st);
    }

    /// <summary>
    /// Parts of a step's job over <paramref name="units"/> chunks or panels: 1 when the step is not split; one per unit
    /// when its <paramref name="N"/> rows make each unit compute-bound (<see cref="WorkerPool.FineParts"/>); else a few
    /// per thread (<see cref="WorkerPool.Parts"/>: batch 1-4 streams the weights, and finer parts measured slower there).
    /// </summary>
    internal static int StepParts(WorkerPool pool, bool split, int N, int units) =>
        !split ? 1 : N > SmallBatchRows ? pool.FineParts(units) : pool.Parts(units);

    /// <summary>Step st->T of its direction: the recurrent part on the pool (cut into parts when the direction splits steps), then the projection.</summary>
    public static void Step(StepFwd* st)
    {
        ref DirFwd d = ref *st->D;
        var pool = WorkerPool.Shared;
        pool.Run(&GatesWorker, st, StepParts(pool, d.SplitSteps, d.N, d.Layout.Q));
        if (d.P > 0) pool.Run(&ProjectionWorker, st, StepParts(pool, d.SplitSteps, d.N, Sgemm.Panels(d.P)));
    }

    /// <summary>One step, the chunks of hidden units this part owns: recurrent GEMM panels, then the gate math.</summary>
    private static void GatesWorker(void* ctx, int index, int count)
    {
        ref StepFwd st = ref *(StepFwd*)ctx;
        ref DirFwd d = ref *st.D;
        var L = d.Layout;
        WorkerPool.Split(L.Q, index, count, out int q0, out int q1);
        if (q0 >= q1) return;
        int N = d.N, K = d.Ho, G = L.G, H = L.H;
        var mode = d.Mode;
        bool gru = mode == RnnMode.Gru;
        var ap = Sgemm.PrepareA(N, K, st.HPrev.At(0, (long)N * K), K);
        FloatBuf C = gru ? d.HH : st.Gates; // (N, GP): where the recurrent product goes
        GemmInit init = gru ? (d.HBias.IsNull ? GemmInit.Zero : GemmInit.Bias) : GemmInit.Load;
        // batch 1-4 on AVX-512: all G gate panels of a chunk (or, with one gate, up to 4 chunks) in one pass over K, every
        // row at once: several memory streams in flight, accumulators in registers (GRU N=1 at H 2560/2816 measured
        // 18-27% faster than one panel after another, in 6 of 6 alternating runs)
        // (bf16 weights too: at N = 1 single-threaded 3-4 panels a pass streamed 25-28 GB/s against 20-27 one at a time)
        bool grouped = N <= SmallBatchRows && d.WhhI8.IsNull && Vector512.IsHardwareAccelerated;
        int groupEnd = q0; // chunks [q, groupEnd) already have their products (one gate: several chunks a pass)
        // int8 weights (N = 1-4): this part quantises each row of h_prev once per step itself (no barrier; K is small
        // next to the panels), one scale per row
        sbyte* qh = null;
        float* sh = stackalloc float[Int8.MaxRows];
        if (!d.WhhI8.IsNull)
        {
            sbyte* buf = stackalloc sbyte[N * d.WhhI8.Kp];
            qh = buf;
            for (int n = 0; n < N; n++) sh[n] = Int8.Quantize(st.HPrev.At((long)n * K, K), K, qh + (nint)n * d.WhhI8.Kp);
        }
        for (int q = q0; q < q1; q++)
        {
            if (grouped)
            {
                if (q >= groupEnd)
                {
                    int chunks = G > 1 ? 1 : Math.Min(4, q1 - q), c0 = L.ChunkOffset(q), width = chunks * L.ChunkColumns;
                    float* cq = C.At(c0, (long)(N - 1) * L.GP + width), bq = gru ? d.HBias.AtOrNull(c0, width) : null;
                    if (d.WhhBf16 != null) // the bf16 copy has W_hh^T's panel layout
                        Bf16.GemvPanels(K, st.HPrev.At(0, (long)N * K), K, N, d.WhhBf16 + L.Panel(q, 0) * d.WhhT.PanelSize,
                            (nint)d.WhhT.PanelSize, chunks * G, cq, L.GP, init, bq, U);
                    else
                        Sgemm.GemvPanels(st.HPrev.At(0, (long)N * K), K, N, d.WhhT, L.Panel(q, 0), chunks * G, cq, L.GP, init, bq, U);
                    groupEnd = q + chunks;
                }
            }
            else
            for (int g = 0; g < G; g++)
            {
                int p = L.Panel(q, g), c0 = L.GateOffset(q, g);
                float* bias = gru ? d.HBias.AtOrNull(c0, U) : null;
                if (qh != null) // the int8 copy has W_hh^T's panels (columns)
                    Int8.GemvRows(Int8.Current, d.WhhI8, p, qh, sh, N, C.At(c0, (long)(N - 1) * L.GP + U), L.GP, init, bias, U);
                else if (d.WhhBf16 != null) // the bf16 copy has W_hh^T's panel layout
                    Bf16.Gemv(K, st.HPrev.At(0, K), d.WhhBf16 + p * d.WhhT.PanelSize, C.At(c0, U), init, bias, U);
                else
                {
                    // the next panel this part computes: its C (the input projection's gates, from memory) is prefetched
                    int next = g + 1 < G ? L.GateOffset(q, g + 1) : q + 1 < q1 ? L.GateOffset(q + 1, 0) : -1;
                    Sgemm.PanelProduct(ap, d.WhhT, p, new GemmC(C.From(c0), L.GP), init, bias, U, next < 0 ? null : C.At(next, U),
                        p >= L.HalfPanelsFrom);
                }
            }
            int j0 = L.FirstUnit(q), w = L.Units(q);
            for (int n = 0; n < N; n++)
            {
                bool active = d.Len == null || st.T < d.Len[n];
                float* gates = st.Gates.At(L.At(n, q), L.ChunkColumns);
                float* y = d.P > 0 ? null : st.Y.At(n * d.Ldy + j0, w); // with a projection, y is written after it
                long h = (long)n * K + j0, c = (long)n * H + j0;      // unit j0 of row n in (N, H_out) and (N, H)
                switch (mode)
                {
                    case RnnMode.Lstm:
                    {
                        float* cp = st.CPrev.At(c, w), cn = st.CNext.At(c, w);
                        if (active && d.Ph.IsNull)
                        {
                            var op = new LstmFwdOp
                            {
                                G = gates, Cp = cp, Cn = cn, Store = d.Training,
                                H = d.P > 0 ? st.HRaw.At(c, w) : st.HNext.At(h, w), Y = y,
                            };
                            Pointwise.Run(ref op, w);
                        }
                        else if (active)
                        {
                            float* ph = d.Ph.At((long)q * 3 * U, 3 * U); // chunk q's p_i, p_f, p_o
                            var op = new LstmPeepFwdOp
                            {
                                G = gates, Cp = cp, Cn = cn, Store = d.Training, Pi = ph, Pf = ph + U, Po = ph + 2 * U,
                                H = d.P > 0 ? st.HRaw.At(c, w) : st.HNext.At(h, w), Y = y,
                            };
                            Pointwise.Run(ref op, w);
                        }
                        else
                        {
                            if (cp != cn) Pointwise.Copy(cp, cn, w);
                            if (d.P > 0) Pointwise.Clear(st.HRaw.At(c, w), w);
                            else
                            {
                                Pointwise.Copy(st.HPrev.At(h, w), st.HNext.At(h, w), w);
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
                                Gx = gates, Gh = d.HH.At(L.At(n, q), L.ChunkColumns), Hp = st.HPrev.At(h, w),
                                H = st.HNext.At(h, w), Y = y, Hn = st.HhN.AtOrNull(c, w), Store = d.Training,
                            };
                            Pointwise.Run(ref op, w);
                        }
                        else
                        {
                            Pointwise.Copy(st.HPrev.At(h, w), st.HNext.At(h, w), w);
                            Pointwise.Clear(y, w);
                        }
                        break;
                    default:
                        if (active)
                        {
                            var op = new RnnFwdOp
                            {
                                G = gates, H = st.HNext.At(h, w), Y = y, Relu = mode == RnnMode.RnnRelu, Store = d.Training,
                            };
                            Pointwise.Run(ref op, w);
                        }
                        else
                        {
                            Pointwise.Copy(st.HPrev.At(h, w), st.HNext.At(h, w), w);
                            Pointwise.Clear(y, w);
                        }
                        break;
                }
            }
        }
    }

    /// <summary>LSTM projection for this part's 32-column panels of P: h (N, P) = h_raw (N, H) . W_hr^T, then masking and y.</summary>
    private static void ProjectionWorker(void* ctx, int index, int count)
    {
        ref StepFwd st = ref *(StepFwd*)ctx;
        ref DirFwd d = ref *st.D;
        int P = d.P, N = d.N, H = d.Layout.H;
        WorkerPool.Split(Sgemm.Panels(P), index, count, out int p0, out int p1);
        if (p0 >= p1) return;
        var ap = Sgemm.PrepareA(N, H, st.HRaw.At(0, (long)N * H), H);
        sbyte* qh = null;
        float sh = 0;
        if (!d.WhrI8.IsNull) // int8 weights (N == 1): h_raw quantised once per part
        {
            sbyte* buf = stackalloc sbyte[d.WhrI8.Kp];
            qh = buf;
            sh = Int8.Quantize(st.HRaw.At(0, H), H, qh);
        }
        for (int p = p0; p < p1; p++)
        {
            int j0 = p * U, cols = Math.Min(U, P - j0);
            if (qh != null)
                Int8.Gemv(d.WhrI8, p, qh, sh, st.HNext.At(j0, cols), GemmInit.Zero, null, cols);
            else if (d.WhrBf16 != null) // the bf16 copy has W_hr^T's panel layout
                Bf16.Gemv(H, st.HRaw.At(0, H), d.WhrBf16 + p * d.WhrT.PanelSize, st.HNext.At(j0, cols), GemmInit.Zero, null, cols);
            else
                Sgemm.PanelProduct(ap, d.WhrT, p, new GemmC(st.HNext.From(j0), P), GemmInit.Zero, null, cols);
            for (int n = 0; n < N; n++)
            {
                bool active = d.Len == null || st.T < d.Len[n];
                float* hn = st.HNext.At((long)n * P + j0, cols), y = st.Y.At(n * d.Ldy + j0, cols);
                if (active) Pointwise.Copy(hn, y, cols);
                else
                {
                    Pointwise.Copy(st.HPrev.At((long)n * P + j0, cols), hn, cols);
                    Pointwise.Clear(y, cols);
                }
            }
        }
    }
}
