// The CPU backend's packed copy of an RNN's weights, made once per parameter version (RnnParameters.VersionStamp),
// per layer and direction. Gate rows are reordered into the blocked GateLayout (chunks of 32 hidden units, each chunk's
// G gate panels side by side; see Cell/GateLayout.cs), so one 32-column GEMM panel is one gate of one chunk.
// Forward forms are packed B of the transposed weights (K = inputs, N = GP columns); the backward forms (packed on
// the first training forward) are the weights as they are, gate rows in physical order.
namespace RnnFast.Backends.Cpu;

/// <summary>One layer and direction, packed.</summary>
internal sealed unsafe class DirWeights
{
    public required int I, H, Ho, P;

    /// <summary>The gate columns' layout (G gates of H units in chunks of 32, GP physical columns).</summary>
    public required GateLayout Layout;

    /// <summary>Physical gate column -> PyTorch row (g*H + j), or -1 for padding. (GP)</summary>
    public required int[] PhysToRow;

    /// <summary>Forward: packed B of W_ih^T (K = I, N = GP), W_hh^T (K = H_out, N = GP), W_hr^T (K = H, N = P).</summary>
    public required AlignedFloats WihT, WhhT;
    public AlignedFloats? WhrT;

    /// <summary>Input-projection bias by physical column: b_ih (+ b_hh except GRU). Null without bias. (GP)</summary>
    public AlignedFloats? XBias;

    /// <summary>GRU only: b_hh by physical column, added to the recurrent product. (GP)</summary>
    public AlignedFloats? HBias;

    /// <summary>
    /// Peephole LSTM only: weight_ph by chunk, (Q, 3, 32): chunk q's p_i, p_f, p_o of its 32 units side by side (padding
    /// units zero), so the gate kernel of chunk q reads them at q * 96. Null without peepholes.
    /// </summary>
    public AlignedFloats? Ph;

    /// <summary>Opt-in bf16 copies of WhhT and WhrT (same panel layout) for batch-1 inference; null unless asked for.</summary>
    public ushort[]? WhhBf16, WhrBf16;

    /// <summary>Opt-in int8 copies of WhhT and WhrT (per-column scales, see Int8.cs) for batch-1 inference; null unless asked for.</summary>
    public Int8Panels? WhhI8, WhrI8;

    /// <summary>Backward: packed B of W_ih (K = GP, N = I), W_hh (K = GP, N = H_out), W_hr (K = P, N = H).</summary>
    public AlignedFloats? WihB, WhhB, WhrB;

    /// <summary>The forward forms as Sgemm's PackedB (the null PackedB for an absent W_hr).</summary>
    public PackedB WihTPanels => new(WihT.Buf, I);
    public PackedB WhhTPanels => new(WhhT.Buf, Ho);
    public PackedB WhrTPanels => new(WhrT?.Buf ?? default, H);

    /// <summary>The backward forms as Sgemm's PackedB (after CpuWeights.EnsureBackward).</summary>
    public PackedB WihBPanels => new(WihB?.Buf ?? default, Layout.GP);
    public PackedB WhhBPanels => new(WhhB?.Buf ?? default, Layout.GP);
    public PackedB WhrBPanels => new(WhrB?.Buf ?? default, P);

    /// <summary>How the input projection's C starts: from the bias (XBias) when there is one, else zero.</summary>
    public GemmInit XInit => XBias == null ? GemmInit.Zero : GemmInit.Bias;
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

