// The cell level's arguments: DirFwd / DirBwd describe one layer-direction (sizes, gate layout, the packed weights, the
// sequence buffers the time loop walks), StepFwd / StepBwd one time step's slices of them. Plain unmanaged structs: the
// pool's workers get them by pointer. Buffers are FloatBufs (pointer + length), so every pointer the cell level takes
// into them is range-checked in Debug builds. Shapes: T time, N batch, H hidden, H_out = P (projection) or H, GP gate
// columns (see GateLayout); y / dy rows are Ldy apart (D * H_out: the directions' outputs side by side).
using System.Runtime.Intrinsics;

namespace RnnFast.Backends.Cpu;

/// <summary>One layer-direction's forward: sizes, packed weights and the sequence buffers (set by the grid).</summary>
internal unsafe struct DirFwd
{
    public RnnMode Mode;
    public int T, N, Ho, P, Dir;
    public int NStride;    // rows from one step's block to the next in XW, Y and the h/c slots: N, or the whole batch for a batch part
    public GateLayout Layout;
    public bool Training, SplitSteps;
    public int* Len;       // (N) sequence lengths, or null: all T
    public FloatBuf XW;    // (T, N, GP): x . W_ih^T + bias, then each step's gates (training keeps them activated)
    public FloatBuf HH;    // (N, GP): GRU's recurrent product h . W_hh^T + b_hh (its n gate needs W_hn h apart)
    public FloatBuf HBuf;  // h slots: training (T+1, N, H_out) (slot t is h before step t forward, after it reverse); inference (2, N, H_out)
    public FloatBuf CBuf;  // LSTM c: training (T+1, N, H) slots like HBuf; inference (N, H) advanced in place
    public FloatBuf HRaw;  // LSTM projection input o*tanh(c): training (T, N, H); inference (N, H)
    public FloatBuf HhN;   // training GRU: (T, N, H) W_hn h + b_hn for backward
    public FloatBuf Y;     // (T, N, Ldy) from this direction's first column: the layer's output
    public nint Ldy;
    public PackedB WhhT;   // W_hh^T (K = H_out, GP columns)
    public FloatBuf HBias; // GRU: b_hh by physical column (GP), else null
    public PackedB WhrT;   // W_hr^T (K = H, P columns), or null
    public ushort* WhhBf16, WhrBf16; // inference with bf16 weights (same panels as WhhT / WhrT): W_hh at N = 1-4, W_hr at N = 1; else null
    public Int8B WhhI8, WhrI8;       // inference with int8 weights (panels of WhhT / WhrT's columns): W_hh at N = 1-4, W_hr at N = 1; else null
    public FloatBuf Ph;    // peephole LSTM: (Q, 3, 32) p_i, p_f, p_o by chunk (DirWeights.Ph), else null

    /// <summary>
    /// The per-direction forward description of layer-direction <paramref name="dw"/> (sizes and weights; the caller
    /// sets the buffers). Reduced-precision weights are used when asked for and the weights have them: int8 at N = 1-4,
    /// bf16 at N == 1 and (AVX-512) N = 2-4; the projection's at N == 1 only.
    /// </summary>
    public static DirFwd Create(RnnMode mode, DirWeights dw, int T, int N, int dir, bool training, bool splitSteps, bool lowPrecisionSmallBatch)
    {
        var f = new DirFwd
        {
            Mode = mode, T = T, N = N, NStride = N, Ho = dw.Ho, P = dw.P, Dir = dir, Layout = dw.Layout,
            Training = training, SplitSteps = splitSteps,
            WhhT = dw.WhhTPanels, HBias = FloatBuf.Of(dw.HBias), WhrT = dw.WhrTPanels, Ph = FloatBuf.Of(dw.Ph),
        };
        // bf16: the recurrent weights at N = 1, and at N = 2-4 on AVX-512 (the multi-row kernel); the projection at N = 1
        if (lowPrecisionSmallBatch && dw.WhhBf16 != null && (N == 1 || (N <= Bf16.MaxRows && Vector512.IsHardwareAccelerated)))
        {
            f.WhhBf16 = Bf16.Addr(dw.WhhBf16);
            if (dw.WhrBf16 != null && N == 1) f.WhrBf16 = Bf16.Addr(dw.WhrBf16);
        }
        // int8: the recurrent weights at N = 1-4 (each row of h quantised on its own), the projection at N = 1
        if (lowPrecisionSmallBatch && N <= Int8.MaxRows)
        {
            if (dw.WhhI8 != null) f.WhhI8 = dw.WhhI8.Ptr;
            if (dw.WhrI8 != null && N == 1) f.WhrI8 = dw.WhrI8.Ptr;
        }
        return f;
    }
}

