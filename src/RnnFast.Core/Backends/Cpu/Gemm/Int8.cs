// int8 weight storage for small-batch inference (opt-in, `cpu:int8`): at N = 1-4 each time step streams the whole
// recurrent weight matrix for a few rows of h, so the step is bound by memory bandwidth; int8 weights are a quarter of
// fp32's bytes. Each row of h is quantised on its own (GemvRows; VNNI reads the panel once per pair of rows).
// Weights: symmetric, one fp32 scale per output row (a packed column): s_w[j] = max_k |W[j,k]| / 127, q = round(w / s_w)
// in [-127, 127]. The GEMV's input vector a (K) is quantised per call the same way with one scale s_a = max|a| / 127.
// Products accumulate exactly in int32 (K <= 65536), then c[j] = init + acc[j] * (s_a * s_w[j]) in fp32.
// Layout per 32-column panel: [Kp/4][32 columns][4 consecutive k] bytes (Kp = K rounded up to 8, padding zero), the
// form VNNI's vpdpbusd (4 u8 x s8 products summed into each int32 lane) reads; a is offset to u8 (q + 128) there and
// 128 * colsum[j] taken off again. Paths: AVX-VNNI (256-bit vpdpbusd; .NET 10 exposes no 512-bit VNNI class short of
// AVX10.1), else widening to int16 and vpmaddwd on AVX-512BW or AVX2, else scalar. Every path gives the same int32
// sums bit for bit, so the same results.
// Error of one product row j (per step, before the activations): with |dw| <= s_w[j]/2 and |da| <= s_a/2,
// |sum w a - sum w' a'| <= K (s_w[j] max|a| + max|w_j| s_a) / 2 = K max|w_j| max|a| / 127 in the worst case;
// with independent rounding errors the typical error is ~ sqrt(K / 12) (s_w[j] rms(a) + rms(w_j) s_a).
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnFast.Backends.Cpu;

/// <summary>The int8 dot-product kernels (one per SIMD path).</summary>
internal enum Int8Kernel
{
    Scalar,
    Avx2Widen,
    Avx512Widen,
    AvxVnni,
}

/// <summary>Pointers into an <see cref="Int8Panels"/> (an unmanaged view the cell level's structs can hold).</summary>
internal readonly unsafe struct Int8B
{
    public readonly sbyte* W;      // panels of Kp x 32 bytes ([Kp/4][32][4])
    public readonly float* Scale;  // (panels * 32) s_w by column
    public readonly int* ColSum;   // (panels * 32) sum_k q by column (VNNI's u8 offset correction)
    public readonly int K, Kp;

    public Int8B(sbyte* w, float* scale, int* colSum, int k, int kp)
    {
        W = w; Scale = scale; ColSum = colSum; K = k; Kp = kp;
    }

    public bool IsNull => W == null;

    /// <summary>Bytes of one 32-column panel.</summary>
    public long PanelBytes => (long)Kp * Sgemm.NR;
}

/// <summary>int8 copies of packed fp32 B panels (K x N, 32-column panels), with per-column scales.</summary>
internal sealed unsafe class Int8Panels
{
    private readonly sbyte[] _w;
    private readonly float[] _scale;
    private readonly int[] _colSum;

    public int K { get; }
    public int Kp { get; }

    private Int8Panels(sbyte[] w, float[] scale, int[] colSum, int k, int kp)
    {
        _w = w; _scale = scale; _colSum = colSum; K = k; Kp = kp;
    }

    /// <summary>The largest K whose int32 sums cannot overflow (255 * 127 * 65536 &lt; 2^31).</summary>
    public const int MaxK = 1 << 16;

    /// <summary>
    /// The fewest weights (K x N) worth an int8 copy: smaller matrices (fp32 under 32 KB) stay in L1, where the per-step
    /// quantisation of the input vector costs more than the bytes it saves (RNN H = 32 / 64 at N = 1 measured 0.5-0.7x
    /// of fp32 with int8 in one loaded run); they keep fp32.
    /// </summary>
    public const int MinWeights = 8192;

    /// <summary>The threshold <see cref="FromPacked"/> applies: <see cref="MinWeights"/>; tests lower it to quantise small layers too.</summary>
    internal static int MinWeightsForCopies = MinWeights;

    /// <summary>Pointers (the arrays are pinned).</summary>
    public Int8B Ptr => new(Addr(_w), Addr(_scale), Addr(_colSum), K, Kp);

