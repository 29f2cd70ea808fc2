// bfloat16 weight storage for batch-1 inference (opt-in, `cpu:bf16`): at N = 1 each time step streams the whole
// recurrent weight matrix for one GEMV, so the step is bound by memory bandwidth, and halving the bytes halves the
// traffic. Weights are rounded once (round to nearest even) into the same 32-column panel layout as the fp32 packed
// B; the GEMV widens them back to fp32 (bf16 is the upper half of an fp32) and accumulates in fp32.
// Error: each weight carries a relative rounding error of at most 2^-8 (~0.4%, bf16 keeps 8 significant bits); results are not bit-exact to fp32.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnFast.Backends.Cpu;

internal static unsafe class Bf16
{
    /// <summary>fp32 -> bf16, round to nearest even; NaN stays NaN.</summary>
    public static ushort FromSingle(float x)
    {
        uint bits = BitConverter.SingleToUInt32Bits(x);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) return (ushort)((bits >> 16) | 0x40); // quiet NaN
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public static float ToSingle(ushort b) => BitConverter.UInt32BitsToSingle((uint)b << 16);

    /// <summary>A pinned bf16 copy of packed fp32 panels (same layout, element for element).</summary>
    public static ushort[] FromPacked(ReadOnlySpan<float> packed)
    {
        var dst = GC.AllocateUninitializedArray<ushort>(packed.Length, pinned: true);
        for (int i = 0; i < packed.Length; i++) dst[i] = FromSingle(packed[i]);
        return dst;
    }

    public static ushort* Addr(ushort[] pinnedArray) => (ushort*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinnedArray));

    /// <summary>
    /// c[0..cols) = init + a (K) . Bpanel (K x 32 bf16): <see cref="Sgemm.Gemv"/> over bf16 weights, fp32 accumulation.
    /// </summary>
    public static void Gemv(int K, float* a, ushort* b, float* c, GemmInit init, float* bias, int cols)
    {
        Debug.Assert(K >= 1 && cols >= 1 && cols <= Sgemm.NR && (init != GemmInit.Bias || bias != null));
        float* res = stackalloc float[Sgemm.NR];
        nint k = 0, kn = K;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> s0 = default, s1 = default, t0 = default, t1 = default;
            for (; k + 2 <= kn; k += 2)
            {
                var w = Vector512.Load(b + k * Sgemm.NR);
                var x = Vector512.Create(a[k]);
                s0 = Vector512.FusedMultiplyAdd(x, Widen(Vector512.WidenLower(w)), s0);
                s1 = Vector512.FusedMultiplyAdd(x, Widen(Vector512.WidenUpper(w)), s1);
                w = Vector512.Load(b + (k + 1) * Sgemm.NR);
                x = Vector512.Create(a[k + 1]);
                t0 = Vector512.FusedMultiplyAdd(x, Widen(Vector512.WidenLower(w)), t0);
                t1 = Vector512.FusedMultiplyAdd(x, Widen(Vector512.WidenUpper(w)), t1);
            }
            for (; k < kn; k++)
            {
                var w = Vector512.Load(b + k * Sgemm.NR);
                var x = Vector512.Create(a[k]);
                s0 = Vector512.FusedMultiplyAdd(x, Widen(Vector512.WidenLower(w)), s0);
                s1 = Vector512.FusedMultiplyAdd(x, Widen(Vector512.WidenUpper(w)), s1);
            }
            Vector512.Store(s0 + t0, res);
            Vector512.Store(s1 + t1, res + 16);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; k < kn; k++)
            {
                ushort* bk = b + k * Sgemm.NR;
                var x = Vector256.Create(a[k]);
                var w = Vector256.Load(bk);
                s0 = Vector256.FusedMultiplyAdd(x, Widen(Vector256.WidenLower(w)), s0);
                s1 = Vector256.FusedMultiplyAdd(x, Widen(Vector256.WidenUpper(w)), s1);
                w = Vector256.Load(bk + 16);
                s2 = Vector256.FusedMultiplyAdd(x, Widen(Vector256.WidenLower(w)), s2);
                s3 = Vector256.FusedMultiplyAdd(x, Widen(Vector256.WidenUpper(w)), s3);
            }
            Vector256.Store(s0, res); Vector256.Store(s1, res + 8);
            Vector256.Store(s2, res + 16); Vector256.Store(s3, res + 24);
        }
        else
        {
            for (int j = 0; j < Sgemm.NR; j++) res[j] = 0;
            for (; k < kn; k++)
            {
                float x = a[k];
                ushort* bk = b + k * Sgemm.NR;
                for (int j = 0; j < Sgemm.NR; j++) res[j] = MathF.FusedMultiplyAdd(x, ToSingle(bk[j]), res[j]);
            }
        }
        if (init == GemmInit.Load) for (int j = 0; j < cols; j++) c[j] += res[j];
        else if (init == GemmInit.Bias) for (int j = 0; j < cols; j++) c[j] = bias[j] + res[j];
        else for (int j = 0; j < cols; j++) c[j] = res[j];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen(Vector512<uint> v) => Vector512.ShiftLeft(v, 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen(Vector256<uint> v) => Vector256.ShiftLeft(v, 16).AsSingle();
}
