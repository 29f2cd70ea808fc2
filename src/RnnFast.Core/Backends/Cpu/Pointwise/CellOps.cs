// The fused gate math of the managed CPU backend, forward and backward, as pointwise operator structs run by
// Pointwise.Run over one row's chunk of up to 32 hidden units. Gate pre-activations live in the blocked GateLayout:
// within a chunk, gate g of unit j sits at offset g*32 + j (LSTM i,f,g,o; GRU r,z,n; named by LstmGates / GruGates).
// Cells (PyTorch): LSTM c' = f c + i g, h = o tanh(c'); GRU n = tanh(xn + r hn), h' = (1-z) n + z h; RNN h' = act(pre).
using System.Runtime.Intrinsics;

namespace RnnFast.Backends.Cpu;

/// <summary>Offsets of the LSTM gates within a chunk of the gate layout (i at 0).</summary>
internal static class LstmGates
{
    public const int I = 0, F = GateLayout.U, G = 2 * GateLayout.U, O = 3 * GateLayout.U;
}

/// <summary>Offsets of the GRU gates within a chunk of the gate layout (r at 0).</summary>
internal static class GruGates
{
    public const int R = 0, Z = GateLayout.U, N = 2 * GateLayout.U;
}

/// <summary>LSTM forward: G (4 x 32 gate pre-activations; activated i,f,g,o written back when Store), Cp -> Cn, H (and Y).</summary>
internal unsafe struct LstmFwdOp : IPointwiseOp
{
    public float* G, Cp, Cn, H, Y;
    public bool Store;

    public void Scalar(nint j)
    {
        float i = FastMath.Sigmoid(G[j]), f = FastMath.Sigmoid(G[LstmGates.F + j]);
        float g = FastMath.Tanh(G[LstmGates.G + j]), o = FastMath.Sigmoid(G[LstmGates.O + j]);
        float c = f * Cp[j] + i * g;
        float h = o * FastMath.Tanh(c);
        Cn[j] = c;
        H[j] = h;
        if (Y != null) Y[j] = h;
        if (Store) { G[j] = i; G[LstmGates.F + j] = f; G[LstmGates.G + j] = g; G[LstmGates.O + j] = o; }
    }

    public void Vec256(nint j)
    {
        var i = FastMath.Sigmoid(Vector256.Load(G + j));
        var f = FastMath.Sigmoid(Vector256.Load(G + LstmGates.F + j));
        var g = FastMath.Tanh(Vector256.Load(G + LstmGates.G + j));
        var o = FastMath.Sigmoid(Vector256.Load(G + LstmGates.O + j));
        var c = f * Vector256.Load(Cp + j) + i * g;
        var h = o * FastMath.Tanh(c);
        Vector256.Store(c, Cn + j);
        Vector256.Store(h, H + j);
        if (Y != null) Vector256.Store(h, Y + j);
        if (Store)
        {
            Vector256.Store(i, G + j); Vector256.Store(f, G + LstmGates.F + j);
            Vector256.Store(g, G + LstmGates.G + j); Vector256.Store(o, G + LstmGates.O + j);
        }
    }

    public void Vec512(nint j)
    {
        var i = FastMath.Sigmoid(Vector512.Load(G + j));
        var f = FastMath.Sigmoid(Vector512.Load(G + LstmGates.F + j));
        var g = FastMath.Tanh(Vector512.Load(G + LstmGates.G + j));
        var o = FastMath.Sigmoid(Vector512.Load(G + LstmGates.O + j));
        var c = f * Vector512.Load(Cp + j) + i * g;
        var h = o * FastMath.Tanh(c);
        Vector512.Store(c, Cn + j);
        Vector512.Store(h, H + j);
        if (Y != null) Vector512.Store(h, Y + j);
        if (Store)
        {
            Vector512.Store(i, G + j); Vector512.Store(f, G + LstmGates.F + j);
            Vector512.Store(g, G + LstmGates.G + j); Vector512.Store(o, G + LstmGates.O + j);
        }
    }
}

