// BenchmarkDotNet suites over the same problem lists as `rnnfast bench` (principle 9: problems are data): one cell
// step (a T=1 forward), a whole layer stack's forward, and a training step (forward with workspace + backward), each
// with [MemoryDiagnoser]. Every case first checks the backend against the reference on the problem's shape (reduced
// T and N, as rnnfast bench does) and refuses to time a wrong backend.
// Shapes of the data: X (T,N,I), dY (T,N,D*H); a cell step is X (1,N,I).
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using RnnFast.Backends;
using RnnFast.Bench;

namespace RnnFast.Benchmarks;

/// <summary>A problem of the shapes list, shown by its name in BenchmarkDotNet's tables.</summary>
public sealed class ProblemCase(BenchProblem problem)
{
    public BenchProblem Problem { get; } = problem;

    public override string ToString()
    {
        var p = Problem;
        return $"{p.CellName} T={p.T} N={p.N} I={p.I} H={p.H}" + (p.Layers > 1 ? $" L={p.Layers}" : "") + (p.Bidirectional ? " bi" : "") +
               (p.Phase == BenchPhase.Training ? " train" : "");
    }
}

/// <summary>Shows problem names whole in the summary tables (BenchmarkDotNet cuts parameters at 20 characters).</summary>
public sealed class SuiteConfig : ManualConfig
{
    public SuiteConfig() => SummaryStyle = SummaryStyle.Default.WithMaxParameterColumnWidth(48);
}

/// <summary>Where the problems and backends come from (environment variables, see Program.cs).</summary>
public static class SuiteData
{
    public static IReadOnlyList<BenchProblem> Problems { get; } =
        ProblemFile.Load(ProblemFile.Resolve(Environment.GetEnvironmentVariable("RNNFAST_BENCH_SHAPES") is { Length: > 0 } s ? s : "small"));

    public static IEnumerable<string> BackendNames()
    {
        var spec = Environment.GetEnvironmentVariable("RNNFAST_BENCH_BACKENDS");
        var names = string.IsNullOrWhiteSpace(spec)
            ? BackendRegistry.All.Where(b => b.IsAvailable && b.Name != "reference").Select(b => b.Name)
            : spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return names.Where(n => BackendRegistry.All.Any(b => b.Name == n && b.IsAvailable));
    }
}

/// <summary>Shared setup: the backend, the plan and the inputs of one problem, checked against the reference first.</summary>
[Config(typeof(SuiteConfig))]
public abstract class RnnSuite
{
    private IRnnPlan? _plan;
    private RnnInputs? _inputs;
    private Tensor? _dy;

    [ParamsSource(nameof(BackendNames))]
    public string Backend { get; set; } = "cpu";

    public IEnumerable<string> BackendNames() => SuiteData.BackendNames();

    /// <summary>The phase this suite times; its problems are the list's lines of that phase (cell steps: all).</summary>
    protected abstract BenchPhase? Phase { get; }

    /// <summary>The sequence length this suite runs a problem at (a cell step: 1).</summary>
    protected virtual int SeqLen(BenchProblem p) => p.T;

    protected IEnumerable<ProblemCase> CasesOf(BenchPhase? phase) =>
        SuiteData.Problems.Where(p => phase == null || p.Phase == phase).Select(p => new ProblemCase(p));

    protected void Setup(BenchProblem problem)
    {
        var backend = BackendRegistry.Get(Backend);
        var check = BenchRunner.CheckOnly(problem, backend);
        if (!check.Correct)
            throw new InvalidOperationException($"{problem} on {Backend} does not match the reference ({check.Check}): {check.CheckFailure}");
        var desc = problem.ToDesc();
        _plan = backend.CreateRnnPlan(RnnParameters.Create(desc, new Random(1)));
        var rng = new Random(2);
        int t = SeqLen(problem);
        _inputs = new RnnInputs(Fill(Tensor.Zeros(t, problem.N, problem.I), rng).To(backend));
        if (Phase == BenchPhase.Training) _dy = Fill(Tensor.Zeros(t, problem.N, desc.OutputSize), rng).To(backend);
    }

    [GlobalCleanup]
    public void Cleanup() => _plan?.Dispose();

    protected RnnForwardResult Forward() => _plan!.Forward(_inputs!, training: false);

    protected RnnGradients ForwardBackward()
    {
        var r = _plan!.Forward(_inputs!, training: true);
        return _plan.Backward(_inputs!, r, _dy, null, null);
    }

    private static Tensor Fill(Tensor t, Random rng)
    {
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextDouble() * 2 - 1);
        return t;
    }
}

/// <summary>One time step of every problem's stack: X (1,N,I), the recurrent GEMM plus gate math per layer.</summary>
[MemoryDiagnoser]
[Config(typeof(SuiteConfig))]
public class CellStep : RnnSuite
{
    [ParamsSource(nameof(Cases))]
    public ProblemCase Case { get; set; } = null!;

    public IEnumerable<ProblemCase> Cases() => CasesOf(null);

    protected override BenchPhase? Phase => BenchPhase.Inference;
    protected override int SeqLen(BenchProblem p) => 1;

    [GlobalSetup]
    public void GlobalSetup() => Setup(Case.Problem);

    [Benchmark]
    public RnnForwardResult Step() => Forward();
}

/// <summary>The whole stack's inference forward over T steps, for the list's inference problems.</summary>
[MemoryDiagnoser]
[Config(typeof(SuiteConfig))]
public class LayerForward : RnnSuite
{
    [ParamsSource(nameof(Cases))]
    public ProblemCase Case { get; set; } = null!;

    public IEnumerable<ProblemCase> Cases() => CasesOf(BenchPhase.Inference);

    protected override BenchPhase? Phase => BenchPhase.Inference;

    [GlobalSetup]
    public void GlobalSetup() => Setup(Case.Problem);

    [Benchmark]
    public RnnForwardResult Forward_() => Forward();
}

/// <summary>A training step: forward with workspace, then backward through time, for the list's training problems.</summary>
[MemoryDiagnoser]
[Config(typeof(SuiteConfig))]
public class TrainingStep : RnnSuite
{
    [ParamsSource(nameof(Cases))]
    public ProblemCase Case { get; set; } = null!;

    public IEnumerable<ProblemCase> Cases() => CasesOf(BenchPhase.Training);

    protected override BenchPhase? Phase => BenchPhase.Training;

    [GlobalSetup]
    public void GlobalSetup() => Setup(Case.Problem);

    [Benchmark]
    public RnnGradients ForwardAndBackward() => ForwardBackward();
}
