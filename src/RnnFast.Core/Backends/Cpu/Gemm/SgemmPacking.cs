// Sgemm's operand packing: B into column panels of NR = 32 floats (panel p holds K rows of 32: Bp[(p*K + k)*32 + c]),
// with optional row / column maps (the gate permutation of the packed RNN weights), and A into row panels of MR
// (Ap[(ir*kc + k)*MR + r]), which handles a transposed A and the M tail (zero rows) in one place.
using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace RnnFast.Backends.Cpu;

internal static unsafe partial class Sgemm
{
    /// <summary>
    /// Packs panels [p0, p1) of the raw <paramref name="src"/> (K x N, K = dst.K) into <paramref name="dst"/>, reading
    /// B[k, n] at row kMap(k) and column nMap(n) of src: a null map is the identity; a map entry &lt; 0 (and n &gt;= N)
    /// gives zeros (the packed weights' gate permutation and padding).
    /// </summary>
    public static void PackB(in GemmB src, int N, int* kMap, int* nMap, in PackedB dst, int p0, int p1)
    {
        Debug.Assert(!src.Packed && p0 >= 0 && p1 <= Panels(N));
        Debug.Assert(p0 >= p1 || dst.Buf.Length >= p1 * dst.PanelSize, $"PackB: {p1} panels of {dst.PanelSize} in {dst.Buf.Length}");
        Debug.Assert(kMap != null || nMap != null || src.Fits(dst.K, N), $"PackB: K={dst.K} N={N} from {src.Buf.Length} (ld {src.Ld})");
        PackPanels(src.Buf.Ptr, src.RowStride, src.ColStride, dst.K, N, kMap, nMap, dst.Buf.Ptr, p0, p1);
    }

    /// <summary>PackB on raw pointers: B[k, n] = src[kMap(k) * rsK + nMap(n) * csN].</summary>
    private static void PackPanels(float* src, nint rsK, nint csN, int K, int N, int* kMap, int* nMap, float* dst, int p0, int p1)
    {
        Debug.Assert(K >= 0 && N >= 0 && p0 >= 0 && p1 <= Panels(N));
        for (int p = p0; p < p1; p++)
        {
            float* d = dst + (nint)p * K * NR;
            int n0 = p * NR, w = Math.Min(NR, N - n0);
            if (csN == 1 && nMap == null)
            {
                for (int k = 0; k < K; k++)
                {
                    int kk = kMap == null ? k : kMap[k];
                    float* dr = d + (nint)k * NR;
                    if (kk < 0)
                    {
                        new Span<float>(dr, NR).Clear();
                        continue;
                    }
                    new ReadOnlySpan<float>(src + kk * rsK + n0, w).CopyTo(new Span<float>(dr, w));
                    if (w < NR) new Span<float>(dr + w, NR - w).Clear();
                }
            }
            else
            {
                for (int c = 0; c < NR; c++)
                {
                    int n = n0 + c;
                    int nn = n < N ? (nMap == null ? n : nMap[n]) : -1;
                    if (nn < 0)
                    {
                        for (int k = 0; k < K; k++) d[(nint)k * NR + c] = 0;
                        continue;
                    }
                    float* s = src + nn * csN;
                    if (kMap == null)
                        for (int k = 0; k < K; k++) d[(nint)k * NR + c] = s[k * rsK];
                    else
                        for (int k = 0; k < K; k++)
                        {
                            int kk = kMap[k];
                            d[(nint)k * NR + c] = kk < 0 ? 0 : s[kk * rsK];
                        }
                }
            }
        }
    }

    /// <summary>
    /// Packs rows [m0, m0+mc) and columns [k0, k0+kc) of A (A[m, k] = src[m * rsM + k * csK]) into MR-row panels,
    /// zero-filling the rows past mc; with <paramref name="sums"/> (indexed like A's rows), adds each packed row's
    /// elements into its sum, k in order.
    /// </summary>
    public static void PackA(float* src, nint rsM, nint csK, int m0, int mc, int k0, int kc, float* dst, float* sums = null)
    {
        Debug.Assert(mc >= 1 && kc >= 1 && m0 >= 0 && k0 >= 0);
        int mr = MR;
        for (int ir = 0; ir * mr < mc; ir++)
        {
            float* d = dst + (nint)ir * kc * mr;
            int rows = Math.Min(mr, mc - ir * mr);
            if (rsM == 1)
            {
                float* s = src + m0 + ir * mr + k0 * csK;
                float* sum = sums == null ? null : sums + m0 + ir * mr;
                if (rows == 8 && Vector256.IsHardwareAccelerated && sum != null)
                {
                    var acc = Vector256.Load(sum);
                    for (int k = 0; k < kc; k++, s += csK, d += 8)
                    {
                        var v = Vector256.Load(s);
                        Vector256.Store(v, d);
                        acc += v;
                    }
                    Vector256.Store(acc, sum);
                }
                else if (rows == 8 && Vector256.IsHardwareAccelerated)
                    for (int k = 0; k < kc; k++, s += csK, d += 8) Vector256.Store(Vector256.Load(s), d);
                else
                {
                    for (int k = 0; k < kc; k++, s += csK, d += mr)
                    {
                        int r = 0;
                        for (; r < rows; r++) d[r] = s[r];
                        for (; r < mr; r++) d[r] = 0;
                    }
                    if (sum != null) AddPackedRows(dst + (nint)ir * kc * mr, mr, rows, kc, sum);
                }
            }
            else
            {
                for (int r = 0; r < mr; r++)
                {
                    if (r >= rows)
                    {
                        for (int k = 0; k < kc; k++) d[(nint)k * mr + r] = 0;
                        continue;
                    }
                    float* s = src + (m0 + ir * mr + r) * rsM + k0 * csK;
                    if (csK == 1)
                        for (int k = 0; k < kc; k++) d[(nint)k * mr + r] = s[k];
                    else
                        for (int k = 0; k < kc; k++) d[(nint)k * mr + r] = s[k * csK];
                }
                if (sums != null) AddPackedRows(d, mr, rows, kc, sums + m0 + ir * mr);
            }
        }
    }

    /// <summary>sums[r] += the packed tile's row r (tile: kc x mr, k-major), k in order, for its first <paramref name="rows"/> rows.</summary>
    private static void AddPackedRows(float* tile, int mr, int rows, int kc, float* sums)
    {
        for (int r = 0; r < rows; r++)
        {
            float s = sums[r];
            for (int k = 0; k < kc; k++) s += tile[(nint)k * mr + r];
            sums[r] = s;
        }
    }
}
