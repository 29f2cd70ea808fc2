// The module API beside the tape, in TorchSharp's shape (torch.nn.LSTM/GRU/RNN): Lstm, Gru and Rnn own an RnnLayer
// (a plan on one backend plus Variables over its parameters, PyTorch's default init and names). Forward(x, state)
// runs inference on tensors (training: false, no workspace, no tape); the span overloads write into the caller's
// buffers; Forward(tape, x, ...) records a training forward on the tape; StateDict / LoadStateDict move weights in and
// out under PyTorch's names with PyTorch's strict-loading rule (missing AND unexpected keys refused, each named).
// Namespace RnnFast.Nn (not RnnFast.Autograd): inference needs no tape, so a caller that only runs models writes
// `using RnnFast.Nn;` and gets torch.nn-like names without the autograd types; training adds RnnFast.Autograd.
// Shapes: x (T,N,I), or (N,T,I) when batch_first; output (T,N,D*H_out) likewise; h (L*D,N,H_out); c (L*D,N,H) (LSTM).
using RnnFast.Autograd;
using RnnFast.Backends;

namespace RnnFast.Nn;

/// <summary>A recurrent state: H (L*D,N,H_out) and, for LSTM, C (L*D,N,H) (null for GRU and RNN).</summary>
public sealed record RnnStateTensors(Tensor H, Tensor? C = null);

/// <summary>
/// What <see cref="RecurrentModule.LoadStateDict"/> did not match, as PyTorch's (missing_keys, unexpected_keys):
/// both empty after a strict load.
/// </summary>
public sealed record LoadStateDictResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);

/// <summary>The nonlinearity of a plain RNN (PyTorch's nonlinearity='tanh' or 'relu').</summary>
public enum Nonlinearity
{
    /// <summary>h = tanh(W_ih x + b_ih + W_hh h + b_hh).</summary>
    Tanh,
    /// <summary>h = relu(W_ih x + b_ih + W_hh h + b_hh).</summary>
    Relu,
}

/// <summary>
/// The common part of <see cref="Lstm"/>, <see cref="Gru"/> and <see cref="Rnn"/>: a plan on one backend, its
/// parameters (PyTorch names and layout), inference and tape forwards, state_dict in and out. Dispose releases the plan.
/// Inference forwards may run on several threads at once; LoadStateDict and training must not overlap them.
/// </summary>
public abstract class RecurrentModule : Module, IDisposable
{
    private bool _disposed;

    /// <summary>New parameters with PyTorch's default init U(-1/sqrt(H), 1/sqrt(H)) on the backend named (null: RNNFAST_BACKEND, else auto).</summary>
    private protected RecurrentModule(RnnDesc desc, string? backend, int? seed)
    {
        ArgumentNullException.ThrowIfNull(desc);
        Backend = BackendRegistry.GetFor(backend, desc);
        var rng = seed is int s ? new Random(s) : new Random();
        Layer = new RnnLayer(desc, Backend, rng);
    }

    /// <summary>The layer (plan + parameter Variables) this module runs.</summary>
    public RnnLayer Layer { get; }

    /// <summary>The backend the plan runs on.</summary>
    public Backend Backend { get; }

    /// <summary>The shape of the RNN stack (cell, sizes, layers, directions, layout).</summary>
    public RnnDesc Desc => Layer.Desc;
    /// <summary>The backend plan that runs this module.</summary>
    public IRnnPlan Plan => Layer.Plan;
    /// <summary>I: the input feature size.</summary>
    public int InputSize => Desc.InputSize;
    /// <summary>H: the hidden size of each direction.</summary>
    public int HiddenSize => Desc.HiddenSize;
    /// <summary>L: the number of stacked layers.</summary>
    public int NumLayers => Desc.NumLayers;
    /// <summary>True when each layer runs in both directions (D = 2).</summary>
    public bool Bidirectional => Desc.Bidirectional;
    /// <summary>True when inputs and outputs are (N,T,features) instead of (T,N,features).</summary>
    public bool BatchFirst => Desc.BatchFirst;

    /// <summary>
    /// Inference: <paramref name="x"/> (T,N,I), or (N,T,I) when batch_first; <paramref name="state"/> null (zeros) or
    /// H (L*D,N,H_out) and, for LSTM, C (L*D,N,H) (a null C starts at zero); <paramref name="lengths"/> (N) optional.
    /// Returns Output (T,N,D*H_out), or (N,T,D*H_out) when batch_first, and the final state, all on the host.
    /// </summary>
    public (Tensor Output, RnnStateTensors State) Forward(Tensor x, RnnStateTensors? state = null, int[]? lengths = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(x);
        var (_, n) = CheckInput(x);
        CheckState(state, n);
        using var r = RnnRunner.Forward(Plan, x, state?.H, state?.C, lengths, training: false);
        return (Host(r.Output), new RnnStateTensors(Host(r.HN), r.CN == null ? null : Host(r.CN)));
    }

