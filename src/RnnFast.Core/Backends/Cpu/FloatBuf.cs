// A float pointer with the length of the buffer behind it, for the cpu backend's pointer code. The grid, cell and gemm
// levels pass their (pinned) buffers as FloatBuf and take pointers into them with At / Slice, which Debug.Assert the
// range [offset, offset + count) against the length; in Release the asserts compile away and what is left is the
// pointer arithmetic it replaces. A null buffer (an optional one that is absent) is default: null pointer, length 0.
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace RnnFast.Backends.Cpu;

internal readonly unsafe struct FloatBuf
{
    /// <summary>Element 0 (null for an absent buffer).</summary>
    public readonly float* Ptr;

    /// <summary>Floats that may be read or written from <see cref="Ptr"/>.</summary>
    public readonly long Length;

    public FloatBuf(float* ptr, long length)
    {
        Debug.Assert(length >= 0 && (ptr != null || length == 0));
        Ptr = ptr;
        Length = length;
    }

    /// <summary>All of a pinned (POH) array, or the null buffer for null.</summary>
    public static FloatBuf Of(float[]? pinned) => pinned == null ? default : new FloatBuf(Sgemm.Addr(pinned), pinned.Length);

    /// <summary>All of an aligned buffer, or the null buffer for null.</summary>
    public static FloatBuf Of(AlignedFloats? aligned) => aligned?.Buf ?? default;

    public bool IsNull => Ptr == null;

    /// <summary>Pointer to element <paramref name="offset"/>, where <paramref name="count"/> floats are about to be accessed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* At(long offset, long count)
    {
        Debug.Assert(Ptr != null, "FloatBuf: access through a null buffer");
        Debug.Assert(offset >= 0 && count >= 0 && offset + count <= Length,
            $"FloatBuf: [{offset}, {offset + count}) outside a buffer of {Length}");
        return Ptr + offset;
    }

    /// <summary><see cref="At"/>, or null for the null buffer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* AtOrNull(long offset, long count) => Ptr == null ? null : At(offset, count);

    /// <summary>Elements [offset, offset + count).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FloatBuf Slice(long offset, long count) => new(At(offset, count), count);

    /// <summary><see cref="Slice"/>, or the null buffer for the null buffer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FloatBuf SliceOrNull(long offset, long count) => Ptr == null ? default : Slice(offset, count);

    /// <summary>Elements [offset, Length).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FloatBuf From(long offset) => Slice(offset, Length - offset);

    /// <summary><see cref="From"/>, or the null buffer for the null buffer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FloatBuf FromOrNull(long offset) => Ptr == null ? default : From(offset);
}
