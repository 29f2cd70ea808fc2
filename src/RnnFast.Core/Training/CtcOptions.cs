// The recipe of a CTC sequence-labelling run (CtcTrainer): a small bidirectional LSTM, Adam, global-norm clipping, a
// fixed number of steps (optionally capped by wall time), and the beam width of the held-out evaluation.
namespace RnnFast.Training;

/// <summary>Hyperparameters of <see cref="CtcTrainer"/>; <see cref="Validate"/> names the property at fault.</summary>
public sealed record CtcOptions
{
    /// <summary>The recurrent cell.</summary>
    public RnnMode Mode { get; init; } = RnnMode.Lstm;
    /// <summary>Stacked recurrent layers.</summary>
    public int Layers { get; init; } = 1;
    /// <summary>Hidden units per direction.</summary>
    public int Hidden { get; init; } = 48;
    /// <summary>Read each sequence both ways (the usual choice for labelling whole sequences).</summary>
    public bool Bidirectional { get; init; } = true;
    /// <summary>Sequences per step.</summary>
    public int Batch { get; init; } = 32;
    /// <summary>Optimizer steps.</summary>
    public int Steps { get; init; } = 300;
    /// <summary>The optimizer's learning rate.</summary>
    public double LearningRate { get; init; } = 1e-2;
    /// <summary>adam, sgd or adagrad.</summary>
    public string Optimizer { get; init; } = "adam";
    /// <summary>Global L2 gradient-norm clip (0 = off).</summary>
    public double Clip { get; init; } = 5;
    /// <summary>The fraction of the examples held out for evaluation, in (0, 1).</summary>
    public double TestFraction { get; init; } = 0.2;
    /// <summary>Prefix beam-search width of the evaluation.</summary>
    public int BeamWidth { get; init; } = 8;
    /// <summary>Evaluate on the held-out examples every this many steps (0 = only at the end).</summary>
    public int EvalEvery { get; init; }
    /// <summary>How the learning rate changes over the run, as <see cref="TrainOptions.LrSchedule"/> (plateau reacts to the <see cref="EvalEvery"/> checks' held-out CTC loss).</summary>
    public LrScheduleKind LrSchedule { get; init; } = LrScheduleKind.Constant;
    /// <summary>Steps of linear warm-up from 0, as <see cref="TrainOptions.WarmupSteps"/>.</summary>
    public int WarmupSteps { get; init; }
    /// <summary>Step schedule: steps between decays, as <see cref="TrainOptions.LrStepEvery"/>.</summary>
    public int? LrStepEvery { get; init; }
    /// <summary>Step and plateau schedules: the factor of each decay, in (0, 1), as <see cref="TrainOptions.LrGamma"/>.</summary>
    public double LrGamma { get; init; } = 0.1;
    /// <summary>Cosine schedule: the rate at the last step, as <see cref="TrainOptions.LrMin"/>.</summary>
    public double LrMin { get; init; }
    /// <summary>Plateau schedule: checks without improvement before each decay, as <see cref="TrainOptions.LrPatience"/>.</summary>
    public int LrPatience { get; init; } = 2;

    /// <summary>The schedule of these options over their steps (the same <see cref="LearningRateSchedule"/> the other trainers use).</summary>
    internal LearningRateSchedule Schedule() => new(new TrainOptions
    {
        LearningRate = LearningRate, LrSchedule = LrSchedule, WarmupSteps = WarmupSteps, LrStepEvery = LrStepEvery, LrGamma = LrGamma, LrMin = LrMin,
        LrPatience = LrPatience, EvalEvery = Math.Max(1, EvalEvery),
    }, Steps);
    /// <summary>Stop after this much wall time (the step count is then an upper bound). Null = no limit.</summary>
    public double? MaxSeconds { get; init; }
    /// <summary>Seeds the split, the initial weights and the batches.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>The backend by name (null: RNNFAST_BACKEND, else auto).</summary>
    public string? Backend { get; init; }
    /// <summary>A step whose loss or gradients are NaN or infinite: stop (default) or skip it.</summary>
    public NonFinitePolicy OnNonFinite { get; init; } = NonFinitePolicy.Stop;

    /// <summary>
    /// Checks every option. An invalid one is an <see cref="ArgumentException"/> whose message starts with the property,
    /// e.g. <c>CtcOptions.Hidden: must be positive, got 0</c>.
    /// </summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Mode)) Fail(nameof(Mode), $"must be an RnnMode, got {(int)Mode}");
        Positive(Layers, nameof(Layers));
        Positive(Hidden, nameof(Hidden));
        Positive(Batch, nameof(Batch));
        Positive(Steps, nameof(Steps));
        Positive(BeamWidth, nameof(BeamWidth));
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) Fail(nameof(LearningRate), $"must be a positive number, got {LearningRate}");
        if (Optimizer is not ("adam" or "sgd" or "adagrad")) Fail(nameof(Optimizer), $"must be adam, sgd or adagrad, got '{Optimizer}'");
        if (!(Clip >= 0) || double.IsInfinity(Clip)) Fail(nameof(Clip), $"must be a finite number >= 0 (0 = off), got {Clip}");
        if (TestFraction is <= 0 or >= 1 || double.IsNaN(TestFraction)) Fail(nameof(TestFraction), $"must be in (0, 1), got {TestFraction}");
        if (EvalEvery < 0) Fail(nameof(EvalEvery), $"must be >= 0 (0 = only at the end), got {EvalEvery}");
        LearningRateSchedule.Check(NameOf, LearningRate, LrSchedule, WarmupSteps, LrStepEvery, LrGamma, LrMin, LrPatience,
            EvalEvery == 0 ? $"{NameOf(nameof(EvalEvery))} is 0" : null);
        if (MaxSeconds is { } s && (!(s > 0) || double.IsInfinity(s))) Fail(nameof(MaxSeconds), $"must be a positive number of seconds, got {s}");
        if (!Enum.IsDefined(OnNonFinite)) Fail(nameof(OnNonFinite), $"must be Stop or Skip, got {(int)OnNonFinite}");
        long directions = Bidirectional ? 2 : 1;
        TrainOptions.CheckElements([(NameOf(nameof(Hidden)), Hidden), (NameOf(nameof(Hidden)), Hidden), ("4 gates", 4), ("directions", directions)]);
    }

    /// <summary>How messages name an option: <c>CtcOptions.</c> and the property, e.g. <c>CtcOptions.Hidden</c>.</summary>
    public static string NameOf(string property) => nameof(CtcOptions) + "." + property;

    private static void Positive(int v, string property)
    {
        if (v <= 0) Fail(property, $"must be positive, got {v}");
    }

    private static void Fail(string property, string problem) => throw new ArgumentException($"{NameOf(property)}: {problem}");
}
