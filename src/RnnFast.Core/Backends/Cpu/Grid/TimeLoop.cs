// The grid's time loop for one layer and direction: t = 0..T-1 (or T-1..0 for the reverse direction) forward,
// the opposite way backward, pointing each step's StepFwd / StepBwd at its slices of the sequence buffers
// (XW[t], h and c slots, y[t], dG[t]) and running the cell level on it. Both directions of a bidirectional layer
// can run at once, one per pool thread.
namespace RnnFast.Backends.Cpu;

internal static unsafe class TimeLoop
{
    /// <summary>Runs <paramref name="D"/> directions' forward loops: on two pool threads when <paramref name="parallel"/>, else one after the other.</summary>
    public static void Forward(DirFwd* dirs, int D, bool parallel)
    {
        if (parallel) WorkerPool.Shared.Run(&BothForwardWorker, dirs, 2);
        else
            for (int d = 0; d < D; d++) Forward(dirs + d);
    }

    /// <summary>Runs <paramref name="D"/> directions' backward loops: on two pool threads when <paramref name="parallel"/>, else one after the other.</summary>
    public static void Backward(DirBwd* dirs, int D, bool parallel)
    {
        if (parallel) WorkerPool.Shared.Run(&BothBackwardWorker, dirs, 2);
        else
            for (int d = 0; d < D; d++) Backward(dirs + d);
    }

    /// <summary>
    /// A forward of one direction with the batch cut into <paramref name="parts"/> row ranges, each running every step
    /// on its own thread with no synchronisation between steps (the rows of a batch are independent). For recurrent
    /// weights small enough and steps too short for a per-step fork/join to pay: see <see cref="BatchParts"/>.
    /// </summary>
    public static void ForwardBatchParts(DirFwd* dir, int parts)
    {
        BatchPartRuns++;
        WorkerPool.Shared.Run(&BatchPartWorker, dir, parts);
    }

    /// <summary>Layer-directions this thread has run in batch parts (tests: that the path was taken).</summary>
    [ThreadStatic] internal static int BatchPartRuns;

    private static void BatchPartWorker(void* ctx, int index, int count)
    {
        ref DirFwd d = ref *(DirFwd*)ctx;
        WorkerPool.Split(d.N, index, count, out int n0, out int n1);
        if (n0 >= n1) return;
        var L = d.Layout;
        long h = (long)n0 * d.Ho, c = (long)n0 * L.H, g = L.Row(n0);
        DirFwd part = d; // the same weights; this part's rows of every buffer, steps still NStride rows apart
        part.N = n1 - n0;
        part.SplitSteps = false;
        part.Len = d.Len == null ? null : d.Len + n0;
        part.XW = d.XW.From(g);
        part.Y = d.Y.From(n0 * d.Ldy);
        part.HBuf = d.HBuf.From(h);
        part.CBuf = d.CBuf.FromOrNull(c);
        part.HRaw = d.HRaw.FromOrNull(c);
        part.HH = d.HH.FromOrNull(g);
        part.HhN = d.HhN.FromOrNull(c);
        Forward(&part);
    }

    /// <summary>
    /// A backward of one direction in <paramref name="parts"/> row ranges (as <see cref="ForwardBatchParts"/>): each
    /// part runs every step's gate gradients and dh_prev for its rows on its own thread. dW, the bias sums and dX are
    /// whole-sequence products afterwards, so their sums do not depend on the parts.
    /// </summary>
    public static void BackwardBatchParts(DirBwd* dir, int parts)
    {
        BatchPartRuns++;
        WorkerPool.Shared.Run(&BatchPartBwdWorker, dir, parts);
    }

    private static void BatchPartBwdWorker(void* ctx, int index, int count)
    {
        ref DirBwd b = ref *(DirBwd*)ctx;
        WorkerPool.Split(b.N, index, count, out int n0, out int n1);
        if (n0 >= n1) return;
        var L = b.Layout;
        long h = (long)n0 * b.Ho, c = (long)n0 * L.H, g = L.Row(n0), p = (long)n0 * b.P;
        DirBwd part = b; // the same weights; this part's rows of every buffer, steps still NStride rows apart
        part.N = n1 - n0;
        part.SplitSteps = false;
        part.Len = b.Len == null ? null : b.Len + n0;
        part.Gates = b.Gates.From(g);
        part.HBuf = b.HBuf.From(h);
        part.CBuf = b.CBuf.FromOrNull(c);
        part.HRaw = b.HRaw.FromOrNull(c);
        part.HhN = b.HhN.FromOrNull(c);
        part.DY = b.DY.From(n0 * b.Ldy);
        part.DG = b.DG.From(g);
        part.DGh = b.DGh.From(g);
        part.Dh2 = b.Dh2.From(h);
        part.Dc = b.Dc.FromOrNull(c);
        part.DTot = b.DTot.FromOrNull(p);
        part.DhRaw = b.DhRaw.FromOrNull(c);
        Backward(&part);
    }

