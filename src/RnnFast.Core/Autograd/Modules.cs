// Minimal layer modules over the tape: each holds its parameter Variables (PyTorch default initialisation and
// PyTorch-style names: weight, bias, weight_ih_l0, ...) and records its forward on a given tape.
using RnnFast.Backends;

namespace RnnFast.Autograd;

/// <summary>A layer that owns named parameters.</summary>
public abstract class Module
{
    /// <summary>Every parameter with its PyTorch-style name, prefixed with <paramref name="prefix"/> (e.g. "rnn.").</summary>
    public abstract IEnumerable<(string Name, Variable Parameter)> NamedParameters(string prefix = "");

    /// <summary>Every parameter (Variable.Name carries the unprefixed name).</summary>
    public IEnumerable<Variable> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Sets the gradient of every parameter to zero (call before each backward).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    /// <summary>Samples from N(0,1) by Box-Muller.</summary>
    internal static float NextGaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(); // (0,1]
        double u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    internal static Tensor Uniform(Random rng, float bound, params int[] shape)
    {
        var t = Tensor.Zeros(shape);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextDouble() * 2 - 1) * bound;
        return t;
    }
}

/// <summary>nn.Embedding: a (V,E) table initialised N(0,1).</summary>
public sealed class Embedding : Module
{
    /// <summary>A new (V,E) table, V = <paramref name="numEmbeddings"/>, E = <paramref name="embeddingDim"/>, drawn N(0,1) from <paramref name="rng"/>.</summary>
    public Embedding(int numEmbeddings, int embeddingDim, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (numEmbeddings <= 0)
            throw new ArgumentException($"numEmbeddings: must be positive, got {numEmbeddings}", nameof(numEmbeddings));
        if (embeddingDim <= 0)
            throw new ArgumentException($"embeddingDim: must be positive, got {embeddingDim}", nameof(embeddingDim));
        var w = Tensor.Zeros(numEmbeddings, embeddingDim);
        var s = w.Span;
        for (int i = 0; i < s.Length; i++) s[i] = NextGaussian(rng);
        Weight = Variable.Parameter(w, "weight");
    }

    /// <summary>Wraps an existing (V,E) table (e.g. loaded from a checkpoint); the tensor is not copied.</summary>
    public Embedding(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2)
            throw new ArgumentException($"weight: expected (V,E), found {Tensor.FormatShape(weight.Shape)}", nameof(weight));
        Weight = Variable.Parameter(weight, "weight");
    }

    /// <summary>(V,E)</summary>
    public Variable Weight { get; }

    /// <summary>V: the number of rows (token ids 0..V-1).</summary>
    public int NumEmbeddings => Weight.Shape[0];
    /// <summary>E: the length of each embedding vector.</summary>
    public int EmbeddingDim => Weight.Shape[1];

    /// <summary>ids laid out as <paramref name="shape"/> -> (shape..., E).</summary>
    public Variable Forward(Tape tape, int[] ids, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(tape);
        return tape.Embedding(Weight, ids, shape);
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Variable Parameter)> NamedParameters(string prefix = "")
    {
        yield return (prefix + "weight", Weight);
    }
}

