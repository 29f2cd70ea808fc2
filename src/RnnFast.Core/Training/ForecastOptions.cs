// What a forecaster is trained with: the series' columns, horizon and differencing, the network and the recipe
// (defaults are ../shared/tools/torch_forecast.py's: windows of 32, LSTM 32, Adam 1e-2, 300 steps of 32 windows).
namespace RnnFast.Training;

/// <summary>Options of <see cref="ForecastTrainer"/>; <see cref="Validate"/> names the property in every message.</summary>
public sealed record ForecastOptions
{
    /// <summary>The column to forecast.</summary>
    public required string Target { get; init; }
    /// <summary>Input columns (null: the target alone); may include the target.</summary>
    public IReadOnlyList<string>? Features { get; init; }
    /// <summary>A time/date column carried along for printing (never an input).</summary>
    public string? TimeColumn { get; init; }
    /// <summary>Steps ahead each forecast looks.</summary>
    public int Horizon { get; init; } = 1;
    /// <summary>Model changes instead of levels (trending series): inputs and target are differenced.</summary>
    public bool Difference { get; init; }
    /// <summary>The recurrent cell.</summary>
    public RnnMode Mode { get; init; } = RnnMode.Lstm;
    /// <summary>L: stacked RNN layers.</summary>
    public int Layers { get; init; } = 1;
    /// <summary>H: hidden size.</summary>
    public int Hidden { get; init; } = 32;
    /// <summary>Window length in steps (truncated BPTT).</summary>
    public int SeqLen { get; init; } = 32;
    /// <summary>Windows per step.</summary>
    public int Batch { get; init; } = 32;
    /// <summary>Optimizer steps (Adam).</summary>
    public int Steps { get; init; } = 300;
    /// <summary>Adam's learning rate.</summary>
    public double LearningRate { get; init; } = 0.01;
    /// <summary>How the learning rate changes over the run, as <see cref="TrainOptions.LrSchedule"/>; plateau is refused (a forecaster's training makes no held-out checks).</summary>
    public LrScheduleKind LrSchedule { get; init; } = LrScheduleKind.Constant;
    /// <summary>Steps of linear warm-up from 0, as <see cref="TrainOptions.WarmupSteps"/>.</summary>
    public int WarmupSteps { get; init; }
    /// <summary>Step schedule: steps between decays, as <see cref="TrainOptions.LrStepEvery"/>.</summary>
    public int? LrStepEvery { get; init; }
    /// <summary>Step schedule: the factor of each decay, in (0, 1), as <see cref="TrainOptions.LrGamma"/>.</summary>
    public double LrGamma { get; init; } = 0.1;
    /// <summary>Cosine schedule: the rate at the last step, as <see cref="TrainOptions.LrMin"/>.</summary>
    public double LrMin { get; init; }
    /// <summary>Global gradient-norm clip (0 = off, as in the PyTorch recipe).</summary>
    public double Clip { get; init; }
    /// <summary>The held-out fraction at the end of the series.</summary>
    public double ValFraction { get; init; } = 0.2;
    /// <summary>Seed of initialisation and window sampling.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>A backend name; null: RNNFAST_BACKEND, else auto.</summary>
    public string? Backend { get; init; }

    /// <summary>Worker threads for the backend (as <see cref="TrainOptions.Threads"/>); null leaves the backend as it is.</summary>
    public int? Threads { get; init; }
    /// <summary>
    /// Where to save the model (written to a temporary file and renamed); null: not saved. Its folder must exist (never
    /// created) and accept new files, and no other run may be writing it (<see cref="RnnFast.IO.OutputLock"/>, held for the run).
    /// </summary>
    public string? Out { get; init; }

    /// <summary>"ForecastOptions.X" for messages.</summary>
    public static string NameOf(string property) => nameof(ForecastOptions) + "." + property;

    /// <summary>Checks every option; the message starts with the property, e.g. <c>ForecastOptions.Horizon: must be at least 1, got 0</c>.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Target)) Fail(nameof(Target), "names no column");
        if (Features is { Count: 0 }) Fail(nameof(Features), "is empty (leave it null for the target alone)");
        if (Threads is < 1) Fail(nameof(Threads), $"must be at least 1, got {Threads}");
        if (Horizon < 1) Fail(nameof(Horizon), $"must be at least 1, got {Horizon}");
        if (!Enum.IsDefined(Mode)) Fail(nameof(Mode), $"must be an RnnMode, got {(int)Mode}");
        if (Layers < 1) Fail(nameof(Layers), $"must be positive, got {Layers}");
        if (Hidden < 1) Fail(nameof(Hidden), $"must be positive, got {Hidden}");
        if (SeqLen < 1) Fail(nameof(SeqLen), $"must be positive, got {SeqLen}");
        if (Batch < 1) Fail(nameof(Batch), $"must be positive, got {Batch}");
        if (Steps < 1) Fail(nameof(Steps), $"must be positive, got {Steps}");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) Fail(nameof(LearningRate), $"must be a positive number, got {LearningRate}");
        if (!(Clip >= 0) || !double.IsFinite(Clip)) Fail(nameof(Clip), $"must be >= 0, got {Clip}");
        if (!(ValFraction > 0 && ValFraction < 1)) Fail(nameof(ValFraction), $"must be in (0, 1), got {ValFraction}");
        LearningRateSchedule.Check(NameOf, LearningRate, LrSchedule, WarmupSteps, LrStepEvery, LrGamma, LrMin, 1,
            "a forecaster's training does not make them; use constant, step or cosine");
        // the products the trainer allocates, in long arithmetic (named by these options, not by the backend's parameters)
        long gates = RnnDesc.GateCountOf(Mode);
        string T = NameOf(nameof(SeqLen)), N = NameOf(nameof(Batch)), H = NameOf(nameof(Hidden));
        TrainOptions.CheckElements([(H, Hidden), (H, Hidden), ("gates", gates)]);
        TrainOptions.CheckElements([(T, SeqLen), (N, Batch), (H, Hidden), ("gates", gates)]);
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(string property, string problem) => throw new ArgumentException($"{NameOf(property)}: {problem}");
}

/// <summary>The end of a forecaster's training: held-out errors against persistence, the loss curve, data notes.</summary>
public sealed record ForecastResult(int Steps, Models.ForecastErrors Errors, IReadOnlyList<float> TrainLoss, IReadOnlyDictionary<string, int> FilledMissing,
    int TrainLength, int ValLength, string BackendName)
{
    /// <summary>True when the run was stopped through its cancellation token (the model was saved before the evaluation).</summary>
    public bool Cancelled { get; init; }

    /// <summary>The learning rate of each step in <see cref="TrainLoss"/> (<see cref="ForecastOptions.LrSchedule"/>).</summary>
    public IReadOnlyList<float> LearningRates { get; init; } = [];

    /// <summary>The schedule of <paramref name="o"/> over its steps (the same <see cref="LearningRateSchedule"/> the other trainers use).</summary>
    internal static LearningRateSchedule Schedule(ForecastOptions o) => new(new TrainOptions
    {
        LearningRate = o.LearningRate, LrSchedule = o.LrSchedule, WarmupSteps = o.WarmupSteps, LrStepEvery = o.LrStepEvery, LrGamma = o.LrGamma, LrMin = o.LrMin,
    }, o.Steps);
}