/// <summary>
/// LSTM backward: from dh (Dh, plus Dy when not null), the activated gates G, Cp and Cn, updates Dc in place
/// (dc_prev = dc' f) and writes the pre-activation gate gradients DG (same blocked layout).
/// </summary>
internal unsafe struct LstmBwdOp : IPointwiseOp
{
    public float* G, Cp, Cn, Dh, Dy, Dc, DG;

    public void Scalar(nint j)
    {
        float dh = Dy != null ? Dh[j] + Dy[j] : Dh[j];
        float i = G[j], f = G[LstmGates.F + j], g = G[LstmGates.G + j], o = G[LstmGates.O + j];
        float tc = FastMath.Tanh(Cn[j]);
        float dc = Dc[j] + dh * o * (1f - tc * tc);
        Dc[j] = dc * f;
        DG[j] = dc * g * i * (1f - i);
        DG[LstmGates.F + j] = dc * Cp[j] * f * (1f - f);
        DG[LstmGates.G + j] = dc * i * (1f - g * g);
        DG[LstmGates.O + j] = dh * tc * o * (1f - o);
    }

    public void Vec256(nint j)
    {
        var one = Vector256<float>.One;
        var dh = Dy != null ? Vector256.Load(Dh + j) + Vector256.Load(Dy + j) : Vector256.Load(Dh + j);
        var i = Vector256.Load(G + j); var f = Vector256.Load(G + LstmGates.F + j);
        var g = Vector256.Load(G + LstmGates.G + j); var o = Vector256.Load(G + LstmGates.O + j);
        var tc = FastMath.Tanh(Vector256.Load(Cn + j));
        var dc = Vector256.Load(Dc + j) + dh * o * (one - tc * tc);
        Vector256.Store(dc * f, Dc + j);
        Vector256.Store(dc * g * i * (one - i), DG + j);
        Vector256.Store(dc * Vector256.Load(Cp + j) * f * (one - f), DG + LstmGates.F + j);
        Vector256.Store(dc * i * (one - g * g), DG + LstmGates.G + j);
        Vector256.Store(dh * tc * o * (one - o), DG + LstmGates.O + j);
    }

    public void Vec512(nint j)
    {
        var one = Vector512<float>.One;
        var dh = Dy != null ? Vector512.Load(Dh + j) + Vector512.Load(Dy + j) : Vector512.Load(Dh + j);
        var i = Vector512.Load(G + j); var f = Vector512.Load(G + LstmGates.F + j);
        var g = Vector512.Load(G + LstmGates.G + j); var o = Vector512.Load(G + LstmGates.O + j);
        var tc = FastMath.Tanh(Vector512.Load(Cn + j));
        var dc = Vector512.Load(Dc + j) + dh * o * (one - tc * tc);
        Vector512.Store(dc * f, Dc + j);
        Vector512.Store(dc * g * i * (one - i), DG + j);
        Vector512.Store(dc * Vector512.Load(Cp + j) * f * (one - f), DG + LstmGates.F + j);
        Vector512.Store(dc * i * (one - g * g), DG + LstmGates.G + j);
        Vector512.Store(dh * tc * o * (one - o), DG + LstmGates.O + j);
    }
}

/// <summary>
/// GRU forward: Gx (x W_ih^T + b_ih; activated r,z,n written back when Store), Gh (h W_hh^T + b_hh), Hp -> H (and Y);
/// Hn (when not null) records hn = W_hn h + b_hn for backward.
/// </summary>
internal unsafe struct GruFwdOp : IPointwiseOp
{
    public float* Gx, Gh, Hp, H, Y, Hn;
    public bool Store;

