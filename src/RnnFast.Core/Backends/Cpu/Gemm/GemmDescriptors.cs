// Sgemm's operand descriptors: what a product C (M x N) = init + op(A) (M x K) . B (K x N) reads and writes, as small
// structs instead of a row of positional pointers, strides and flags. GemmShape (M, N, K); GemmA (row-major or stored
// transposed, with its leading dimension); GemmB (raw like A, or already packed into 32-column panels); PackedB (the
// panels themselves, as the weights are kept); GemmC (row-major with its leading dimension); GemmInit (what C starts
// from). Buffers are FloatBufs, so Sgemm asserts in Debug builds that each operand's extent fits its buffer.
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace RnnFast.Backends.Cpu;

/// <summary>What a product's C starts from before A . B is added.</summary>
internal enum GemmInit
{
    /// <summary>C = A . B</summary>
    Zero,

    /// <summary>C += A . B (C is loaded and accumulated into)</summary>
    Load,

    /// <summary>C = bias (a row, added to every row of C) + A . B</summary>
    Bias,
}

/// <summary>The sizes of C (M x N) = op(A) (M x K) . B (K x N).</summary>
internal readonly struct GemmShape
{
    public readonly int M, N, K;

    public GemmShape(int m, int n, int k)
    {
        M = m;
        N = n;
        K = k;
    }

    public override string ToString() => $"M={M} N={N} K={K}";
}

/// <summary>
/// The A operand (M x K): row-major, A[m, k] = Buf[m * Ld + k]; or <see cref="Transposed"/>, stored as its transpose
/// (K x M), A[m, k] = Buf[k * Ld + m] (as dW = dG^T . X reads dG (T*N, GP)).
/// </summary>
internal readonly unsafe struct GemmA
{
    public readonly FloatBuf Buf;
    public readonly nint Ld;
    public readonly bool Transposed;

    /// <summary>
    /// Where the product also writes the sums of A's rows (M floats: sums[m] = A[m, 0] + A[m, 1] + ..., added in that
    /// order), or the null buffer. For dW = dG^T . X these are the bias gradients, taken as A is packed (no second pass
    /// over dG); bit for bit a loop over the columns of dG adding its rows in order.
    /// </summary>
    public readonly FloatBuf RowSums;

    public GemmA(FloatBuf buf, nint ld, bool transposed = false) : this(buf, ld, transposed, default)
    {
    }

    private GemmA(FloatBuf buf, nint ld, bool transposed, FloatBuf rowSums)
    {
        Buf = buf;
        Ld = ld;
        Transposed = transposed;
        RowSums = rowSums;
    }

    /// <summary>This A, with its row sums written into <paramref name="sums"/> by the product (see <see cref="RowSums"/>).</summary>
    public GemmA WithRowSums(FloatBuf sums) => new(Buf, Ld, Transposed, sums);

    /// <summary>Distance between A[m, k] and A[m + 1, k].</summary>
    public nint RowStride => Transposed ? 1 : Ld;

    /// <summary>Distance between A[m, k] and A[m, k + 1].</summary>
    public nint ColStride => Transposed ? Ld : 1;

    /// <summary>Whether an M x K operand fits: the leading dimension covers a stored row and the last element is in the buffer.</summary>
    public bool Fits(int m, int k) => Ld >= (Transposed ? m : k) && GemmExtent.Of(m, k, RowStride, ColStride) <= Buf.Length;

    /// <summary>
    /// The rows of A from <paramref name="m0"/> on (a block of a larger product), without row sums: blocks of one product
    /// that split its columns too (TapeGemm) would each clear and write the same sums at once, so the sums belong to a
    /// whole product and are not carried into its blocks.
    /// </summary>
    public GemmA FromRow(int m0)
    {
        Debug.Assert(RowSums.IsNull, "GemmA.FromRow: row sums are taken by a whole product, not by its blocks");
        return new(Buf.From(m0 * RowStride), Ld, Transposed);
    }
}

