// One time step of one layer for one sequence (batch 1), on host weights in PyTorch's layout, allocation-free:
// the kernel behind RnnModel.Step. Same cell definitions as the reference backend (LSTM i,f,g,o; GRU r,z,n).
using System.Numerics.Tensors;

namespace RnnFast.Models;

internal static class StreamingCell
{
    /// <summary>Advances h (H) and, for LSTM, c (H) of layer <paramref name="l"/> by input x (I_l).</summary>
    public static void Step(RnnMode mode, RnnParameters p, int l, ReadOnlySpan<float> x, Span<float> h, Span<float> c, Span<float> gates, Span<float> hhN)
    {
        var wih = p.Get(l, 0, RnnParamKind.WeightIh).HostArray;   // (G*H, I)
        var whh = p.Get(l, 0, RnnParamKind.WeightHh).HostArray;   // (G*H, H)
        var bih = p.TryGet(l, 0, RnnParamKind.BiasIh)?.HostArray;
        var bhh = p.TryGet(l, 0, RnnParamKind.BiasHh)?.HostArray;
        int I = x.Length, H = h.Length, G = RnnDesc.GateCountOf(mode);
        for (int g = 0; g < G * H; g++)
        {
            float xi = TensorPrimitives.Dot(wih.AsSpan(g * I, I), x) + (bih?[g] ?? 0);
            float hh = TensorPrimitives.Dot(whh.AsSpan(g * H, H), (ReadOnlySpan<float>)h) + (bhh?[g] ?? 0);
            if (mode == RnnMode.Gru && g >= 2 * H)
            {
                gates[g] = xi;          // GRU n gate: input part and recurrent part stay apart
                hhN[g - 2 * H] = hh;
            }
            else gates[g] = xi + hh;
        }
        switch (mode)
        {
            case RnnMode.RnnTanh:
                for (int j = 0; j < H; j++) h[j] = MathF.Tanh(gates[j]);
                break;
            case RnnMode.RnnRelu:
                for (int j = 0; j < H; j++) h[j] = MathF.Max(gates[j], 0);
                break;
            case RnnMode.Lstm:
                for (int j = 0; j < H; j++)
                {
                    float i = Sigmoid(gates[j]), f = Sigmoid(gates[H + j]), gg = MathF.Tanh(gates[2 * H + j]), o = Sigmoid(gates[3 * H + j]);
                    c[j] = f * c[j] + i * gg;
                    h[j] = o * MathF.Tanh(c[j]);
                }
                break;
            case RnnMode.Gru:
                for (int j = 0; j < H; j++)
                {
                    float r = Sigmoid(gates[j]), z = Sigmoid(gates[H + j]);
                    float n = MathF.Tanh(gates[2 * H + j] + r * hhN[j]);
                    h[j] = (1 - z) * n + z * h[j];
                }
                break;
        }
    }

    private static float Sigmoid(float v) => 1f / (1f + MathF.Exp(-v));
}
