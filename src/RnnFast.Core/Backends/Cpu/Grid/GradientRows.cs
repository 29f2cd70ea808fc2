// The backward grid's pass after each dW product, on the shared pool: the gradient rows from the physical gate order
// (GP x cols) back into PyTorch's (G*H x cols), each thread whole rows, and the bias gradients' (GP) on the calling
// thread. The bias gradients themselves, dG's column sums, are taken by the dW products as they pack dG^T
// (GemmA.RowSums). Measured, rows added from a cold cache, three alternations: 2048 x 1024 one thread 1.44-1.51 ms,
// the pool 1.09-1.47 ms; 1536 x 512 0.51-0.72 -> 0.48-0.67 ms (the pool faster in each pair).
using System.Numerics.Tensors;

namespace RnnFast.Backends.Cpu;

internal static unsafe class GradientRows
{
    private struct RowsJob
    {
        public float* Phys, Dst;
        public int* PhysToRow;
        public int Rows, Cols;
        public bool Add;
    }

    /// <summary>
    /// Gradient rows from physical gate order (<paramref name="physToRow"/>.Length x cols, row-major; rows mapped to -1
    /// are padding) into PyTorch's (G*H x cols) in <paramref name="target"/>, copied or added.
    /// </summary>
    public static void Unpermute(float* phys, int cols, int[] physToRow, Tensor target, bool add)
    {
        fixed (float* dst = target.Span)
        fixed (int* map = physToRow)
        {
            var job = new RowsJob { Phys = phys, Dst = dst, PhysToRow = map, Rows = physToRow.Length, Cols = cols, Add = add };
            var pool = WorkerPool.Shared;
            pool.Run(&RowsWorker, &job, (long)job.Rows * cols < 1 << 16 ? 1 : pool.Parts(job.Rows));
        }
    }

    private static void RowsWorker(void* ctx, int index, int count)
    {
        var j = (RowsJob*)ctx;
        WorkerPool.Split(j->Rows, index, count, out int r0, out int r1);
        int cols = j->Cols;
        for (int c = r0; c < r1; c++)
        {
            int row = j->PhysToRow[c];
            if (row < 0) continue;
            var src = new ReadOnlySpan<float>(j->Phys + (long)c * cols, cols);
            var to = new Span<float>(j->Dst + (long)row * cols, cols);
            if (j->Add) TensorPrimitives.Add(to, src, to);
            else src.CopyTo(to);
        }
    }

    /// <summary>A gradient vector (GP) from physical gate order into PyTorch's (G*H), copied or added.</summary>
    public static void UnpermuteVector(float[] phys, int[] physToRow, Tensor target, bool add)
    {
        var dst = target.Span;
        for (int c = 0; c < physToRow.Length; c++)
            if (physToRow[c] >= 0) dst[physToRow[c]] = (add ? dst[physToRow[c]] : 0f) + phys[c];
    }
}
