// The backward grid's whole-sequence passes after the dW products, on the shared pool: the bias gradients as column sums
// of dG (T*N x GP), and the dW rows from the physical gate order (GP x cols) back into PyTorch's (G*H x cols). Each
// thread takes whole column blocks or whole rows, and every sum runs over the rows in the same order as on one thread,
// so the gradients are bit for bit those of the serial loops. On one thread these passes left the other core idle:
// they read 3-8 MB each (GRU 40x32x512 training: two column sums of 7.9 MB, two 3 MB row copies per layer).
using System.Numerics.Tensors;

namespace RnnFast.Backends.Cpu;

internal static unsafe class GradientRows
{
    private const int Block = 16; // column-sum parts cover whole 64-byte lines

    private struct SumsJob
    {
        public float* M, Sums;
        public int Rows, Cols;
    }

    private struct RowsJob
    {
        public float* Phys, Dst;
        public int* PhysToRow;
        public int Rows, Cols;
        public bool Add;
    }

    /// <summary>sums[c] = sum over the rows of m (rows x cols, row-major), each column's rows in order.</summary>
    public static void ColumnSums(float* m, int rows, int cols, float[] sums)
    {
        fixed (float* s = sums)
        {
            var job = new SumsJob { M = m, Sums = s, Rows = rows, Cols = cols };
            var pool = WorkerPool.Shared;
            int blocks = (cols + Block - 1) / Block;
            pool.Run(&SumsWorker, &job, (long)rows * cols < 1 << 16 ? 1 : pool.Parts(blocks));
        }
    }

    private static void SumsWorker(void* ctx, int index, int count)
    {
        var j = (SumsJob*)ctx;
        WorkerPool.Split((j->Cols + Block - 1) / Block, index, count, out int b0, out int b1);
        int c0 = b0 * Block, width = Math.Min(b1 * Block, j->Cols) - c0;
        if (width <= 0) return;
        float* s = j->Sums + c0;
        Pointwise.Clear(s, width);
        for (int r = 0; r < j->Rows; r++)
        {
            var op = new AddOp(s, j->M + (long)r * j->Cols + c0, s);
            Pointwise.Run(ref op, width);
        }
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
