// Where each PyTorch parameter lives in cuDNN's weight space, built only from what cudnnGetRNNWeightParams reports
// (address and shape of every matrix and bias, per pseudo-layer and linLayerID), never from assumed offsets. The query
// is a callback, so the mapping is unit-tested against fake layouts (including ones whose order differs from PyTorch's).
// A PyTorch matrix (G*H, I) splits into G row blocks of (H, I), one per gate; each block is one contiguous run in both
// layouts (row-major, same column count), so packing is one copy per block:
//   weight_ih_l{l}[_reverse] gate k  <-> pseudo-layer l*D+d, linLayerID k      (matrix (H, I_l))
//   weight_hh_l{l}[_reverse] gate k  <-> pseudo-layer l*D+d, linLayerID G+k    (matrix (H, H_out))
//   bias_ih / bias_hh gate k         <-> the same linLayerIDs' bias (H)
//   weight_hr_l{l}[_reverse] (LSTM)  <-> linLayerID 8 (matrix (P, H), no bias)
// Every block is checked: it exists (or must not), has the expected shape, is dense row-major, lies inside the weight
// space and overlaps no other block.
using System.Numerics.Tensors;

namespace RnnFast.Backends.Cuda;

/// <summary>What cudnnGetRNNWeightParams reported for one matrix or bias: its offset in floats from the weight space start, dims and strides.</summary>
public sealed record CudnnWeightRegion(long Offset, int[] Dims, int[] Strides);

/// <summary>The matrix and the bias of one (pseudo-layer, linLayerID); null where cuDNN reports none.</summary>
public readonly record struct CudnnWeightParams(CudnnWeightRegion? Matrix, CudnnWeightRegion? Bias);

/// <summary>Asks where (pseudo-layer, linLayerID)'s matrix and bias live (cudnnGetRNNWeightParams, or a fake in tests).</summary>
public delegate CudnnWeightParams CudnnWeightQuery(int pseudoLayer, int linLayerId);

/// <summary>One contiguous run: <see cref="Count"/> floats of parameter <see cref="Param"/> from <see cref="SourceOffset"/> at weight-space float offset <see cref="SpaceOffset"/>.</summary>
public sealed record CudnnWeightBlock(RnnParamId Param, int SourceOffset, int Count, long SpaceOffset, string What);

/// <summary>The mapping between PyTorch's parameters and cuDNN's weight space for one RNN descriptor.</summary>
public sealed class CudnnWeightLayout
{
    private CudnnWeightLayout(RnnDesc desc, long spaceElements, IReadOnlyList<CudnnWeightBlock> blocks)
    {
        Desc = desc;
        SpaceElements = spaceElements;
        Blocks = blocks;
    }

    /// <summary>The RNN stack whose weights the layout places.</summary>
    public RnnDesc Desc { get; }

    /// <summary>Floats in the weight space (cudnnGetRNNWeightSpaceSize / 4).</summary>
    public long SpaceElements { get; }

    /// <summary>Every block, in the order they were queried.</summary>
    public IReadOnlyList<CudnnWeightBlock> Blocks { get; }

    /// <summary>
    /// Queries every (pseudo-layer, linLayerID) of <paramref name="desc"/> through <paramref name="query"/> and checks the
    /// answers. Throws <see cref="InvalidOperationException"/> naming the parameter, gate and what was found.
    /// </summary>
    public static CudnnWeightLayout Build(RnnDesc desc, long spaceElements, CudnnWeightQuery query)
    {
        ArgumentNullException.ThrowIfNull(desc);
        ArgumentNullException.ThrowIfNull(query);
        int G = desc.GateCount, H = desc.HiddenSize, Ho = desc.OutputHiddenSize, P = desc.ProjSize;
        string[] gates = GateNames(desc.Mode);
        var blocks = new List<CudnnWeightBlock>();
        for (int l = 0; l < desc.NumLayers; l++)
        for (int d = 0; d < desc.Directions; d++)
        {
            int pseudo = CudnnRnnSettings.PseudoLayer(desc, l, d);
            int I = desc.LayerInputSize(l);
            for (int side = 0; side < 2; side++)
            {
                bool recurrent = side == 1;
                int cols = recurrent ? Ho : I;
                var wKind = recurrent ? RnnParamKind.WeightHh : RnnParamKind.WeightIh;
                var bKind = recurrent ? RnnParamKind.BiasHh : RnnParamKind.BiasIh;
                for (int k = 0; k < G; k++)
                {
                    int lin = CudnnRnnSettings.LinLayerId(desc, k, recurrent);
                    var found = query(pseudo, lin);
                    var wId = new RnnParamId(l, d, wKind);
                    string where = $"(cuDNN pseudo-layer {pseudo}, linLayerID {lin})";
                    string wWhat = $"{wId.TorchName} gate {gates[k]} {where}";
                    blocks.Add(Block(wId, k * H * cols, H, cols, found.Matrix, wWhat, spaceElements));
                    var bId = new RnnParamId(l, d, bKind);
                    string bWhat = $"{bId.TorchName} gate {gates[k]} {where}";
                    if (desc.Bias) blocks.Add(Block(bId, k * H, H, 1, found.Bias, bWhat, spaceElements));
                    else if (IsPresent(found.Bias))
                        throw new InvalidOperationException($"{bWhat}: cuDNN reports a bias {Describe(found.Bias!)} but the RNN has bias=false");
                }
            }
            if (P > 0)
            {
                var found = query(pseudo, CudnnRnnSettings.ProjectionLinLayerId);
                var id = new RnnParamId(l, d, RnnParamKind.WeightHr);
                string what = $"{id.TorchName} (cuDNN pseudo-layer {pseudo}, linLayerID {CudnnRnnSettings.ProjectionLinLayerId})";
                blocks.Add(Block(id, 0, P, H, found.Matrix, what, spaceElements));
                if (IsPresent(found.Bias))
                    throw new InvalidOperationException($"{what}: cuDNN reports a projection bias {Describe(found.Bias!)}; PyTorch's projection has none");
            }
        }
        CheckNoOverlap(blocks);
        return new CudnnWeightLayout(desc, spaceElements, blocks);
    }

