// What a training run reports while it runs (for progress bars, logs and tests).
namespace RnnFast.Training;

/// <summary>After every optimizer step.</summary>
public sealed record StepReport(int Step, int TotalSteps, float TrainLoss, double GradNorm, double TokensPerSecond, TimeSpan Elapsed, TimeSpan? Remaining);

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
}
