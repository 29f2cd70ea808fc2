// What a trainer's periodic held-out checks are judged by (TrainOptions.Monitor): the mean loss (lower is better), or,
// for the sequence trainers that score one (classifier, multi-label classifier, tagger), the accuracy (higher is
// better). Keep-best, early stopping and the plateau schedule all follow the same metric.
namespace RnnFast.Training;

/// <summary>The held-out figure that keep-best, early stopping and the plateau schedule follow (<see cref="TrainOptions.Monitor"/>).</summary>
public enum HeldOutMetric
{
    /// <summary>The mean held-out loss: a check improves when it is lower.</summary>
    Loss = 0,
    /// <summary>The held-out accuracy (classifier, multi-label classifier, tagger): a check improves when it is higher.</summary>
    Accuracy = 1,
}
