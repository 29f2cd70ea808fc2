// The benchmark driver. For each problem and backend: (1) a correctness check against the reference backend on the
// same shape with T cut to CheckMaxT and N halved until the reference's work fits CheckMaxFlops (forward outputs for
// inference; plus every gradient for training); (2) warm-up until the timings settle (WarmUp.cs, independent of the
// budget); (3) repeated timing until the per-problem budget (MaxSeconds) or the repetition cap. A call at the full T
// that would not fit the budget twice is timed at a shorter T instead, and at half that T, the full T's time read off
// the line through both (time is linear in T plus a per-call cost; reported as timed_T, timed_half_T and cut), never
// silently.
// A backend whose plan throws NotSupportedException refused the problem: its row is recorded as not run (correct false,
// nothing timed, `refused` and `error` say who refused and why).
// Backends are passed in as objects, so a test can hand in a deliberately wrong one.
using System.Diagnostics;
using RnnFast.Backends;
using RnnFast.Checks;

namespace RnnFast.Bench;

/// <summary>How `--phase` treats the phase written on each line.</summary>
public enum PhaseSelection
{
    /// <summary>Each problem in the phase its line names.</summary>
    AsWritten,
    /// <summary>Every shape as inference.</summary>
    Inference,
    /// <summary>Every shape as training.</summary>
    Training,
    /// <summary>Every shape in both phases.</summary>
    Both,
}

/// <summary>Settings of a benchmark run.</summary>
public sealed class BenchOptions
{
    /// <summary>
    /// Time budget per problem and backend for the timed calls, in seconds. The check and the warm-up (until the
    /// timings settle, see <see cref="WarmUp"/>) are extra and do not depend on it.
    /// </summary>
    public double MaxSeconds { get; init; } = 2;

    /// <summary>At most this many timed calls per problem and backend.</summary>
    public int MaxRepetitions { get; init; } = 50;

    /// <summary>The scalar reference backend is timed with at most this many calls (and one warm-up).</summary>
    public int ReferenceMaxRepetitions { get; init; } = 3;

    /// <summary>The correctness check runs at T = min(T, CheckMaxT).</summary>
    public int CheckMaxT { get; init; } = 4;

    /// <summary>N of the check is halved (then T shortened) until the check's FLOPs are at most this.</summary>
    public double CheckMaxFlops { get; init; } = 3e8;

    /// <summary>When the warm-up before the timed calls counts as settled (null: <see cref="WarmUpPolicy"/>'s defaults).</summary>
    public WarmUpPolicy? WarmUp { get; init; }

    /// <summary>Worker threads for backends that take a count (<see cref="IBackendThreads"/>); null leaves them as they are.</summary>
    public int? Threads { get; init; }

    /// <summary>Which phases to time: each problem as written (default), or every shape as inference, training or both.</summary>
    public PhaseSelection Phase { get; init; } = PhaseSelection.AsWritten;

    /// <summary>Seeds the weights and inputs (the same for every backend).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Seconds the FMA peak probe measures for.</summary>
    public double PeakProbeSeconds { get; init; } = 0.2;

    /// <summary>The backend the others are checked against (default: the registry's reference backend).</summary>
    public Backend? Oracle { get; init; }

    /// <summary>The backend ratios are shown against (default: the first backend that was timed).</summary>
    public string? Baseline { get; init; }

    /// <summary>Where the problems came from, for the report.</summary>
    public string Shapes { get; init; } = "";

    /// <summary>
    /// Time each problem's backends in alternating windows (rounds of about <see cref="InterleaveWindowSeconds"/> each,
    /// in order, then in reverse, ...) instead of one after another, and give each pair of backends the median of
    /// their per-round ratios (<see cref="BenchResult.PairedSpeedupVs"/>): on a shared machine a slow stretch then slows
    /// both sides of a pair instead of whichever backend happened to run in it. Each backend still gets
    /// <see cref="MaxSeconds"/> of timed calls in all. Every backend's plan and buffers for the problem are held at
    /// once (one after another otherwise), so a problem needs the memory of all of them together.
    /// </summary>
    public bool Interleave { get; init; }