    /// <summary>
    /// How many batch parts a forward or backward of <paramref name="dw"/> at batch <paramref name="N"/> over
    /// <paramref name="T"/> steps should run as
    /// (<see cref="ForwardBatchParts"/>), or 0 to cut each step's hidden units across the threads instead. Parts pay
    /// (1) when each thread's copy of the recurrent weights (all of them, read every step) fits in half its L2 and each
    /// part keeps at least 4 rows (the 4-row GEMM tile): then the only synchronisation is at the end of the layer; and
    /// (2) for weights of up to <see cref="StreamedPartsL2s"/> L2s when every thread gets one part of whole row tiles
    /// (<see cref="Sgemm.MR"/> rows each), a thread's share of a split step is short (at most
    /// <see cref="StreamedPartsMaxStepFlops"/>) and there are at least <see cref="StreamedPartsMinSteps"/> steps: each
    /// part streams all the weights from L3 every step, but no step waits for the other thread's half of h. Measured for
    /// (2) on a 2-core Zen 4 (1 MiB L2), alternating 0.25 s windows in one process, median ratio of parts to the
    /// per-step split (a thread's step share in MFLOP): LSTM 150x32x256 1.209 (8), 150x64x256 1.044 (17), 150x128x256
    /// 1.113 (34), 50x16x512 1.034 (17), 50x32x512 1.052 (34), 50x64x384 1.055 (38), tanh-RNN 100x16x512 1.029 (8),
    /// 100x16x1024 1.058 (17), 100x32x1024 1.021 (34), GRU 30x16x256 1.020 (6); past the bounds it tied or lost, so
    /// those keep the split: LSTM 35x32x650 1.021 (56), GRU 50x64x512 0.995 (50), LSTM 50x64x512 0.997 (67), tanh-RNN
    /// 100x64x1024 0.994 (67), LSTM 25x16x1024 0.966 (67, 16 MiB), GRU 50x32x1024 0.976 (101, 12 MiB), LSTM 50x8x512
    /// 0.989 (4 rows a thread), GRU T=1 N=32 H=512 0.966 (one step). Training, forward and backward in parts: LSTM
    /// 150x64x256 1.074 / 1.000 (two sittings), 150x128x256 1.040, 25x32x512 1.016, tanh-RNN 50x32x1024 1.021.
    /// </summary>
    public static int BatchParts(DirWeights dw, int N, int T)
    {
        int threads = WorkerPool.Shared.Size;
        if (threads < 2 || N < 8) return 0;
        long floats = dw.WhhT.Length + (dw.WhrT?.Length ?? 0), bytes = 4 * floats;
        if (bytes <= CacheSizes.L2PerCore / 2) return Math.Min(threads, N / 4);
        long stepFlopsPerThread = 2 * N * floats / threads; // of the split: every row reads every recurrent weight once
        // whole row tiles in every part: 10 rows run as 8 + 2 and stream the weights twice (LSTM 35x20x650: 0.879)
        bool wholeTiles = N % (threads * Sgemm.MR) == 0;
        // and steps enough to pay for each thread reading all the weights, not half (GRU T=1 N=32 H=512: 0.965)
        bool streamed = bytes <= StreamedPartsL2s * CacheSizes.L2PerCore && wholeTiles && stepFlopsPerThread <= StreamedPartsMaxStepFlops
                        && T >= StreamedPartsMinSteps;
        return streamed ? threads : 0;
    }

    /// <summary>The most recurrent weights, in L2s of one core, that batch parts stream from L3 every step (see <see cref="BatchParts"/>).</summary>
    internal const int StreamedPartsL2s = 8;

    /// <summary>The fewest time steps that streamed batch parts run (see <see cref="BatchParts"/>): at T = 1 each thread reads all the weights for one step.</summary>
    internal const int StreamedPartsMinSteps = 8;

    /// <summary>The longest split step (FLOP a thread) that streamed batch parts replace (see <see cref="BatchParts"/>).</summary>
    internal const long StreamedPartsMaxStepFlops = 40_000_000;