/// <summary>
/// The B operand (K x N): packed panels (<see cref="Packed"/>: K rows of 32 per panel, see <see cref="PackedB"/>), or
/// raw like <see cref="GemmA"/>: row-major B[k, n] = Buf[k * Ld + n], or stored transposed (N x K), B[k, n] = Buf[n * Ld + k]
/// (packed by the product itself, each thread its own panels).
/// </summary>
internal readonly unsafe struct GemmB
{
    public readonly FloatBuf Buf;
    public readonly nint Ld;
    public readonly bool Transposed;
    public readonly bool Packed;

    /// <summary>
    /// Packed B: the first panel from which every panel is a padded half panel (only its first 16 columns nonzero, and C
    /// has all 32 columns of it: see <see cref="GateLayout.HalfPanelsFrom"/>); int.MaxValue when none is.
    /// </summary>
    public readonly int HalfFrom;

    /// <summary>A raw B (K x N), row-major or stored transposed, leading dimension <paramref name="ld"/>.</summary>
    public GemmB(FloatBuf buf, nint ld, bool transposed = false)
    {
        Buf = buf;
        Ld = ld;
        Transposed = transposed;
        HalfFrom = int.MaxValue;
    }

    private GemmB(FloatBuf panels, int halfFrom)
    {
        Buf = panels;
        Packed = true;
        HalfFrom = halfFrom;
    }

    /// <summary>
    /// B already packed into panels (its K must be the product's); from panel <paramref name="halfFrom"/> on, padded
    /// half panels (see <see cref="HalfFrom"/>).
    /// </summary>
    public static GemmB FromPacked(in PackedB panels, int halfFrom = int.MaxValue) => new(panels.Buf, halfFrom);

    /// <summary>Distance between B[k, n] and B[k + 1, n] (raw B).</summary>
    public nint RowStride => Transposed ? 1 : Ld;

    /// <summary>Distance between B[k, n] and B[k, n + 1] (raw B).</summary>
    public nint ColStride => Transposed ? Ld : 1;

    /// <summary>Whether a K x N operand fits its buffer (packed: whole panels of K rows).</summary>
    public bool Fits(int k, int n) => Packed
        ? Sgemm.PackedBSize(k, n) <= Buf.Length
        : Ld >= (Transposed ? k : n) && GemmExtent.Of(k, n, RowStride, ColStride) <= Buf.Length;
}

/// <summary>
/// B (K x N) packed into panels of 32 columns (Sgemm.NR): panel p holds K rows of 32 floats at p * K * 32, column c of
/// the panel at row k being B[k, p * 32 + c] (zero past N). The packed weights are kept this way.
/// </summary>
internal readonly unsafe struct PackedB
{
    public readonly FloatBuf Buf;
    public readonly int K;

    public PackedB(FloatBuf buf, int k)
    {
        Debug.Assert(k >= 0);
        Buf = buf;
        K = k;
    }

    /// <summary>Floats per panel: K * 32.</summary>
    public long PanelSize => (long)K * Sgemm.NR;

    /// <summary>Panel <paramref name="p"/> (asserted to lie in the buffer).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* Panel(int p) => Buf.At(p * PanelSize, PanelSize);

    /// <summary>Panels [p, p + count), side by side.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* Panels(int p, int count) => Buf.At(p * PanelSize, count * PanelSize);

    /// <summary>The panels from <paramref name="p"/> on (the columns from p * 32 on).</summary>
    public PackedB From(int p) => new(Buf.From(p * PanelSize), K);
}

/// <summary>The C operand (M x N), row-major: C[m, n] = Buf[m * Ld + n].</summary>
internal readonly unsafe struct GemmC
{
    public readonly FloatBuf Buf;
    public readonly nint Ld;

    public GemmC(FloatBuf buf, nint ld)
    {
        Buf = buf;
        Ld = ld;
    }

    /// <summary>Whether an M x N operand fits: rows of N within Ld, the last element in the buffer.</summary>
    public bool Fits(int m, int n) => (m <= 1 || Ld >= n) && GemmExtent.Of(m, n, Ld, 1) <= Buf.Length;

    /// <summary>C from row <paramref name="m0"/>, column <paramref name="n0"/> on (a block of a larger product).</summary>
    public GemmC From(int m0, int n0) => new(Buf.From(m0 * Ld + n0), Ld);
}

internal static class GemmExtent
{
    /// <summary>Floats spanned by a rows x cols operand with the given strides (0 when empty).</summary>
    public static long Of(int rows, int cols, nint rowStride, nint colStride) =>
        rows <= 0 || cols <= 0 ? 0 : (rows - 1) * (long)rowStride + (cols - 1) * (long)colStride + 1;
}