    /// <summary>
    /// The length of one backend's window in an interleaved round, in seconds (shorter where the budget would give
    /// fewer than <see cref="BenchRunner.MinRounds"/> rounds).
    /// </summary>
    public double InterleaveWindowSeconds { get; init; } = 0.25;

    /// <summary>
    /// The pause before each interleaved window, in seconds, so that the previous backend's idle threads have stopped
    /// spinning (the window then starts with one untimed call).
    /// </summary>
    public double InterleaveGapSeconds { get; init; } = 0.05;
}

/// <summary>What the runner is doing now, for a progress display.</summary>
public sealed record BenchProgress(int Index, int Total, BenchProblem Problem, string Backend, string Stage, BenchResult? Result = null);

/// <summary>Runs problems on backends: check, warm up, time; then computes ratios between backends.</summary>
public sealed partial class BenchRunner
{
    private readonly IReadOnlyList<Backend> _backends;
    private readonly IReadOnlyList<UnavailableBackend> _unavailable;
    private readonly BenchOptions _options;
    private readonly Backend _oracle;

    /// <param name="backends">The backends to run, in order; unavailable ones are reported with their reason.</param>
    /// <param name="options">Budget, check sizes, threads, phase selection.</param>
    /// <param name="alsoUnavailable">Requested backends that do not exist here (e.g. not registered in this build).</param>
    public BenchRunner(IEnumerable<Backend> backends, BenchOptions? options = null, IEnumerable<UnavailableBackend>? alsoUnavailable = null)
    {
        ArgumentNullException.ThrowIfNull(backends);
        _options = options ?? new BenchOptions();
        var all = backends.ToList();
        _backends = all.Where(b => b.IsAvailable).ToList();
        _unavailable = all.Where(b => !b.IsAvailable).Select(b => new UnavailableBackend(b.Name, b.Availability.Reason))
            .Concat(alsoUnavailable ?? []).ToList();
        _oracle = _options.Oracle ?? BackendRegistry.All.First(b => b.Name == "reference");
    }

    /// <summary>The backends that will run.</summary>
    public IReadOnlyList<Backend> Backends => _backends;

