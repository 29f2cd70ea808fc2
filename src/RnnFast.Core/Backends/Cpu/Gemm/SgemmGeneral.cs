// Sgemm's general product: C (M x N) = init + op(A) (M x K) . op(B) (K x N), B pre-packed or packed here (see
// GemmDescriptors). 1-4 rows on AVX-512 take SmallRows (panels in groups over the whole K). A read in place (row-major,
// AVX-512): for row chunks of GemmRowChunk (one pool job each), for column blocks of NCPanels panels, for K blocks, for
// M blocks of MC: for the block's panels: for MR tiles: micro-kernel. A packed (stored transposed, or off AVX-512;
// PackedAWorker): for K blocks, for M blocks: pack A once, then every panel of the part over it. Threads split the N
// panels (the gate rows of a weight matrix) into parts the shared pool's threads take, or, for an A stored transposed
// of many rows, the M rows (PackedARowsWorker, B packed first); tiny products run on the calling thread.
using System.Buffers;
using System.Diagnostics;
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
        public GemmInit Init;      // for the first K block
        public float* Bias;
        public int HalfFrom;       // padded half panels from this one on (GemmB.HalfFrom)
        public float* RowSums;     // A's row sums, taken as A is packed (GemmA.RowSums), or null
    }

    /// <summary>
    /// C = init + op(A) . B for the sizes in <paramref name="s"/>: A row-major or stored transposed; B packed, or raw
    /// (row-major or stored transposed; packed here, each thread its own panels); C row-major. <paramref name="bias"/>
    /// (for <see cref="GemmInit.Bias"/>) holds whole panels of columns (Panels(N) * 32 floats). Runs on the shared pool
    /// when <paramref name="parallel"/> and the product is not tiny. In Debug builds every operand's extent is asserted
    /// against its buffer.
    /// </summary>
    public static void Gemm(in GemmShape s, in GemmA a, in GemmB b, in GemmC c, GemmInit init, FloatBuf bias = default,
        bool parallel = true)
    {
        int M = s.M, N = s.N, K = s.K;
        if (M <= 0 || N <= 0) return;
        Debug.Assert(c.Fits(M, N), $"Gemm {s}: C of {c.Buf.Length} (ld {c.Ld})");
        Debug.Assert(init != GemmInit.Bias || bias.Length >= (long)Panels(N) * NR, $"Gemm {s}: bias of {bias.Length}");
        float* pc = c.Buf.Ptr, pbias = init == GemmInit.Bias ? bias.Ptr : null;
        float* sums = a.RowSums.IsNull ? null : a.RowSums.At(0, M);
        if (sums != null)
        {
            Pointwise.Clear(sums, M);
            if (ReadsAInPlace(a.ColStride) && K > 0)
            {
                RowSumsInPlace(a.Buf.Ptr, a.RowStride, M, K, sums); // the kernels read this A where it is: no packing pass
                sums = null;
            }
        }
        if (K <= 0)
        {
            if (init != GemmInit.Load)
                for (int m = 0; m < M; m++)
                    for (int n = 0; n < N; n++) pc[m * c.Ld + n] = pbias != null ? pbias[n] : 0f;
            return;
        }
        Debug.Assert(a.Fits(M, K), $"Gemm {s}: A of {a.Buf.Length} (ld {a.Ld}, transposed {a.Transposed})");
        Debug.Assert(b.Fits(K, N), $"Gemm {s}: B of {b.Buf.Length} (ld {b.Ld}, transposed {b.Transposed}, packed {b.Packed})");
        var job = new GemmJob
        {
            M = M, N = N, K = K, Panels = Panels(N), A = a.Buf.Ptr, RsA = a.RowStride, CsA = a.ColStride,
            Bp = b.Packed ? b.Buf.Ptr : null, BRaw = b.Packed ? null : b.Buf.Ptr, RsB = b.RowStride, CsB = b.ColStride,
            C = pc, Ldc = c.Ld, Init = init, Bias = pbias, HalfFrom = b.Packed ? b.HalfFrom : int.MaxValue, RowSums = sums,
        };
        var pool = WorkerPool.Shared;
        // parts of about NCPanels panels each, as many for every thread (7 parts on 2 threads left one idle an eighth
        // of the time); the pool's threads take them (and take over each other's)
        int count = 1;
        if (parallel && pool.Size > 1 && (long)M * N * K >= 1 << 18)
        {
            count = Math.Max(2, (job.Panels + NCPanels - 1) / NCPanels);
            count = (count + pool.Size - 1) / pool.Size * pool.Size;
            // a packed A: one part per thread (split by panels every part packs all of A, see PackedAWorker; an A
            // stored transposed is split by rows instead, see RunInRowChunks)
            if (!ReadsAInPlace(job.CsA)) count = pool.Size;
        }
        count = Math.Min(count, job.Panels);
        float[]? rented = null;
        try
        {
            if (!b.Packed)
            {
                // 15 floats of slack: the panels start on a cache line (a pooled array is only 16-byte aligned, and
                // every 64-byte load of a misaligned panel straddles two lines; see AlignedFloats)
                rented = ArrayPool<float>.Shared.Rent((int)PackedBSize(K, N) + 15);
                fixed (float* bp = rented)
                {
                    job.Bp = (float*)(((nint)bp + 63) & ~(nint)63);
                    RunInRowChunks(pool, ref job, count);
                }
            }
            else RunInRowChunks(pool, ref job, count);
        }
        finally
        {
            if (rented != null) ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Runs <paramref name="job"/> in chunks of about <see cref="GemmRowChunk"/> rows of A and C, all in one pool job of
    /// chunk x panel-block parts (a raw B is packed by a pool job first). Without chunks, a
    /// product with thousands of rows (the input projection of every step at once, dX) streamed all of A once per column
    /// block and all of C once per K block from L3; a chunk's A and C rows stay in L2 while the whole packed B streams
    /// past them, which prefetches well. Measured: x . W^T with M=3200 N=K=1760, one thread 131 -> 146 GFLOP/s (75 -> 84%
    /// of peak), two threads 197 -> 257 (medians); chunks of 64 to 256 rows all within 4% of each other.
    /// </summary>
    private static void RunInRowChunks(WorkerPool pool, ref GemmJob job, int count)
    {
        int M = job.M;
        // only where the kernels read A in place (a packed A, transposed or on AVX2, measured no better in chunks)
        bool inPlace = ReadsAInPlace(job.CsA);
        int chunks = inPlace ? (M + GemmRowChunk - 1) / GemmRowChunk : 1;
        if (chunks <= 1)
        {
            fixed (GemmJob* pj = &job)
            {
                if (job.CsA != 1 && count > 1 && job.M >= 2 * MC * count)
                {
                    // an A stored transposed (dW = dG^T . X, packed) split by rows, not by panels: B (raw) packed
                    // first, every part its panels, then each part packs only its own rows of A and runs every panel
                    // over them. By panels, every thread gathered and packed all of A (megabytes, from memory).
                    // BenchmarkDotNet, 2 threads, 3 alternating rounds (15 iterations): dW 2048x512x3200
                    // 24.8/21.7/20.4 -> 20.8/20.7/19.7 ms, dW 1760x1760x6400 137/114/110 -> 117/113/109 ms (never
                    // slower; the sums run in the same order as on one thread)
                    if (job.BRaw != null) pool.Run(&PackBWorker, pj, count);
                    // 4 parts a thread (whole MC blocks at least), not 1: the other thread waits for a quarter of
                    // a thread's rows at most. A temporary counter of the caller's join wait, 3 rounds each of LSTM
                    // 25x64x512 and GRU 40x32x512 training: 0.10-0.48 ms (mean 0.32) -> 0.08-0.38 (mean 0.17) per dW
                    // of about 4.2 ms; the same sums in the same order, so bit for bit the same C
                    pool.Run(&PackedARowsWorker, pj, Math.Min(4 * count, job.M / MC));
                }
                else pool.Run(&GemmWorker, pj, count);
            }
            return;
        }
        int rows = ((M + chunks - 1) / chunks + MR - 1) / MR * MR; // whole row tiles
        chunks = (M + rows - 1) / rows;
        fixed (GemmJob* pj = &job)
        {
            if (job.BRaw != null)
            {
                pool.Run(&PackBWorker, pj, count); // every panel packed before any chunk reads it
                job.BRaw = null;
            }
            // one pool job of chunks x count parts, chunk-major: each thread's home range is whole chunks (its A and C
            // rows stay in its L2 while every panel passes), and a thread that finishes early takes parts of the
            // other's, so the threads wait for each other once per product, not once per chunk. Chunk after chunk as
            // separate jobs, the faster thread idled at each of the (M/192) joins. Alternating `rnnfast bench` runs,
            // LSTM T=50 N=64 H=512 inference (17 chunks for its input projection): 332/320/345/350 -> 336/325/356/352
            // GFLOP/s; the product alone (BenchmarkDotNet, 3 rounds) 18.9 -> 18.7 ms on average, within the noise.
            var rc = new RowChunkJob { Job = pj, Rows = rows, PartsPerChunk = count };
            pool.Run(&RowChunkWorker, &rc, chunks * count);
        }
    }

    private struct RowChunkJob
    {
        public GemmJob* Job;
        public int Rows, PartsPerChunk;
    }

    /// <summary>Part <paramref name="index"/> of a row-chunked product: chunk index / PartsPerChunk, its share of the panels.</summary>
    private static void RowChunkWorker(void* ctx, int index, int count)
    {
        var rc = (RowChunkJob*)ctx;
        ref GemmJob j = ref *rc->Job;
        int m0 = index / rc->PartsPerChunk * rc->Rows;
        GemmJob chunk = j;
        chunk.M = Math.Min(rc->Rows, j.M - m0);
        chunk.A = j.A + m0 * j.RsA;
        chunk.C = j.C + m0 * j.Ldc;
        GemmWorker(&chunk, index % rc->PartsPerChunk, rc->PartsPerChunk);
    }

    /// <summary>Whether the kernels read A (column stride <paramref name="csA"/>) in place: a row-major A on the AVX-512 path; else A is packed.</summary>
    private static bool ReadsAInPlace(nint csA) => Vector512.IsHardwareAccelerated && csA == 1;

    /// <summary>sums[m] += A[m, k] for k in order, for a row-major A (leading dimension <paramref name="lda"/>) the kernels read in place.</summary>
    private static void RowSumsInPlace(float* a, nint lda, int M, int K, float* sums)
    {
        for (int m = 0; m < M; m++)
        {
            float* row = a + m * lda;
            float s = sums[m];
            for (int k = 0; k < K; k++) s += row[k];
            sums[m] = s;
        }
    }

    /// <summary>Products with at most this many rows take <see cref="SmallRows"/> on AVX-512.</summary>
    private const int SmallM = 4;

    /// <summary>
    /// Panels [p0, p1) of a product with 1-4 rows (a batch-1-4 input projection at T = 1, the stepper's per-step one):
    /// bound by streaming B, so up to 4 panels at once over the whole K (<see cref="GemvPanels"/>), no K blocks; the
    /// last panel, when N leaves it partial, runs on its own. Measured against the blocked kernels (3 alternating
    /// rounds, T = 1 calls): GRU H=512 N=1 20-23 -> 26-28 GFLOP/s, N=2 42 -> 47-53, N=4 equal; LSTM H=1024 N=1 22 -> 24.
    /// </summary>
    private static void SmallRows(ref GemmJob j, int p0, int p1)
    {
        var b = new PackedB(new FloatBuf(j.Bp, (long)j.Panels * j.K * NR), j.K);
        for (int p = p0; p < p1;)
        {
            int n = Math.Min(4, p1 - p);
            if (n > 1 && j.N - (p + n - 1) * NR < NR) n--; // a partial last panel: not in a group of full ones
            int cols = Math.Min(NR, j.N - (p + n - 1) * NR);
            GemvPanels(j.A, j.RsA, j.M, b, p, n, j.C + p * NR, j.Ldc, j.Init, j.Bias == null ? null : j.Bias + p * NR, cols);
            p += n;
        }
    }

    /// <summary>
    /// Panels [p0, p1) where A is packed (stored transposed, as for dW = dG^T . X; or any A off the AVX-512 path): for
    /// each K block, for each M block of <see cref="MC"/> rows, A is packed once and every panel of the part passes
    /// over it: the packed B micro-panel (kc x 32) streams from L3 past the L2-resident A block, the next panel's
    /// prefetched during this one, and each tile prefetches the next tile's C (dW's C is megabytes, its rows far
    /// apart). The in-place order (column blocks outermost) repeated the transposed gather of all of A once per 8
    /// panels. Measured on dW, 1760 x 1760 x 3200, one thread, best of the timed calls: 121 -> 143-147 GFLOP/s
    /// (oneDNN's dnnl_sgemm 153-159 in the same runs).
    /// </summary>
    private static void PackedAWorker(ref GemmJob j, int p0, int p1, int KCg)
    {
        int mr = MR;
        float* ap = ThreadScratch((long)MC * KCg);
        float* sums = p0 == 0 ? j.RowSums : null; // split by panels, every part packs all of A: the first one sums it
        for (int pc = 0; pc < j.K; pc += KCg)
        {
            int kc = Math.Min(KCg, j.K - pc);
            GemmInit init = pc == 0 ? j.Init : GemmInit.Load;
            for (int ic = 0; ic < j.M; ic += MC)
            {
                int mc = Math.Min(MC, j.M - ic), tiles = (mc + mr - 1) / mr;
                PackA(j.A, j.RsA, j.CsA, ic, mc, pc, kc, ap, sums);
                for (int p = p0; p < p1; p++)
                {
                    float* bp = j.Bp + ((nint)p * j.K + pc) * NR;
                    int cols = Math.Min(NR, j.N - p * NR);
                    float* bias = j.Bias == null ? null : j.Bias + p * NR;
                    float* cp = j.C + (nint)ic * j.Ldc + p * NR;
                    for (int ir = 0; ir < tiles; ir++)
                    {
                        PrefetchFor(ir, tiles, bp + (nint)j.K * NR, kc, bp, out float* pf, out float* pf2);
                        float* ct = cp + (nint)ir * mr * j.Ldc;
                        float* pfc = ir + 1 < tiles ? ct + (nint)mr * j.Ldc : p + 1 < p1 ? cp + NR : null;
                        Tile(kc, ap + (nint)ir * kc * mr, bp, ct, j.Ldc, init, bias, Math.Min(mr, mc - ir * mr), cols, pf, pf2, pfc);
                    }
                }
            }
        }
    }

    /// <summary>Packs this part's share of a raw B's panels into the job's packed B (before a split by rows reads them all).</summary>
    private static void PackBWorker(void* ctx, int index, int count)
    {
        ref GemmJob j = ref *(GemmJob*)ctx;
        WorkerPool.Split(j.Panels, index, count, out int p0, out int p1);
        PackRawPanels(ref j, p0, p1);
    }

    /// <summary>Panels [p0, p1) of the job's raw B packed into its packed B; nothing when B came packed.</summary>
    private static void PackRawPanels(ref GemmJob j, int p0, int p1)
    {
        if (j.BRaw != null && p0 < p1) PackPanels(j.BRaw, j.RsB, j.CsB, j.K, j.N, null, null, j.Bp, p0, p1);
    }

    /// <summary>This part's rows of a packed-A product (whole MR tiles), every panel: <see cref="PackedAWorker"/> on a row range.</summary>
    private static void PackedARowsWorker(void* ctx, int index, int count)
    {
        ref GemmJob j = ref *(GemmJob*)ctx;
        int tiles = (j.M + MR - 1) / MR;
        WorkerPool.Split(tiles, index, count, out int t0, out int t1);
        int m0 = t0 * MR, m1 = Math.Min(j.M, t1 * MR);
        if (m0 >= m1) return;
        GemmJob part = j;
        part.M = m1 - m0;
        part.A = j.A + m0 * j.RsA;
        part.C = j.C + m0 * j.Ldc;
        if (j.RowSums != null) part.RowSums = j.RowSums + m0;
        PackedAWorker(ref part, 0, j.Panels, GemmKBlock(j.K));
    }

    private static void GemmWorker(void* ctx, int index, int count)
    {
        ref GemmJob j = ref *(GemmJob*)ctx;
        WorkerPool.Split(j.Panels, index, count, out int p0, out int p1);
        if (p0 >= p1) return;
        PackRawPanels(ref j, p0, p1);
        if (j.M <= SmallM && j.CsA == 1 && Vector512.IsHardwareAccelerated)
        {
            SmallRows(ref j, p0, p1);
            return;
        }
        int mr = MR;
        int KCg = GemmKBlock(j.K);
        if (!ReadsAInPlace(j.CsA))
        {
            PackedAWorker(ref j, p0, p1, KCg);
            return;
        }
        // A read in place: B blocks of kc x (NCPanels*32) stay in L2 while every M block passes over them; A blocks
        // of MC x kc are read where they are and stay in L2; a B micro-panel (kc x 32)
        // streams from L1/L2. kc up to 512 (not 256) halves the passes over C, which for the input projection of all
        // T steps is tens of MB (measured: M=3200 N=2048 K=512 single-thread, 103-106 -> 110-112 GFLOP/s).
        for (int jb = p0; jb < p1; jb += NCPanels)
        {
            int jbEnd = Math.Min(p1, jb + NCPanels);
            for (int pc = 0; pc < j.K; pc += KCg)
            {
                int kc = Math.Min(KCg, j.K - pc);
                GemmInit init = pc == 0 ? j.Init : GemmInit.Load;
                for (int ic = 0; ic < j.M; ic += MC)
                {
                    int mc = Math.Min(MC, j.M - ic);
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
                            PrefetchFor(ir, (mc + mr - 1) / mr, bp + (nint)j.K * NR, kc, bp, out float* pf, out float* pf2);
                            float* pfc = (ir + 1) * mr < mc ? ct + (nint)mr * j.Ldc : null;
                            if (p >= j.HalfFrom)
                                TileRowsHalf(kc, j.A + (ic + (nint)ir * mr) * j.RsA + pc, j.RsA, bp, ct, j.Ldc, init, bias, rows, HalfNR, true,
                                    pf, pf2, pfc);
                            else
                                TileRows(kc, j.A + (ic + (nint)ir * mr) * j.RsA + pc, j.RsA, bp, ct, j.Ldc, init, bias, rows, cols, pf, pf2, pfc);
                        }
                    }
                }
            }
        }
    }
}
