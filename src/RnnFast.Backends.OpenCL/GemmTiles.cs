// The SGEMM tile sizes and the 1-D work-group size of the OpenCL kernels, chosen from the device's properties and
// passed to the compiler as -D options (so every kernel has a fixed work-group size: one compilation per device).
using RnnFast.Bindings.OpenCL;

namespace RnnFast.Backends.OpenCL;

/// <summary>
/// Tile sizes: a work-group computes a TM x TN block of C from TK-deep slices staged in local memory, each work-item
/// WM x WN outputs, so the work-group is (TN/WN) x (TM/WM); Local1D is the work-group size of the per-element kernels.
/// </summary>
internal sealed record GemmTiles(int TM, int TN, int TK, int WM, int WN, int Local1D)
{
    /// <summary>Work-group width (dimension 0, along N).</summary>
    public int LX => TN / WN;

    /// <summary>Work-group height (dimension 1, along M).</summary>
    public int LY => TM / WM;

    /// <summary>Local memory the SGEMM kernel uses (two TK-deep tiles).</summary>
    public long LocalBytes => 4L * TK * (TM + TN);

    /// <summary>
    /// A GPU with 256-wide work-groups and room for 64x64 tiles gets them (16x16 work-items, 4x4 outputs each); a CPU
    /// device (PoCL) or a small GPU gets 32x32 tiles (8x8 work-items), which keep one work-group's data in L1.
    /// </summary>
    public static GemmTiles ChooseFor(CLDeviceProperties p)
    {
        ArgumentNullException.ThrowIfNull(p);
        int local1D = 1;
        while (local1D * 2 <= Math.Min(64, p.MaxWorkGroupSize)) local1D *= 2;
        var big = new GemmTiles(64, 64, 16, 4, 4, local1D);
        var small = new GemmTiles(32, 32, 16, 4, 4, local1D);
        var tiny = new GemmTiles(16, 16, 8, 2, 2, local1D);
        foreach (var t in p.IsGpu ? new[] { big, small, tiny } : [small, tiny])
            if (t.LX * t.LY <= p.MaxWorkGroupSize && t.LocalBytes <= p.LocalMemBytes) return t;
        return new GemmTiles(4, 4, 4, 4, 4, local1D); // one work-item per work-group: any device runs it
    }

    /// <summary>The compiler options: OpenCL C 1.2, precise math (no fast-math flags), the tile sizes.</summary>
    public string BuildOptions => $"-cl-std=CL1.2 -DTM={TM} -DTN={TN} -DTK={TK} -DWM={WM} -DWN={WN} -DLOCAL1D={Local1D}";
}
