// A `kind = rnn_layer` reference case (see ../shared/goldens/README.md): an RNN stack's weights, inputs, PyTorch's
// outputs and, when present, the gradients of loss = sum(output*grad_output) + sum(h_n*grad_h_n) [+ sum(c_n*grad_c_n)].
// Run() executes it on a backend through the plan API and compares every tensor.
using RnnFast.Backends;

namespace RnnFast.Checks;

/// <summary>A `kind = rnn_layer` reference case: weights, inputs, PyTorch outputs and gradients, runnable on any backend.</summary>
public sealed class RnnLayerCase
{
    private RnnLayerCase(string name, RnnDesc desc, RnnParameters parameters, Tensor input, Tensor? h0, Tensor? c0, int[]? lengths,
        Dictionary<string, Tensor> expected, Tensor? gradOutput, Tensor? gradHN, Tensor? gradCN)
    {
        Name = name;
        Desc = desc;
        Parameters = parameters;
        Input = input;
        H0 = h0;
        C0 = c0;
        Lengths = lengths;
        Expected = expected;
        GradOutput = gradOutput;
        GradHN = gradHN;
        GradCN = gradCN;
    }

    /// <summary>The case's name, as its case file gives it.</summary>
    public string Name { get; }
    /// <summary>The RNN stack PyTorch ran.</summary>
    public RnnDesc Desc { get; }
    /// <summary>PyTorch's weights for the stack.</summary>
    public RnnParameters Parameters { get; }
    /// <summary>As stored: (T,N,I), or (N,T,I) when batch_first.</summary>
    public Tensor Input { get; }
    /// <summary>(L*D,N,H_out) initial hidden state, or null for zeros.</summary>
    public Tensor? H0 { get; }
    /// <summary>(L*D,N,H) initial cell state (LSTM), or null for zeros.</summary>
    public Tensor? C0 { get; }
    /// <summary>Per-sequence lengths for a variable-length batch, or null when all are T.</summary>
    public int[]? Lengths { get; }
    /// <summary>PyTorch's results by tensor name: output, h_n, c_n, grad_input, grad_h0, grad_c0, grad.&lt;param&gt;.</summary>
    public IReadOnlyDictionary<string, Tensor> Expected { get; }
    /// <summary>The upstream gradient of the output used for backward, or null for a forward-only case.</summary>
    public Tensor? GradOutput { get; }
    /// <summary>The upstream gradient of h_n, or null.</summary>
    public Tensor? GradHN { get; }
    /// <summary>The upstream gradient of c_n (LSTM), or null.</summary>
    public Tensor? GradCN { get; }

    /// <summary>True when the file carries upstream gradients, so backward is checked too.</summary>
    public bool HasGradients => GradOutput != null || GradHN != null || GradCN != null;

