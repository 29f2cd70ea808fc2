// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, following
// torch.optim.SGD (dampening 0: the momentum buffer starts as the first gradient).
using RnnFast.Autograd;

namespace RnnFast.Optim;

/// <summary>Stochastic gradient descent with optional momentum, Nesterov and weight decay (PyTorch semantics).</summary>
public sealed class Sgd : Optimizer
{
    private readonly Tensor[]? _buffers; // momentum_buffer per parameter (only when momentum != 0)

    /// <summary>SGD over <paramref name="parameters"/> as torch.optim.SGD (no dampening): optional <paramref name="momentum"/>, L2 <paramref name="weightDecay"/>, <paramref name="nesterov"/> momentum (needs momentum &gt; 0).</summary>
    public Sgd(IReadOnlyList<Variable> parameters, double lr, double momentum = 0, double weightDecay = 0, bool nesterov = false)
        : base(parameters, lr)
    {
        CheckNonNegative(momentum, nameof(momentum));
        CheckNonNegative(weightDecay, nameof(weightDecay));
        if (nesterov && momentum <= 0)
            throw new ArgumentException("nesterov: Nesterov momentum requires momentum > 0", nameof(nesterov));
        Momentum = momentum;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
        // A zero buffer gives exactly PyTorch's first step (buf = momentum * 0 + g = g, since dampening is 0).
        if (momentum != 0) _buffers = ZerosLikeParameters();
    }

    /// <summary>Momentum factor (0 = plain SGD).</summary>
    public double Momentum { get; }
    /// <summary>L2 penalty added to each gradient (weight_decay * parameter).</summary>
    public double WeightDecay { get; }
    /// <summary>True for Nesterov momentum.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, Tensor> StateTensors() =>
        _buffers == null ? new Dictionary<string, Tensor>() : NamedState(("momentum_buffer", _buffers));

    /// <inheritdoc/>
    protected override void Update(int index, Span<float> param, ReadOnlySpan<float> grad)
    {
        float lr = (float)LearningRate, wd = (float)WeightDecay, mom = (float)Momentum;
        Span<float> buf = _buffers != null ? _buffers[index].Span : default;
        for (int i = 0; i < param.Length; i++)
        {
            float d = grad[i];
            if (wd != 0) d += wd * param[i];
            if (_buffers != null)
            {
                float b = mom * buf[i] + d;
                buf[i] = b;
                d = Nesterov ? d + mom * b : b;
            }
            param[i] -= lr * d;
        }
    }
}
