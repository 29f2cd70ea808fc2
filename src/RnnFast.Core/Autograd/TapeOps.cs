// The tape's ops other than the RNN: embedding lookup, linear layer, elementwise arithmetic and activations,
// reductions, dropout, softmax cross-entropy and picking each sequence's last valid step. Each op computes its
// value eagerly on the host and records its backward rule when an input requires grad. Elementwise work and
// reductions use System.Numerics.Tensors.TensorPrimitives; matrix products run on the cpu backend's Sgemm and row
// loops on its worker pool (TapeGemm). Backward rules that write every element of a fresh gradient buffer overwrite
// it instead of clearing and adding (Variable.GradForWrite).
using System.Buffers;
using System.Numerics.Tensors;

namespace RnnFast.Autograd;

/// <summary>Records tape ops in order and runs their backward rules in reverse (reverse-mode autodiff). Not thread-safe: one tape per training step and thread.</summary>
public sealed partial class Tape
{
    /// <summary>Rows of <paramref name="weight"/> (V,E) picked by <paramref name="ids"/>, laid out as (shape..., E).</summary>
    public Variable Embedding(Variable weight, int[] ids, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(shape);
        if (weight.Value.Rank != 2)
            throw new ArgumentException($"weight: expected (V,E), found {Tensor.FormatShape(weight.Shape)}", nameof(weight));
        long count = 1;
        foreach (var d in shape) count *= d;
        if (count != ids.Length)
            throw new ArgumentException($"shape: {Tensor.FormatShape(shape)} holds {count} ids, ids has {ids.Length}", nameof(shape));
        int V = weight.Shape[0], E = weight.Shape[1];
        for (int k = 0; k < ids.Length; k++)
            if ((uint)ids[k] >= (uint)V)
                throw new ArgumentException($"ids: id {ids[k]} at index {k} is out of range for an embedding of V={V} rows", nameof(ids));

        var idsCopy = (int[])ids.Clone();
        var w = weight.Value.HostArray;
        var outData = new float[ids.Length * E];                       // (shape..., E)
        for (int k = 0; k < idsCopy.Length; k++) Array.Copy(w, idsCopy[k] * E, outData, k * E, E);
        var y = Result(Tensor.FromArray(outData, [.. shape, E]), weight);
        Record(() =>
        {
            var g = y.Grad!.Span;
            var dw = weight.GradForAccumulate();
            for (int k = 0; k < idsCopy.Length; k++)
            {
                var row = dw.Slice(idsCopy[k] * E, E);
                TensorPrimitives.Add(row, g.Slice(k * E, E), row);
            }
        }, y);
        return y;
    }

    /// <summary>y = x W^T + b: x (..., In), weight (Out, In), bias (Out) -> (..., Out). PyTorch's nn.Linear layout.</summary>
    public Variable Linear(Variable x, Variable weight, Variable? bias = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Value.Rank != 2)
            throw new ArgumentException($"weight: expected (Out,In), found {Tensor.FormatShape(weight.Shape)}", nameof(weight));
        int Out = weight.Shape[0], In = weight.Shape[1];
        if (x.Value.Rank < 1 || x.Shape[^1] != In)
            throw new ArgumentException($"x: expected (...,{In}) to match weight {Tensor.FormatShape(weight.Shape)}, found {Tensor.FormatShape(x.Shape)}", nameof(x));
        if (bias != null && !bias.Value.HasShape(Out))
            throw new ArgumentException($"bias: expected ({Out},), found {Tensor.FormatShape(bias.Shape)}", nameof(bias));
        int M = 1;
        for (int k = 0; k < x.Value.Rank - 1; k++) M *= x.Shape[k];

