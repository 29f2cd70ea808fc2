// The peephole LSTM's fused gate math (cpu backend), kept apart from LstmFwdOp / LstmBwdOp so the plain LSTM's kernels
// are untouched: the cell level picks these operators once per chunk when the weights carry peepholes. Layout as
// CellOps (gate g of unit j at g*32 + j within a chunk); the peephole weights of a chunk are Pi, Pf, Po (32 each).
//   i = sig(G_i + p_i c_prev), f = sig(G_f + p_f c_prev), g = tanh(G_g), c' = f c_prev + i g,
//   o = sig(G_o + p_o c'), h = o tanh(c').
// Backward (dh = Dh [+ Dy], dc carried in Dc): d_o = dh tanh(c') o (1-o); dc' = Dc + dh o (1 - tanh^2 c') + d_o p_o;
//   d_i = dc' g i (1-i); d_f = dc' c_prev f (1-f); d_g = dc' i (1-g^2); Dc = dc' f + d_i p_i + d_f p_f.
// PeepholeGradOp accumulates the peephole weights' gradient from the gate gradients afterwards:
//   dp_i += d_i c_prev, dp_f += d_f c_prev, dp_o += d_o c'.
using System.Runtime.Intrinsics;

namespace RnnFast.Backends.Cpu;

/// <summary>Peephole LSTM forward: as <see cref="LstmFwdOp"/>, with Pi, Pf, Po (the chunk's peephole weights).</summary>
internal unsafe struct LstmPeepFwdOp : IPointwiseOp
{
    public float* G, Cp, Cn, H, Y, Pi, Pf, Po;
    public bool Store;

    public void Scalar(nint j)
    {
        float cp = Cp[j];
        float i = FastMath.Sigmoid(G[j] + Pi[j] * cp), f = FastMath.Sigmoid(G[LstmGates.F + j] + Pf[j] * cp);
        float g = FastMath.Tanh(G[LstmGates.G + j]);
        float c = f * cp + i * g;
        float o = FastMath.Sigmoid(G[LstmGates.O + j] + Po[j] * c);
        float h = o * FastMath.Tanh(c);
        Cn[j] = c;
        H[j] = h;
        if (Y != null) Y[j] = h;
        if (Store) { G[j] = i; G[LstmGates.F + j] = f; G[LstmGates.G + j] = g; G[LstmGates.O + j] = o; }
    }