/// <summary>nn.Linear: y = x W^T + b with W (Out,In), b (Out), both initialised U(-1/sqrt(In), 1/sqrt(In)).</summary>
public sealed class Linear : Module
{
    /// <summary>A new layer y = x W^T + b, W (Out,In) and b (Out) drawn U(-1/sqrt(In), 1/sqrt(In)) from <paramref name="rng"/> as in torch.nn.Linear.</summary>
    public Linear(int inFeatures, int outFeatures, Random rng, bool bias = true)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (inFeatures <= 0)
            throw new ArgumentException($"inFeatures: must be positive, got {inFeatures}", nameof(inFeatures));
        if (outFeatures <= 0)
            throw new ArgumentException($"outFeatures: must be positive, got {outFeatures}", nameof(outFeatures));
        float bound = 1f / MathF.Sqrt(inFeatures);
        Weight = Variable.Parameter(Uniform(rng, bound, outFeatures, inFeatures), "weight");
        Bias = bias ? Variable.Parameter(Uniform(rng, bound, outFeatures), "bias") : null;
    }

    /// <summary>Wraps existing tensors: weight (Out,In), bias (Out) or null; not copied.</summary>
    public Linear(Tensor weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2)
            throw new ArgumentException($"weight: expected (Out,In), found {Tensor.FormatShape(weight.Shape)}", nameof(weight));
        if (bias != null && !bias.HasShape(weight.Shape[0]))
            throw new ArgumentException($"bias: expected ({weight.Shape[0]},), found {Tensor.FormatShape(bias.Shape)}", nameof(bias));
        Weight = Variable.Parameter(weight, "weight");
        Bias = bias == null ? null : Variable.Parameter(bias, "bias");
    }

    /// <summary>(Out,In)</summary>
    public Variable Weight { get; }

    /// <summary>(Out) or null.</summary>
    public Variable? Bias { get; }

    /// <summary>The input feature size (columns of the weight).</summary>
    public int InFeatures => Weight.Shape[1];
    /// <summary>The output feature size (rows of the weight).</summary>
    public int OutFeatures => Weight.Shape[0];

    /// <summary>(..., In) -> (..., Out)</summary>
    public Variable Forward(Tape tape, Variable x)
    {
        ArgumentNullException.ThrowIfNull(tape);
        return tape.Linear(x, Weight, Bias);
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Variable Parameter)> NamedParameters(string prefix = "")
    {
        yield return (prefix + "weight", Weight);
        if (Bias != null) yield return (prefix + "bias", Bias);
    }
}

/// <summary>
/// nn.RNN/LSTM/GRU: a plan on one backend plus Variables wrapping the plan's parameter tensors (names as in
/// PyTorch's state_dict). Dispose releases the plan.
/// </summary>
public sealed class RnnLayer : Module, IDisposable
{
    /// <summary>New parameters with PyTorch's default init U(-1/sqrt(H), 1/sqrt(H)).</summary>
    public RnnLayer(RnnDesc desc, Backend backend, Random rng)
        : this(RnnParameters.Create(desc, rng), backend)
    {
    }

    /// <summary>Existing parameters (e.g. from a checkpoint); the tensors are used in place.</summary>
    public RnnLayer(RnnParameters parameters, Backend backend)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(backend);
        Plan = backend.CreateRnnPlan(parameters);
        var ids = Plan.Parameters.Ids;
        var tensors = Plan.Parameters.Tensors;
        var weights = new Variable[tensors.Count];
        for (int i = 0; i < weights.Length; i++) weights[i] = Variable.Parameter(tensors[i], ids[i].TorchName);
        Weights = weights;
    }

    /// <summary>The backend plan that runs this layer's forward and backward.</summary>
    public IRnnPlan Plan { get; }
    /// <summary>The shape of the RNN stack (cell, sizes, layers, directions).</summary>
    public RnnDesc Desc => Plan.Desc;

    /// <summary>Aligned with Plan.Parameters.Ids / Tensors.</summary>
    public IReadOnlyList<Variable> Weights { get; }

    /// <summary>input (T,N,I) or (N,T,I) when batch_first; h0 (L*D,N,H_out); c0 (L*D,N,H); lengths (N).</summary>
    public RnnOutputs Forward(Tape tape, Variable input, Variable? h0 = null, Variable? c0 = null, int[]? lengths = null)
    {
        ArgumentNullException.ThrowIfNull(tape);
        return tape.Rnn(Plan, input, h0, c0, lengths, Weights);
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Variable Parameter)> NamedParameters(string prefix = "")
    {
        var ids = Plan.Parameters.Ids;
        for (int i = 0; i < Weights.Count; i++) yield return (prefix + ids[i].TorchName, Weights[i]);
    }

    /// <summary>Releases the backend plan (device memory for GPU backends).</summary>
    public void Dispose() => Plan.Dispose();
}
