// Fast float32 exp / sigmoid / tanh for the cpu backend's pointwise level, at three widths (scalar, Vector256,
// Vector512), the same algorithm in each, so every SIMD path computes the same function.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnFast.Backends.Cpu;

/// <summary>
/// exp, sigmoid and tanh in float32 from one exp approximation: e^x = 2^n * e^r with n = round(x log2 e),
/// r = x - n ln2 (Cody-Waite split, |r| &lt;= ln2/2) and e^r by its degree-6 Taylor polynomial (truncation
/// &lt;= r^7/7! * e^r ~ 1.7e-7 relative). x is clamped to [-87, 88] so 2^n stays a normal float.
/// sigmoid(x) = 1 / (1 + e^-x), tanh(x) = 2 / (1 + e^-2x) - 1 (exact division).
/// Measured over a dense grid of [-20, 20] (step 1e-4) against double precision (CpuKernelTests): max abs error
/// of sigmoid 9.2e-8 and tanh 1.8e-7, exp max relative error 2.3e-7; the tests assert &lt;= 1e-6 for each.
/// The goldens allow 1e-4 + 1e-3|b|, so the activations use under 1% of that budget.
/// </summary>
internal static class FastMath
{
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f;          // few mantissa bits: n * Ln2Hi is exact
    private const float Ln2Lo = -2.12194440e-4f;       // ln 2 - Ln2Hi
    private const float RoundMagic = 12582912f;        // 1.5 * 2^23: adding it rounds to an integer
    private const float ExpLow = -87f, ExpHigh = 88f;
    private const float C2 = 1f / 2, C3 = 1f / 6, C4 = 1f / 24, C5 = 1f / 120, C6 = 1f / 720;
    private const int BiasBits = 127;

    // ---- scalar ----
    public static float Exp(float x)
    {
        x = x < ExpLow ? ExpLow : x > ExpHigh ? ExpHigh : x;
        float t = x * Log2E + RoundMagic;
        float n = t - RoundMagic;
        float r = x - n * Ln2Hi - n * Ln2Lo;
        float p = ((((C6 * r + C5) * r + C4) * r + C3) * r + C2) * (r * r) + r + 1f;
        int bits = (BitConverter.SingleToInt32Bits(t) - BitConverter.SingleToInt32Bits(RoundMagic) + BiasBits) << 23;
        return p * BitConverter.Int32BitsToSingle(bits);
    }

    public static float Sigmoid(float x) => 1f / (1f + Exp(-x));

    public static float Tanh(float x) => 2f / (1f + Exp(-2f * x)) - 1f;

    // ---- Vector256 ----
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fma256(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(ExpLow)), Vector256.Create(ExpHigh));
        var t = Fma256(x, Vector256.Create(Log2E), Vector256.Create(RoundMagic));
        var n = t - Vector256.Create(RoundMagic);
        var r = Fma256(n, Vector256.Create(-Ln2Hi), x);
        r = Fma256(n, Vector256.Create(-Ln2Lo), r);
        var p = Fma256(Vector256.Create(C6), r, Vector256.Create(C5));
        p = Fma256(p, r, Vector256.Create(C4));
        p = Fma256(p, r, Vector256.Create(C3));
        p = Fma256(p, r, Vector256.Create(C2));
        p = Fma256(p, r * r, r) + Vector256<float>.One;
        var bits = Vector256.ShiftLeft(t.AsInt32() + Vector256.Create(BiasBits - BitConverter.SingleToInt32Bits(RoundMagic)), 23);
        return p * bits.AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> x) =>
        Vector256.Create(2f) / (Vector256<float>.One + Exp(x * Vector256.Create(-2f))) - Vector256<float>.One;

    // ---- Vector512 ----
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fma512(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
        Avx512F.IsSupported ? Avx512F.FusedMultiplyAdd(a, b, c) : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(ExpLow)), Vector512.Create(ExpHigh));
        var t = Fma512(x, Vector512.Create(Log2E), Vector512.Create(RoundMagic));
        var n = t - Vector512.Create(RoundMagic);
        var r = Fma512(n, Vector512.Create(-Ln2Hi), x);
        r = Fma512(n, Vector512.Create(-Ln2Lo), r);
        var p = Fma512(Vector512.Create(C6), r, Vector512.Create(C5));
        p = Fma512(p, r, Vector512.Create(C4));
        p = Fma512(p, r, Vector512.Create(C3));
        p = Fma512(p, r, Vector512.Create(C2));
        p = Fma512(p, r * r, r) + Vector512<float>.One;
        var bits = Vector512.ShiftLeft(t.AsInt32() + Vector512.Create(BiasBits - BitConverter.SingleToInt32Bits(RoundMagic)), 23);
        return p * bits.AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x) =>
        Vector512.Create(2f) / (Vector512<float>.One + Exp(x * Vector512.Create(-2f))) - Vector512<float>.One;
}
