// Adam as torch.optim.Adam computes it (amsgrad off, L2 weight decay added to the gradient): the moments and the
// update are float, the bias corrections double; each parameter keeps its own step counter ("step.i").
using RnnFast.Autograd;

namespace RnnFast.Optim;

/// <summary>Adam with PyTorch semantics (bias-corrected, L2 weight decay added to the gradient, non-amsgrad).</summary>
public sealed class Adam : Optimizer
{
    private readonly Tensor[] _expAvg;    // m per parameter
    private readonly Tensor[] _expAvgSq;  // v per parameter

    /// <summary>Adam over <paramref name="parameters"/> with PyTorch's defaults and semantics (bias-corrected moments, L2 <paramref name="weightDecay"/> added to the gradient, not decoupled).</summary>
    public Adam(IReadOnlyList<Variable> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0)
        : base(parameters, lr)
    {
        CheckBeta(beta1, nameof(beta1));
        CheckBeta(beta2, nameof(beta2));
        CheckNonNegative(eps, nameof(eps));
        CheckNonNegative(weightDecay, nameof(weightDecay));
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        _expAvg = ZerosLikeParameters();
        _expAvgSq = ZerosLikeParameters();
        UseStepCounters();
    }

    /// <summary>Decay of the first-moment (mean) estimate.</summary>
    public double Beta1 { get; }
    /// <summary>Decay of the second-moment (uncentred variance) estimate.</summary>
    public double Beta2 { get; }
    /// <summary>Added to the root of the second moment, for numerical stability.</summary>
    public double Eps { get; }
    /// <summary>L2 penalty added to each gradient (weight_decay * parameter).</summary>
    public double WeightDecay { get; }

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, Tensor> StateTensors() =>
        NamedState(("exp_avg", _expAvg), ("exp_avg_sq", _expAvgSq));

    /// <inheritdoc/>
    protected override void Update(int index, Span<float> param, ReadOnlySpan<float> grad)
    {
        double step = AdvanceStep(index);
        var m = _expAvg[index].Span;
        var v = _expAvgSq[index].Span;

        float wd = (float)WeightDecay;
        float w1 = (float)(1 - Beta1);  // lerp weight
        float b2 = (float)Beta2, w2 = (float)(1 - Beta2);
        double biasCorrection1 = 1 - Math.Pow(Beta1, step);
        double biasCorrection2 = 1 - Math.Pow(Beta2, step);
        float negStepSize = (float)(-LearningRate / biasCorrection1);
        float bc2Sqrt = (float)Math.Sqrt(biasCorrection2);
        float eps = (float)Eps;

        for (int i = 0; i < param.Length; i++)
        {
            float g = grad[i];
            if (wd != 0) g += wd * param[i];
            // torch's lerp: m + w (g - m) for w < 0.5, else g - (g - m)(1 - w)
            m[i] = w1 < 0.5f ? m[i] + w1 * (g - m[i]) : g - (g - m[i]) * (1f - w1);
            v[i] = v[i] * b2 + w2 * g * g;
            float denom = MathF.Sqrt(v[i]) / bc2Sqrt + eps;
            param[i] += negStepSize * m[i] / denom;
        }
    }
}
