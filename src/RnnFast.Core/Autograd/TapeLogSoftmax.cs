// Log-softmax over the last dimension on the tape (PyTorch's log_softmax(dim=-1)), the usual input of CtcLoss:
// y = x - max(x) - log(sum(exp(x - max(x)))) per row, finite for any finite row; backward dx = g - exp(y) * sum(g).
using System.Numerics.Tensors;

namespace RnnFast.Autograd;

/// <summary>Records tape ops in order and runs their backward rules in reverse (reverse-mode autodiff). Not thread-safe: one tape per training step and thread.</summary>
public sealed partial class Tape
{
    /// <summary>log(softmax(x)) over the last dimension: x (..., C) -> (..., C), each row shifted by its max first.</summary>
    public Variable LogSoftmax(Variable x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Value.Rank < 1 || x.Shape[^1] == 0)
            throw new ArgumentException($"x: expected (..., C) with C >= 1, found {Tensor.FormatShape(x.Shape)}", nameof(x));
        int C = x.Shape[^1];
        int M = x.Value.Length / C;
        var X = x.Value.IsHost ? x.Value.HostArray : x.Value.ToArray();   // (M, C)
        var Y = new float[X.Length];                                     // (M, C)
        TapeGemm.ForRanges(M, (long)M * C * 8, (m0, m1) =>
        {
            for (int m = m0; m < m1; m++)
            {
                var row = X.AsSpan(m * C, C);
                var y = Y.AsSpan(m * C, C);
                float max = TensorPrimitives.Max(row);
                TensorPrimitives.Subtract(row, max, y);
                double sum = 0;
                foreach (var v in y) sum += Math.Exp(v);
                TensorPrimitives.Subtract(y, (float)Math.Log(sum), y);
            }
        });
        var result = Result(Tensor.FromArray(Y, (int[])x.Shape.Clone()), x);
        Record(() =>
        {
            var G = result.Grad!.HostArray;   // (M, C)
            x.GradForWrite(out bool acc);
            var dX = x.Grad!.HostArray;       // (M, C)
            TapeGemm.ForRanges(M, (long)M * C * 8, (m0, m1) =>
            {
                Span<float> p = C <= 1024 ? stackalloc float[C] : new float[C];
                for (int m = m0; m < m1; m++)
                {
                    var g = G.AsSpan(m * C, C);
                    var dx = dX.AsSpan(m * C, C);
                    float gs = TensorPrimitives.Sum(g);
                    TensorPrimitives.Exp(Y.AsSpan(m * C, C), p);
                    // dx (+)= g - p * sum(g)
                    if (acc) TensorPrimitives.Add(dx, g, dx);
                    else g.CopyTo(dx);
                    TensorPrimitives.MultiplyAdd(p, -gs, dx, dx);
                }
            });
        }, result);
        return result;
    }
}
