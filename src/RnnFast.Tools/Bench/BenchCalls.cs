// One backend's calls on one problem exactly as `rnnfast bench` makes them (the same weights and inputs from the seed,
// a training call a forward with workspace plus the backward into kept buffers), for harnesses that time rnnfast beside
// another engine in one process: bench/peers' paired mode alternates windows of a peer and of rnnfast with CallTimer.
using RnnFast.Backends;

namespace RnnFast.Bench;

/// <summary>A backend's plan for one problem and its calls over the first t steps (seconds per call).</summary>
public sealed class BenchCalls : IDisposable
{
    private readonly BenchRunner.ProblemWork _work;
    private readonly Backend _backend;
    private readonly IRnnPlan _plan;

    /// <summary>Makes the backend's plan for <paramref name="problem"/> (weights from <see cref="BenchOptions.Seed"/>).</summary>
    public BenchCalls(BenchProblem problem, Backend backend, BenchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(backend);
        backend.EnsureAvailable();
        _work = new BenchRunner.ProblemWork(problem, options ?? new BenchOptions());
        _backend = backend;
        _plan = backend.CreateRnnPlan(_work.Parameters);
    }

    /// <summary>A call over the first <paramref name="t"/> steps (its inputs made now), returning its seconds.</summary>
    public Func<double> At(int t)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(t, 1);
        var run = _work.Timing(_backend, t);
        return () => run.RunOnce(_plan);
    }

    /// <summary>Releases the plan.</summary>
    public void Dispose() => _plan.Dispose();
}