    /// <summary>
    /// Inference into caller-owned buffers. <paramref name="x"/> holds (T,N,I), or (N,T,I) when batch_first, with
    /// T = <paramref name="seqLen"/> and N = <paramref name="batch"/>; <paramref name="output"/> receives (T,N,D*H_out)
    /// (or (N,T,D*H_out)). <paramref name="h"/> (L*D,N,H_out) and <paramref name="c"/> (L*D,N,H; empty for GRU/RNN)
    /// are read as the initial state and overwritten with the final state, so consecutive calls carry it on.
    /// Each call allocates: x and the state are copied into tensors and the plan's results copied back.
    /// </summary>
    public void Forward(ReadOnlySpan<float> x, int seqLen, int batch, Span<float> output, Span<float> h, Span<float> c)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var d = Desc;
        if (seqLen <= 0)
            throw new ArgumentException($"seqLen: must be positive, got {seqLen}", nameof(seqLen));
        if (batch <= 0)
            throw new ArgumentException($"batch: must be positive, got {batch}", nameof(batch));
        int ld = d.NumLayers * d.Directions;
        CheckLength(nameof(x), x.Length, (long)seqLen * batch * d.InputSize, d.BatchFirst ? "N*T*I" : "T*N*I");
        CheckLength(nameof(output), output.Length, (long)seqLen * batch * d.OutputSize, d.BatchFirst ? "N*T*D*H_out" : "T*N*D*H_out");
        CheckLength(nameof(h), h.Length, (long)ld * batch * d.OutputHiddenSize, "L*D*N*H_out");
        if (d.HasCellState)
            CheckLength(nameof(c), c.Length, (long)ld * batch * d.HiddenSize, "L*D*N*H");
        else if (!c.IsEmpty)
            throw new ArgumentException($"c: {RnnDesc.TorchModeName(d.Mode)} has no cell state; expected an empty span, found {c.Length} floats", nameof(c));

