// How a trainer saves state of its own with the optimizer's: a stand-in optimizer whose state tensors are the real
// optimizer's plus extra named tensors (keep-best's best parameters, HeldOutTracker.BestTensors), so Checkpoint.Save
// writes them as "optim.<name>" tensors (which a model load skips and RestoreOptimizer ignores). It never steps.
using RnnFast.Autograd;
using RnnFast.Optim;

namespace RnnFast.Training;

internal sealed class StateCarryingOptimizer : Optimizer
{
    private readonly Optimizer _inner;
    private readonly IReadOnlyDictionary<string, Tensor> _state;

    /// <summary>The state of <paramref name="inner"/> plus <paramref name="extra"/> (names must not clash with the optimizer's).</summary>
    public StateCarryingOptimizer(Optimizer inner, IEnumerable<(string Name, Tensor Value)> extra) : base(inner.Parameters, inner.LearningRate)
    {
        _inner = inner;
        var state = new Dictionary<string, Tensor>(inner.StateTensors());
        foreach (var (name, value) in extra) state.Add(name, value);
        _state = state;
        StepCount = inner.StepCount;
    }

    /// <summary>Carries <paramref name="extra"/> when there is any, else <paramref name="inner"/> itself.</summary>
    public static Optimizer With(Optimizer inner, IEnumerable<(string Name, Tensor Value)> extra)
    {
        var list = extra.ToList();
        return list.Count == 0 ? inner : new StateCarryingOptimizer(inner, list);
    }

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, Tensor> StateTensors() => _state;

    /// <inheritdoc/>
    protected override void OnStepCountSet(int value) { } // the inner optimizer's counters are not this one's to change

    /// <inheritdoc/>
    public override void Step() => throw new InvalidOperationException($"{nameof(StateCarryingOptimizer)} only carries state for a save; step {_inner.GetType().Name} itself");

    /// <inheritdoc/>
    protected override void Update(int index, Span<float> param, ReadOnlySpan<float> grad) => throw new InvalidOperationException("never steps");
}