    public void Vec256(nint j)
    {
        var cp = Vector256.Load(Cp + j);
        var i = FastMath.Sigmoid(Vector256.Load(G + j) + Vector256.Load(Pi + j) * cp);
        var f = FastMath.Sigmoid(Vector256.Load(G + LstmGates.F + j) + Vector256.Load(Pf + j) * cp);
        var g = FastMath.Tanh(Vector256.Load(G + LstmGates.G + j));
        var c = f * cp + i * g;
        var o = FastMath.Sigmoid(Vector256.Load(G + LstmGates.O + j) + Vector256.Load(Po + j) * c);
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
        var cp = Vector512.Load(Cp + j);
        var i = FastMath.Sigmoid(Vector512.Load(G + j) + Vector512.Load(Pi + j) * cp);
        var f = FastMath.Sigmoid(Vector512.Load(G + LstmGates.F + j) + Vector512.Load(Pf + j) * cp);
        var g = FastMath.Tanh(Vector512.Load(G + LstmGates.G + j));
        var c = f * cp + i * g;
        var o = FastMath.Sigmoid(Vector512.Load(G + LstmGates.O + j) + Vector512.Load(Po + j) * c);
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

/// <summary>Peephole LSTM backward: as <see cref="LstmBwdOp"/>, with the peepholes' terms in dc' and dc_prev.</summary>
internal unsafe struct LstmPeepBwdOp : IPointwiseOp
{
    public float* G, Cp, Cn, Dh, Dy, Dc, DG, Pi, Pf, Po;

    public void Scalar(nint j)
    {
        float dh = Dy != null ? Dh[j] + Dy[j] : Dh[j];
        float i = G[j], f = G[LstmGates.F + j], g = G[LstmGates.G + j], o = G[LstmGates.O + j];
        float tc = FastMath.Tanh(Cn[j]);
        float dO = dh * tc * o * (1f - o);
        float dc = Dc[j] + dh * o * (1f - tc * tc) + dO * Po[j];
        float dI = dc * g * i * (1f - i), dF = dc * Cp[j] * f * (1f - f);
        Dc[j] = dc * f + dI * Pi[j] + dF * Pf[j];
        DG[j] = dI;
        DG[LstmGates.F + j] = dF;
        DG[LstmGates.G + j] = dc * i * (1f - g * g);
        DG[LstmGates.O + j] = dO;
    }

    public void Vec256(nint j)
    {
        var one = Vector256<float>.One;
        var dh = Dy != null ? Vector256.Load(Dh + j) + Vector256.Load(Dy + j) : Vector256.Load(Dh + j);
        var i = Vector256.Load(G + j); var f = Vector256.Load(G + LstmGates.F + j);
        var g = Vector256.Load(G + LstmGates.G + j); var o = Vector256.Load(G + LstmGates.O + j);
        var tc = FastMath.Tanh(Vector256.Load(Cn + j));
        var dO = dh * tc * o * (one - o);
        var dc = Vector256.Load(Dc + j) + dh * o * (one - tc * tc) + dO * Vector256.Load(Po + j);
        var dI = dc * g * i * (one - i);
        var dF = dc * Vector256.Load(Cp + j) * f * (one - f);
        Vector256.Store(dc * f + dI * Vector256.Load(Pi + j) + dF * Vector256.Load(Pf + j), Dc + j);
        Vector256.Store(dI, DG + j);
        Vector256.Store(dF, DG + LstmGates.F + j);
        Vector256.Store(dc * i * (one - g * g), DG + LstmGates.G + j);
        Vector256.Store(dO, DG + LstmGates.O + j);
    }

    public void Vec512(nint j)
    {
        var one = Vector512<float>.One;
        var dh = Dy != null ? Vector512.Load(Dh + j) + Vector512.Load(Dy + j) : Vector512.Load(Dh + j);
        var i = Vector512.Load(G + j); var f = Vector512.Load(G + LstmGates.F + j);
        var g = Vector512.Load(G + LstmGates.G + j); var o = Vector512.Load(G + LstmGates.O + j);
        var tc = FastMath.Tanh(Vector512.Load(Cn + j));
        var dO = dh * tc * o * (one - o);
        var dc = Vector512.Load(Dc + j) + dh * o * (one - tc * tc) + dO * Vector512.Load(Po + j);
        var dI = dc * g * i * (one - i);
        var dF = dc * Vector512.Load(Cp + j) * f * (one - f);
        Vector512.Store(dc * f + dI * Vector512.Load(Pi + j) + dF * Vector512.Load(Pf + j), Dc + j);
        Vector512.Store(dI, DG + j);
        Vector512.Store(dF, DG + LstmGates.F + j);
        Vector512.Store(dc * i * (one - g * g), DG + LstmGates.G + j);
        Vector512.Store(dO, DG + LstmGates.O + j);
    }
}

/// <summary>
/// The peephole weights' gradient of one row's chunk at one step: Acc (i, f, o; 32 each) += (DG_i, DG_f) * Cp and
/// DG_o * Cn. A masked step's DG is zero and adds nothing.
/// </summary>
internal unsafe struct PeepholeGradOp : IPointwiseOp
{
    public float* DG, Cp, Cn, Acc;

    public void Scalar(nint j)
    {
        float cp = Cp[j];
        Acc[j] += DG[j] * cp;
        Acc[LstmGates.F + j] += DG[LstmGates.F + j] * cp;
        Acc[2 * GateLayout.U + j] += DG[LstmGates.O + j] * Cn[j];
    }

    public void Vec256(nint j)
    {
        var cp = Vector256.Load(Cp + j);
        Vector256.Store(Vector256.Load(Acc + j) + Vector256.Load(DG + j) * cp, Acc + j);
        Vector256.Store(Vector256.Load(Acc + LstmGates.F + j) + Vector256.Load(DG + LstmGates.F + j) * cp, Acc + LstmGates.F + j);
        Vector256.Store(Vector256.Load(Acc + 2 * GateLayout.U + j) + Vector256.Load(DG + LstmGates.O + j) * Vector256.Load(Cn + j),
            Acc + 2 * GateLayout.U + j);
    }

    public void Vec512(nint j)
    {
        var cp = Vector512.Load(Cp + j);
        Vector512.Store(Vector512.Load(Acc + j) + Vector512.Load(DG + j) * cp, Acc + j);
        Vector512.Store(Vector512.Load(Acc + LstmGates.F + j) + Vector512.Load(DG + LstmGates.F + j) * cp, Acc + LstmGates.F + j);
        Vector512.Store(Vector512.Load(Acc + 2 * GateLayout.U + j) + Vector512.Load(DG + LstmGates.O + j) * Vector512.Load(Cn + j),
            Acc + 2 * GateLayout.U + j);
    }
}