    public static CpuWeights Pack(RnnParameters p, long stamp, CpuWeightPrecision precision = CpuWeightPrecision.Fp32)
    {
        var desc = p.Desc;
        int L = desc.NumLayers, D = desc.Directions, H = desc.HiddenSize, Ho = desc.OutputHiddenSize, P = desc.ProjSize;
        var layout = GateLayout.For(desc);
        int GP = layout.GP;
        var map = new int[GP];
        for (int c = 0; c < GP; c++) map[c] = layout.RowOf(c);
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
            var wph = p.TryGet(l, d, RnnParamKind.WeightPh) is { } ph ? Host(ph) : null;
            var dw = new DirWeights
            {
                I = I, H = H, Ho = Ho, P = P, Layout = layout, PhysToRow = map,
                // W^T: the weights (rows x inputs, row-major) read transposed, their rows permuted into gate columns
                WihT = PackB(wih, I, transposed: true, I, GP, null, map),
                WhhT = PackB(whh, Ho, transposed: true, Ho, GP, null, map),
                WhrT = whr == null ? null : PackB(whr, H, transposed: true, H, P, null, null),
            };
            if (wph != null) dw.Ph = PackPeephole(wph, layout);
            if (precision == CpuWeightPrecision.Int8)
            {
                dw.WhhI8 = Int8Panels.FromPacked(dw.WhhT.Span, Ho, GP);
                if (dw.WhrT != null) dw.WhrI8 = Int8Panels.FromPacked(dw.WhrT.Span, H, P);
            }
            if (precision == CpuWeightPrecision.Bf16)
            {
                dw.WhhBf16 = Bf16.FromPacked(dw.WhhT.Span);
                if (dw.WhrT != null) dw.WhrBf16 = Bf16.FromPacked(dw.WhrT.Span);
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
                int l = s / D, d = s % D, GP = dw.Layout.GP;
                var wih = Host(_source.Get(l, d, RnnParamKind.WeightIh));
                var whh = Host(_source.Get(l, d, RnnParamKind.WeightHh));
                // the weights as they are (rows x inputs), the gate rows taken in physical order
                dw.WihB = PackB(wih, dw.I, transposed: false, GP, dw.I, dw.PhysToRow, null);
                dw.WhhB = PackB(whh, dw.Ho, transposed: false, GP, dw.Ho, dw.PhysToRow, null);
                if (dw.P > 0)
                    dw.WhrB = PackB(Host(_source.Get(l, d, RnnParamKind.WeightHr)), dw.H, transposed: false, dw.P, dw.H, null, null);
            }
            _backwardReady = true;
        }
    }

    /// <summary>weight_ph (3*H; i, f, o) into the chunked (Q, 3, 32) form of <see cref="DirWeights.Ph"/>.</summary>
    private static AlignedFloats PackPeephole(float[] wph, GateLayout layout)
    {
        int H = layout.H, U = GateLayout.U;
        var dst = Pinned((long)layout.Q * 3 * U);
        for (int k = 0; k < 3; k++)
        for (int j = 0; j < H; j++)
            dst[PeepholeIndex(k, j)] = wph[k * H + j];
        return dst;
    }

    /// <summary>Where peephole <paramref name="k"/> (0 i, 1 f, 2 o) of unit <paramref name="j"/> sits in the chunked form.</summary>
    public static int PeepholeIndex(int k, int j) => (j / GateLayout.U) * 3 * GateLayout.U + k * GateLayout.U + j % GateLayout.U;

    private static float[] Host(Tensor t) => t.IsHost ? t.HostArray : t.ToArray();

    /// <summary>A zeroed pinned buffer of <paramref name="n"/> floats on a 64-byte boundary.</summary>
    public static AlignedFloats Pinned(long n) => AlignedFloats.Allocate(n);

    /// <summary>
    /// B (K x N) packed into a new 64-byte-aligned pinned buffer: B is <paramref name="src"/> (leading dimension <paramref name="ld"/>,
    /// row-major or read transposed), its rows / columns taken through kMap / nMap (see Sgemm.PackB).
    /// </summary>
    private static AlignedFloats PackB(float[] src, nint ld, bool transposed, int K, int N, int[]? kMap, int[]? nMap)
    {
        var dst = AlignedFloats.Allocate(Sgemm.PackedBSize(K, N), clear: false);
        HugePages.Advise(dst.Buf); // before the first write, so the pages are faulted in as 2 MB pages
        fixed (float* s = src)
        fixed (int* km = kMap, nm = nMap)
            Sgemm.PackB(new GemmB(new FloatBuf(s, src.Length), ld, transposed), N, km, nm, new PackedB(dst.Buf, K), 0, Sgemm.Panels(N));
        return dst;
    }
}