    /// <summary>Writes every parameter of <paramref name="parameters"/> into a host image of the weight space (zero elsewhere).</summary>
    public void Pack(RnnParameters parameters, Span<float> space)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        CheckDesc(parameters);
        if (space.Length != SpaceElements)
            throw new ArgumentException($"space: {space.Length} floats, the weight space has {SpaceElements}", nameof(space));
        space.Clear();
        foreach (var b in Blocks)
        {
            var src = Host(parameters.Get(b.Param.Layer, b.Param.Direction, b.Param.Kind));
            src.AsSpan(b.SourceOffset, b.Count).CopyTo(space.Slice((int)b.SpaceOffset, b.Count));
        }
    }

    /// <summary>Adds a weight-space image (e.g. cuDNN's dweightSpace) into <paramref name="gradients"/>, parameter by parameter.</summary>
    public void AddTo(ReadOnlySpan<float> space, RnnParameters gradients)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        CheckDesc(gradients);
        if (space.Length != SpaceElements)
            throw new ArgumentException($"space: {space.Length} floats, the weight space has {SpaceElements}", nameof(space));
        foreach (var b in Blocks)
        {
            var dst = gradients.Get(b.Param.Layer, b.Param.Direction, b.Param.Kind).Span.Slice(b.SourceOffset, b.Count);
            TensorPrimitives.Add(dst, space.Slice((int)b.SpaceOffset, b.Count), dst);
        }
    }

    /// <summary>PyTorch's gate names of a mode, in order.</summary>
    public static string[] GateNames(RnnMode mode) => mode switch
    {
        RnnMode.Lstm => ["i", "f", "g", "o"],
        RnnMode.Gru => ["r", "z", "n"],
        _ => ["h"],
    };

    private void CheckDesc(RnnParameters p)
    {
        if (p.Desc != Desc) throw new ArgumentException($"parameters describe {p.Desc}, this layout is for {Desc}");
    }

    private static float[] Host(Tensor t) => t.IsHost ? t.HostArray : t.ToArray();

    private static bool IsPresent(CudnnWeightRegion? r) => r != null && r.Dims.Length > 0;

    private static string Describe(CudnnWeightRegion r) =>
        $"at {r.Offset} dims ({string.Join(",", r.Dims)}) strides ({string.Join(",", r.Strides)})";

    /// <summary>Checks one reported region against the expected (rows, cols) and turns it into a block.</summary>
    private static CudnnWeightBlock Block(RnnParamId id, int sourceOffset, int rows, int cols, CudnnWeightRegion? r, string what, long spaceElements)
    {
        if (!IsPresent(r)) throw new InvalidOperationException($"{what}: cuDNN reports no {(cols == 1 ? "bias" : "matrix")}");
        if (r!.Dims.Length != r.Strides.Length)
            throw new InvalidOperationException($"{what}: {r.Dims.Length} dims but {r.Strides.Length} strides");
        // Dimensions of size 1 carry no layout (cuDNN reports matrices as (1, rows, cols) and biases as (1, rows, 1)).
        var dims = new List<int>();
        var strides = new List<int>();
        for (int i = 0; i < r.Dims.Length; i++)
            if (r.Dims[i] != 1) { dims.Add(r.Dims[i]); strides.Add(r.Strides[i]); }
        var want = new List<int>();
        if (rows != 1) want.Add(rows);
        if (cols != 1) want.Add(cols);
        if (!dims.SequenceEqual(want))
            throw new InvalidOperationException($"{what}: cuDNN reports {Describe(r)}, expected ({rows},{cols}) row-major");
        long expectStride = 1;
        for (int i = dims.Count - 1; i >= 0; i--)
        {
            if (strides[i] != expectStride)
                throw new InvalidOperationException($"{what}: cuDNN reports {Describe(r)}, which is not dense row-major ({rows},{cols})");
            expectStride *= dims[i];
        }
        int count = rows * cols;
        if (r.Offset < 0 || r.Offset + count > spaceElements)
            throw new InvalidOperationException($"{what}: cuDNN reports floats [{r.Offset}, {r.Offset + count}) outside the {spaceElements}-float weight space");
        return new CudnnWeightBlock(id, sourceOffset, count, r.Offset, what);
    }

    private static void CheckNoOverlap(List<CudnnWeightBlock> blocks)
    {
        var sorted = blocks.OrderBy(b => b.SpaceOffset).ToList();
        for (int i = 1; i < sorted.Count; i++)
        {
            var a = sorted[i - 1];
            var b = sorted[i];
            if (a.SpaceOffset + a.Count > b.SpaceOffset)
                throw new InvalidOperationException($"weight space blocks overlap: {a.What} [{a.SpaceOffset}, {a.SpaceOffset + a.Count}) and {b.What} at {b.SpaceOffset}");
        }
    }
}
