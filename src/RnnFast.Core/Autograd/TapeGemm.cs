// The tape's bridge to the managed cpu backend's compute: row-major matrix products with optional transposes run on
// the register-tiled Sgemm, and row loops (softmax cross-entropy) run on the same persistent WorkerPool, so training
// uses one set of compute threads per process (no Parallel.For beside the backend's pool).
// A product is cut into a grid of blocks (whole 32-column B panels x whole MR-row tiles); B is packed once, in
// parallel by panels, then each block is one single-threaded Sgemm call. Every element sees the same sequence of
// operations whatever the grid, so results do not depend on the thread count.
using System.Buffers;
using System.Runtime.InteropServices;
using RnnFast.Backends.Cpu;

namespace RnnFast.Autograd;

internal static unsafe class TapeGemm
{
    /// <summary>Work (multiply-adds, or elements x a cost) from which a loop is split over the worker pool.</summary>
    public const long ParallelWork = 1 << 18;

    private struct GemmJob
    {
        public int M, N, K, Panels, ColParts, RowParts, RowTiles;
        public GemmA A;            // op(A) (M, K)
        public GemmB B;            // raw op(B) (K, N)
        public PackedB Bp;         // B packed (Panels x K x 32)
        public GemmC C;            // (M, N)
        public GemmInit Init;
        public FloatBuf Bias;      // padded to whole panels, or null
    }

