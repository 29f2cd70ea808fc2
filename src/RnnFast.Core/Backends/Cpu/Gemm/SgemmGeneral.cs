// Sgemm's general product: C (M x N) = or += op(A) (M x K) . op(B) (K x N) [+ bias row], B pre-packed or packed here.
// Loops: for column blocks of NCPanels panels, for K blocks, for M blocks of MC: pack A (or read it in place on
// AVX-512); for the block's panels: for MR tiles: micro-kernel. Threads split the N panels (the gate rows of a
// weight matrix) into parts the shared pool's threads take; tiny products run on the calling thread.
using System.Buffers;
using System.Runtime.Intrinsics;

namespace RnnFast.Backends.Cpu;

internal static unsafe partial class Sgemm
{
    private struct GemmJob
    {
        public int M, N, K, Panels;
        public float* A;
        public nint RsA, CsA;
        public float* Bp;          // packed B (filled by the workers when BRaw != null)
        public float* BRaw;
        public nint RsB, CsB;
        public float* C;
        public nint Ldc;
        public int Init;           // for the first K block
        public float* Bias;
    }

    /// <summary>
    /// C (M x N, row stride ldc) (+)= A . B where A[m, k] = a[m * rsA + k * csA] and B is either pre-packed
    /// (<paramref name="bPacked"/>, K x N) or B[k, n] = bRaw[k * rsB + n * csB] (packed here, each thread its own panels).
    /// Without <paramref name="accumulate"/> C is overwritten (plus <paramref name="bias"/>[n] when given; bias must
    /// hold whole panels). Runs on the shared pool when <paramref name="parallel"/> and the product is not tiny.
    /// </summary>
    public static void Gemm(int M, int N, int K, float* a, nint rsA, nint csA,
        float* bPacked, float* bRaw, nint rsB, nint csB,
        float* c, nint ldc, bool accumulate, float* bias, bool parallel)
    {
        if (M <= 0 || N <= 0) return;
        if (K <= 0)
        {
            if (!accumulate)
                for (int m = 0; m < M; m++)
                    for (int n = 0; n < N; n++) c[m * ldc + n] = bias != null ? bias[n] : 0f;
            return;
        }
        var job = new GemmJob
        {
            M = M, N = N, K = K, Panels = Panels(N), A = a, RsA = rsA, CsA = csA, Bp = bPacked, BRaw = bPacked == null ? bRaw : null,
            RsB = rsB, CsB = csB, C = c, Ldc = ldc,
            Init = accumulate ? InitLoad : bias != null ? InitBias : InitZero, Bias = bias,
        };
        var pool = WorkerPool.Shared;
        // parts of about NCPanels panels each; the pool's threads take them (and take over each other's)
        int count = parallel && pool.Size > 1 && (long)M * N * K >= 1 << 18 ? Math.Max(2, (job.Panels + NCPanels - 1) / NCPanels) : 1;
        count = Math.Min(count, job.Panels);
        float[]? rented = null;
        try
        {
            if (bPacked == null)
            {
                rented = ArrayPool<float>.Shared.Rent((int)PackedBSize(K, N));
                fixed (float* bp = rented)
                {
                    job.Bp = bp;
                    pool.Run(&GemmWorker, &job, count);
                }
            }
            else pool.Run(&GemmWorker, &job, count);
        }
        finally
        {
            if (rented != null) ArrayPool<float>.Shared.Return(rented);
        }
    }

    private static void GemmWorker(void* ctx, int index, int count)
    {
        ref GemmJob j = ref *(GemmJob*)ctx;
        WorkerPool.Split(j.Panels, index, count, out int p0, out int p1);
        if (p0 >= p1) return;
        if (j.BRaw != null) PackB(j.BRaw, j.RsB, j.CsB, j.K, j.N, null, null, j.Bp, p0, p1);
        int mr = MR;
        int KCg = GemmKBlock(j.K);
        float* ap = ThreadScratch((long)MC * KCg);
        // B blocks of kc x (NCPanels*32) stay in L2 while every M block passes over them; A blocks of MC x kc are
        // read in place or packed per (column block, K block, M block) and stay in L2; a B micro-panel (kc x 32)
        // streams from L1/L2. kc up to 512 (not 256) halves the passes over C, which for the input projection of all
        // T steps is tens of MB (measured: M=3200 N=2048 K=512 single-thread, 103-106 -> 110-112 GFLOP/s).
        for (int jb = p0; jb < p1; jb += NCPanels)
        {
            int jbEnd = Math.Min(p1, jb + NCPanels);
            for (int pc = 0; pc < j.K; pc += KCg)
            {
                int kc = Math.Min(KCg, j.K - pc);
                int init = pc == 0 ? j.Init : InitLoad;
                for (int ic = 0; ic < j.M; ic += MC)
                {
                    int mc = Math.Min(MC, j.M - ic);
                    bool inPlace = Vector512.IsHardwareAccelerated && j.CsA == 1; // row-major A: the kernel reads it as is
                    if (!inPlace) PackA(j.A, j.RsA, j.CsA, ic, mc, pc, kc, ap);
                    for (int p = jb; p < jbEnd; p++)
                    {
                        float* bp = j.Bp + ((nint)p * j.K + pc) * NR;
                        int cols = Math.Min(NR, j.N - p * NR);
                        float* bias = j.Bias == null ? null : j.Bias + p * NR;
                        float* cp = j.C + (nint)ic * j.Ldc + p * NR;
                        for (int ir = 0; ir * mr < mc; ir++)
                        {
                            int rows = Math.Min(mr, mc - ir * mr);
                            float* ct = cp + (nint)ir * mr * j.Ldc;
                            if (inPlace)
                                TileRows(kc, j.A + (ic + (nint)ir * mr) * j.RsA + pc, j.RsA, bp, ct, j.Ldc, init, bias, rows, cols,
                                    PrefetchFor(ir, bp + (nint)j.K * NR, kc, bp));
                            else
                                Tile(kc, ap + (nint)ir * kc * mr, bp, ct, j.Ldc, init, bias, rows, cols);
                        }
                    }
                }
            }
        }
    }
}