        int[] xShape = d.BatchFirst ? [batch, seqLen, d.InputSize] : [seqLen, batch, d.InputSize];
        var xt = Tensor.FromArray(x.ToArray(), xShape);
        var h0 = Tensor.FromArray(h.ToArray(), ld, batch, d.OutputHiddenSize);
        var c0 = d.HasCellState ? Tensor.FromArray(c.ToArray(), ld, batch, d.HiddenSize) : null;
        using var r = RnnRunner.Forward(Plan, xt, h0, c0, null, training: false);
        CopyOut(r.Output, output);
        CopyOut(r.HN, h);
        if (r.CN != null) CopyOut(r.CN, c);
    }

    /// <summary>
    /// Inference into a caller-owned <paramref name="output"/> from a zero state (the final state is discarded);
    /// layouts as in the overload with h and c.
    /// </summary>
    public void Forward(ReadOnlySpan<float> x, int seqLen, int batch, Span<float> output)
    {
        var d = Desc;
        if (batch <= 0)
            throw new ArgumentException($"batch: must be positive, got {batch}", nameof(batch));
        int ld = d.NumLayers * d.Directions;
        var h = new float[(long)ld * batch * d.OutputHiddenSize];
        var c = d.HasCellState ? new float[(long)ld * batch * d.HiddenSize] : [];
        Forward(x, seqLen, batch, output, h, c);
    }

    /// <summary>
    /// Training: records the forward on <paramref name="tape"/> (RnnLayer's fused node). <paramref name="x"/> (T,N,I),
    /// or (N,T,I) when batch_first; h0 (L*D,N,H_out), c0 (L*D,N,H) for LSTM, lengths (N), each optional.
    /// </summary>
    public RnnOutputs Forward(Tape tape, Variable x, Variable? h0 = null, Variable? c0 = null, int[]? lengths = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(x);
        if (c0 != null && !Desc.HasCellState)
            throw new ArgumentException($"c0: {RnnDesc.TorchModeName(Desc.Mode)} has no cell state; pass null, found {Tensor.FormatShape(c0.Shape)}", nameof(c0));
        return Layer.Forward(tape, x, h0, c0, lengths);
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Variable Parameter)> NamedParameters(string prefix = "") =>
        Layer.NamedParameters(prefix);

    /// <summary>
    /// The parameters under PyTorch's state_dict names, in its order (weight_ih_l0, weight_hh_l0, bias_ih_l0, ...).
    /// Like PyTorch's state_dict the tensors are the module's own (live); clone them to keep a snapshot.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> StateDict()
    {
        var ids = Plan.Parameters.Ids;
        var tensors = Plan.Parameters.Tensors;
        var dict = new OrderedDictionary<string, Tensor>(ids.Count, StringComparer.Ordinal);
        for (int i = 0; i < ids.Count; i++) dict.Add(ids[i].TorchName, tensors[i]);
        return dict;
    }

    /// <summary>
    /// Copies <paramref name="stateDict"/>'s tensors into the parameters (the backend re-reads them). With
    /// <paramref name="strict"/> every parameter must be present and nothing else (PyTorch's rule; the error names each
    /// missing and unexpected key); without it, missing parameters keep their values and other keys are ignored, and the
    /// result lists both. A shape that differs is refused either way, naming the tensor and the shapes. Nothing is copied
    /// unless every check passes.
    /// </summary>
    public LoadStateDictResult LoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(stateDict);
        var ids = Plan.Parameters.Ids;
        var tensors = Plan.Parameters.Tensors;
        var expectedNames = new HashSet<string>(ids.Select(id => id.TorchName), StringComparer.Ordinal);
        var missing = ids.Select(id => id.TorchName).Where(name => !stateDict.ContainsKey(name)).ToList();
        var unexpected = stateDict.Keys.Where(k => !expectedNames.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (strict && (missing.Count > 0 || unexpected.Count > 0))
        {
            var parts = new List<string>(2);
            if (missing.Count > 0) parts.Add("missing key(s) " + string.Join(", ", missing.Select(k => $"'{k}'")));
            if (unexpected.Count > 0) parts.Add("unexpected key(s) " + string.Join(", ", unexpected.Select(k => $"'{k}'")));
            throw new ArgumentException($"stateDict: cannot load into {Desc} (strict): {string.Join("; ", parts)}", nameof(stateDict));
        }

        var copies = new List<(Tensor Source, Tensor Target)>(ids.Count);
        for (int i = 0; i < ids.Count; i++)
        {
            string name = ids[i].TorchName;
            if (!stateDict.TryGetValue(name, out var source)) continue;
            if (source == null)
                throw new ArgumentException($"stateDict: '{name}' is null", nameof(stateDict));
            var target = tensors[i];
            if (!source.SameShape(target))
                throw new ArgumentException(
                    $"stateDict: '{name}' expected {Tensor.FormatShape(target.Shape)}, found {Tensor.FormatShape(source.Shape)} for {Desc}", nameof(stateDict));
            if (!ReferenceEquals(source, target)) copies.Add((source, target));
        }
        foreach (var (source, target) in copies)
        {
            if (source.IsHost) source.Span.CopyTo(target.Span);
            else source.Storage.CopyToHost(target.Span);
            target.MarkChanged();
        }
        return new LoadStateDictResult(missing, unexpected);
    }

    /// <inheritdoc/>
    public override string ToString() => Desc.ToString();

    /// <summary>Releases the backend plan (device memory for GPU backends).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Layer.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Checks rank and I of x; returns (T, N).</summary>
    private (int T, int N) CheckInput(Tensor x)
    {
        var d = Desc;
        string layout = d.BatchFirst ? "(N,T,I)" : "(T,N,I)";
        if (x.Rank != 3 || x.Shape[2] != d.InputSize)
            throw new ArgumentException($"x: expected {layout} with I={d.InputSize}, found {Tensor.FormatShape(x.Shape)}", nameof(x));
        return d.BatchFirst ? (x.Shape[1], x.Shape[0]) : (x.Shape[0], x.Shape[1]);
    }

    private void CheckState(RnnStateTensors? state, int n)
    {
        if (state == null) return;
        var d = Desc;
        int ld = d.NumLayers * d.Directions;
        if (state.H == null)
            throw new ArgumentException($"state: H is null, expected (L*D,N,H_out) = ({ld},{n},{d.OutputHiddenSize})", nameof(state));
        if (!state.H.HasShape(ld, n, d.OutputHiddenSize))
            throw new ArgumentException($"state: H expected (L*D,N,H_out) = ({ld},{n},{d.OutputHiddenSize}), found {Tensor.FormatShape(state.H.Shape)}", nameof(state));
        if (state.C == null) return;
        if (!d.HasCellState)
            throw new ArgumentException($"state: C must be null for {RnnDesc.TorchModeName(d.Mode)} (no cell state), found {Tensor.FormatShape(state.C.Shape)}", nameof(state));
        if (!state.C.HasShape(ld, n, d.HiddenSize))
            throw new ArgumentException($"state: C expected (L*D,N,H) = ({ld},{n},{d.HiddenSize}), found {Tensor.FormatShape(state.C.Shape)}", nameof(state));
    }

    private static void CheckLength(string name, int found, long expected, string formula)
    {
        if (found != expected)
            throw new ArgumentException($"{name}: expected {formula} = {expected} floats, found {found}", name);
    }

    private static Tensor Host(Tensor t) => t.IsHost ? t : t.ToHost();

    private static void CopyOut(Tensor t, Span<float> destination)
    {
        if (t.IsHost) t.Span.CopyTo(destination);
        else t.Storage.CopyToHost(destination);
    }
}

