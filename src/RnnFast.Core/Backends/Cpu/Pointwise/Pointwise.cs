// The pointwise level's driver: the operator-struct interface (an operator holds its own pointers and computes 16, 8
// or 1 elements at an offset) and Pointwise.Run, which runs an operator over a length with the widest accelerated
// width and finishes the tail narrower. Also the raw float copy / clear the cell and grid levels use.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnFast.Backends.Cpu;

/// <summary>
/// A pointwise operator over element offsets: the driver calls <see cref="Vec512"/> for 16 elements at offset i,
/// <see cref="Vec256"/> for 8 and <see cref="Scalar"/> for one. The struct holds its own pointers.
/// </summary>
internal interface IPointwiseOp
{
    void Scalar(nint i);
    void Vec256(nint i);
    void Vec512(nint i);
}

internal static unsafe class Pointwise
{
    /// <summary>Which SIMD path the kernels take on this machine (fixed for the process).</summary>
    public static string PathName =>
        Vector512.IsHardwareAccelerated ? "AVX-512" : Vector256.IsHardwareAccelerated ? (Fma.IsSupported ? "AVX2+FMA" : "AVX2") : "scalar";

    /// <summary>Runs <paramref name="op"/> over offsets 0..length-1: 16 at a time, then 8, then one by one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TOp>(ref TOp op, int length) where TOp : struct, IPointwiseOp
    {
        Debug.Assert(length >= 0);
        nint i = 0, n = length;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16) op.Vec512(i);
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8) op.Vec256(i);
        for (; i < n; i++) op.Scalar(i);
    }

    /// <summary>dst[0..n) = src[0..n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(float* src, float* dst, int n) => new ReadOnlySpan<float>(src, n).CopyTo(new Span<float>(dst, n));

    /// <summary>dst[0..n) = 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Clear(float* dst, int n) => new Span<float>(dst, n).Clear();
}
