// What every trainer with periodic held-out checks decides from them (TrainOptions.EvalEvery): whether a check improved
// on the best so far, when to stop early (TrainOptions.EarlyStopping), which parameters to keep (TrainOptions.Keep: a
// host copy of those at the best check), and the learning-rate schedule's reaction to a plateau. Shared by
// CharLmTrainer and SequenceTrainingLoop (classifier, multi-label, tagger). The checks are judged by TrainOptions.Monitor:
// the loss, or minus the accuracy (one "lower is better" score either way). Its state travels in the checkpoint so a
// resumed run continues it: the counters as metadata "train.x.keep.*", the best parameters as tensors
// "optim.keep_best.<parameter name>" (optimizer-state tensors, which a model load skips).
using System.Globalization;
using RnnFast.Autograd;
using RnnFast.Models;

namespace RnnFast.Training;

internal sealed class HeldOutTracker(TrainOptions o, IReadOnlyList<Variable> parameters, IReadOnlyList<string> names)
{
    private const string LossKey = "keep.best_loss", StepKey = "keep.best_step", SinceKey = "keep.checks_since_best", MonitorKey = "keep.monitor";
    /// <summary>The tensor-name prefix of the kept best parameters in a checkpoint (after <see cref="Checkpoint.OptimizerPrefix"/>).</summary>
    public const string BestPrefix = "keep_best.";

    private float[][]? _best;

    /// <summary>
    /// The best score at a check (+inf before the first finite one); lower is better: the loss, or minus the accuracy
    /// under <see cref="HeldOutMetric.Accuracy"/> (see <see cref="Score"/>).
    /// </summary>
    public double BestLoss { get; private set; } = double.PositiveInfinity;
    /// <summary>The step of <see cref="BestLoss"/> (-1: none yet).</summary>
    public int BestStep { get; private set; } = -1;
    /// <summary>Checks in a row since the best.</summary>
    public int ChecksSinceBest { get; private set; }

    /// <summary>A check's score, lower is better: its loss, or minus its accuracy (NaN when the metric has no value).</summary>
    public double Score(double loss, double? accuracy) =>
        o.Monitor == HeldOutMetric.Accuracy ? (accuracy is double a ? -a : double.NaN) : loss;

    /// <summary>The best score as the metric reads: "loss 0.1234" or "accuracy 91.25%".</summary>
    private string Describe(double score) => o.Monitor == HeldOutMetric.Accuracy
        ? $"accuracy {(-score * 100).ToString("F2", CultureInfo.InvariantCulture)}%"
        : $"loss {score.ToString("F4", CultureInfo.InvariantCulture)}";

    /// <summary>A periodic check at <paramref name="step"/>; true when it is a new best (a NaN score never is).</summary>
    public bool Consider(double loss, double? accuracy, int step)
    {
        double score = Score(loss, accuracy);
        if (score < BestLoss)
        {
            BestLoss = score; BestStep = step; ChecksSinceBest = 0;
            if (o.Keep == KeepModel.Best) _best = Snapshot(_best);
            return true;
        }
        ChecksSinceBest++;
        return false;
    }

    /// <summary>Early stopping: the message when <see cref="TrainOptions.EarlyStopping"/> checks passed without improvement, else null.</summary>
    public string? StopReason(int step)
    {
        if (o.EarlyStopping is not { } patience || ChecksSinceBest < patience) return null;
        return BestStep < 0
            ? $"early stopping at step {step}: no finite held-out loss in {patience} check(s)"
            : $"early stopping at step {step}: no held-out improvement in {patience} check(s) since step {BestStep} ({Describe(BestLoss)})";
    }

    /// <summary>Keep-best: whether a best copy exists that scored better than the end-of-run evaluation at <paramref name="step"/>.</summary>
    public bool BestBeats(double lastLoss, double? lastAccuracy, int step) =>
        o.Keep == KeepModel.Best && _best != null && !(Score(lastLoss, lastAccuracy) <= BestLoss) && BestStep != step; // a NaN last score loses to any finite best

    /// <summary>Writes the best copy back into the parameters (when there is one); true when it did.</summary>
    public bool RestoreBest()
    {
        if (_best == null) return false;
        for (int i = 0; i < parameters.Count; i++)
        {
            parameters[i].Value.Storage.CopyFromHost(_best[i]);
            parameters[i].Value.MarkChanged();
        }
        return true;
    }