/// <summary>
/// torch.nn.LSTM: gates i,f,g,o, optional projection of h to <c>projSize</c> (weight_hr_l{k}). State (H, C).
/// <code>using var lstm = new Lstm(64, 128, numLayers: 2); var (y, state) = lstm.Forward(x);</code>
/// </summary>
public sealed class Lstm : RecurrentModule
{
    /// <summary>
    /// A new LSTM with PyTorch's default init; <paramref name="backend"/> null uses RNNFAST_BACKEND, else auto (a
    /// backend that can run the description); <paramref name="seed"/> null draws the weights from an unseeded generator.
    /// <paramref name="peephole"/> adds peephole connections (weight_ph_l{k}, (3*H), gates i, f, o: p_i*c_prev and
    /// p_f*c_prev added to the i and f gates' pre-activations, p_o*c_t to the o gate's).
    /// </summary>
    public Lstm(int inputSize, int hiddenSize, int numLayers = 1, bool bidirectional = false, bool batchFirst = false,
        int projSize = 0, bool bias = true, string? backend = null, int? seed = null, bool peephole = false)
        : base(new RnnDesc(RnnMode.Lstm, inputSize, hiddenSize, numLayers, bidirectional, batchFirst, projSize, bias, peephole), backend, seed)
    {
    }

    /// <summary>P: the projection size (0 = none).</summary>
    public int ProjSize => Desc.ProjSize;

    /// <summary>Whether the cell has peephole connections (weight_ph_l{k}).</summary>
    public bool Peephole => Desc.Peephole;
}

/// <summary>torch.nn.GRU: gates r,z,n. State (H, null).</summary>
public sealed class Gru : RecurrentModule
{
    /// <summary>
    /// A new GRU with PyTorch's default init; <paramref name="backend"/> null uses RNNFAST_BACKEND, else auto;
    /// <paramref name="seed"/> null draws the weights from an unseeded generator.
    /// </summary>
    public Gru(int inputSize, int hiddenSize, int numLayers = 1, bool bidirectional = false, bool batchFirst = false,
        bool bias = true, string? backend = null, int? seed = null)
        : base(new RnnDesc(RnnMode.Gru, inputSize, hiddenSize, numLayers, bidirectional, batchFirst, 0, bias), backend, seed)
    {
    }
}

/// <summary>torch.nn.RNN: h' = tanh or relu(W_ih x + b_ih + W_hh h + b_hh). State (H, null).</summary>
public sealed class Rnn : RecurrentModule
{
    /// <summary>
    /// A new RNN with PyTorch's default init; <paramref name="backend"/> null uses RNNFAST_BACKEND, else auto;
    /// <paramref name="seed"/> null draws the weights from an unseeded generator.
    /// </summary>
    public Rnn(int inputSize, int hiddenSize, int numLayers = 1, bool bidirectional = false, bool batchFirst = false,
        Nonlinearity nonlinearity = Nonlinearity.Tanh, bool bias = true, string? backend = null, int? seed = null)
        : base(new RnnDesc(ModeOf(nonlinearity), inputSize, hiddenSize, numLayers, bidirectional, batchFirst, 0, bias), backend, seed)
    {
    }

    /// <summary>The cell's nonlinearity: tanh or relu.</summary>
    public Nonlinearity Nonlinearity => Desc.Mode == RnnMode.RnnRelu ? Nonlinearity.Relu : Nonlinearity.Tanh;

    private static RnnMode ModeOf(Nonlinearity nonlinearity) => nonlinearity switch
    {
        Nonlinearity.Tanh => RnnMode.RnnTanh,
        Nonlinearity.Relu => RnnMode.RnnRelu,
        _ => throw new ArgumentException($"nonlinearity: expected Tanh or Relu, found {(int)nonlinearity}", nameof(nonlinearity)),
    };
}
