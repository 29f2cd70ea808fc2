// The learning rate of each optimizer step (TrainOptions.LrSchedule): constant, step decay, cosine annealing or
// reduce-on-plateau, after an optional linear warm-up from 0. Steps are 0-based global indices (a resumed run asks for
// the same step numbers an uninterrupted one would), so step/cosine need nothing but the step and the run's total;
// plateau also keeps how many reductions it made and how many held-out checks passed since the last improvement,
// which the trainers store in the checkpoint (TrainingState.Extra, keys "lr_plateau.*") and restore on resume.
//   warm-up  s < W:  lr(s) = f(s) * (s + 1) / W           (the first step already moves: no step with lr 0)
//   constant         f(s) = base
//   step             f(s) = base * gamma^floor(s / every)
//   cosine           f(s) = min + (base - min) * (1 + cos(pi * min(s', T') / T')) / 2,  s' = max(0, s - W), T' = max(1, total - W)
//   plateau          f(s) = base * gamma^reductions; a reduction when `patience` checks in a row did not improve the best
using System.Globalization;

namespace RnnFast.Training;

/// <summary>How the learning rate changes over a run (<see cref="TrainOptions.LrSchedule"/>).</summary>
public enum LrScheduleKind
{
    /// <summary>The base learning rate throughout (after any warm-up).</summary>
    Constant = 0,
    /// <summary>Multiplied by <see cref="TrainOptions.LrGamma"/> every <see cref="TrainOptions.LrStepEvery"/> steps.</summary>
    Step = 1,
    /// <summary>From the base rate down to <see cref="TrainOptions.LrMin"/> along a half cosine over the run's steps after warm-up.</summary>
    Cosine = 2,
    /// <summary>Multiplied by <see cref="TrainOptions.LrGamma"/> when the held-out loss has not improved for <see cref="TrainOptions.LrPatience"/> checks.</summary>
    Plateau = 3,
}

/// <summary>The learning rate at each optimizer step of a run, from <see cref="TrainOptions"/> (see <see cref="LrScheduleKind"/>).</summary>
public sealed class LearningRateSchedule
{
    private const string ReductionsKey = "lr_plateau.reductions", SinceKey = "lr_plateau.checks_since_best", BestKey = "lr_plateau.best";
    private readonly TrainOptions _o;
    private readonly int _totalSteps;
    private double _plateauBest = double.PositiveInfinity;