    /// <summary>The message after keeping the best parameters.</summary>
    public string KeptBestMessage(double loss, int lastStep) =>
        $"kept the best parameters: step {BestStep} (held-out loss {loss:F4}{(o.Monitor == HeldOutMetric.Accuracy ? ", " + Describe(BestLoss) : "")}), not the last (step {lastStep})";

    /// <summary>The message after keeping the last parameters (under <see cref="KeepModel.Best"/>: no check scored lower).</summary>
    public static string KeptMessage(KeepModel keep, int step, double loss) => keep == KeepModel.Best
        ? $"kept the last parameters (step {step}, held-out loss {loss:F4}): no check scored lower"
        : $"kept the last parameters (step {step}, held-out loss {loss:F4})";

    /// <summary>The counters, as checkpoint metadata entries.</summary>
    public void Save(IDictionary<string, string> extra)
    {
        var inv = CultureInfo.InvariantCulture;
        extra[LossKey] = BestLoss.ToString("R", inv);
        extra[StepKey] = BestStep.ToString(inv);
        extra[SinceKey] = ChecksSinceBest.ToString(inv);
        extra[MonitorKey] = o.Monitor.ToString();
    }

    /// <summary>The best copy as extra state tensors for the checkpoint (none without one).</summary>
    public IEnumerable<(string Name, Tensor Value)> BestTensors()
    {
        if (_best == null) yield break;
        for (int i = 0; i < parameters.Count; i++)
            yield return (BestPrefix + names[i], Tensor.FromArray((float[])_best[i].Clone(), (int[])parameters[i].Value.Shape.Clone()));
    }

    /// <summary>Restores the counters and (keep-best) the best copy a checkpoint holds; a malformed entry names its key and the file.</summary>
    public void Restore(CheckpointContents c, string file)
    {
        var extra = c.Training?.Extra ?? new Dictionary<string, string>();
        var inv = CultureInfo.InvariantCulture;
        RnnFormatException Bad(string key, string value) => new(file, $"metadata 'train.x.{key}' = '{value}' is not a valid value");
        if (extra.TryGetValue(LossKey, out var l))
            BestLoss = double.TryParse(l, NumberStyles.Float, inv, out double v) && !double.IsNaN(v) ? v : throw Bad(LossKey, l);
        if (extra.TryGetValue(StepKey, out var s))
            BestStep = int.TryParse(s, NumberStyles.Integer, inv, out int v) && v >= -1 ? v : throw Bad(StepKey, s);
        if (extra.TryGetValue(SinceKey, out var k))
            ChecksSinceBest = int.TryParse(k, NumberStyles.None, inv, out int v) ? v : throw Bad(SinceKey, k);
        // A best chosen by the other metric is no best for this run: it starts afresh.
        var saved = extra.TryGetValue(MonitorKey, out var m) ? m : nameof(HeldOutMetric.Loss);
        if (!string.Equals(saved, o.Monitor.ToString(), StringComparison.Ordinal))
        {
            BestLoss = double.PositiveInfinity; BestStep = -1; ChecksSinceBest = 0;
            return;
        }
        if (o.Keep != KeepModel.Best || BestStep < 0) return;
        var best = new float[parameters.Count][];
        for (int i = 0; i < parameters.Count; i++)
        {
            string name = Checkpoint.OptimizerPrefix + BestPrefix + names[i];
            if (!c.Tensors.TryGetValue(name, out var t))
            {
                // Saved by a run that kept the last parameters (or before keep-best existed): the best so far is unknown.
                BestLoss = double.PositiveInfinity; BestStep = -1;
                return;
            }
            if (!t.SameShape(parameters[i].Value))
                throw new RnnFormatException(file, $"tensor '{name}' has shape {Tensor.FormatShape(t.Shape)}, expected {Tensor.FormatShape(parameters[i].Value.Shape)}");
            best[i] = t.ToArray();
        }
        _best = best;
    }

    private float[][] Snapshot(float[][]? into)
    {
        into ??= parameters.Select(p => new float[p.Value.Length]).ToArray();
        for (int i = 0; i < parameters.Count; i++) parameters[i].Value.Storage.CopyToHost(into[i]);
        return into;
    }
}
