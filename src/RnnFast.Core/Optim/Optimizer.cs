// The optimizer base: a fixed list of parameter Variables, Step() (in-place update of each parameter that has a
// gradient, followed by Tensor.MarkChanged so converting backends re-pack weights), ZeroGrad, a settable step
// count and the named state tensors that a checkpoint saves and restores (restore = copy into them).
using RnnFast.Autograd;

namespace RnnFast.Optim;

/// <summary>Base of the optimizers: skips parameters without gradient, bumps tensor versions, exposes state for checkpoints.</summary>
public abstract class Optimizer
{
    private double _lr;
    private int _stepCount;

    /// <summary>Checks <paramref name="parameters"/> (non-empty, distinct, host tensors that require grad) and sets the learning rate.</summary>
    protected Optimizer(IReadOnlyList<Variable> parameters, double lr = 0)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count == 0)
            throw new ArgumentException("parameters: the optimizer got an empty parameter list", nameof(parameters));
        var seen = new HashSet<Variable>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i] ?? throw new ArgumentException($"parameters: entry {i} is null", nameof(parameters));
            if (!p.RequiresGrad)
                throw new ArgumentException($"parameters: entry {i} ({p}) does not require grad", nameof(parameters));
            if (!p.Value.IsHost)
                throw new ArgumentException($"parameters: entry {i} ({p}) is not a host tensor", nameof(parameters));
            if (!seen.Add(p))
                throw new ArgumentException($"parameters: entry {i} ({p}) appears more than once", nameof(parameters));
        }
        Parameters = parameters.ToArray();
        LearningRate = lr;
    }

    /// <summary>The parameters this optimizer updates, in the order given.</summary>
    public IReadOnlyList<Variable> Parameters { get; }

    /// <summary>The learning rate (settable, e.g. by a schedule); must be &gt;= 0.</summary>
    public double LearningRate
    {
        get => _lr;
        set
        {
            if (!(value >= 0) || double.IsInfinity(value))
                throw new ArgumentException($"lr: learning rate must be finite and >= 0, got {value}", "lr");
            _lr = value;
        }
    }

    /// <summary>
    /// Number of Step() calls so far; settable to resume from a checkpoint. Setting it also sets the per-parameter
    /// step counters of optimizers that keep them (Adam, Adagrad: the "step.i" state tensors).
    /// </summary>
    public int StepCount
    {
        get => _stepCount;
        set
        {
            if (value < 0) throw new ArgumentException($"StepCount: must be >= 0, got {value}", nameof(value));
            _stepCount = value;
            OnStepCountSet(value);
        }
    }

    /// <summary>Updates every parameter whose Grad is not null, then increments <see cref="StepCount"/>.</summary>
    public virtual void Step()
    {
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            if (p.Grad == null) continue;
            Update(i, p.Value.Span, p.Grad.IsHost ? p.Grad.HostArray : p.Grad.ToArray());
            p.Value.MarkChanged();
        }
        _stepCount++;
    }

    /// <summary>Clears every parameter's gradient (to null by default, like PyTorch's set_to_none).</summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var p in Parameters) p.ZeroGrad(setToNone);
    }

    /// <summary>
    /// The optimizer's state as named live tensors (e.g. "exp_avg.3" for parameter 3), in a stable order. A checkpoint
    /// saves them; restoring copies saved values into these same tensors (plus setting <see cref="StepCount"/>).
    /// </summary>
    public abstract IReadOnlyDictionary<string, Tensor> StateTensors();

    /// <summary>Updates parameter <paramref name="index"/> in place from its gradient.</summary>
    protected abstract void Update(int index, Span<float> param, ReadOnlySpan<float> grad);

    /// <summary>Called when <see cref="StepCount"/> is assigned (resume): per-parameter counters, if any, follow it.</summary>
    protected virtual void OnStepCountSet(int value)
    {
        if (_stepCounters == null) return;
        foreach (var s in _stepCounters) s.Span[0] = value;
    }

    private Tensor[]? _stepCounters; // (1,) per parameter: updates applied to it (float, as PyTorch stores "step")

    /// <summary>Gives every parameter its own step counter ("step.i"), as Adam and Adagrad keep them.</summary>
    private protected void UseStepCounters() => _stepCounters = Parameters.Select(_ => Tensor.Zeros(1)).ToArray();

    /// <summary>Increments parameter <paramref name="index"/>'s step counter and returns the new count.</summary>
    private protected double AdvanceStep(int index)
    {
        var counter = _stepCounters![index].Span;
        counter[0] += 1f;
        return counter[0];
    }

    /// <summary>The state as "step.i" (when counted) then "&lt;name&gt;.i" for each named per-parameter tensor, parameter by parameter.</summary>
    private protected IReadOnlyDictionary<string, Tensor> NamedState(params (string Name, Tensor[] Tensors)[] perParameter)
    {
        var state = new Dictionary<string, Tensor>();
        for (int i = 0; i < Parameters.Count; i++)
        {
            if (_stepCounters != null) state[$"step.{i}"] = _stepCounters[i];
            foreach (var (name, tensors) in perParameter) state[$"{name}.{i}"] = tensors[i];
        }
        return state;
    }

    /// <summary>Throws an ArgumentException naming <paramref name="name"/> unless <paramref name="value"/> is finite and &gt;= 0.</summary>
    protected static void CheckNonNegative(double value, string name)
    {
        if (!(value >= 0) || double.IsInfinity(value))
            throw new ArgumentException($"{name}: must be finite and >= 0, got {value}", name);
    }

    /// <summary>Throws an ArgumentException naming <paramref name="name"/> unless <paramref name="value"/> is in [0, 1).</summary>
    protected static void CheckBeta(double value, string name)
    {
        if (!(value >= 0 && value < 1))
            throw new ArgumentException($"{name}: must be in [0, 1), got {value}", name);
    }

    /// <summary>Zero tensors shaped like each parameter.</summary>
    private protected Tensor[] ZerosLikeParameters() =>
        Parameters.Select(p => Tensor.Zeros((int[])p.Shape.Clone())).ToArray();
}
