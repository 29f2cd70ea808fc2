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
        int T = d.T, N = d.N;
        long hStep = (long)N * d.Ho, cStep = (long)N * d.Layout.H, gStep = d.Layout.Row(N); // one step of h, c, gates
        long yStep = (long)N * d.Ldy, yRows = (N - 1) * d.Ldy + d.Ho;                        // y: N rows Ldy apart
        var st = new StepFwd { D = dp };
        for (int s = 0; s < T; s++)
        {
            int t = d.Dir == 0 ? s : T - 1 - s;
            st.T = t;
            st.Gates = d.XW.Slice(t * gStep, gStep);
            st.Y = d.Y.Slice(t * yStep, yRows);
            if (d.Training)
            {
                // slot t holds h (and c) before step t forward, after it reverse
                long prev = d.Dir == 0 ? t : t + 1, next = d.Dir == 0 ? t + 1 : t;
                st.HPrev = d.HBuf.Slice(prev * hStep, hStep);
                st.HNext = d.HBuf.Slice(next * hStep, hStep);
                st.CPrev = d.CBuf.SliceOrNull(prev * cStep, cStep);
                st.CNext = d.CBuf.SliceOrNull(next * cStep, cStep);
                st.HRaw = d.HRaw.SliceOrNull(t * cStep, cStep);
                st.HhN = d.HhN.SliceOrNull(t * cStep, cStep);
            }
            else
            {
                // h ping-pongs between two slots, c is advanced in place
                st.HPrev = d.HBuf.Slice((s & 1) * hStep, hStep);
                st.HNext = d.HBuf.Slice(((s + 1) & 1) * hStep, hStep);
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
        int T = b.T, N = b.N;
        long hStep = (long)N * b.Ho, cStep = (long)N * b.Layout.H, gStep = b.Layout.Row(N), pStep = (long)N * b.P;
        long yStep = (long)N * b.Ldy, yRows = (N - 1) * b.Ldy + b.Ho;
        var st = new StepBwd { D = bp };
        for (int s = 0; s < T; s++)
        {
            int t = b.Dir == 0 ? T - 1 - s : s;
            long prev = b.Dir == 0 ? t : t + 1, next = b.Dir == 0 ? t + 1 : t;
            st.T = t;
            st.DhCur = b.Dh2.Slice((s & 1) * hStep, hStep);
            st.DhNext = b.Dh2.Slice(((s + 1) & 1) * hStep, hStep);
            st.Dy = b.DY.Slice(t * yStep, yRows);
            st.Gates = b.Gates.Slice(t * gStep, gStep);
            st.DGt = b.DG.Slice(t * gStep, gStep);
            st.DGht = b.DGh.Slice(t * gStep, gStep);
            st.HPrev = b.HBuf.Slice(prev * hStep, hStep);
            st.CPrev = b.CBuf.SliceOrNull(prev * cStep, cStep);
            st.CNext = b.CBuf.SliceOrNull(next * cStep, cStep);
            st.HhN = b.HhN.SliceOrNull(t * cStep, cStep);
            st.DTot = b.DTot.SliceOrNull(t * pStep, pStep);
            CellBackward.Step(&st);
        }
    }
}
