// Adagrad as torch.optim.Adagrad computes it: a running sum of squared gradients per element (starting at
// initialAccumulatorValue), learning rate decayed as lr / (1 + (step - 1) * lrDecay), L2 weight decay.
using RnnFast.Autograd;

namespace RnnFast.Optim;

/// <summary>Adagrad with PyTorch semantics (lr decay, weight decay, initial accumulator, eps).</summary>
public sealed class Adagrad : Optimizer
{
    private readonly Tensor[] _sums;   // per parameter: sum of squared gradients

    /// <summary>Adagrad over <paramref name="parameters"/> (as torch.optim.Adagrad): step size lr / (1 + (step-1) * lrDecay), L2 <paramref name="weightDecay"/>, accumulators starting at <paramref name="initialAccumulatorValue"/>, <paramref name="eps"/> added to the root.</summary>
    public Adagrad(IReadOnlyList<Variable> parameters, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0,
        double initialAccumulatorValue = 0, double eps = 1e-10)
        : base(parameters, lr)
    {
        CheckNonNegative(lrDecay, nameof(lrDecay));
        CheckNonNegative(weightDecay, nameof(weightDecay));
        CheckNonNegative(initialAccumulatorValue, nameof(initialAccumulatorValue));
        CheckNonNegative(eps, nameof(eps));
        LrDecay = lrDecay;
        WeightDecay = weightDecay;
        InitialAccumulatorValue = initialAccumulatorValue;
        Eps = eps;
        _sums = ZerosLikeParameters();
        foreach (var s in _sums) s.Span.Fill((float)initialAccumulatorValue);
        UseStepCounters();
    }

    /// <summary>The learning-rate decay per step (0 = constant).</summary>
    public double LrDecay { get; }
    /// <summary>L2 penalty added to each gradient (weight_decay * parameter).</summary>
    public double WeightDecay { get; }
    /// <summary>The starting value of every squared-gradient accumulator.</summary>
    public double InitialAccumulatorValue { get; }
    /// <summary>Added to the square root of the accumulator, for numerical stability.</summary>
    public double Eps { get; }

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, Tensor> StateTensors() =>
        NamedState(("sum", _sums));

    /// <inheritdoc/>
    protected override void Update(int index, Span<float> param, ReadOnlySpan<float> grad)
    {
        double step = AdvanceStep(index);
        var sum = _sums[index].Span;
        float wd = (float)WeightDecay;
        float negClr = (float)(-LearningRate / (1 + (step - 1) * LrDecay));
        float eps = (float)Eps;
        for (int i = 0; i < param.Length; i++)
        {
            float g = grad[i];
            if (wd != 0) g += wd * param[i];
            sum[i] += g * g;
            float std = MathF.Sqrt(sum[i]) + eps;
            param[i] += negClr * g / std;
        }
    }
}