    /// <summary>
    /// C (M,N) = or += op(A) . op(B) [+ bias], all row-major and dense: op(A) is A (M,K) or, with
    /// <paramref name="transA"/>, the transpose of A stored (K,M); op(B) is B (K,N) or, with <paramref name="transB"/>,
    /// the transpose of B stored (N,K). <paramref name="bias"/> (N), when not empty, is added to every row (only when
    /// not accumulating). Threads come from the cpu backend's shared pool for products of
    /// <see cref="ParallelWork"/> multiply-adds or more.
    /// </summary>
    public static void Gemm(bool transA, bool transB, int M, int N, int K,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, bool accumulate, ReadOnlySpan<float> bias = default)
    {
        if (M < 0 || N < 0 || K < 0) throw new ArgumentOutOfRangeException(nameof(M), $"Gemm: negative size M={M} N={N} K={K}");
        if (a.Length < (long)M * K || b.Length < (long)K * N || c.Length < (long)M * N)
            throw new ArgumentException($"Gemm: operands too small for M={M} N={N} K={K} (A {a.Length}, B {b.Length}, C {c.Length})");
        if (!bias.IsEmpty && bias.Length < N)
            throw new ArgumentException($"Gemm: bias of {bias.Length} for N={N}", nameof(bias));
        if (M == 0 || N == 0) return;
        if (K == 0)
        {
            if (accumulate) return;
            for (int m = 0; m < M; m++)
            {
                var row = c.Slice(m * N, N);
                if (bias.IsEmpty) row.Clear();
                else bias[..N].CopyTo(row);
            }
            return;
        }

        int panels = Sgemm.Panels(N);
        int mr = Sgemm.MR;
        int rowTiles = (M + mr - 1) / mr;
        var pool = WorkerPool.Shared;
        bool threaded = pool.Size > 1 && (long)M * N * K >= ParallelWork;
        // Columns first (each block packs none of B and reads its own panels), rows when the panels are too few.
        int colParts = threaded ? Math.Min(panels, pool.Size) : 1;
        int rowParts = threaded ? Math.Min(rowTiles, (pool.Size + colParts - 1) / colParts) : 1;

        var packed = ArrayPool<float>.Shared.Rent(checked((int)Sgemm.PackedBSize(K, N)));
        float[]? biasPadded = null;
        try
        {
            if (!bias.IsEmpty && !accumulate)
            {
                biasPadded = ArrayPool<float>.Shared.Rent(panels * Sgemm.NR);
                bias[..N].CopyTo(biasPadded);
                biasPadded.AsSpan(N, panels * Sgemm.NR - N).Clear();
            }
            fixed (float* pa = a, pb = b, pc = c, pbp = packed, pbias = biasPadded)
            {
                var job = new GemmJob
                {
                    M = M, N = N, K = K, Panels = panels, ColParts = colParts, RowParts = rowParts, RowTiles = rowTiles,
                    A = new GemmA(new FloatBuf(pa, a.Length), transA ? M : K, transA),
                    B = new GemmB(new FloatBuf(pb, b.Length), transB ? K : N, transB),
                    Bp = new PackedB(new FloatBuf(pbp, packed.Length), K), C = new GemmC(new FloatBuf(pc, c.Length), N),
                    Init = accumulate ? GemmInit.Load : biasPadded != null ? GemmInit.Bias : GemmInit.Zero,
                    Bias = biasPadded == null ? default : new FloatBuf(pbias, panels * Sgemm.NR),
                };
                pool.Run(&PackWorker, &job, colParts);
                pool.Run(&BlockWorker, &job, colParts * rowParts);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
            if (biasPadded != null) ArrayPool<float>.Shared.Return(biasPadded);
        }
    }

    private static void PackWorker(void* ctx, int index, int count)
    {
        ref GemmJob j = ref *(GemmJob*)ctx;
        WorkerPool.Split(j.Panels, index, count, out int p0, out int p1);
        if (p0 < p1) Sgemm.PackB(j.B, j.N, null, null, j.Bp, p0, p1);
    }

    private static void BlockWorker(void* ctx, int index, int count)
    {
        ref GemmJob j = ref *(GemmJob*)ctx;
        WorkerPool.Split(j.Panels, index % j.ColParts, j.ColParts, out int p0, out int p1);
        WorkerPool.Split(j.RowTiles, index / j.ColParts, j.RowParts, out int t0, out int t1);
        int mr = Sgemm.MR;
        int m0 = t0 * mr, m1 = Math.Min(j.M, t1 * mr);
        int n0 = p0 * Sgemm.NR, n1 = Math.Min(j.N, p1 * Sgemm.NR);
        if (m0 >= m1 || n0 >= n1) return;
        Sgemm.Gemm(new GemmShape(m1 - m0, n1 - n0, j.K), j.A.FromRow(m0), GemmB.FromPacked(j.Bp.From(p0)), j.C.From(m0, n0),
            j.Init, j.Bias.IsNull ? default : j.Bias.From(n0), parallel: false);
    }

    private struct RangeJob
    {
        public nint Body;   // GCHandle of an Action<int, int>
        public int Total;
    }

    /// <summary>
    /// Runs body(begin, end) over contiguous ranges covering [0, <paramref name="total"/>): on the cpu backend's
    /// shared pool when <paramref name="work"/> reaches <see cref="ParallelWork"/>, else once on this thread.
    /// Ranges never overlap; the body must not depend on how [0, total) is cut.
    /// </summary>
    public static void ForRanges(int total, long work, Action<int, int> body)
    {
        if (total <= 0) return;
        var pool = WorkerPool.Shared;
        int parts = pool.Size > 1 && work >= ParallelWork ? Math.Min(total, pool.Size) : 1;
        if (parts == 1)
        {
            body(0, total);
            return;
        }
        var handle = GCHandle.Alloc(body);
        try
        {
            var job = new RangeJob { Body = GCHandle.ToIntPtr(handle), Total = total };
            pool.Run(&RangeWorker, &job, parts);
        }
        finally
        {
            handle.Free();
        }
    }

    private static void RangeWorker(void* ctx, int index, int count)
    {
        ref RangeJob j = ref *(RangeJob*)ctx;
        WorkerPool.Split(j.Total, index, count, out int begin, out int end);
        if (begin < end) ((Action<int, int>)GCHandle.FromIntPtr(j.Body).Target!)(begin, end);
    }
}