    /// <summary>The schedule of <paramref name="options"/> (validated by the caller) for a run of <paramref name="totalSteps"/> steps in all.</summary>
    public LearningRateSchedule(TrainOptions options, int totalSteps)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (totalSteps <= 0) throw new ArgumentException($"totalSteps: must be positive, got {totalSteps}", nameof(totalSteps));
        _o = options;
        _totalSteps = totalSteps;
    }

    internal const string KindKey = "lr_schedule", WarmupKey = "lr_warmup_steps", EveryKey = "lr_step_every", GammaKey = "lr_gamma", MinKey = "lr_min", PatienceKey = "lr_patience";

    /// <summary>
    /// Checks a schedule's settings for any options type: each message starts with the property <paramref name="name"/>
    /// gives (e.g. <c>ForecastOptions.LrGamma: must be in (0, 1), got 2</c>). <paramref name="checks"/>: why plateau cannot
    /// run (no periodic held-out checks), or null when it can.
    /// </summary>
    internal static void Check(Func<string, string> name, double lr, LrScheduleKind kind, int warmup, int? every, double gamma, double min, int patience, string? checks)
    {
        void Fail(string property, string problem) => throw new ArgumentException($"{name(property)}: {problem}");
        if (!Enum.IsDefined(kind)) Fail(nameof(TrainOptions.LrSchedule), $"must be Constant, Step, Cosine or Plateau, got {(int)kind}");
        if (warmup < 0) Fail(nameof(TrainOptions.WarmupSteps), $"must be >= 0 (0 = none), got {warmup}");
        if (every is < 1) Fail(nameof(TrainOptions.LrStepEvery), $"must be positive, got {every}");
        if (kind == LrScheduleKind.Step && every == null) Fail(nameof(TrainOptions.LrStepEvery), "required with the step schedule (steps between decays)");
        if (!(gamma > 0 && gamma < 1)) Fail(nameof(TrainOptions.LrGamma), $"must be in (0, 1), got {gamma}");
        if (!(min >= 0) || double.IsInfinity(min)) Fail(nameof(TrainOptions.LrMin), $"must be a number >= 0, got {min}");
        if (kind == LrScheduleKind.Cosine && min >= lr)
            Fail(nameof(TrainOptions.LrMin), $"must be below {name(nameof(TrainOptions.LearningRate))} ({lr}) for the cosine schedule, got {min}");
        if (patience < 1) Fail(nameof(TrainOptions.LrPatience), $"must be at least 1 (held-out checks without improvement), got {patience}");
        if (kind == LrScheduleKind.Plateau && checks != null) Fail(nameof(TrainOptions.LrSchedule), $"plateau needs periodic held-out checks: {checks}");
    }

    /// <summary>The schedule's name as the CLI and the checkpoint write it: constant, step, cosine or plateau.</summary>
    public static string Name(LrScheduleKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>Parses constant, step, cosine or plateau (any case); anything else is an ArgumentException naming <see cref="TrainOptions.LrSchedule"/>.</summary>
    public static LrScheduleKind Parse(string text) => (text ?? "").Trim().ToLowerInvariant() switch
    {
        "constant" => LrScheduleKind.Constant,
        "step" => LrScheduleKind.Step,
        "cosine" => LrScheduleKind.Cosine,
        "plateau" => LrScheduleKind.Plateau,
        _ => throw new ArgumentException($"{TrainOptions.NameOf(nameof(TrainOptions.LrSchedule))}: must be constant, step, cosine or plateau, got '{text}'"),
    };

    /// <summary>Plateau: checks without improvement before each decay (<see cref="TrainOptions.LrPatience"/>).</summary>
    internal int PlateauPatience => _o.LrPatience;

    /// <summary>Plateau: the reductions made so far (each multiplied the rate by <see cref="TrainOptions.LrGamma"/>).</summary>
    public int Reductions { get; private set; }

    /// <summary>Plateau: held-out checks in a row since the best one.</summary>
    public int ChecksSinceBest { get; private set; }

    /// <summary>The learning rate of step <paramref name="step"/> (0-based, global across resumes).</summary>
    public double At(int step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "step: must be >= 0");
        double lr = _o.LearningRate, gamma = _o.LrGamma;
        int warm = _o.WarmupSteps;
        double rate = _o.LrSchedule switch
        {
            LrScheduleKind.Step => lr * Math.Pow(gamma, step / (_o.LrStepEvery ?? 1)),
            LrScheduleKind.Cosine => Cosine(step, warm),
            LrScheduleKind.Plateau => lr * Math.Pow(gamma, Reductions),
            _ => lr,
        };
        return step < warm ? rate * (step + 1) / warm : rate;
    }

    private double Cosine(int step, int warm)
    {
        double span = Math.Max(1, _totalSteps - warm), at = Math.Min(Math.Max(0, step - warm), span);
        return _o.LrMin + (_o.LearningRate - _o.LrMin) * (1 + Math.Cos(Math.PI * at / span)) / 2;
    }

    /// <summary>
    /// A held-out check's loss (plateau only; other schedules ignore it). Returns true when the rate was just reduced
    /// (<see cref="TrainOptions.LrPatience"/> checks in a row without a loss below the best so far).
    /// </summary>
    public bool OnCheck(double heldOutLoss)
    {
        if (_o.LrSchedule != LrScheduleKind.Plateau) return false;
        if (heldOutLoss < _plateauBest) { _plateauBest = heldOutLoss; ChecksSinceBest = 0; return false; } // NaN never improves
        if (++ChecksSinceBest < _o.LrPatience) return false;
        Reductions++;
        ChecksSinceBest = 0;
        return true;
    }

    /// <summary>The state a resumed run needs (plateau's counters), as checkpoint metadata entries.</summary>
    internal void Save(IDictionary<string, string> extra)
    {
        var inv = CultureInfo.InvariantCulture;
        // The recipe, which a resumed run takes as its default (ResumeRecipe.FromContents).
        extra[KindKey] = Name(_o.LrSchedule);
        extra[WarmupKey] = _o.WarmupSteps.ToString(inv);
        if (_o.LrStepEvery is { } every) extra[EveryKey] = every.ToString(inv);
        extra[GammaKey] = _o.LrGamma.ToString("R", inv);
        extra[MinKey] = _o.LrMin.ToString("R", inv);
        extra[PatienceKey] = _o.LrPatience.ToString(inv);
        if (_o.LrSchedule != LrScheduleKind.Plateau) return;
        extra[ReductionsKey] = Reductions.ToString(inv);
        extra[SinceKey] = ChecksSinceBest.ToString(inv);
        extra[BestKey] = _plateauBest.ToString("R", inv);
    }

    /// <summary>Restores what <see cref="Save"/> wrote (absent keys: a fresh plateau state); a malformed value names its key and the file.</summary>
    internal void Restore(IReadOnlyDictionary<string, string> extra, string file)
    {
        if (_o.LrSchedule != LrScheduleKind.Plateau) return;
        var inv = CultureInfo.InvariantCulture;
        if (extra.TryGetValue(ReductionsKey, out var r))
            Reductions = int.TryParse(r, NumberStyles.None, inv, out int v) ? v : throw Bad(ReductionsKey, r);
        if (extra.TryGetValue(SinceKey, out var s))
            ChecksSinceBest = int.TryParse(s, NumberStyles.None, inv, out int v) ? v : throw Bad(SinceKey, s);
        if (extra.TryGetValue(BestKey, out var b))
            _plateauBest = double.TryParse(b, NumberStyles.Float, inv, out double v) && !double.IsNaN(v) ? v : throw Bad(BestKey, b);
        RnnFormatException Bad(string key, string value) => new(file, $"metadata 'train.x.{key}' = '{value}' is not a valid value");
    }

    /// <summary>The schedule in words, for the start message (e.g. "cosine from 0.002 to 0 over 1000 steps, warm-up 100").</summary>
    public string Describe()
    {
        var inv = CultureInfo.InvariantCulture;
        string lr = _o.LearningRate.ToString("G4", inv), g = _o.LrGamma.ToString("G4", inv);
        string what = _o.LrSchedule switch
        {
            LrScheduleKind.Step => $"lr {lr} x {g} every {_o.LrStepEvery} steps",
            LrScheduleKind.Cosine => $"lr cosine from {lr} to {_o.LrMin.ToString("G4", inv)} over steps {_o.WarmupSteps}..{_totalSteps}",
            LrScheduleKind.Plateau => $"lr {lr} x {g} after {_o.LrPatience} held-out check(s) without improvement",
            _ => $"lr {lr} constant",
        };
        return _o.WarmupSteps > 0 ? $"{what}, linear warm-up over {_o.WarmupSteps} steps" : what;
    }
}
