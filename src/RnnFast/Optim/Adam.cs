// Adam as torch.optim.Adam computes it (amsgrad off, L2 weight decay added to the gradient): the moments and the
// update are float, the bias corrections double; each parameter keeps its own step counter ("step.i").
using RnnFast.Autograd;

namespace RnnFast.Optim;

/// <summary>Adam with PyTorch semantics (bias-corrected, L2 weight decay added to the gradient, non-amsgrad).</summary>
public sealed class Adam : Optimizer
{
    private readonly Tensor[] _expAvg;    // m per parameter
    private readonly Tensor[] _expAvgSq;  // v per parameter
    private readonly Tensor[] _steps;     // (1,) per parameter: updates applied to it (float, as PyTorch stores it)

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
        _steps = Parameters.Select(_ => Tensor.Zeros(1)).ToArray();
    }

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double WeightDecay { get; }

    public override IReadOnlyDictionary<string, Tensor> StateTensors()
    {
        var state = new Dictionary<string, Tensor>();
        for (int i = 0; i < _expAvg.Length; i++)
        {
            state[$"step.{i}"] = _steps[i];
            state[$"exp_avg.{i}"] = _expAvg[i];
            state[$"exp_avg_sq.{i}"] = _expAvgSq[i];
        }
        return state;
    }

    protected override void OnStepCountSet(int value)
    {
        foreach (var s in _steps) s.Span[0] = value;
    }

    protected override void Update(int index, Span<float> param, ReadOnlySpan<float> grad)
    {
        var stepT = _steps[index].Span;
        stepT[0] += 1f;
        double step = stepT[0];
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