    internal static RnnLayerCase Load(CaseFile f)
    {
        RnnDesc desc;
        try
        {
            desc = new RnnDesc(RnnDesc.ParseMode(f.Meta("mode")), f.MetaInt("input_size"), f.MetaInt("hidden_size"),
                f.MetaInt("num_layers", 1), f.MetaBool("bidirectional", false), f.MetaBool("batch_first", false),
                f.MetaInt("proj_size", 0), f.MetaBool("bias", true), f.MetaBool("peephole", false));
        }
        catch (ArgumentException e)
        {
            throw f.Error($"__metadata__ describes no valid RNN: {e.Message}", e);
        }

        var parameters = RnnParameters.FromNamed(desc, name => f.Has(name) ? f.Tensor(name) : null, "", f.Name);
        var input = f.Tensor("input");
        if (input.Rank != 3 || input.Shape[2] != desc.InputSize)
            throw f.Error($"tensor 'input' has shape {Tensor.FormatShape(input.Shape)}, expected {(desc.BatchFirst ? "(N,T," : "(T,N,")}{desc.InputSize})");
        int T = desc.BatchFirst ? input.Shape[1] : input.Shape[0];
        int N = desc.BatchFirst ? input.Shape[0] : input.Shape[1];
        if (T == 0 || N == 0) throw f.Error($"tensor 'input' is empty {Tensor.FormatShape(input.Shape)}");
        int LD = desc.NumLayers * desc.Directions, Ho = desc.OutputHiddenSize, H = desc.HiddenSize;
        int[] seqShape = desc.BatchFirst ? [N, T, desc.OutputSize] : [T, N, desc.OutputSize];
        int[] inShape = input.Shape;

        var h0 = f.TensorOrNull("h0", LD, N, Ho);
        var c0 = desc.HasCellState ? f.TensorOrNull("c0", LD, N, H) : null;
        var lengths = f.Has("lengths") ? f.Ints("lengths", [N], 1, T) : null;

        var expected = new Dictionary<string, Tensor>();
        void Expect(string name, int[] shape)
        {
            var t = f.TensorOrNull(name, shape);
            if (t != null) expected[name] = t;
        }
        Expect("output", seqShape);
        Expect("h_n", [LD, N, Ho]);
        if (desc.HasCellState) Expect("c_n", [LD, N, H]);
        Expect("grad_input", inShape);
        Expect("grad_h0", [LD, N, Ho]);
        if (desc.HasCellState) Expect("grad_c0", [LD, N, H]);
        foreach (var id in parameters.Ids) Expect("grad." + id.TorchName, RnnParameters.ShapeOf(desc, id));
        if (expected.Count == 0) throw f.Error("holds no expected result (output, h_n, grad_input, ...)");

        var gradOutput = f.TensorOrNull("grad_output", seqShape);
        var gradHN = f.TensorOrNull("grad_h_n", LD, N, Ho);
        var gradCN = desc.HasCellState ? f.TensorOrNull("grad_c_n", LD, N, H) : null;
        return new RnnLayerCase(f.Name, desc, parameters, input, h0, c0, lengths, expected, gradOutput, gradHN, gradCN);
    }

    /// <summary>Runs the case on <paramref name="backend"/> through the plan API and compares every expected tensor.</summary>
    public IReadOnlyList<TensorCheck> Run(Backend backend)
    {
        var checks = new List<TensorCheck>();
        using var plan = backend.CreateRnnPlan(Parameters);
        var inputs = RnnRunner.Prepare(Desc, Input, H0, C0, Lengths);

        var inference = plan.Forward(inputs, training: false);
        AddForwardChecks(checks, inference, "");

        if (HasGradients)
        {
            var train = plan.Forward(inputs, training: true);
            AddForwardChecks(checks, train, " (training forward)");
            var dOut = GradOutput == null ? null : Desc.BatchFirst ? RnnRunner.SwapFirstTwo(GradOutput) : GradOutput;
            var grads = plan.Backward(inputs, train, dOut, GradHN, GradCN);
            var dInput = Desc.BatchFirst ? RnnRunner.SwapFirstTwo(grads.DInput) : grads.DInput;
            Add(checks, "grad_input", dInput);
            Add(checks, "grad_h0", grads.DH0);
            if (grads.DC0 != null) Add(checks, "grad_c0", grads.DC0);
            for (int i = 0; i < grads.DParams.Ids.Count; i++)
                Add(checks, "grad." + grads.DParams.Ids[i].TorchName, grads.DParams.Tensors[i]);
        }
        return checks;
    }

    private void AddForwardChecks(List<TensorCheck> checks, RnnForwardResult r, string suffix)
    {
        var output = Desc.BatchFirst ? RnnRunner.SwapFirstTwo(r.Output) : r.Output;
        Add(checks, "output", output, suffix);
        Add(checks, "h_n", r.HN, suffix);
        if (r.CN != null) Add(checks, "c_n", r.CN, suffix);
    }

    private void Add(List<TensorCheck> checks, string name, Tensor actual, string suffix = "")
    {
        if (Expected.TryGetValue(name, out var want))
            checks.Add(TensorComparison.Compare(name + suffix, actual, want));
    }
}