    public void Scalar(nint j)
    {
        float r = FastMath.Sigmoid(Gx[j] + Gh[j]);
        float z = FastMath.Sigmoid(Gx[GruGates.Z + j] + Gh[GruGates.Z + j]);
        float hn = Gh[GruGates.N + j];
        float n = FastMath.Tanh(Gx[GruGates.N + j] + r * hn);
        float h = n + z * (Hp[j] - n);
        H[j] = h;
        if (Y != null) Y[j] = h;
        if (Hn != null) Hn[j] = hn;
        if (Store) { Gx[j] = r; Gx[GruGates.Z + j] = z; Gx[GruGates.N + j] = n; }
    }

    public void Vec256(nint j)
    {
        var r = FastMath.Sigmoid(Vector256.Load(Gx + j) + Vector256.Load(Gh + j));
        var z = FastMath.Sigmoid(Vector256.Load(Gx + GruGates.Z + j) + Vector256.Load(Gh + GruGates.Z + j));
        var hn = Vector256.Load(Gh + GruGates.N + j);
        var n = FastMath.Tanh(Vector256.Load(Gx + GruGates.N + j) + r * hn);
        var h = n + z * (Vector256.Load(Hp + j) - n);
        Vector256.Store(h, H + j);
        if (Y != null) Vector256.Store(h, Y + j);
        if (Hn != null) Vector256.Store(hn, Hn + j);
        if (Store) { Vector256.Store(r, Gx + j); Vector256.Store(z, Gx + GruGates.Z + j); Vector256.Store(n, Gx + GruGates.N + j); }
    }

    public void Vec512(nint j)
    {
        var r = FastMath.Sigmoid(Vector512.Load(Gx + j) + Vector512.Load(Gh + j));
        var z = FastMath.Sigmoid(Vector512.Load(Gx + GruGates.Z + j) + Vector512.Load(Gh + GruGates.Z + j));
        var hn = Vector512.Load(Gh + GruGates.N + j);
        var n = FastMath.Tanh(Vector512.Load(Gx + GruGates.N + j) + r * hn);
        var h = n + z * (Vector512.Load(Hp + j) - n);
        Vector512.Store(h, H + j);
        if (Y != null) Vector512.Store(h, Y + j);
        if (Hn != null) Vector512.Store(hn, Hn + j);
        if (Store) { Vector512.Store(r, Gx + j); Vector512.Store(z, Gx + GruGates.Z + j); Vector512.Store(n, Gx + GruGates.N + j); }
    }
}

/// <summary>
/// GRU backward: from dh = Dh + Dy, the activated r,z,n (G), hn and h_prev, writes the gradients w.r.t. the input
/// pre-activations DG (r, z, n) and w.r.t. the recurrent ones DGh (r, z, r*dn). The direct dh_prev term z*dh is added later.
/// </summary>
internal unsafe struct GruBwdOp : IPointwiseOp
{
    public float* G, Hn, Hp, Dh, Dy, DG, DGh;

    public void Scalar(nint j)
    {
        float dh = Dh[j] + Dy[j];
        float r = G[j], z = G[GruGates.Z + j], n = G[GruGates.N + j];
        float dpn = dh * (1f - z) * (1f - n * n);
        float dr = dpn * Hn[j] * r * (1f - r);
        float dz = dh * (Hp[j] - n) * z * (1f - z);
        DG[j] = dr; DGh[j] = dr;
        DG[GruGates.Z + j] = dz; DGh[GruGates.Z + j] = dz;
        DG[GruGates.N + j] = dpn; DGh[GruGates.N + j] = dpn * r;
    }

    public void Vec256(nint j)
    {
        var one = Vector256<float>.One;
        var dh = Vector256.Load(Dh + j) + Vector256.Load(Dy + j);
        var r = Vector256.Load(G + j); var z = Vector256.Load(G + GruGates.Z + j); var n = Vector256.Load(G + GruGates.N + j);
        var dpn = dh * (one - z) * (one - n * n);
        var dr = dpn * Vector256.Load(Hn + j) * r * (one - r);
        var dz = dh * (Vector256.Load(Hp + j) - n) * z * (one - z);
        Vector256.Store(dr, DG + j); Vector256.Store(dr, DGh + j);
        Vector256.Store(dz, DG + GruGates.Z + j); Vector256.Store(dz, DGh + GruGates.Z + j);
        Vector256.Store(dpn, DG + GruGates.N + j); Vector256.Store(dpn * r, DGh + GruGates.N + j);
    }

