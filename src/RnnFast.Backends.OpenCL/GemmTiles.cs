// The SGEMM form and sizes and the 1-D work-group size of the OpenCL kernels, chosen from the device's properties and
// passed to the compiler as -D options (so every kernel has a fixed work-group size: one compilation per device).
using RnnFast.Bindings.OpenCL;

namespace RnnFast.Backends.OpenCL;

/// <summary>Which SGEMM kernel a device runs (see gemm.cl).</summary>
internal enum GemmVariant
{
    /// <summary>sgemm: local-memory tiles (GPUs).</summary>
    Tiled,

    /// <summary>sgemm_vec: register blocks in vector types, straight from global memory (CPU devices).</summary>
    Vector,
}

/// <summary>
/// SGEMM sizes. Tiled: a work-group computes a TM x TN block of C from TK-deep slices staged in local memory, each
/// work-item WM x WN outputs, so the work-group is (TN/WN) x (TM/WM). Vector: each work-item computes VR rows x VW
/// columns, LXV work-items a work-group. Local1D is the work-group size of the per-element kernels.
/// </summary>
internal sealed record GemmTiles(int TM, int TN, int TK, int WM, int WN, int Local1D, GemmVariant Variant = GemmVariant.Tiled,
    int VW = 8, int VR = 4, int LXV = 8)
{
    /// <summary>Work-group width of the tiled kernel (dimension 0, along N).</summary>
    public int LX => TN / WN;

    /// <summary>Work-group height of the tiled kernel (dimension 1, along M).</summary>
    public int LY => TM / WM;

    /// <summary>Local memory the tiled kernel uses (two TK-deep tiles).</summary>
    public long LocalBytes => 4L * TK * (TM + TN);

    /// <summary>
    /// A GPU with 256-wide work-groups and room for 64x64 tiles gets them (16x16 work-items, 4x4 outputs each), a
    /// smaller one 32x32 or 16x16 tiles. A CPU device (PoCL) runs the vector form, VW = its preferred float vector
    /// width (4, 8 or 16), 4 rows per work-item; its tiled form (still built, used for B^T products) gets 32x32 tiles.
    /// </summary>
    public static GemmTiles ChooseFor(CLDeviceProperties p)
    {
        ArgumentNullException.ThrowIfNull(p);
        int local1D = PowerOfTwoAtMost(Math.Min(64, p.MaxWorkGroupSize));
        var big = new GemmTiles(64, 64, 16, 4, 4, local1D);
        var small = new GemmTiles(32, 32, 16, 4, 4, local1D);
        var tiny = new GemmTiles(16, 16, 8, 2, 2, local1D);
        var tiled = new GemmTiles(4, 4, 4, 4, 4, local1D); // one work-item per work-group: any device runs it
        foreach (var t in p.IsGpu ? new[] { big, small, tiny } : [small, tiny])
            if (t.LX * t.LY <= p.MaxWorkGroupSize && t.LocalBytes <= p.LocalMemBytes)
            {
                tiled = t;
                break;
            }
        if (p.IsGpu) return tiled;
        int vw = p.PreferredFloatVectorWidth >= 16 ? 16 : p.PreferredFloatVectorWidth >= 8 ? 8 : 4;
        return tiled with { Variant = GemmVariant.Vector, VW = vw, VR = 4, LXV = PowerOfTwoAtMost(Math.Min(8, p.MaxWorkGroupSize)) };
    }

    /// <summary>The compiler options: OpenCL C 1.2, precise math (no fast-math flags), the sizes.</summary>
    public string BuildOptions =>
        $"-cl-std=CL1.2 -DTM={TM} -DTN={TN} -DTK={TK} -DWM={WM} -DWN={WN} -DLOCAL1D={Local1D} -DVW={VW} -DVR={VR} -DLXV={LXV}";

    /// <summary>One line for `rnnfast info`.</summary>
    public string Describe() => Variant == GemmVariant.Tiled
        ? $"tiled SGEMM {TM}x{TN}x{TK} (local memory, {LX}x{LY} work-items)"
        : $"vector SGEMM {VR}x{VW} per work-item (float{VW}), tiled {TM}x{TN}x{TK} for B^T";

    private static int PowerOfTwoAtMost(int n)
    {
        int p = 1;
        while (p * 2 <= n) p *= 2;
        return p;
    }
}
