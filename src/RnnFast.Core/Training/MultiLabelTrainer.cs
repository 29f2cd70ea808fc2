// Trains and evaluates a multi-label sequence classifier: characters -> Embedding -> RNN over each sequence's own length
// -> pooled feature (last valid step or mean, TrainOptions.Pooling) -> Linear(C) -> an independent sigmoid per label,
// trained with binary cross-entropy on logits against 0/1 targets. Examples are `LABEL1,LABEL2<TAB>TEXT` rows (a
// comma-separated label set; `-` is the empty set, as LabeledText refuses an empty label field); shuffled with the seed
// and split into train / test; every step draws a batch depending only on (seed, step).
using System.Diagnostics;
using RnnFast.Autograd;
using RnnFast.Backends;
using RnnFast.Models;

namespace RnnFast.Training;

/// <summary>One label's scores on held-out examples: precision, recall and F1 of "above 0.5", and how many examples carry it.</summary>
public sealed record LabelScore(string Label, double Precision, double Recall, double F1, int Support);

/// <summary>
/// Per-label scores, micro-averaged F1 (over every label decision), subset accuracy (the predicted set equals the true
/// set) and mean binary cross-entropy of a multi-label classifier on <see cref="Count"/> examples.
/// </summary>
public sealed record MultiLabelEvaluation(IReadOnlyList<LabelScore> PerLabel, double MicroF1, double SubsetAccuracy, int Count, double Loss);

/// <summary>Trains and evaluates a multi-label sequence classifier on texts with label sets.</summary>
public sealed class MultiLabelTrainer
{
    /// <summary>The spelling of an empty label set in a LABELS field (a LABEL&lt;TAB&gt;TEXT file's label may not be empty).</summary>
    public const string EmptySet = "-";

    /// <summary>A LABELS field -> its labels: split at commas, trimmed, empty pieces and <see cref="EmptySet"/> dropped, duplicates once.</summary>
    public static string[] ParseLabels(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return field.Split(',').Select(l => l.Trim()).Where(l => l.Length > 0 && l != EmptySet).Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>Trains on (labels field, text) examples; returns the evaluation on the held-out <paramref name="testFraction"/>.</summary>
    public (MultiLabelEvaluation Test, TrainResult Run) Train(IReadOnlyList<(string Labels, string Text)> examples, double testFraction,
        TrainOptions options, ITrainObserver? observer = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(options);
        var o = options;
        o.Validate();
        SequenceTrainingLoop.RefuseStart(o, "multi-label classifier");
        observer ??= new NullObserver();
        SequenceTrainingLoop.CheckSplit(examples.Count, testFraction);
        for (int i = 0; i < examples.Count; i++)
        {
            if (string.IsNullOrEmpty(examples[i].Text)) throw new ArgumentException($"examples: example {i + 1} has an empty text", nameof(examples));
            if (examples[i].Labels == null) throw new ArgumentException($"examples: example {i + 1} has no label field", nameof(examples));
        }
        var backend = TrainingSetup.ChooseBackend(o);
        var sets = examples.Select(e => ParseLabels(e.Labels)).ToArray();
        var labels = sets.SelectMany(s => s).Distinct().Order(StringComparer.Ordinal).ToArray();
        if (labels.Length < 1) throw new ArgumentException("examples: no example carries a label; needs at least 1", nameof(examples));
        int C = labels.Length;
        var idOf = labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i);
        var vocab = CharVocab.FromText(string.Concat(examples.Select(e => e.Text)));
        MemoryEstimate.Require(MemoryEstimate.Training(o, vocab.Count, C, examples.Max(e => e.Text.Length), Math.Min(o.Batch, examples.Count),
            "the longest example's length", TrainOptions.NameOf(nameof(TrainOptions.Batch))));

        var (testIds, trainIds) = SequenceTrainingLoop.Split(examples.Count, testFraction, o.Seed);
        var test = testIds.Select(i => examples[i]).ToArray();
        var train = trainIds.Select(i =>
        {
            var target = new float[C];
            foreach (var l in sets[i]) target[idOf[l]] = 1;
            return (Ids: vocab.Encode(examples[i].Text), Target: target);
        }).ToArray();

        var config = new NetworkConfig
        {
            Kind = NetworkKind.MultiLabel, Mode = o.Mode, Layers = o.Layers, Hidden = o.Hidden, Embed = o.Embed,
            Bidirectional = o.Bidirectional, Peephole = o.Peephole, Dropout = o.Dropout, Vocab = vocab, Labels = labels, Pooling = o.Pooling,
        };
        return SequenceTrainingLoop.Run(config, backend, o, train, testFraction,
            (N, totalSteps) => $"multi-label classifier {config.RnnDesc} on {backend.Name}: {C} labels, V={vocab.Count}, {train.Length} train / {test.Length} test examples, {totalSteps} steps",
            (tape, net, batch, dropout) =>
            {
                int N = batch.Length;
                var (tokens, lengths, T) = ClassifierTrainer.Pad(batch.Select(b => b.Ids).ToArray());
                var targets = new float[N * C];
                for (int n = 0; n < N; n++) batch[n].Target.CopyTo(targets, n * C);
                var logits = net.ClassifierLogits(tape, tokens, lengths, T, N, training: true, dropout);
                return (tape.BceWithLogitsLoss(logits, Tensor.FromArray(targets, N, C)), lengths.Sum());
            },
            model => Evaluate(model, test), ev => (ev.Loss, ev.SubsetAccuracy), observer, cancel);
    }