    /// <summary>The quantised weight of (k, column j) of panel p (tests).</summary>
    public sbyte At(int p, int k, int j) => _w[(long)p * Kp * Sgemm.NR + (k >> 2) * 128 + j * 4 + (k & 3)];

    /// <summary>The scale of column j of panel p (tests).</summary>
    public float ScaleOf(int p, int j) => _scale[p * Sgemm.NR + j];

    /// <summary>
    /// Quantises packed fp32 panels (<see cref="Sgemm.PackB"/>'s layout: panel p, row k, column j at p*K*32 + k*32 + j)
    /// of a K x N matrix; null when K is past <see cref="MaxK"/> or the matrix has fewer than <paramref name="minWeights"/>
    /// weights (default <see cref="MinWeightsForCopies"/>; the caller keeps fp32).
    /// </summary>
    public static Int8Panels? FromPacked(ReadOnlySpan<float> packed, int K, int N, int? minWeights = null)
    {
        if (K < 1 || K > MaxK || (long)K * N < (minWeights ?? MinWeightsForCopies)) return null;
        int P = Sgemm.Panels(N), Kp = (K + 7) & ~7;
        Debug.Assert(packed.Length >= (long)P * K * Sgemm.NR);
        var w = GC.AllocateArray<sbyte>(Math.Max(1, P * Kp * Sgemm.NR), pinned: true);
        var scale = GC.AllocateArray<float>(P * Sgemm.NR, pinned: true);
        var colSum = GC.AllocateArray<int>(P * Sgemm.NR, pinned: true);
        for (int p = 0; p < P; p++)
        for (int j = 0; j < Sgemm.NR; j++)
        {
            long src = (long)p * K * Sgemm.NR + j, dst = (long)p * Kp * Sgemm.NR + j * 4;
            float m = 0;
            for (int k = 0; k < K; k++) m = MathF.Max(m, MathF.Abs(packed[checked((int)(src + (long)k * Sgemm.NR))]));
            float inv = m > 0 && float.IsFinite(m) ? 127f / m : 0f;
            int sum = 0;
            for (int k = 0; k < K; k++)
            {
                int q = QuantizeOne(packed[checked((int)(src + (long)k * Sgemm.NR))], inv);
                w[dst + (k >> 2) * 128 + (k & 3)] = (sbyte)q;
                sum += q;
            }
            scale[p * Sgemm.NR + j] = m / 127f;
            colSum[p * Sgemm.NR + j] = sum;
        }
        return new Int8Panels(w, scale, colSum, K, Kp);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int QuantizeOne(float x, float inv) => Math.Clamp((int)MathF.Round(x * inv), -127, 127);

    private static T* Addr<T>(T[] pinned) where T : unmanaged => (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));
}

internal static unsafe class Int8
{
    /// <summary>The kernel this process uses (the best its instruction sets allow).</summary>
    public static readonly Int8Kernel Best =
        AvxVnni.IsSupported ? Int8Kernel.AvxVnni
        : Avx512BW.IsSupported ? Int8Kernel.Avx512Widen
        : Avx2.IsSupported ? Int8Kernel.Avx2Widen
        : Int8Kernel.Scalar;

    /// <summary>The kernels this machine can run (tests run each).</summary>
    public static IEnumerable<Int8Kernel> Supported()
    {
        yield return Int8Kernel.Scalar;
        if (Avx2.IsSupported) yield return Int8Kernel.Avx2Widen;
        if (Avx512BW.IsSupported) yield return Int8Kernel.Avx512Widen;
        if (AvxVnni.IsSupported) yield return Int8Kernel.AvxVnni;
    }

    /// <summary>A name for the kernel (shown in cpu:int8's description).</summary>
    public static string Name(Int8Kernel k) => k switch
    {
        Int8Kernel.AvxVnni => "AVX-VNNI vpdpbusd",
        Int8Kernel.Avx512Widen => "AVX-512BW vpmaddwd",
        Int8Kernel.Avx2Widen => "AVX2 vpmaddwd",
        _ => "scalar",
    };

    /// <summary>Bytes a quantised vector of K values takes (K rounded up to 8; the padding is zero).</summary>
    public static int PaddedLength(int K) => (K + 7) & ~7;

