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
        int T = d.T, N = d.N, Ho = d.Ho, H = d.H;
        var st = new StepFwd { D = dp };
        for (int s = 0; s < T; s++)
        {
            int t = d.Dir == 0 ? s : T - 1 - s;
            st.T = t;
            st.Gates = d.XW + (long)t * N * d.GP;
            st.Y = d.Y + (long)t * N * d.Ldy;
            if (d.Training)
            {
                long prev = d.Dir == 0 ? t : t + 1, next = d.Dir == 0 ? t + 1 : t;
                st.HPrev = d.HBuf + prev * N * Ho;
                st.HNext = d.HBuf + next * N * Ho;
                if (d.CBuf != null)
                {
                    st.CPrev = d.CBuf + prev * N * H;
                    st.CNext = d.CBuf + next * N * H;
                }
                st.HRaw = d.HRaw == null ? null : d.HRaw + (long)t * N * H;
                st.HhN = d.HhN == null ? null : d.HhN + (long)t * N * H;
            }
            else
            {
                st.HPrev = d.HBuf + (long)(s & 1) * N * Ho;
                st.HNext = d.HBuf + (long)((s + 1) & 1) * N * Ho;
                st.CPrev = st.CNext = d.CBuf;
                st.HRaw = d.HRaw;
                st.HhN = null;
            }
            CellForward.Step(&st);
        }
    }

    /// <summary>One direction's backward: every step, against its direction's order.</summary>
    private static void Backward(DirBwd* bp)
    {
        ref DirBwd b = ref *bp;
        int T = b.T, N = b.N, Ho = b.Ho, H = b.H, GP = b.GP;
        var st = new StepBwd { D = bp };
        for (int s = 0; s < T; s++)
        {
            int t = b.Dir == 0 ? T - 1 - s : s;
            long prev = b.Dir == 0 ? t : t + 1, next = b.Dir == 0 ? t + 1 : t;
            st.T = t;
            st.DhCur = b.Dh2 + (long)(s & 1) * N * Ho;
            st.DhNext = b.Dh2 + (long)((s + 1) & 1) * N * Ho;
            st.Dy = b.DY + (long)t * N * b.Ldy;
            st.Gates = b.Gates + (long)t * N * GP;
            st.DGt = b.DG + (long)t * N * GP;
            st.DGht = b.DGh + (long)t * N * GP;
            st.HPrev = b.HBuf + prev * N * Ho;
            if (b.CBuf != null)
            {
                st.CPrev = b.CBuf + prev * N * H;
                st.CNext = b.CBuf + next * N * H;
            }
            st.HhN = b.HhN == null ? null : b.HhN + (long)t * N * H;
            st.DTot = b.DTot == null ? null : b.DTot + (long)t * N * b.P;
            CellBackward.Step(&st);
        }
    }
}