    /// <summary>
    /// Scores <paramref name="model"/> on (labels field, text) examples. Characters the model never saw are dropped; a text
    /// left with none is predicted to carry no label (probability 0.5 each for the loss). A label the model does not know
    /// is an ArgumentException naming the example.
    /// </summary>
    public static MultiLabelEvaluation Evaluate(RnnModel model, IReadOnlyList<(string Labels, string Text)> examples, int batch = 64)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(examples);
        if (model.Kind != NetworkKind.MultiLabel) throw new InvalidOperationException($"this model is a {model.Kind}, not a multi-label classifier");
        var labels = model.Labels;
        int C = labels.Count;
        var idOf = labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i);
        var truth = new bool[examples.Count][];
        for (int i = 0; i < examples.Count; i++)
        {
            truth[i] = new bool[C];
            foreach (var l in ParseLabels(examples[i].Labels ?? ""))
            {
                if (!idOf.TryGetValue(l, out int c))
                    throw new ArgumentException($"examples: example {i + 1} has the label '{l}', which the model does not know (its labels: {string.Join(", ", labels)})", nameof(examples));
                truth[i][c] = true;
            }
        }
        var probs = Predict(model, examples.Select(e => e.Text).ToArray(), batch);
        int[] tp = new int[C], fp = new int[C], fn = new int[C];
        int exact = 0;
        double loss = 0;
        for (int i = 0; i < examples.Count; i++)
        {
            bool same = true;
            for (int c = 0; c < C; c++)
            {
                float p = probs[i][c];
                bool guess = p > 0.5f, real = truth[i][c];
                if (guess && real) tp[c]++;
                else if (guess) fp[c]++;
                else if (real) fn[c]++;
                if (guess != real) same = false;
                loss -= Math.Log(Math.Max(real ? p : 1 - p, 1e-30));
            }
            if (same) exact++;
        }
        var perLabel = new LabelScore[C];
        for (int c = 0; c < C; c++)
        {
            var (pr, re, f1) = Scores(tp[c], fp[c], fn[c]);
            perLabel[c] = new LabelScore(labels[c], pr, re, f1, tp[c] + fn[c]);
        }
        int n = examples.Count;
        return new MultiLabelEvaluation(perLabel, Scores(tp.Sum(), fp.Sum(), fn.Sum()).F1, n == 0 ? 0 : exact / (double)n, n,
            n == 0 ? double.NaN : loss / (n * (double)C));
    }

    /// <summary>
    /// Each text's per-label probabilities, in order, with characters the model never saw dropped; a text left with no
    /// known character gets 0.5 for every label (not above the threshold: no label).
    /// </summary>
    public static float[][] Predict(RnnModel model, IReadOnlyList<string> texts, int batch = 64)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(texts);
        int C = model.OutputSize;
        var ids = texts.Select(t => (t ?? "").EnumerateRunes().Select(r => model.Vocab.TryGetId(r, out int id) ? id : -1).Where(id => id >= 0).ToArray()).ToArray();
        var result = new float[texts.Count][];
        var known = Enumerable.Range(0, ids.Length).Where(i => ids[i].Length > 0).ToArray();
        for (int b = 0; b < known.Length; b += batch)
        {
            var chunk = known.Skip(b).Take(batch).ToArray();
            var preds = model.MultiLabelFromIds(chunk.Select(i => ids[i]).ToArray());
            for (int j = 0; j < chunk.Length; j++) result[chunk[j]] = preds[j].Probabilities;
        }
        for (int i = 0; i < result.Length; i++) result[i] ??= Enumerable.Repeat(0.5f, C).ToArray();
        return result;
    }

    /// <summary>Precision, recall and F1 from counts; 0/0 counts as 0 (as scikit-learn reports it).</summary>
    private static (double Precision, double Recall, double F1) Scores(int tp, int fp, int fn)
    {
        double precision = tp + fp == 0 ? 0 : tp / (double)(tp + fp), recall = tp + fn == 0 ? 0 : tp / (double)(tp + fn);
        return (precision, recall, precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall));
    }

    private sealed class NullObserver : ITrainObserver;
}
