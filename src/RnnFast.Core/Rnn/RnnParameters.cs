// The weights of an RNN stack in PyTorch's canonical layout and names (weight_ih_l0, weight_hh_l0_reverse,
// bias_ih_l1, weight_hr_l0, ...). Every backend reads these; converting backends re-pack them when a
// tensor's Version changes.
namespace RnnFast;

/// <summary>Which matrix or bias of a layer and direction a parameter is.</summary>
public enum RnnParamKind
{
    /// <summary>(G*H, I_l)</summary>
    WeightIh,
    /// <summary>(G*H, H_out)</summary>
    WeightHh,
    /// <summary>(G*H)</summary>
    BiasIh,
    /// <summary>(G*H)</summary>
    BiasHh,
    /// <summary>(P, H): LSTM projection only.</summary>
    WeightHr,
    /// <summary>(3*H): LSTM peephole weights only, gates i, f, o.</summary>
    WeightPh,
}

/// <summary>One parameter's identity: which layer, which direction, which matrix.</summary>
public readonly record struct RnnParamId(int Layer, int Direction, RnnParamKind Kind)
{
    /// <summary>The PyTorch parameter name of the kind without suffixes ("weight_ih", "bias_hh", ...).</summary>
    public string TorchName => Kind switch
    {
        RnnParamKind.WeightIh => "weight_ih",
        RnnParamKind.WeightHh => "weight_hh",
        RnnParamKind.BiasIh => "bias_ih",
        RnnParamKind.BiasHh => "bias_hh",
        RnnParamKind.WeightPh => "weight_ph",
        _ => "weight_hr",
    } + $"_l{Layer}" + (Direction == 1 ? "_reverse" : "");
}

/// <summary>The weights of an RNN stack in PyTorch layout and names; what every backend reads.</summary>
public sealed class RnnParameters
{
    private const int KindCount = 6; // the members of RnnParamKind
    private readonly Tensor?[] _byIndex;

    private RnnParameters(RnnDesc desc, IReadOnlyList<RnnParamId> ids, Tensor[] tensors)
    {
        Desc = desc;
        Ids = ids;
        Tensors = tensors;
        _byIndex = new Tensor?[desc.NumLayers * desc.Directions * KindCount];
        for (int i = 0; i < ids.Count; i++) _byIndex[Slot(ids[i])] = tensors[i];
    }

    /// <summary>The RNN stack these parameters belong to.</summary>
    public RnnDesc Desc { get; }

    /// <summary>Every parameter in PyTorch's state_dict order.</summary>
    public IReadOnlyList<RnnParamId> Ids { get; }

    /// <summary>The tensors, aligned with <see cref="Ids"/>.</summary>
    public IReadOnlyList<Tensor> Tensors { get; }

    /// <summary>The tensor of <paramref name="kind"/> for <paramref name="layer"/> and <paramref name="direction"/> (0 forward, 1 reverse); throws when absent (e.g. a bias when Bias is false).</summary>
    public Tensor Get(int layer, int direction, RnnParamKind kind) =>
        _byIndex[Slot(new RnnParamId(layer, direction, kind))]
        ?? throw new InvalidOperationException($"{new RnnParamId(layer, direction, kind).TorchName} does not exist for {Desc}");

    /// <summary>As <see cref="Get"/>, but null when the stack has no such parameter.</summary>
    public Tensor? TryGet(int layer, int direction, RnnParamKind kind) =>
        _byIndex[Slot(new RnnParamId(layer, direction, kind))];

    /// <summary>The parameter ids of <paramref name="desc"/> in PyTorch's state_dict order.</summary>
    public static IReadOnlyList<RnnParamId> Layout(RnnDesc desc)
    {
        var ids = new List<RnnParamId>();
        for (int l = 0; l < desc.NumLayers; l++)
        for (int d = 0; d < desc.Directions; d++)
        {
            ids.Add(new RnnParamId(l, d, RnnParamKind.WeightIh));
            ids.Add(new RnnParamId(l, d, RnnParamKind.WeightHh));
            if (desc.Bias)
            {
                ids.Add(new RnnParamId(l, d, RnnParamKind.BiasIh));
                ids.Add(new RnnParamId(l, d, RnnParamKind.BiasHh));
            }
            if (desc.ProjSize > 0) ids.Add(new RnnParamId(l, d, RnnParamKind.WeightHr));
            if (desc.Peephole) ids.Add(new RnnParamId(l, d, RnnParamKind.WeightPh));
        }
        return ids;
    }

    /// <summary>The shape PyTorch gives parameter <paramref name="id"/>.</summary>
    public static int[] ShapeOf(RnnDesc desc, RnnParamId id)
    {
        int gh = desc.GateCount * desc.HiddenSize;
        return id.Kind switch
        {
            RnnParamKind.WeightIh => [gh, desc.LayerInputSize(id.Layer)],
            RnnParamKind.WeightHh => [gh, desc.OutputHiddenSize],
            RnnParamKind.BiasIh or RnnParamKind.BiasHh => [gh],
            RnnParamKind.WeightPh => [3 * desc.HiddenSize],
            _ => [desc.ProjSize, desc.HiddenSize],
        };
    }

