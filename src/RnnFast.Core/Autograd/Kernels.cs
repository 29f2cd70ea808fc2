// Small SIMD loops (System.Numerics.Vector<float>) the tape's ops are built from: dot products, axpy, adds.
// Float accumulation; callers that need more precision (Sum, CrossEntropy) accumulate in double themselves.
using System.Numerics;
using System.Runtime.InteropServices;

namespace RnnFast.Autograd;

internal static class Kernels
{
    /// <summary>Work (multiply-adds) above which the matrix loops run on the thread pool.</summary>
    public const long ParallelThreshold = 1 << 18;

    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length, i = 0;
        float sum = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
            var acc = Vector<float>.Zero;
            for (int k = 0; k < va.Length; k++) acc += va[k] * vb[k];
            sum = Vector.Sum(acc);
            i = va.Length * Vector<float>.Count;
        }
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>y += alpha * x</summary>
    public static void Axpy(Span<float> y, float alpha, ReadOnlySpan<float> x)
    {
        int n = y.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var vy = MemoryMarshal.Cast<float, Vector<float>>(y);
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var va = new Vector<float>(alpha);
            for (int k = 0; k < vy.Length; k++) vy[k] += va * vx[k];
            i = vy.Length * Vector<float>.Count;
        }
        for (; i < n; i++) y[i] += alpha * x[i];
    }

    /// <summary>y += x</summary>
    public static void Add(Span<float> y, ReadOnlySpan<float> x)
    {
        int n = y.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var vy = MemoryMarshal.Cast<float, Vector<float>>(y);
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            for (int k = 0; k < vy.Length; k++) vy[k] += vx[k];
            i = vy.Length * Vector<float>.Count;
        }
        for (; i < n; i++) y[i] += x[i];
    }

    /// <summary>Runs body(i) for i in [0, count), in parallel when <paramref name="work"/> is large enough.</summary>
    public static void For(int count, long work, Action<int> body)
    {
        if (work >= ParallelThreshold && count > 1 && Environment.ProcessorCount > 1)
            Parallel.For(0, count, body);
        else
            for (int i = 0; i < count; i++) body(i);
    }
}
