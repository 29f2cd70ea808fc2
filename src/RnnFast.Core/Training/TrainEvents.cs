// What a training run reports while it runs (for progress bars, logs and tests).
namespace RnnFast.Training;

/// <summary>After every optimizer step.</summary>
public sealed record StepReport(int Step, int TotalSteps, float TrainLoss, double GradNorm, double TokensPerSecond, TimeSpan Elapsed, TimeSpan? Remaining)
{
    /// <summary>The learning rate this step used (<see cref="TrainOptions.LrSchedule"/>); null where the trainer does not report it.</summary>
    public double? LearningRate { get; init; }
}

/// <summary>After every validation pass: loss in nats per character (or per sequence for a classifier), and a sample.</summary>
public sealed record EvalReport(int Step, double ValLoss, string? Sample, double? Accuracy = null);

/// <summary>Receives training progress. Every method may be left empty.</summary>
public interface ITrainObserver
{
    /// <summary>Called after every optimizer step.</summary>
    void OnStep(StepReport report) { }
    /// <summary>Called after every validation pass.</summary>
    void OnEval(EvalReport report) { }
    /// <summary>Called after a checkpoint was written to <paramref name="path"/> at optimizer step <paramref name="step"/>.</summary>
    void OnCheckpoint(string path, int step) { }
    /// <summary>A one-line note for the user (resume changes, skipped steps, ...).</summary>
    void OnMessage(string message) { }
}

/// <summary>The end of a run. <see cref="SkippedSteps"/>: steps whose loss or gradients were not finite and were skipped
/// (<see cref="NonFinitePolicy.Skip"/>); their losses are not in <see cref="TrainLoss"/>.</summary>
public sealed record TrainResult(int Steps, double ValLoss, IReadOnlyList<float> TrainLoss, IReadOnlyList<(int Step, double Loss)> ValHistory, bool Cancelled, string BackendName, int SkippedSteps = 0)
{
    /// <summary>The validation loss in bits per character (nats / ln 2).</summary>
    public double BitsPerChar => ValLoss / Math.Log(2);

    /// <summary>The learning rate of each step in <see cref="TrainLoss"/> (same length; NaN where a resumed checkpoint had none recorded; empty where the trainer does not record them).</summary>
    public IReadOnlyList<float> LearningRates { get; init; } = [];

    /// <summary>The step whose parameters were saved and scored (<see cref="TrainOptions.Keep"/>); null where the trainer does not say.</summary>
    public int? KeptStep { get; init; }

    /// <summary>True when <see cref="TrainOptions.EarlyStopping"/> ended the run.</summary>
    public bool StoppedEarly { get; init; }
}