    private static void BothForwardWorker(void* ctx, int index, int count)
    {
        for (int d = index; d < 2; d += count) Forward((DirFwd*)ctx + d);
    }

    private static void BothBackwardWorker(void* ctx, int index, int count)
    {
        for (int d = index; d < 2; d += count) Backward((DirBwd*)ctx + d);
    }

    /// <summary>One direction's forward: every step, in its direction's order.</summary>
    private static void Forward(DirFwd* dp)
    {
        ref DirFwd d = ref *dp;
        int T = d.T, N = d.N, NS = d.NStride;
        // Slots and steps are NS rows apart (the whole batch's buffers); a step touches its N rows (a batch part: N < NS).
        long hStep = (long)NS * d.Ho, cStep = (long)NS * d.Layout.H, gStep = d.Layout.Row(NS); // one step of h, c, gates
        long hRows = (long)N * d.Ho, cRows = (long)N * d.Layout.H, gRows = d.Layout.Row(N);
        long yStep = (long)NS * d.Ldy, yRows = (N - 1) * d.Ldy + d.Ho;                          // y: N rows Ldy apart
        var st = new StepFwd { D = dp };
        for (int s = 0; s < T; s++)
        {
            int t = d.Dir == 0 ? s : T - 1 - s;
            st.T = t;
            st.Gates = d.XW.Slice(t * gStep, gRows);
            st.Y = d.Y.Slice(t * yStep, yRows);
            if (d.Training)
            {
                // slot t holds h (and c) before step t forward, after it reverse
                long prev = d.Dir == 0 ? t : t + 1, next = d.Dir == 0 ? t + 1 : t;
                st.HPrev = d.HBuf.Slice(prev * hStep, hRows);
                st.HNext = d.HBuf.Slice(next * hStep, hRows);
                st.CPrev = d.CBuf.SliceOrNull(prev * cStep, cRows);
                st.CNext = d.CBuf.SliceOrNull(next * cStep, cRows);
                st.HRaw = d.HRaw.SliceOrNull(t * cStep, cRows);
                st.HhN = d.HhN.SliceOrNull(t * cStep, cRows);
            }
            else
            {
                // h ping-pongs between two slots, c is advanced in place
                st.HPrev = d.HBuf.Slice((s & 1) * hStep, hRows);
                st.HNext = d.HBuf.Slice(((s + 1) & 1) * hStep, hRows);
                st.CPrev = st.CNext = d.CBuf;
                st.HRaw = d.HRaw;
                st.HhN = default;
            }
            CellForward.Step(&st);
        }
    }

    /// <summary>One direction's backward: every step, against its direction's order.</summary>
    private static void Backward(DirBwd* bp)
    {
        ref DirBwd b = ref *bp;
        int T = b.T, N = b.N, NS = b.NStride;
        // Slots and steps are NS rows apart (the whole batch's buffers); a step touches its N rows (a batch part: N < NS).
        long hStep = (long)NS * b.Ho, cStep = (long)NS * b.Layout.H, gStep = b.Layout.Row(NS), pStep = (long)NS * b.P;
        long hRows = (long)N * b.Ho, cRows = (long)N * b.Layout.H, gRows = b.Layout.Row(N), pRows = (long)N * b.P;
        long yStep = (long)NS * b.Ldy, yRows = (N - 1) * b.Ldy + b.Ho;
        var st = new StepBwd { D = bp };
        for (int s = 0; s < T; s++)
        {
            int t = b.Dir == 0 ? T - 1 - s : s;
            long prev = b.Dir == 0 ? t : t + 1, next = b.Dir == 0 ? t + 1 : t;
            st.T = t;
            st.DhCur = b.Dh2.Slice((s & 1) * hStep, hRows);
            st.DhNext = b.Dh2.Slice(((s + 1) & 1) * hStep, hRows);
            st.Dy = b.DY.Slice(t * yStep, yRows);
            st.Gates = b.Gates.Slice(t * gStep, gRows);
            st.DGt = b.DG.Slice(t * gStep, gRows);
            st.DGht = b.DGh.Slice(t * gStep, gRows);
            st.HPrev = b.HBuf.Slice(prev * hStep, hRows);
            st.CPrev = b.CBuf.SliceOrNull(prev * cStep, cRows);
            st.CNext = b.CBuf.SliceOrNull(next * cStep, cRows);
            st.HhN = b.HhN.SliceOrNull(t * cStep, cRows);
            st.DTot = b.DTot.SliceOrNull(t * pStep, pRows);
            CellBackward.Step(&st);
        }
    }
}
