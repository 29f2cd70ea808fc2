// Small elementwise operator structs for Pointwise.Run (sigmoid, tanh, add, axpy): the building blocks the grid level
// uses outside the fused cell math (gradient sums, the projection's dH), and the operators the kernel tests check.
using System.Runtime.Intrinsics;

namespace RnnFast.Backends.Cpu;

/// <summary>y = sigmoid(x), elementwise.</summary>
internal unsafe struct SigmoidOp(float* x, float* y) : IPointwiseOp
{
    public void Scalar(nint i) => y[i] = FastMath.Sigmoid(x[i]);
    public void Vec256(nint i) => Vector256.Store(FastMath.Sigmoid(Vector256.Load(x + i)), y + i);
    public void Vec512(nint i) => Vector512.Store(FastMath.Sigmoid(Vector512.Load(x + i)), y + i);
}

/// <summary>y = tanh(x), elementwise.</summary>
internal unsafe struct TanhOp(float* x, float* y) : IPointwiseOp
{
    public void Scalar(nint i) => y[i] = FastMath.Tanh(x[i]);
    public void Vec256(nint i) => Vector256.Store(FastMath.Tanh(Vector256.Load(x + i)), y + i);
    public void Vec512(nint i) => Vector512.Store(FastMath.Tanh(Vector512.Load(x + i)), y + i);
}

/// <summary>y = a + b, elementwise (y may alias a or b).</summary>
internal unsafe struct AddOp(float* a, float* b, float* y) : IPointwiseOp
{
    public void Scalar(nint i) => y[i] = a[i] + b[i];
    public void Vec256(nint i) => Vector256.Store(Vector256.Load(a + i) + Vector256.Load(b + i), y + i);
    public void Vec512(nint i) => Vector512.Store(Vector512.Load(a + i) + Vector512.Load(b + i), y + i);
}

/// <summary>y += a * s, elementwise.</summary>
internal unsafe struct AxpyOp(float s, float* a, float* y) : IPointwiseOp
{
    public void Scalar(nint i) => y[i] += s * a[i];
    public void Vec256(nint i) => Vector256.Store(Vector256.Load(y + i) + Vector256.Create(s) * Vector256.Load(a + i), y + i);
    public void Vec512(nint i) => Vector512.Store(Vector512.Load(y + i) + Vector512.Create(s) * Vector512.Load(a + i), y + i);
}