    /// <summary>Applies the phase selection: the problems that will run, in order, without duplicates.</summary>
    public static IReadOnlyList<BenchProblem> Select(IEnumerable<BenchProblem> problems, PhaseSelection phase)
    {
        var list = new List<BenchProblem>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in problems)
        {
            IEnumerable<BenchProblem> expanded = phase switch
            {
                PhaseSelection.Inference => [p.WithPhase(BenchPhase.Inference)],
                PhaseSelection.Training => [p.WithPhase(BenchPhase.Training)],
                PhaseSelection.Both => [p.WithPhase(BenchPhase.Inference), p.WithPhase(BenchPhase.Training)],
                _ => [p],
            };
            foreach (var q in expanded)
                if (seen.Add(q.ToString())) list.Add(q);
        }
        return list;
    }

    /// <summary>Runs every selected problem on every available backend.</summary>
    public BenchReport Run(IReadOnlyList<BenchProblem> problems, Action<BenchProgress>? progress = null, BenchMachine? machine = null,
        CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(problems);
        var notes = ApplyThreads();
        machine ??= BenchMachine.Detect(_backends, _options.PeakProbeSeconds);
        var selected = Select(problems, _options.Phase);
        var results = new List<BenchResult>();
        int total = selected.Count * _backends.Count, index = 0;
        foreach (var problem in selected)
        {
            if (cancel.IsCancellationRequested) break;
            var work = new ProblemWork(problem, _options);
            if (_options.Interleave && _backends.Count > 1)
            {
                results.AddRange(RunInterleaved(work, machine, (b, s, r) => progress?.Invoke(new BenchProgress(++index, total, problem, b, s, r)),
                    (b, s) => progress?.Invoke(new BenchProgress(Math.Min(index + 1, total), total, problem, b, s))));
                continue;
            }
            foreach (var backend in _backends)
            {
                if (cancel.IsCancellationRequested) break;
                index++;
                var result = RunOne(work, backend, machine, s => progress?.Invoke(new BenchProgress(index, total, problem, backend.Name, s)));
                results.Add(result);
                progress?.Invoke(new BenchProgress(index, total, problem, backend.Name, "done", result));
            }
        }
        ComputeRatios(results);
        string? baseline = _options.Baseline ?? results.FirstOrDefault(r => r.Timed)?.Backend;
        return new BenchReport
        {
            Machine = machine,
            Unavailable = _unavailable,
            Results = results,
            Baseline = baseline,
            Shapes = _options.Shapes,
            MaxSeconds = _options.MaxSeconds,
            Interleaved = _options.Interleave && _backends.Count > 1,
            Notes = notes,
        };
    }

    /// <summary>
    /// Only the correctness check of <paramref name="problem"/> on <paramref name="backend"/> against the reference (as
    /// <see cref="Run"/> does it before timing): for benchmarks that time elsewhere (BenchmarkDotNet) but must check first.
    /// </summary>
    public static BenchResult CheckOnly(BenchProblem problem, Backend backend, BenchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(backend);
        backend.EnsureAvailable();
        var runner = new BenchRunner([backend], options);
        var work = new ProblemWork(problem, runner._options);
        var result = new BenchResult { Problem = problem, Backend = backend.Name, Kind = backend.Kind == BackendKind.Gpu ? "gpu" : "cpu" };
        using var plan = backend.CreateRnnPlan(work.Parameters);
        runner.Check(work, backend, plan, result);
        return result;
    }

    private List<string> ApplyThreads()
    {
        var notes = new List<string>();
        if (_options.Threads is not int n) return notes;
        foreach (var b in _backends)
        {
            if (b is IBackendThreads t) t.Threads = n;
            else if (b.Kind == BackendKind.Cpu && n != Environment.ProcessorCount)
                notes.Add($"--threads {n}: backend '{b.Name}' has no thread setting; it runs on {Environment.ProcessorCount} thread(s) (one per logical core)");
        }
        return notes;
    }

    private int ThreadsOf(Backend b) =>
        b is IBackendThreads t ? t.Threads : ReferenceEquals(b, _oracle) ? 1 : b.Kind == BackendKind.Cpu ? Environment.ProcessorCount : 0;

    private BenchResult RunOne(ProblemWork work, Backend backend, BenchMachine machine, Action<string> stage)
    {
        var result = NewResultFor(work, backend, machine);
        IRnnPlan? plan = null;
        try
        {
            Attempt(result, backend, () =>
            {
                stage("check");
                plan = backend.CreateRnnPlan(work.Parameters);
                Check(work, backend, plan, result);
                GC.Collect();
                GC.WaitForPendingFinalizers();
                stage("timing");
                Time(work, backend, plan, result);
            });
        }
        finally
        {
            plan?.Dispose();
        }
        return result;
    }

    private BenchResult NewResultFor(ProblemWork work, Backend backend, BenchMachine machine) => new()
    {
        Problem = work.Problem,
        Backend = backend.Name,
        Kind = backend.Kind == BackendKind.Gpu ? "gpu" : "cpu",
        Threads = ThreadsOf(backend),
        PeakGflops = backend is IBackendDeviceInfo { PeakGflops: double gp } ? gp : backend.Kind == BackendKind.Cpu ? machine.PeakGflops : double.NaN,
    };

    /// <summary>
    /// Runs <paramref name="action"/> (a backend's check or timing), recording a failure on the result: a refusal
    /// (<see cref="NotSupportedException"/>, e.g. oneDNN has no primitive for the problem) marks the row not run, any
    /// other exception records its message. No other backend stands in for it.
    /// </summary>
    private static void Attempt(BenchResult result, Backend backend, Action action)
    {
        try
        {
            action();
        }
        catch (NotSupportedException e)
        {
            result.Correct = false;
            result.MaxAbsError = double.NaN; // nothing was compared
            result.Refused = e.Message.ReplaceLineEndings(" ");
            result.Error = $"not run: backend '{backend.Name}' refused it: {result.Refused}";
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            result.Correct = false;
            result.Error = $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ");
        }
    }

    // ------------------------------------------------------------------ correctness

    private void Check(ProblemWork work, Backend backend, IRnnPlan plan, BenchResult result)
    {
        var p = work.Problem;
        result.CheckT = work.CheckT;
        result.CheckN = work.CheckN;
        bool training = p.Phase == BenchPhase.Training;
        string compared = training ? "output, h_n" + (p.Cell == RnnMode.Lstm ? ", c_n" : "") + ", every gradient" : "output, h_n" + (p.Cell == RnnMode.Lstm ? ", c_n" : "");
        var expected = work.Expected(_oracle);
        if (ReferenceEquals(backend, _oracle))
        {
            result.Correct = true;
            result.MaxAbsError = 0;
            result.Check = "is the reference (the oracle)";
            result.CheckSeconds = work.ExpectedSeconds;
            return;
        }
        long start = Stopwatch.GetTimestamp();
        var actual = CheckOutputs.Compute(plan, work, backend);
        result.CheckSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var (atol, rtol) = backend.CheckTolerance;
        var checks = CheckOutputs.Compare(actual, expected, atol, rtol);
        result.MaxAbsError = checks.Select(c => c.MaxAbsError).DefaultIfEmpty(0).Max();
        var failed = checks.FirstOrDefault(c => !c.Passed);
        result.Correct = failed == null;
        result.CheckFailure = failed?.ToString();
        result.Check = $"vs {_oracle.Name} at T={work.CheckT} N={work.CheckN}: {compared}" +
            (atol != TensorComparison.DefaultAbsTolerance || rtol != TensorComparison.DefaultRelTolerance
                ? $" (at the backend's own tolerance {atol:G3} + {rtol:G3}|b|)" : "");
    }

    // ------------------------------------------------------------------ timing

    private void Time(ProblemWork work, Backend backend, IRnnPlan plan, BenchResult result)
    {
        var calls = Prepare(work, backend, plan, result);
        if (calls == null) return;
        calls.Window(_options.MaxSeconds, calls.Cap);
        Finish(result, calls);
    }

    /// <summary>
    /// Before timing: a <see cref="CallTimer"/> over the backend's calls, its T chosen and warmed up (CallTimer.Prepare).
    /// Null when the problem is not timed (the scalar reference far over the budget; <see cref="BenchResult.NotTimed"/>
    /// says why).
    /// </summary>
    private CallTimer? Prepare(ProblemWork work, Backend backend, IRnnPlan plan, BenchResult result)
    {
        var p = work.Problem;
        bool isReference = IsReference(backend.Name);
        int cap = isReference ? Math.Min(_options.ReferenceMaxRepetitions, _options.MaxRepetitions) : _options.MaxRepetitions;
        double budget = Math.Max(0.001, _options.MaxSeconds);

        // The scalar reference's speed hardly depends on the shape, so the check's speed (FLOPs per second at its
        // reduced T and N) estimates one step of its full batch: over the budget (DeepBench's large shapes: up to
        // minutes a step) it is not timed, and the result says why; else it is timed at the T the estimate fits, after
        // one warm call. Other backends (whose speed grows with N, and whose first call may compile kernels) are
        // probed at T=1 and warmed up until their timings settle (CallTimer.Prepare).
        int? fixedT = null;
        if (isReference)
        {
            double checkRate = result.CheckSeconds > 0 ? work.CheckFlops / result.CheckSeconds : double.PositiveInfinity;
            double stepEstimate = p.Flops(1) / checkRate;
            if (stepEstimate > budget)
            {
                result.NotTimed = $"one step of the full batch would take about {stepEstimate:F1} s here (estimated from the check's speed), " +
                                  $"over the {budget:G3} s budget; raise --max-seconds to time it";
                return null;
            }
            fixedT = CutT.Fitting(p.T, stepEstimate, budget);
        }
        TimingRun? current = null;
        var calls = new CallTimer(p, t =>
        {
            var run = work.Timing(backend, t);
            return () =>
            {
                current = run;
                return run.RunOnce(plan);
            };
        }, budget, cap, result.PeakGflops, () => current?.LastCpuSeconds);
        calls.Prepare(isReference ? WarmUpPolicy.Single : _options.WarmUp ?? new WarmUpPolicy(), fixedT);
        return calls;
    }

    private bool IsReference(string backend) => backend == _oracle.Name || backend == "reference";

    /// <summary>After the timed calls: the full T's time (CallTimer.Finish) and every timing field of the result.</summary>
    private void Finish(BenchResult result, CallTimer calls)
    {
        var p = result.Problem;
        calls.Finish(fitLine: !IsReference(result.Backend));
        var samples = calls.Samples;
        double msScale = calls.MsScale, median = calls.MedianSeconds;
        if (calls.TimedHalfT > 0)
        {
            result.TimedHalfT = calls.TimedHalfT;
            result.MsTimedHalfMedian = calls.HalfMedianSeconds * 1e3;
        }
        if (calls.CpuSamples.Count == samples.Count) result.CpuMsMedian = CutT.Median(calls.CpuSamples.ToList()) * msScale;
        result.WarmupRuns = calls.WarmCalls;
        result.WarmupSeconds = calls.WarmSeconds;
        result.WarmupSettled = calls.WarmSettled;
        result.Repetitions = samples.Count;
        result.TimedT = calls.TimedT;
        result.MsTimedMedian = median * 1e3;
        result.MsMedian = median * msScale;
        result.MsMin = samples[0] * msScale;
        result.MsMax = samples[^1] * msScale;
        double seconds = median * msScale / 1e3;
        result.SequencesPerSecond = p.N / seconds;
        result.Gflops = p.Flops() / seconds / 1e9;
        result.PeakFraction = double.IsFinite(result.PeakGflops) && result.PeakGflops > 0 ? result.Gflops / result.PeakGflops : double.NaN;
    }

    private static void ComputeRatios(List<BenchResult> results)
    {
        foreach (var group in results.Where(r => r.Timed).GroupBy(r => r.Problem.ToString()))
            foreach (var r in group)
                foreach (var other in group)
                    if (!ReferenceEquals(r, other))
                        r.SpeedupVs[other.Backend] = other.MsMedian / r.MsMedian;
    }

    // ------------------------------------------------------------------ per-problem state

    /// <summary>The weights, check inputs and the oracle's answer of one problem, shared by every backend.</summary>
    internal sealed class ProblemWork
    {
        private readonly BenchOptions _options;
        private CheckOutputs? _expected;

        public ProblemWork(BenchProblem problem, BenchOptions options)
        {
            Problem = problem;
            _options = options;
            Desc = problem.ToDesc();
            Parameters = RnnParameters.Create(Desc, new Random(options.Seed));
            (CheckT, CheckN) = CheckShape(problem, options);
            var rng = new Random(options.Seed + 1);
            int ld = Desc.NumLayers * Desc.Directions;
            CheckX = RandomTensor(rng, 1f, CheckT, CheckN, problem.I);
            CheckH0 = RandomTensor(rng, 0.5f, ld, CheckN, problem.H);
            CheckC0 = Desc.HasCellState ? RandomTensor(rng, 0.5f, ld, CheckN, problem.H) : null;
            if (problem.Phase == BenchPhase.Training)
            {
                CheckDY = RandomTensor(rng, 1f, CheckT, CheckN, Desc.OutputSize);
                CheckDHN = RandomTensor(rng, 1f, ld, CheckN, problem.H);
                CheckDCN = Desc.HasCellState ? RandomTensor(rng, 1f, ld, CheckN, problem.H) : null;
            }
        }

        public BenchProblem Problem { get; }
        public RnnDesc Desc { get; }
        public RnnParameters Parameters { get; }
        public int CheckT { get; }
        public int CheckN { get; }
        public Tensor CheckX { get; }
        public Tensor CheckH0 { get; }
        public Tensor? CheckC0 { get; }
        public Tensor? CheckDY { get; }
        public Tensor? CheckDHN { get; }
        public Tensor? CheckDCN { get; }

        public CheckOutputs Expected(Backend oracle)
        {
            if (_expected != null) return _expected;
            using var plan = oracle.CreateRnnPlan(Parameters);
            long start = Stopwatch.GetTimestamp();
            _expected = CheckOutputs.Compute(plan, this, oracle);
            ExpectedSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            return _expected;
        }

        /// <summary>Seconds the oracle took for the check's numbers.</summary>
        public double ExpectedSeconds { get; private set; }

        /// <summary>FLOPs of the check's computation (its reduced T and N, the problem's phase).</summary>
        public double CheckFlops => FlopCount.Of(Desc, CheckT, CheckN, Problem.Phase);

        public TimingRun Timing(Backend backend, int t) => new(this, backend, t, _options.Seed + 2);

        public static (int T, int N) CheckShape(BenchProblem p, BenchOptions o)
        {
            var desc = p.ToDesc();
            int t = Math.Max(1, Math.Min(p.T, o.CheckMaxT)), n = p.N;
            double Flops() => FlopCount.Of(desc, t, n, p.Phase);
            while (Flops() > o.CheckMaxFlops && n > 1) n = (n + 1) / 2;
            while (Flops() > o.CheckMaxFlops && t > 1) t--;
            return (t, n);
        }
    }

    /// <summary>The full-size inputs of the timed calls (on the backend's memory) and one call.</summary>
    internal sealed class TimingRun
    {
        private readonly BenchProblem _p;
        private readonly bool _sync;
        private readonly RnnInputs _inputs;
        private readonly Tensor? _dy;
        private readonly RnnParameters? _grads;

        public TimingRun(ProblemWork work, Backend backend, int t, int seed)
        {
            _p = work.Problem;
            _sync = backend.Kind == BackendKind.Gpu;
            // A host backend's training call is a training step's: the parameter gradients are added into buffers
            // kept across calls (as the tape does, and as libtorch adds into .grad), and the forward's workspace is
            // released after its backward. A GPU backend's gradients stay on the device (plain Backward).
            if (work.Problem.Phase == BenchPhase.Training && !_sync)
            {
                _grads = RnnParameters.Zeros(work.Desc);
                // and the output, dX, dh0 and dc0 go into buffers kept across calls (ForwardInto with training,
                // BackwardAccumulate into RnnInputGradientBuffers), as a training loop that keeps them does
                _into = RnnOutputBuffers.For(work.Desc, t, _p.N);
                _gradsInto = RnnInputGradientBuffers.For(work.Desc, t, _p.N);
            }
            var rng = new Random(seed);
            _inputs = new RnnInputs(RandomTensor(rng, 1f, t, _p.N, _p.I).To(backend));
            if (_p.Phase == BenchPhase.Training) _dy = RandomTensor(rng, 1f, t, _p.N, work.Desc.OutputSize).To(backend);
            // A host backend's inference call writes into output buffers kept across calls (IRnnPlan.ForwardInto), as a
            // serving loop does: a new megabytes-large output per call made the timings depend on the garbage
            // collector's state (a full collection and fresh pages per call: up to 3x slower, see RnnOutputBuffers).
            else if (!_sync) _into = RnnOutputBuffers.For(work.Desc, t, _p.N);
        }

        private readonly RnnOutputBuffers? _into;
        private readonly RnnInputGradientBuffers? _gradsInto;

        /// <summary>The process CPU seconds of the last <see cref="RunOnce"/> (null where the clock is unavailable).</summary>
        public double? LastCpuSeconds { get; private set; }

        /// <summary>One call (a forward, or forward + backward); returns seconds. GPU results are read back (h_n or dh0) to wait for them.</summary>
        public double RunOnce(IRnnPlan plan)
        {
            double? cpu0 = CpuClock.ProcessSeconds();
            long start = Stopwatch.GetTimestamp();
            if (_dy == null)
            {
                var r = _into != null ? plan.ForwardInto(_inputs, _into) : plan.Forward(_inputs, training: false);
                if (_sync) _ = r.HN.ToArray();
            }
            else
            {
                var r = _into != null ? plan.ForwardInto(_inputs, _into, training: true) : plan.Forward(_inputs, training: true);
                var g = _grads != null ? plan.BackwardAccumulate(_inputs, r, _dy, null, null, _grads, _gradsInto!) : plan.Backward(_inputs, r, _dy, null, null);
                if (_sync) _ = g.DH0.ToArray();
                else r.Dispose(); // (a GPU workspace is left as the measured H200 runs left it)
            }
            double wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
            LastCpuSeconds = CpuClock.ProcessSeconds() - cpu0;
            return wall;
        }
    }

    /// <summary>The tensors a check compares: forward outputs, and for training every gradient.</summary>
    internal sealed class CheckOutputs
    {
        public List<(string Name, float[] Data)> Tensors { get; } = [];

        public static CheckOutputs Compute(IRnnPlan plan, ProblemWork w, Backend backend)
        {
            var o = new CheckOutputs();
            var inputs = new RnnInputs(w.CheckX.To(backend), w.CheckH0.To(backend), w.CheckC0?.To(backend));
            bool training = w.Problem.Phase == BenchPhase.Training;
            var r = plan.Forward(inputs, training);
            o.Tensors.Add(("output", r.Output.ToArray()));
            o.Tensors.Add(("h_n", r.HN.ToArray()));
            if (r.CN != null) o.Tensors.Add(("c_n", r.CN.ToArray()));
            if (!training) return o;
            var g = plan.Backward(inputs, r, w.CheckDY!.To(backend), w.CheckDHN!.To(backend), w.CheckDCN?.To(backend));
            o.Tensors.Add(("grad.input", g.DInput.ToArray()));
            o.Tensors.Add(("grad.h0", g.DH0.ToArray()));
            if (g.DC0 != null) o.Tensors.Add(("grad.c0", g.DC0.ToArray()));
            for (int i = 0; i < g.DParams.Ids.Count; i++)
                o.Tensors.Add(("grad." + g.DParams.Ids[i].TorchName, g.DParams.Tensors[i].ToArray()));
            return o;
        }

        public static List<TensorCheck> Compare(CheckOutputs actual, CheckOutputs expected, double atol, double rtol)
        {
            var checks = new List<TensorCheck>();
            foreach (var (name, want) in expected.Tensors)
            {
                var got = actual.Tensors.FirstOrDefault(t => t.Name == name).Data;
                checks.Add(got == null
                    ? new TensorCheck(name, want.Length, double.NaN, double.NaN, double.PositiveInfinity, false, "missing")
                    : TensorComparison.Compare(name, got, want, atol, rtol));
            }
            return checks;
        }
    }

    private static Tensor RandomTensor(Random rng, float scale, params int[] shape)
    {
        var t = Tensor.Zeros(shape);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return t;
    }
}
