// PyTorch's parameter layout <-> oneDNN's, as pure array functions (no library needed, unit-tested).
//   weights: PyTorch W (G*H, I) rows by gate  ->  oneDNN ldigo (I, G, H) per layer and direction, gates permuted:
//            LSTM i,f,g,o -> i,f,c~,o (the same order); GRU r,z,n -> u(=z), r, c~(=n); RNN one gate.
//   bias:    RNN/LSTM b = b_ih + b_hh (G, H) ldgo; linear-before-reset GRU has four: b_u, b_r, b_c from x (b_ih_n),
//            b_c from h (b_hh_n), with b_u = b_ih_z + b_hh_z and b_r = b_ih_r + b_hh_r.
//   projection: PyTorch W_hr (P, H) -> oneDNN ldio (H, P).
// Gradients come back in the same oneDNN layouts and are mapped back (a summed bias's gradient goes to both biases).
namespace RnnFast.Backends.OneDnn;

internal static class OneDnnLayout
{
    /// <summary>oneDNN gate k holds PyTorch gate GatePermutation(mode)[k].</summary>
    public static int[] GatePermutation(RnnMode mode) => mode switch
    {
        RnnMode.Lstm => [0, 1, 2, 3],   // i, f, g(c~), o in both
        RnnMode.Gru => [1, 0, 2],       // oneDNN u, r, c~ = PyTorch z, r, n
        _ => [0],
    };

    /// <summary>Bias gates oneDNN expects: 4 for linear-before-reset GRU, else G.</summary>
    public static int BiasGates(RnnMode mode) => mode == RnnMode.Gru ? 4 : RnnDesc.GateCountOf(mode);

    /// <summary>PyTorch W (G*H, I) into ldigo (I, G, H) at <paramref name="dst"/>, gates permuted by <paramref name="perm"/>.</summary>
    public static void ToLdigo(ReadOnlySpan<float> w, Span<float> dst, int G, int H, int I, int[] perm)
    {
        if (w.Length != G * H * I || dst.Length < G * H * I)
            throw new ArgumentException($"ToLdigo: W has {w.Length} elements, expected G*H*I = {G}*{H}*{I}, destination {dst.Length}");
        for (int k = 0; k < G; k++)
        {
            int srcGate = perm[k];
            for (int o = 0; o < H; o++)
            {
                var row = w.Slice((srcGate * H + o) * I, I);
                for (int i = 0; i < I; i++) dst[(i * G + k) * H + o] = row[i];
            }
        }
    }

    /// <summary>The inverse of <see cref="ToLdigo"/>: ldigo (I, G, H) gradients back to PyTorch (G*H, I), added into <paramref name="w"/>.</summary>
    public static void AddFromLdigo(ReadOnlySpan<float> src, Span<float> w, int G, int H, int I, int[] perm)
    {
        for (int k = 0; k < G; k++)
        {
            int dstGate = perm[k];
            for (int o = 0; o < H; o++)
            {
                var row = w.Slice((dstGate * H + o) * I, I);
                for (int i = 0; i < I; i++) row[i] += src[(i * G + k) * H + o];
            }
        }
    }

    /// <summary>oneDNN's bias (BiasGates, H) from PyTorch's two biases (each G*H; null = no bias, zeros).</summary>
    public static void ToBias(RnnMode mode, ReadOnlySpan<float> bih, ReadOnlySpan<float> bhh, Span<float> dst, int H)
    {
        int Gb = BiasGates(mode);
        dst[..(Gb * H)].Clear();
        if (bih.IsEmpty && bhh.IsEmpty) return;
        if (mode == RnnMode.Gru)
        {
            // u = z (PyTorch gate 1), r (gate 0): summed; c~ from x = b_ih_n, c~ from h = b_hh_n (gate 2, kept apart).
            for (int o = 0; o < H; o++)
            {
                dst[o] = bih[H + o] + bhh[H + o];
                dst[H + o] = bih[o] + bhh[o];
                dst[2 * H + o] = bih[2 * H + o];
                dst[3 * H + o] = bhh[2 * H + o];
            }
            return;
        }
        var perm = GatePermutation(mode);
        for (int k = 0; k < Gb; k++)
        for (int o = 0; o < H; o++)
            dst[k * H + o] = bih[perm[k] * H + o] + bhh[perm[k] * H + o];
    }

    /// <summary>The inverse of <see cref="ToBias"/> for gradients: each summed bias's gradient goes to both PyTorch biases.</summary>
    public static void AddFromBias(RnnMode mode, ReadOnlySpan<float> src, Span<float> dbih, Span<float> dbhh, int H)
    {
        if (mode == RnnMode.Gru)
        {
            for (int o = 0; o < H; o++)
            {
                dbih[H + o] += src[o];
                dbhh[H + o] += src[o];
                dbih[o] += src[H + o];
                dbhh[o] += src[H + o];
                dbih[2 * H + o] += src[2 * H + o];
                dbhh[2 * H + o] += src[3 * H + o];
            }
            return;
        }
        var perm = GatePermutation(mode);
        for (int k = 0; k < perm.Length; k++)
        for (int o = 0; o < H; o++)
        {
            dbih[perm[k] * H + o] += src[k * H + o];
            dbhh[perm[k] * H + o] += src[k * H + o];
        }
    }

    /// <summary>PyTorch W_hr (P, H) into ldio (H, P).</summary>
    public static void ToLdio(ReadOnlySpan<float> whr, Span<float> dst, int P, int H)
    {
        for (int p = 0; p < P; p++)
        for (int j = 0; j < H; j++)
            dst[j * P + p] = whr[p * H + j];
    }

    /// <summary>The inverse of <see cref="ToLdio"/> for gradients, added into <paramref name="dwhr"/> (P, H).</summary>
    public static void AddFromLdio(ReadOnlySpan<float> src, Span<float> dwhr, int P, int H)
    {
        for (int p = 0; p < P; p++)
        for (int j = 0; j < H; j++)
            dwhr[p * H + j] += src[j * P + p];
    }

    /// <summary>Sequence indices grouped by equal length, longest first: each group runs as its own (T_g, N_g) problem.</summary>
    public static List<(int Length, int[] Indices)> GroupByLength(int[] lengths)
    {
        return lengths.Select((len, n) => (len, n))
            .GroupBy(p => p.len)
            .OrderByDescending(g => g.Key)
            .Select(g => (g.Key, g.Select(p => p.n).ToArray()))
            .ToList();
    }
}