    /// <summary>
    /// q[0..Kp) = round(a[k] / s) (zero past K), s = max|a| / 127, returned; 0 for an all-zero a, NaN when a holds a
    /// NaN or an infinity (so the products come out NaN, as fp32's would).
    /// </summary>
    public static float Quantize(float* a, int K, sbyte* q)
    {
        int Kp = PaddedLength(K), k = 0;
        float m = 0, z = 0; // z: sum of a[k] * 0, NaN when a holds a NaN or an infinity
        if (Vector256.IsHardwareAccelerated && K >= 8)
        {
            Vector256<float> vm = Vector256<float>.Zero, vz = Vector256<float>.Zero;
            for (; k + 8 <= K; k += 8)
            {
                var v = Vector256.Load(a + k);
                vm = Vector256.Max(vm, Vector256.Abs(v));
                vz += v * Vector256<float>.Zero;
            }
            for (int i = 0; i < 8; i++) { m = MathF.Max(m, vm[i]); z += vz[i]; }
        }
        for (; k < K; k++) { m = MathF.Max(m, MathF.Abs(a[k])); z += a[k] * 0f; }
        bool bad = float.IsNaN(z) || !float.IsFinite(m);
        if (bad || !(m > 0))
        {
            new Span<sbyte>(q, Kp).Clear();
            return bad ? float.NaN : 0f;
        }
        float inv = 127f / m;
        k = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vi = Vector256.Create(inv);
            var lo = Vector256.Create(-127);
            var hi = Vector256.Create(127);
            for (; k + 32 <= K; k += 32)
            {
                var i0 = Vector256.Clamp(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(a + k) * vi)), lo, hi);
                var i1 = Vector256.Clamp(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(a + k + 8) * vi)), lo, hi);
                var i2 = Vector256.Clamp(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(a + k + 16) * vi)), lo, hi);
                var i3 = Vector256.Clamp(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(a + k + 24) * vi)), lo, hi);
                Vector256.Store(Vector256.Narrow(Vector256.Narrow(i0, i1), Vector256.Narrow(i2, i3)), q + k);
            }
        }
        for (; k < K; k++) q[k] = (sbyte)Int8Panels.QuantizeOne(a[k], inv);
        for (; k < Kp; k++) q[k] = 0;
        return m / 127f;
    }

    /// <summary>
    /// c[0..cols) = init + (q . Wpanel_p) * (sa * s_w): panel <paramref name="p"/> of <paramref name="w"/> times a vector
    /// quantised by <see cref="Quantize"/> (q, Kp bytes; sa its scale), on <paramref name="kernel"/>.
    /// </summary>
    public static void Gemv(Int8Kernel kernel, Int8B w, int p, sbyte* q, float sa, float* c, GemmInit init, float* bias, int cols)
    {
        Debug.Assert(!w.IsNull && cols >= 1 && cols <= Sgemm.NR && (init != GemmInit.Bias || bias != null));
        int* res = stackalloc int[Sgemm.NR];
        sbyte* panel = w.W + p * w.PanelBytes;
        int groups = w.Kp / 4;
        switch (kernel)
        {
            case Int8Kernel.AvxVnni:
                DotVnni(groups, (int*)q, panel, res);
                TakeOffOffset(res, w.ColSum + p * Sgemm.NR);
                break;
            case Int8Kernel.Avx512Widen: Widen512(groups, q, 0, 1, panel, res); break;
            case Int8Kernel.Avx2Widen: DotWiden256(groups, q, panel, res); break;
            default: DotScalar(groups, q, panel, res); break;
        }
        Finish(res, sa, w.Scale + p * Sgemm.NR, c, init, bias, cols);
    }

    /// <summary>
    /// The kernel the cell level uses: <see cref="Best"/>. Tests set another supported one to run whole plans on it; every
    /// kernel gives the same int32 sums, so a plan's results do not depend on which one ran.
    /// </summary>
    internal static Int8Kernel Current = Best;

    /// <summary><see cref="Gemv(Int8Kernel, Int8B, int, sbyte*, float, float*, GemmInit, float*, int)"/> on <see cref="Current"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Gemv(Int8B w, int p, sbyte* q, float sa, float* c, GemmInit init, float* bias, int cols) =>
        Gemv(Current, w, p, q, sa, c, init, bias, cols);

    /// <summary>The most rows (batch) <see cref="GemvRows"/> takes.</summary>
    public const int MaxRows = 4;

    /// <summary>
    /// <see cref="Gemv(Int8Kernel, Int8B, int, sbyte*, float, float*, GemmInit, float*, int)"/> for <paramref name="rows"/>
    /// (1-4) vectors at once, each quantised by <see cref="Quantize"/> on its own (row r at q + r * Kp, scale sa[r]):
    /// C[r, 0..cols) (row stride <paramref name="ldc"/>) = init + (q_r . Wpanel_p) * (sa[r] * s_w). The VNNI kernel takes
    /// two rows per pass over the panel (the second pair reads it again from cache), AVX-512BW's all rows in one pass; the
    /// others one row a pass. Every row's int32 sums are those of the one-row kernel, so the results are too.
    /// </summary>
    public static void GemvRows(Int8Kernel kernel, Int8B w, int p, sbyte* q, float* sa, int rows, float* c, nint ldc, GemmInit init,
        float* bias, int cols)
    {
        Debug.Assert(!w.IsNull && rows >= 1 && rows <= MaxRows && cols >= 1 && cols <= Sgemm.NR && (init != GemmInit.Bias || bias != null));
        if (kernel == Int8Kernel.Avx512Widen) // every row in one pass over the panel
        {
            int* acc = stackalloc int[MaxRows * Sgemm.NR];
            Widen512(w.Kp / 4, q, w.Kp, rows, w.W + p * w.PanelBytes, acc);
            for (int r = 0; r < rows; r++)
                Finish(acc + r * Sgemm.NR, sa[r], w.Scale + p * Sgemm.NR, c + r * ldc, init, bias, cols);
            return;
        }
        if (kernel != Int8Kernel.AvxVnni)
        {
            for (int r = 0; r < rows; r++) Gemv(kernel, w, p, q + (nint)r * w.Kp, sa[r], c + r * ldc, init, bias, cols);
            return;
        }
        int* res = stackalloc int[2 * Sgemm.NR];
        sbyte* panel = w.W + p * w.PanelBytes;
        int groups = w.Kp / 4;
        int* cs = w.ColSum + p * Sgemm.NR;
        for (int r = 0; r < rows; r += 2)
        {
            int n = Math.Min(2, rows - r);
            DotVnni2(groups, (int*)(q + (nint)r * w.Kp), (int*)(q + (nint)(r + n - 1) * w.Kp), panel, res);
            for (int i = 0; i < n; i++)
            {
                int* ri = res + i * Sgemm.NR;
                TakeOffOffset(ri, cs);
                Finish(ri, sa[r + i], w.Scale + p * Sgemm.NR, c + (r + i) * ldc, init, bias, cols);
            }
        }
    }

    /// <summary>VNNI's sums of (q + 128) w back to q w: res[j] -= 128 * colSum[j] over the panel's 32 columns (AvxVnni implies Vector256).</summary>
    private static void TakeOffOffset(int* res, int* colSum)
    {
        for (int j = 0; j < Sgemm.NR; j += 8)
            Vector256.Store(Vector256.Load(res + j) - Vector256.Load(colSum + j) * 128, res + j);
    }

    /// <summary>c[0..cols) = init + res[j] * (sa * scale[j]) (the same IEEE operations on every path).</summary>
    private static void Finish(int* res, float sa, float* scale, float* c, GemmInit init, float* bias, int cols)
    {
        int j0 = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vs = Vector256.Create(sa);
            for (; j0 + 8 <= cols; j0 += 8)
            {
                var v = Vector256.ConvertToSingle(Vector256.Load(res + j0)) * (vs * Vector256.Load(scale + j0));
                if (init == GemmInit.Load) v = Vector256.Load(c + j0) + v;
                else if (init == GemmInit.Bias) v = Vector256.Load(bias + j0) + v;
                Vector256.Store(v, c + j0);
            }
        }
        for (int j = j0; j < cols; j++)
        {
            float v = res[j] * (sa * scale[j]);
            c[j] = init == GemmInit.Load ? c[j] + v : init == GemmInit.Bias ? bias[j] + v : v;
        }
    }

    /// <summary>
    /// Two vectors (q4a, q4b; the same pointer for one) times one panel: res[j] and res[32 + j] = sum_k (q[k] + 128) w[k, j]
    /// (8 accumulators: 16 ymm registers is all AVX-VNNI's VEX encoding reaches).
    /// </summary>
    private static void DotVnni2(int groups, int* q4a, int* q4b, sbyte* w, int* res)
    {
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        for (nint g = 0; g < groups; g++)
        {
            sbyte* wg = w + g * 128;
            var x = Vector256.Create(q4a[g] ^ Flip).AsByte();
            var y = Vector256.Create(q4b[g] ^ Flip).AsByte();
            var w0 = Vector256.Load(wg);
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, x, w0);
            b0 = AvxVnni.MultiplyWideningAndAdd(b0, y, w0);
            var w1 = Vector256.Load(wg + 32);
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, x, w1);
            b1 = AvxVnni.MultiplyWideningAndAdd(b1, y, w1);
            var w2 = Vector256.Load(wg + 64);
            a2 = AvxVnni.MultiplyWideningAndAdd(a2, x, w2);
            b2 = AvxVnni.MultiplyWideningAndAdd(b2, y, w2);
            var w3 = Vector256.Load(wg + 96);
            a3 = AvxVnni.MultiplyWideningAndAdd(a3, x, w3);
            b3 = AvxVnni.MultiplyWideningAndAdd(b3, y, w3);
        }
        Vector256.Store(a0, res); Vector256.Store(a1, res + 8); Vector256.Store(a2, res + 16); Vector256.Store(a3, res + 24);
        Vector256.Store(b0, res + 32); Vector256.Store(b1, res + 40); Vector256.Store(b2, res + 48); Vector256.Store(b3, res + 56);
    }

    private const int Flip = unchecked((int)0x80808080); // s8 -> u8 + 128, four at once

    /// <summary>res[j] = sum_k (q[k] + 128) w[k, j]: 4 k per int32 lane, two k-groups in flight (8 accumulators).</summary>
    private static void DotVnni(int groups, int* q4, sbyte* w, int* res)
    {
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        nint g = 0, gn = groups;
        for (; g + 2 <= gn; g += 2)
        {
            sbyte* wg = w + g * 128;
            var x = Vector256.Create(q4[g] ^ Flip).AsByte();
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, x, Vector256.Load(wg));
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, x, Vector256.Load(wg + 32));
            a2 = AvxVnni.MultiplyWideningAndAdd(a2, x, Vector256.Load(wg + 64));
            a3 = AvxVnni.MultiplyWideningAndAdd(a3, x, Vector256.Load(wg + 96));
            var y = Vector256.Create(q4[g + 1] ^ Flip).AsByte();
            b0 = AvxVnni.MultiplyWideningAndAdd(b0, y, Vector256.Load(wg + 128));
            b1 = AvxVnni.MultiplyWideningAndAdd(b1, y, Vector256.Load(wg + 160));
            b2 = AvxVnni.MultiplyWideningAndAdd(b2, y, Vector256.Load(wg + 192));
            b3 = AvxVnni.MultiplyWideningAndAdd(b3, y, Vector256.Load(wg + 224));
        }
        for (; g < gn; g++)
        {
            sbyte* wg = w + g * 128;
            var x = Vector256.Create(q4[g] ^ Flip).AsByte();
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, x, Vector256.Load(wg));
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, x, Vector256.Load(wg + 32));
            a2 = AvxVnni.MultiplyWideningAndAdd(a2, x, Vector256.Load(wg + 64));
            a3 = AvxVnni.MultiplyWideningAndAdd(a3, x, Vector256.Load(wg + 96));
        }
        Vector256.Store(a0 + b0, res);
        Vector256.Store(a1 + b1, res + 8);
        Vector256.Store(a2 + b2, res + 16);
        Vector256.Store(a3 + b3, res + 24);
    }

    /// <summary>The 4 values of k-group g sign-extended to int16, as one 64-bit pattern (vpmaddwd's other operand).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Pattern(sbyte* qg) => U16(qg[0]) | (U16(qg[1]) << 16) | (U16(qg[2]) << 32) | (U16(qg[3]) << 48);

    /// <summary>x sign-extended to 16 bits, those 16 bits zero-extended to 64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong U16(sbyte x) => (ushort)(short)x;

    private interface IRowCount
    {
        static abstract int Count { get; }
    }

    private struct One : IRowCount { public static int Count => 1; }
    private struct Two : IRowCount { public static int Count => 2; }
    private struct Three : IRowCount { public static int Count => 3; }
    private struct Four : IRowCount { public static int Count => 4; }

    /// <summary>k-groups of 4 per block of <see cref="Widen512"/> (the rows' int16 copies: up to 4 x 2 KB on the stack).</summary>
    private const int WidenBlockGroups = 256;

    /// <summary>
    /// res[r * 32 + j] = sum_k q_r[k] w[k, j] for <paramref name="rows"/> (1-4) vectors q_r = q + r * kp over one panel
    /// on AVX-512BW: K in blocks of <see cref="WidenBlockGroups"/> groups, each row's block widened to int16 once, then
    /// <see cref="DotWiden512Rows"/> over it, the blocks' sums added.
    /// </summary>
    [SkipLocalsInit] // the int16 copies are written before they are read
    private static void Widen512(int groups, sbyte* q, nint kp, int rows, sbyte* w, int* res)
    {
        const int blockK = WidenBlockGroups * 4;
        short* x = stackalloc short[rows * blockK];
        int* part = stackalloc int[MaxRows * Sgemm.NR];
        for (int g0 = 0; g0 < groups; g0 += WidenBlockGroups)
        {
            int gn = Math.Min(WidenBlockGroups, groups - g0), n = gn * 4, i;
            for (int r = 0; r < rows; r++)
            {
                sbyte* src = q + r * kp + g0 * 4;
                short* dst = x + r * blockK;
                for (i = 0; i + 32 <= n; i += 32) Vector512.Store(Avx512BW.ConvertToVector512Int16(Vector256.Load(src + i)), dst + i);
                for (; i < n; i++) dst[i] = src[i];
            }
            int* into = g0 == 0 ? res : part;
            sbyte* wg = w + (nint)g0 * 128;
            switch (rows)
            {
                case 1: DotWiden512Rows<One>(gn, x, blockK, wg, into); break;
                case 2: DotWiden512Rows<Two>(gn, x, blockK, wg, into); break;
                case 3: DotWiden512Rows<Three>(gn, x, blockK, wg, into); break;
                default: DotWiden512Rows<Four>(gn, x, blockK, wg, into); break;
            }
            if (g0 > 0)
                for (i = 0; i < rows * Sgemm.NR; i += 16) Vector512.Store(Vector512.Load(res + i) + Vector512.Load(part + i), res + i);
        }
    }

    /// <summary>
    /// res[r * 32 + j] = sum_k x_r[k] w[k, j] for TRows.Count (1-4) int16 vectors x_r = x + r * ldx over
    /// <paramref name="groups"/> k-groups of one panel: each group's 4 x 32 weights sign-extended to int16 once
    /// (vpmovsxbw) and multiplied into every row (vpmaddwd; lane 2j + h of a row's accumulators holds column j's half h),
    /// each row's multiplier one 8-byte broadcast load. cpu:int8's kernel on AVX-512 without VNNI (the VEX AVX-VNNI
    /// class is .NET 10's only VNNI short of AVX10.1; Zen 4 has no VEX form). Before, every row took its own pass over
    /// the panel and built its multiplier from 4 bytes per group; in-process, 4 alternating rounds (Zen 4, 2 cores): GRU
    /// 100x4x2048 152 -> 212 GFLOP/s, LSTM 50x2x1024 151 -> 189, LSTM 150x1x256 86 -> 140, GRU 187x1x2048 150 -> 179.
    /// No calls in here: every vector register is a caller's to save, and a call in the loop kept the accumulators on
    /// the stack. Exact int32 sums, as every kernel's.
    /// </summary>
    private static void DotWiden512Rows<TRows>(int groups, short* x, nint ldx, sbyte* w, int* res) where TRows : struct, IRowCount
    {
        Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        Vector512<int> c0 = default, c1 = default, c2 = default, c3 = default, d0 = default, d1 = default, d2 = default, d3 = default;
        short* x0 = x, x1 = x + ldx, x2 = x + 2 * ldx, x3 = x + 3 * ldx;
        for (nint g = 0; g < groups; g++, w += 128)
        {
            var e0 = Avx512BW.ConvertToVector512Int16(Vector256.Load(w));
            var e1 = Avx512BW.ConvertToVector512Int16(Vector256.Load(w + 32));
            var e2 = Avx512BW.ConvertToVector512Int16(Vector256.Load(w + 64));
            var e3 = Avx512BW.ConvertToVector512Int16(Vector256.Load(w + 96));
            var v = Vector512.Create(*(ulong*)(x0 + g * 4)).AsInt16();
            a0 += Avx512BW.MultiplyAddAdjacent(e0, v); a1 += Avx512BW.MultiplyAddAdjacent(e1, v);
            a2 += Avx512BW.MultiplyAddAdjacent(e2, v); a3 += Avx512BW.MultiplyAddAdjacent(e3, v);
            if (TRows.Count > 1)
            {
                v = Vector512.Create(*(ulong*)(x1 + g * 4)).AsInt16();
                b0 += Avx512BW.MultiplyAddAdjacent(e0, v); b1 += Avx512BW.MultiplyAddAdjacent(e1, v);
                b2 += Avx512BW.MultiplyAddAdjacent(e2, v); b3 += Avx512BW.MultiplyAddAdjacent(e3, v);
            }
            if (TRows.Count > 2)
            {
                v = Vector512.Create(*(ulong*)(x2 + g * 4)).AsInt16();
                c0 += Avx512BW.MultiplyAddAdjacent(e0, v); c1 += Avx512BW.MultiplyAddAdjacent(e1, v);
                c2 += Avx512BW.MultiplyAddAdjacent(e2, v); c3 += Avx512BW.MultiplyAddAdjacent(e3, v);
            }
            if (TRows.Count > 3)
            {
                v = Vector512.Create(*(ulong*)(x3 + g * 4)).AsInt16();
                d0 += Avx512BW.MultiplyAddAdjacent(e0, v); d1 += Avx512BW.MultiplyAddAdjacent(e1, v);
                d2 += Avx512BW.MultiplyAddAdjacent(e2, v); d3 += Avx512BW.MultiplyAddAdjacent(e3, v);
            }
        }
        AddPairs(a0, a1, a2, a3, res);
        if (TRows.Count > 1) AddPairs(b0, b1, b2, b3, res + Sgemm.NR);
        if (TRows.Count > 2) AddPairs(c0, c1, c2, c3, res + 2 * Sgemm.NR);
        if (TRows.Count > 3) AddPairs(d0, d1, d2, d3, res + 3 * Sgemm.NR);
    }

    /// <summary>res[j] = lanes 2j + 2j+1 of a row's four accumulators (columns 0-7, 8-15, 16-23, 24-31).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddPairs(Vector512<int> v0, Vector512<int> v1, Vector512<int> v2, Vector512<int> v3, int* res)
    {
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        Vector512.Store(Avx512F.PermuteVar16x32x2(v0, even, v1) + Avx512F.PermuteVar16x32x2(v0, odd, v1), res);
        Vector512.Store(Avx512F.PermuteVar16x32x2(v2, even, v3) + Avx512F.PermuteVar16x32x2(v2, odd, v3), res + 16);
    }

    /// <summary>As <see cref="DotWiden512Rows"/> at one row with 256-bit vectors (8 accumulators of 4 columns each).</summary>
    private static void DotWiden256(int groups, sbyte* q, sbyte* w, int* res)
    {
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (nint g = 0; g < groups; g++)
        {
            sbyte* wg = w + g * 128;
            var x = Vector256.Create(Pattern(q + g * 4)).AsInt16();
            a0 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.Load(wg)), x);
            a1 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.Load(wg + 16)), x);
            a2 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.Load(wg + 32)), x);
            a3 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.Load(wg + 48)), x);
            a4 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.Load(wg + 64)), x);
            a5 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.Load(wg + 80)), x);
            a6 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.Load(wg + 96)), x);
            a7 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.Load(wg + 112)), x);
        }
        int* r = stackalloc int[2 * Sgemm.NR];
        Vector256.Store(a0, r); Vector256.Store(a1, r + 8); Vector256.Store(a2, r + 16); Vector256.Store(a3, r + 24);
        Vector256.Store(a4, r + 32); Vector256.Store(a5, r + 40); Vector256.Store(a6, r + 48); Vector256.Store(a7, r + 56);
        for (int j = 0; j < Sgemm.NR; j++) res[j] = r[2 * j] + r[2 * j + 1];
    }

    private static void DotScalar(int groups, sbyte* q, sbyte* w, int* res)
    {
        for (int j = 0; j < Sgemm.NR; j++) res[j] = 0;
        for (nint g = 0; g < groups; g++)
        {
            sbyte* wg = w + g * 128, qg = q + g * 4;
            for (int j = 0; j < Sgemm.NR; j++)
                res[j] += qg[0] * wg[j * 4] + qg[1] * wg[j * 4 + 1] + qg[2] * wg[j * 4 + 2] + qg[3] * wg[j * 4 + 3];
        }
    }
}