        var X = x.Value.HostArray;        // (M, In)
        var W = weight.Value.HostArray;   // (Out, In)
        var B = bias?.Value.HostArray;    // (Out)
        var Y = new float[M * Out];       // (M, Out)
        TapeGemm.Gemm(transA: false, transB: true, M, Out, In, X, W, Y, accumulate: false, B);   // Y = X . W^T + b
        var y = Result(Tensor.FromArray(Y, [.. x.Shape[..^1], Out]), x, weight, bias);
        Record(() =>
        {
            var dY = y.Grad!.HostArray;   // (M, Out)
            if (x.RequiresGrad)
            {
                var dX = x.GradForWrite(out bool acc);                                            // (M, In)
                TapeGemm.Gemm(transA: false, transB: false, M, In, Out, dY, W, dX, acc);         // dX (+)= dY . W
            }
            if (weight.RequiresGrad)
            {
                var dW = weight.GradForWrite(out bool acc);                                       // (Out, In)
                TapeGemm.Gemm(transA: true, transB: false, Out, In, M, dY, X, dW, acc);          // dW (+)= dY^T . X
            }
            if (bias != null && bias.RequiresGrad)
            {
                var db = bias.GradForWrite(out bool acc);                                         // (Out) (+)= column sums of dY
                int m0 = 0;
                if (!acc && M == 0) db.Clear();
                else if (!acc)
                {
                    dY.AsSpan(0, Out).CopyTo(db);
                    m0 = 1;
                }
                for (int m = m0; m < M; m++) TensorPrimitives.Add(db, dY.AsSpan(m * Out, Out), db);
            }
        }, y);
        return y;
    }

    /// <summary>a + b elementwise; b may also have the shape of a's trailing dims (broadcast over the leading ones).</summary>
    public Variable Add(Variable a, Variable b)
    {
        int inner = BroadcastInner(a, b, "Add");
        var A = a.Value.HostArray;
        var Bv = b.Value.HostArray;
        var Y = new float[A.Length];
        for (int off = 0; off < Y.Length; off += inner) TensorPrimitives.Add(A.AsSpan(off, inner), Bv, Y.AsSpan(off, inner));
        var y = Result(Tensor.FromArray(Y, (int[])a.Shape.Clone()), a, b);
        Record(() =>
        {
            var g = y.Grad!.Span;
            if (a.RequiresGrad) AddInto(a, g);
            if (b.RequiresGrad)
            {
                var db = b.GradForWrite(out bool acc);     // (inner) (+)= sum of g's chunks
                for (int off = 0; off < g.Length; off += inner)
                {
                    if (acc || off > 0) TensorPrimitives.Add(db, g.Slice(off, inner), db);
                    else g[..inner].CopyTo(db);
                }
                if (g.Length == 0 && !acc) db.Clear();
            }
        }, y);
        return y;
    }

    /// <summary>a * b elementwise; b may also have the shape of a's trailing dims (broadcast over the leading ones).</summary>
    public Variable Mul(Variable a, Variable b)
    {
        int inner = BroadcastInner(a, b, "Mul");
        var A = a.Value.HostArray;
        var Bv = b.Value.HostArray;
        var Y = new float[A.Length];
        for (int off = 0; off < Y.Length; off += inner) TensorPrimitives.Multiply(A.AsSpan(off, inner), Bv, Y.AsSpan(off, inner));
        var y = Result(Tensor.FromArray(Y, (int[])a.Shape.Clone()), a, b);
        Record(() =>
        {
            var g = y.Grad!.Span;
            if (a.RequiresGrad)
            {
                var da = a.GradForWrite(out bool acc);     // da (+)= g * b (b repeated over the chunks)
                for (int off = 0; off < g.Length; off += inner)
                {
                    var d = da.Slice(off, inner);
                    if (acc) TensorPrimitives.MultiplyAdd(g.Slice(off, inner), Bv, d, d);
                    else TensorPrimitives.Multiply(g.Slice(off, inner), Bv, d);
                }
            }
            if (b.RequiresGrad)
            {
                var db = b.GradForAccumulate();            // db += sum over chunks of g * a
                for (int off = 0; off < g.Length; off += inner)
                    TensorPrimitives.MultiplyAdd(g.Slice(off, inner), A.AsSpan(off, inner), db, db);
            }
        }, y);
        return y;
    }

    /// <summary>Elementwise tanh, recorded for backward.</summary>
    public Variable Tanh(Variable x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var X = x.Value.HostArray;
        var Y = new float[X.Length];
        TensorPrimitives.Tanh(X, Y);
        var y = Result(Tensor.FromArray(Y, (int[])x.Shape.Clone()), x);
        Record(() =>
        {
            // dx (+)= g * (1 - y^2)
            var slope = ArrayPool<float>.Shared.Rent(Y.Length);
            var d = slope.AsSpan(0, Y.Length);
            TensorPrimitives.Multiply(Y, Y, d);
            TensorPrimitives.Subtract(1f, d, d);
            MultiplyInto(x, y.Grad!.Span, d);
            ArrayPool<float>.Shared.Return(slope);
        }, y);
        return y;
    }

    /// <summary>Elementwise logistic sigmoid 1/(1+e^-x), recorded for backward.</summary>
    public Variable Sigmoid(Variable x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var X = x.Value.HostArray;
        var Y = new float[X.Length];
        TensorPrimitives.Sigmoid(X, Y);
        var y = Result(Tensor.FromArray(Y, (int[])x.Shape.Clone()), x);
        Record(() =>
        {
            // dx (+)= g * y * (1 - y)
            var slope = ArrayPool<float>.Shared.Rent(Y.Length);
            var d = slope.AsSpan(0, Y.Length);
            TensorPrimitives.Subtract(1f, Y, d);
            TensorPrimitives.Multiply(d, Y, d);
            MultiplyInto(x, y.Grad!.Span, d);
            ArrayPool<float>.Shared.Return(slope);
        }, y);
        return y;
    }

    /// <summary>Elementwise max(x, 0), recorded for backward.</summary>
    public Variable Relu(Variable x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var X = x.Value.HostArray;
        var Y = new float[X.Length];
        TensorPrimitives.Max(X, 0f, Y);
        var y = Result(Tensor.FromArray(Y, (int[])x.Shape.Clone()), x);
        Record(() =>
        {
            // dx (+)= g where x > 0 (a masked add: TensorPrimitives has no select)
            var g = y.Grad!.Span;
            var dx = x.GradForWrite(out bool acc);
            for (int i = 0; i < g.Length; i++)
            {
                float v = X[i] > 0 ? g[i] : 0f;
                dx[i] = acc ? dx[i] + v : v;
            }
        }, y);
        return y;
    }

    /// <summary>Sum of every element (accumulated in double) -> shape (1,).</summary>
    public Variable Sum(Variable x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var X = x.Value.HostArray;
        double s = 0;
        foreach (var v in X) s += v;
        var y = Result(Tensor.FromArray([(float)s], 1), x);
        Record(() =>
        {
            float g = y.Grad!.Span[0];
            var dx = x.GradForWrite(out bool acc);
            if (acc) TensorPrimitives.Add(dx, g, dx);
            else dx.Fill(g);
        }, y);
        return y;
    }

    /// <summary>factor * x.</summary>
    public Variable Scale(Variable x, float factor)
    {
        ArgumentNullException.ThrowIfNull(x);
        var X = x.Value.HostArray;
        var Y = new float[X.Length];
        TensorPrimitives.Multiply(X, factor, Y);
        var y = Result(Tensor.FromArray(Y, (int[])x.Shape.Clone()), x);
        Record(() =>
        {
            var g = y.Grad!.Span;
            var dx = x.GradForWrite(out bool acc);
            if (acc) TensorPrimitives.MultiplyAdd(g, factor, dx, dx);
            else TensorPrimitives.Multiply(g, factor, dx);
        }, y);
        return y;
    }

    /// <summary>The same elements in another shape (the value shares x's array; do not change it in place).</summary>
    public Variable Reshape(Variable x, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(shape);
        var y = Result(x.Value.Reshape((int[])shape.Clone()), x);
        Record(() => AddInto(x, y.Grad!.Span), y);
        return y;
    }

    /// <summary>
    /// Inverted dropout: each element is zeroed with probability <paramref name="p"/> and the kept ones are scaled by
    /// 1/(1-p). Returns <paramref name="x"/> itself when not training or p == 0.
    /// </summary>
    public Variable Dropout(Variable x, float p, Random rng, bool training)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(rng);
        if (!(p >= 0f && p < 1f))
            throw new ArgumentException($"p: dropout probability must be in [0, 1), got {p}", nameof(p));
        if (!training || p == 0f) return x;
        float keepScale = 1f / (1f - p);
        var X = x.Value.HostArray;
        var mask = new float[X.Length];
        var Y = new float[X.Length];
        for (int i = 0; i < X.Length; i++) mask[i] = rng.NextDouble() >= p ? keepScale : 0f; // one draw per element, in order
        TensorPrimitives.Multiply(X, mask, Y);
        var y = Result(Tensor.FromArray(Y, (int[])x.Shape.Clone()), x);
        Record(() => MultiplyInto(x, y.Grad!.Span, mask), y);
        return y;
    }

    /// <summary>
    /// Mean softmax cross-entropy of <paramref name="logits"/> (M,C) against class indices <paramref name="targets"/> (M)
    /// -> shape (1,). Leading dims of higher-rank logits (..., C) are flattened into M. Each row's softmax is float
    /// (shifted by the row max, so large logits stay finite); the rows' losses are summed in double, in row order.
    /// </summary>
    public Variable CrossEntropy(Variable logits, int[] targets)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (logits.Value.Rank < 2)
            throw new ArgumentException($"logits: expected (M,C), found {Tensor.FormatShape(logits.Shape)}", nameof(logits));
        int C = logits.Shape[^1];
        int M = C == 0 ? 0 : logits.Value.Length / C;
        if (M == 0 || C == 0)
            throw new ArgumentException($"logits: empty {Tensor.FormatShape(logits.Shape)}", nameof(logits));
        if (targets.Length != M)
            throw new ArgumentException($"targets: expected {M} entries (one per row of logits {Tensor.FormatShape(logits.Shape)}), found {targets.Length}", nameof(targets));
        for (int m = 0; m < M; m++)
            if ((uint)targets[m] >= (uint)C)
                throw new ArgumentException($"targets: target {targets[m]} at index {m} is out of range for C={C} classes", nameof(targets));

        // the masked form with an index no target can take: the same arithmetic, in the same row order (LossTests check
        // the two agree bit for bit)
        return CrossEntropy(logits, targets, ignoreIndex: int.MinValue);
    }

    /// <summary>
    /// From a time-major sequence (T,N,F), each sequence's last valid step -> (N,F): row n is seq[lengths[n]-1, n, :]
    /// (seq[T-1, n, :] when <paramref name="lengths"/> is null).
    /// </summary>
    public Variable LastValidStep(Variable seq, int[]? lengths = null)
    {
        ArgumentNullException.ThrowIfNull(seq);
        if (seq.Value.Rank != 3)
            throw new ArgumentException($"seq: expected time-major (T,N,F), found {Tensor.FormatShape(seq.Shape)}", nameof(seq));
        int T = seq.Shape[0], N = seq.Shape[1], F = seq.Shape[2];
        var steps = new int[N];
        if (lengths == null) Array.Fill(steps, T - 1);
        else
        {
            if (lengths.Length != N)
                throw new ArgumentException($"lengths: expected {N} entries (one per sequence), found {lengths.Length}", nameof(lengths));
            for (int n = 0; n < N; n++)
            {
                if (lengths[n] < 1 || lengths[n] > T)
                    throw new ArgumentException($"lengths: sequence {n} has length {lengths[n]}, must be in 1..T={T}", nameof(lengths));
                steps[n] = lengths[n] - 1;
            }
        }
        var S = seq.Value.HostArray;
        var Y = new float[N * F];          // (N, F)
        for (int n = 0; n < N; n++) Array.Copy(S, (steps[n] * N + n) * F, Y, n * F, F);
        var y = Result(Tensor.FromArray(Y, N, F), seq);
        Record(() =>
        {
            var g = y.Grad!.Span;
            var ds = seq.GradForAccumulate();
            for (int n = 0; n < N; n++)
            {
                var row = ds.Slice((steps[n] * N + n) * F, F);
                TensorPrimitives.Add(row, g.Slice(n * F, F), row);
            }
        }, y);
        return y;
    }

    /// <summary>x.Grad (+)= g (g has x's element count).</summary>
    private static void AddInto(Variable x, ReadOnlySpan<float> g)
    {
        var dx = x.GradForWrite(out bool acc);
        if (acc) TensorPrimitives.Add(dx, g, dx);
        else g.CopyTo(dx);
    }

    /// <summary>x.Grad (+)= g * d elementwise (both of x's element count).</summary>
    private static void MultiplyInto(Variable x, ReadOnlySpan<float> g, ReadOnlySpan<float> d)
    {
        var dx = x.GradForWrite(out bool acc);
        if (acc) TensorPrimitives.MultiplyAdd(g, d, dx, dx);
        else TensorPrimitives.Multiply(g, d, dx);
    }

    /// <summary>Checks that b has a's shape or a's trailing dims; returns b's element count.</summary>
    private static int BroadcastInner(Variable a, Variable b, string op)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        int ra = a.Value.Rank, rb = b.Value.Rank;
        bool ok = rb <= ra && a.Shape.AsSpan(ra - rb).SequenceEqual(b.Shape);
        if (!ok)
            throw new ArgumentException($"b: {op} needs b of a's shape {Tensor.FormatShape(a.Shape)} or of its trailing dims, found {Tensor.FormatShape(b.Shape)}", nameof(b));
        int inner = b.Value.Length;
        if (inner == 0 && a.Value.Length != 0)
            throw new ArgumentException($"b: empty operand {Tensor.FormatShape(b.Shape)} for {op}", nameof(b));
        return Math.Max(inner, 1);
    }
}