    /// <summary>PyTorch's default initialisation: U(-1/sqrt(H), 1/sqrt(H)) for every parameter.</summary>
    public static RnnParameters Create(RnnDesc desc, Random random)
    {
        ArgumentNullException.ThrowIfNull(desc);
        ArgumentNullException.ThrowIfNull(random);
        var ids = Layout(desc);
        float k = 1f / MathF.Sqrt(desc.HiddenSize);
        var tensors = new Tensor[ids.Count];
        for (int i = 0; i < ids.Count; i++)
        {
            var t = Tensor.Zeros(ShapeOf(desc, ids[i]));
            var s = t.Span;
            for (int j = 0; j < s.Length; j++) s[j] = (float)(random.NextDouble() * 2 - 1) * k;
            tensors[i] = t;
        }
        return new RnnParameters(desc, ids, tensors);
    }

    /// <summary>Zero tensors of every parameter's shape (e.g. to hold gradients).</summary>
    public static RnnParameters Zeros(RnnDesc desc)
    {
        var ids = Layout(desc);
        return new RnnParameters(desc, ids, ids.Select(id => Tensor.Zeros(ShapeOf(desc, id))).ToArray());
    }

    /// <summary>
    /// Builds the parameters from named tensors (a PyTorch state_dict), e.g. "lstm." + "weight_ih_l0".
    /// <paramref name="lookup"/> returns null for a missing name. Errors name the tensor and the shapes.
    /// </summary>
    public static RnnParameters FromNamed(RnnDesc desc, Func<string, Tensor?> lookup, string prefix = "", string source = "state_dict")
    {
        ArgumentNullException.ThrowIfNull(desc);
        ArgumentNullException.ThrowIfNull(lookup);
        var ids = Layout(desc);
        var tensors = new Tensor[ids.Count];
        for (int i = 0; i < ids.Count; i++)
        {
            string name = prefix + ids[i].TorchName;
            var expected = ShapeOf(desc, ids[i]);
            var t = lookup(name) ?? throw new RnnFormatException(source, $"tensor '{name}' is missing (needed by {desc})");
            if (!t.HasShape(expected))
                throw new RnnFormatException(source, $"tensor '{name}' has shape {Tensor.FormatShape(t.Shape)}, expected {Tensor.FormatShape(expected)} for {desc}");
            tensors[i] = t;
        }
        return new RnnParameters(desc, ids, tensors);
    }

    /// <summary>Wraps tensors given in <see cref="Layout"/> order (shapes checked).</summary>
    public static RnnParameters FromTensors(RnnDesc desc, IReadOnlyList<Tensor> tensors)
    {
        var ids = Layout(desc);
        if (tensors.Count != ids.Count)
            throw new ArgumentException($"tensors: {desc} has {ids.Count} parameters, got {tensors.Count}", nameof(tensors));
        for (int i = 0; i < ids.Count; i++)
        {
            var expected = ShapeOf(desc, ids[i]);
            if (!tensors[i].HasShape(expected))
                throw new ArgumentException($"tensors: '{ids[i].TorchName}' has shape {Tensor.FormatShape(tensors[i].Shape)}, expected {Tensor.FormatShape(expected)}", nameof(tensors));
        }
        return new RnnParameters(desc, ids, tensors.ToArray());
    }

    /// <summary>Sum of every tensor's Version: changes whenever any parameter changed in place.</summary>
    public long VersionStamp
    {
        get
        {
            long v = 0;
            foreach (var t in Tensors) v += t.Version;
            return v;
        }
    }

    private int Slot(RnnParamId id)
    {
        if ((uint)id.Layer >= (uint)Desc.NumLayers || (uint)id.Direction >= (uint)Desc.Directions)
            throw new ArgumentOutOfRangeException(nameof(id), $"{id.TorchName} is outside {Desc}");
        return (id.Layer * Desc.Directions + id.Direction) * KindCount + (int)id.Kind;
    }
}

/// <summary>
/// A model or reference file that cannot be used: names the file (or source) and the problem, always in one line
/// ("&lt;source&gt;: &lt;problem&gt;", control characters escaped). <see cref="IO.SafeTensorsFormatException"/> is one.
/// </summary>
public class RnnFormatException : Exception
{
    /// <summary><paramref name="source"/> (a file or tensor name) holds RNN weights that do not fit: <paramref name="problem"/> says how.</summary>
    public RnnFormatException(string source, string problem, Exception? inner = null)
        : base(IO.SafeTensorsFormatException.OneLine(source ?? string.Empty) + ": " + IO.SafeTensorsFormatException.OneLine(problem ?? "unknown problem"), inner)
    {
        Origin = source ?? string.Empty;
    }

    /// <summary>The file or source the problem was found in.</summary>
    public string Origin { get; }
}
