// The CPU backend's packed copy of an RNN's weights, made once per parameter version (RnnParameters.VersionStamp).
// Gate rows are reordered into a blocked layout: hidden units are grouped in chunks of 32 (U = Sgemm.NR), and the
// physical gate column of (gate g, unit j) is (j / 32) * G*32 + g*32 + j % 32. One 32-column GEMM panel is then
// one gate of one chunk, and a thread that owns chunks [q0, q1) computes every gate of its units and can run the
// fused gate math right after its own GEMM panels. GP = ceil(H/32) * G * 32 columns (padding columns are zero).
namespace RnnFast.Backends.Cpu;

/// <summary>One layer and direction, packed.</summary>
internal sealed unsafe class DirWeights
{
    public required int I, H, Ho, G, P, Q, GP;

    /// <summary>Physical gate column -> PyTorch row (g*H + j), or -1 for padding. (GP)</summary>
    public required int[] PhysToRow;

    /// <summary>Forward: packed B of W_ih^T (K = I, N = GP), W_hh^T (K = H_out, N = GP), W_hr^T (K = H, N = P).</summary>
    public required float[] WihT, WhhT;
    public float[]? WhrT;

    /// <summary>Input-projection bias by physical column: b_ih (+ b_hh except GRU). Null without bias. (GP)</summary>
    public float[]? XBias;

    /// <summary>GRU only: b_hh by physical column, added to the recurrent product. (GP)</summary>
    public float[]? HBias;

    /// <summary>Opt-in bf16 copies of WhhT and WhrT (same panel layout) for batch-1 inference; null unless asked for.</summary>
    public ushort[]? WhhBf16, WhrBf16;

    /// <summary>Backward: packed B of W_ih (K = GP, N = I), W_hh (K = GP, N = H_out), W_hr (K = P, N = H).</summary>
    public float[]? WihB, WhhB, WhrB;
}

internal sealed unsafe class CpuWeights
{
    private readonly object _backwardGate = new();
    private readonly RnnParameters _source;
    private volatile bool _backwardReady;

    private CpuWeights(RnnParameters source, long stamp, DirWeights[] dirs)
    {
        _source = source;
        Stamp = stamp;
        Dirs = dirs;
    }

    /// <summary>The parameters' VersionStamp these weights were packed from.</summary>
    public long Stamp { get; }

    /// <summary>[l*D + d]</summary>
    public DirWeights[] Dirs { get; }

    public static int ChunkCount(int h) => (h + Sgemm.NR - 1) / Sgemm.NR;

    public static int PhysicalColumns(RnnDesc desc) => ChunkCount(desc.HiddenSize) * desc.GateCount * Sgemm.NR;

    /// <summary>Physical column of gate g, unit j.</summary>
    public static int Phys(int g, int j, int G) => (j / Sgemm.NR) * G * Sgemm.NR + g * Sgemm.NR + j % Sgemm.NR;

    public static CpuWeights Pack(RnnParameters p, long stamp, bool bf16 = false)
    {
        var desc = p.Desc;
        int L = desc.NumLayers, D = desc.Directions, H = desc.HiddenSize, Ho = desc.OutputHiddenSize, G = desc.GateCount;
        int Q = ChunkCount(H), GP = PhysicalColumns(desc), P = desc.ProjSize;
        var map = new int[GP];
        for (int c = 0; c < GP; c++)
        {
            int q = c / (G * Sgemm.NR), rem = c % (G * Sgemm.NR), g = rem / Sgemm.NR, j = q * Sgemm.NR + rem % Sgemm.NR;
            map[c] = j < H ? g * H + j : -1;
        }
        var dirs = new DirWeights[L * D];
        for (int l = 0; l < L; l++)
        for (int d = 0; d < D; d++)
        {
            int I = desc.LayerInputSize(l);
            var wih = Host(p.Get(l, d, RnnParamKind.WeightIh));
            var whh = Host(p.Get(l, d, RnnParamKind.WeightHh));
            var bih = p.TryGet(l, d, RnnParamKind.BiasIh) is { } bi ? Host(bi) : null;
            var bhh = p.TryGet(l, d, RnnParamKind.BiasHh) is { } bh ? Host(bh) : null;
            var whr = p.TryGet(l, d, RnnParamKind.WeightHr) is { } wr ? Host(wr) : null;
            var dw = new DirWeights
            {
                I = I, H = H, Ho = Ho, G = G, P = P, Q = Q, GP = GP, PhysToRow = map,
                WihT = PackB(wih, 1, I, I, GP, null, map),
                WhhT = PackB(whh, 1, Ho, Ho, GP, null, map),
                WhrT = whr == null ? null : PackB(whr, 1, H, H, P, null, null),
            };
            if (bf16)
            {
                dw.WhhBf16 = Bf16.FromPacked(dw.WhhT);
                if (dw.WhrT != null) dw.WhrBf16 = Bf16.FromPacked(dw.WhrT);
            }
            if (bih != null && bhh != null)
            {
                dw.XBias = Pinned(GP);
                for (int c = 0; c < GP; c++)
                    dw.XBias[c] = map[c] < 0 ? 0 : bih[map[c]] + (desc.Mode == RnnMode.Gru ? 0 : bhh[map[c]]);
                if (desc.Mode == RnnMode.Gru)
                {
                    dw.HBias = Pinned(GP);
                    for (int c = 0; c < GP; c++) dw.HBias[c] = map[c] < 0 ? 0 : bhh[map[c]];
                }
            }
            dirs[l * D + d] = dw;
        }
        return new CpuWeights(p, stamp, dirs);
    }

    /// <summary>Packs the backward forms (W_ih, W_hh, W_hr as they are, gate rows in physical order) once.</summary>
    public void EnsureBackward()
    {
        if (_backwardReady) return;
        lock (_backwardGate)
        {
            if (_backwardReady) return;
            var desc = _source.Desc;
            int D = desc.Directions;
            for (int s = 0; s < Dirs.Length; s++)
            {
                var dw = Dirs[s];
                int l = s / D, d = s % D;
                var wih = Host(_source.Get(l, d, RnnParamKind.WeightIh));
                var whh = Host(_source.Get(l, d, RnnParamKind.WeightHh));
                dw.WihB = PackB(wih, dw.I, 1, dw.GP, dw.I, dw.PhysToRow, null);
                dw.WhhB = PackB(whh, dw.Ho, 1, dw.GP, dw.Ho, dw.PhysToRow, null);
                if (dw.P > 0) dw.WhrB = PackB(Host(_source.Get(l, d, RnnParamKind.WeightHr)), dw.H, 1, dw.P, dw.H, null, null);
            }
            _backwardReady = true;
        }
    }

    private static float[] Host(Tensor t) => t.IsHost ? t.HostArray : t.ToArray();

    public static float[] Pinned(long n) => GC.AllocateArray<float>((int)Math.Max(n, 1), pinned: true);

    private static float[] PackB(float[] src, nint rsK, nint csN, int K, int N, int[]? kMap, int[]? nMap)
    {
        var dst = GC.AllocateUninitializedArray<float>((int)Math.Max(Sgemm.PackedBSize(K, N), 1), pinned: true);
        HugePages.Advise(dst); // before the first write, so the pages are faulted in as 2 MB pages
        fixed (float* s = src)
        fixed (int* km = kMap, nm = nMap)
            Sgemm.PackB(s, rsK, csN, K, N, km, nm, Sgemm.Addr(dst), 0, Sgemm.Panels(N));
        return dst;
    }
}
