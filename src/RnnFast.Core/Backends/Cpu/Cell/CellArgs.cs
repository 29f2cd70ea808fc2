// The cell level's arguments: DirFwd / DirBwd describe one layer-direction (sizes, the packed weights, the sequence
// buffers the time loop walks), StepFwd / StepBwd one time step's slices of them. Plain unmanaged structs: the pool's
// workers get them by pointer. Shapes: gates (N, GP), h (N, H_out), c (N, H), y rows Ldy apart.
namespace RnnFast.Backends.Cpu;

/// <summary>One layer-direction's forward: sizes, packed weights and the sequence buffers (set by the grid).</summary>
internal unsafe struct DirFwd
{
    public int Mode, T, N, H, Ho, G, GP, Q, P, Dir;
    public bool Training, SplitSteps;
    public int* Len;
    public float* XW, HH, HBuf, CBuf, HRaw, HhN, Y;
    public nint Ldy;
    public float* WhhT, HBias, WhrT;
    public ushort* WhhBf16, WhrBf16; // batch-1 inference with bf16 weights, else null

    /// <summary>
    /// The per-direction forward description of layer-direction <paramref name="dw"/> (sizes and weight pointers; the
    /// caller sets the buffers). bf16 weights are used when asked for, N == 1 and the weights have them.
    /// </summary>
    public static DirFwd Create(RnnMode mode, DirWeights dw, int T, int N, int dir, bool training, bool splitSteps, bool bf16Batch1)
    {
        var f = new DirFwd
        {
            Mode = (int)mode, T = T, N = N, H = dw.H, Ho = dw.Ho, G = dw.G, GP = dw.GP, Q = dw.Q, P = dw.P, Dir = dir,
            Training = training, SplitSteps = splitSteps,
            WhhT = Sgemm.Addr(dw.WhhT), HBias = dw.HBias == null ? null : Sgemm.Addr(dw.HBias),
            WhrT = dw.WhrT == null ? null : Sgemm.Addr(dw.WhrT),
        };
        if (bf16Batch1 && N == 1 && dw.WhhBf16 != null)
        {
            f.WhhBf16 = Bf16.Addr(dw.WhhBf16);
            if (dw.WhrBf16 != null) f.WhrBf16 = Bf16.Addr(dw.WhrBf16);
        }
        return f;
    }
}

/// <summary>One forward step t of a direction: the step's slices of its DirFwd's buffers.</summary>
internal unsafe struct StepFwd
{
    public DirFwd* D;
    public int T;
    public float* Gates, HPrev, HNext, CPrev, CNext, HRaw, HhN, Y;
}

/// <summary>One layer-direction's backward: sizes, the forward's saved buffers, gradient buffers and packed weights.</summary>
internal unsafe struct DirBwd
{
    public int Mode, T, N, H, Ho, G, GP, Q, P, Dir;
    public bool SplitSteps;
    public int* Len;
    public float* Gates, HBuf, CBuf, HRaw, HhN;
    public float* DY;
    public nint Ldy;
    public float* DG, DGh, Dh2, Dc, DTot, DhRaw;
    public float* WhhB, WhrB;
}

/// <summary>One backward step t of a direction: the step's slices of its DirBwd's buffers.</summary>
internal unsafe struct StepBwd
{
    public DirBwd* D;
    public int T;
    public float* DhCur, DhNext, Dy, Gates, DGt, DGht, HPrev, CPrev, CNext, HhN, DTot;
}