/// <summary>One forward step t of a direction: the step's slices of its DirFwd's buffers.</summary>
internal unsafe struct StepFwd
{
    public DirFwd* D;
    public int T;
    public FloatBuf Gates;          // (N, GP): XW[t], the recurrent product is added in place (LSTM / RNN)
    public FloatBuf HPrev, HNext;   // (N, H_out): read only / written (other threads read all of HPrev meanwhile)
    public FloatBuf CPrev, CNext;   // (N, H): LSTM (the same buffer in inference: c advanced in place)
    public FloatBuf HRaw;           // (N, H): LSTM projection input
    public FloatBuf HhN;            // (N, H): training GRU's W_hn h + b_hn
    public FloatBuf Y;              // N rows of H_out, Ldy apart
}

/// <summary>One layer-direction's backward: sizes, the forward's saved buffers, gradient buffers and packed weights.</summary>
internal unsafe struct DirBwd
{
    public RnnMode Mode;
    public int T, N, Ho, P, Dir;
    public int NStride;     // rows from one step's block to the next (and between the dh slots): N, or the whole batch for a batch part
    public GateLayout Layout;
    public bool SplitSteps;
    public int* Len;        // (N) sequence lengths, or null: all T
    public FloatBuf Gates;  // (T, N, GP): the forward's activated gates
    public FloatBuf HBuf;   // (T+1, N, H_out): the forward's h slots
    public FloatBuf CBuf;   // (T+1, N, H): LSTM c slots
    public FloatBuf HRaw;   // (T, N, H): LSTM projection inputs
    public FloatBuf HhN;    // (T, N, H): GRU W_hn h + b_hn
    public FloatBuf DY;     // (T, N, Ldy) from this direction's first column: the gradient of the layer's output
    public nint Ldy;
    public FloatBuf DG;     // (T, N, GP): gradients of the gate pre-activations (input side)
    public FloatBuf DGh;    // (T, N, GP): of the recurrent side (GRU's differ in the n gate; else DG itself)
    public FloatBuf Dh2;    // (2, N, H_out): dh ping-pong between steps
    public FloatBuf Dc;     // (N, H): LSTM dc, carried across steps in place
    public FloatBuf DTot;   // (T, N, P): LSTM projection's dH_t = dh + dy, or null
    public FloatBuf DhRaw;  // (N, H): LSTM projection's dh_raw = dH_t . W_hr, or null
    public PackedB WhhB;    // W_hh (K = GP, H_out columns)
    public PackedB WhrB;    // W_hr (K = P, H columns), or null
    public FloatBuf Ph;     // peephole LSTM: (Q, 3, 32) p_i, p_f, p_o by chunk (DirWeights.Ph), else null
}

/// <summary>One backward step t of a direction: the step's slices of its DirBwd's buffers.</summary>
internal unsafe struct StepBwd
{
    public DirBwd* D;
    public int T;
    public FloatBuf DhCur, DhNext;  // (N, H_out): dh of step t's output / gets dh of its h_prev
    public FloatBuf Dy;             // N rows of H_out, Ldy apart
    public FloatBuf Gates, DGt, DGht; // (N, GP)
    public FloatBuf HPrev;          // (N, H_out)
    public FloatBuf CPrev, CNext;   // (N, H): LSTM
    public FloatBuf HhN;            // (N, H): GRU
    public FloatBuf DTot;           // (N, P): LSTM projection
}