    public void Vec512(nint j)
    {
        var one = Vector512<float>.One;
        var dh = Vector512.Load(Dh + j) + Vector512.Load(Dy + j);
        var r = Vector512.Load(G + j); var z = Vector512.Load(G + GruGates.Z + j); var n = Vector512.Load(G + GruGates.N + j);
        var dpn = dh * (one - z) * (one - n * n);
        var dr = dpn * Vector512.Load(Hn + j) * r * (one - r);
        var dz = dh * (Vector512.Load(Hp + j) - n) * z * (one - z);
        Vector512.Store(dr, DG + j); Vector512.Store(dr, DGh + j);
        Vector512.Store(dz, DG + GruGates.Z + j); Vector512.Store(dz, DGh + GruGates.Z + j);
        Vector512.Store(dpn, DG + GruGates.N + j); Vector512.Store(dpn * r, DGh + GruGates.N + j);
    }
}

/// <summary>Vanilla RNN forward: h = tanh(pre) or relu(pre) from G (activated h written back when Store), to H (and Y).</summary>
internal unsafe struct RnnFwdOp : IPointwiseOp
{
    public float* G, H, Y;
    public bool Relu, Store;

    public void Scalar(nint j)
    {
        float h = Relu ? MathF.Max(G[j], 0f) : FastMath.Tanh(G[j]);
        H[j] = h;
        if (Y != null) Y[j] = h;
        if (Store) G[j] = h;
    }

    public void Vec256(nint j)
    {
        var x = Vector256.Load(G + j);
        var h = Relu ? Vector256.Max(x, Vector256<float>.Zero) : FastMath.Tanh(x);
        Vector256.Store(h, H + j);
        if (Y != null) Vector256.Store(h, Y + j);
        if (Store) Vector256.Store(h, G + j);
    }

    public void Vec512(nint j)
    {
        var x = Vector512.Load(G + j);
        var h = Relu ? Vector512.Max(x, Vector512<float>.Zero) : FastMath.Tanh(x);
        Vector512.Store(h, H + j);
        if (Y != null) Vector512.Store(h, Y + j);
        if (Store) Vector512.Store(h, G + j);
    }
}

/// <summary>Vanilla RNN backward: DG = (Dh + Dy) * act'(pre), from the activated h in G.</summary>
internal unsafe struct RnnBwdOp : IPointwiseOp
{
    public float* G, Dh, Dy, DG;
    public bool Relu;

    public void Scalar(nint j)
    {
        float dh = Dh[j] + Dy[j], h = G[j];
        DG[j] = Relu ? (h > 0f ? dh : 0f) : dh * (1f - h * h);
    }

    public void Vec256(nint j)
    {
        var dh = Vector256.Load(Dh + j) + Vector256.Load(Dy + j);
        var h = Vector256.Load(G + j);
        var d = Relu
            ? Vector256.ConditionalSelect(Vector256.GreaterThan(h, Vector256<float>.Zero), dh, Vector256<float>.Zero)
            : dh * (Vector256<float>.One - h * h);
        Vector256.Store(d, DG + j);
    }

    public void Vec512(nint j)
    {
        var dh = Vector512.Load(Dh + j) + Vector512.Load(Dy + j);
        var h = Vector512.Load(G + j);
        var d = Relu
            ? Vector512.ConditionalSelect(Vector512.GreaterThan(h, Vector512<float>.Zero), dh, Vector512<float>.Zero)
            : dh * (Vector512<float>.One - h * h);
        Vector512.Store(d, DG + j);
    }
}
