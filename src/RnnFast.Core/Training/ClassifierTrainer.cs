// Trains and evaluates a many-to-one sequence classifier: characters -> Embedding -> RNN over each sequence's own
// length (variable-length batches) -> last valid step or mean over the valid steps (TrainOptions.Pooling) -> Linear -> softmax cross-entropy. Examples are shuffled with
// the seed and split into train / test; every step draws a batch depending only on (seed, step).
using System.Diagnostics;
using RnnFast.Autograd;
using RnnFast.Backends;
using RnnFast.Models;
using RnnFast.Optim;

namespace RnnFast.Training;

/// <summary>Accuracy and confusion matrix (rows: true class, columns: predicted) on held-out examples.</summary>
public sealed record ClassifierEvaluation(double Accuracy, int[,] Confusion, IReadOnlyList<string> Labels, int Count, double Loss);

/// <summary>Trains and evaluates a many-to-one sequence classifier on labelled texts.</summary>
public sealed class ClassifierTrainer
{
    /// <summary>Trains on labelled texts; returns the evaluation on the held-out <paramref name="testFraction"/>.</summary>
    public (ClassifierEvaluation Test, TrainResult Run) Train(IReadOnlyList<(string Label, string Text)> examples, double testFraction,
        TrainOptions options, ITrainObserver? observer = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(options);
        var o = options;
        o.Validate();
        observer ??= new NullObserver();
        SequenceTrainingLoop.CheckSplit(examples.Count, testFraction);
        for (int i = 0; i < examples.Count; i++)
        {
            if (string.IsNullOrEmpty(examples[i].Text)) throw new ArgumentException($"examples: example {i + 1} has an empty text", nameof(examples));
            if (examples[i].Label == null) throw new ArgumentException($"examples: example {i + 1} has no label", nameof(examples));
        }
        var backend = TrainingSetup.ChooseBackend(o);

        var labels = examples.Select(e => e.Label).Distinct().Order(StringComparer.Ordinal).ToArray();
        if (labels.Length < 2) throw new ArgumentException($"examples: needs at least 2 distinct labels, got {labels.Length}", nameof(examples));
        var classOf = labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i);
        // Resume (the checkpoint's vocabulary) or init-from (the model's, extended), else the data's own vocabulary.
        var (testIdsForCount, _) = SequenceTrainingLoop.Split(examples.Count, testFraction, o.Seed);
        string fingerprint = SequenceTrainingLoop.Fingerprint(examples);
        var (start, vocab) = SequenceTrainingLoop.Prepare(o, NetworkKind.Classifier, testFraction, examples.Count - testIdsForCount.Length,
            fingerprint, labels, examples.Select(e => e.Text));
        MemoryEstimate.Require(MemoryEstimate.Training(o, vocab.Count, labels.Length, examples.Max(e => e.Text.Length), Math.Min(o.Batch, examples.Count),
            "the longest example's length", TrainOptions.NameOf(nameof(TrainOptions.Batch))));

        var (testIds, trainIds) = SequenceTrainingLoop.Split(examples.Count, testFraction, o.Seed);
        var test = testIds.Select(i => examples[i]).ToArray();
        var train = trainIds.Select(i => (Ids: vocab.Encode(examples[i].Text), Class: classOf[examples[i].Label])).ToArray();

        var config = new NetworkConfig
        {
            Kind = NetworkKind.Classifier, Mode = o.Mode, Layers = o.Layers, Hidden = o.Hidden, Embed = o.Embed,
            Bidirectional = o.Bidirectional, Peephole = o.Peephole, Dropout = o.Dropout, Vocab = vocab, Labels = labels, Pooling = o.Pooling,
        };
        return SequenceTrainingLoop.Run(config, backend, o, train, testFraction,
            (N, totalSteps) => $"classifier {config.RnnDesc} on {backend.Name}: {labels.Length} classes, V={vocab.Count}, {train.Length} train / {test.Length} test examples, {totalSteps} steps",
            (tape, net, batch, dropout) =>
            {
                int N = batch.Length;
                var (tokens, lengths, T) = Pad(batch.Select(b => b.Ids).ToArray());
                var logits = net.ClassifierLogits(tape, tokens, lengths, T, N, training: true, dropout);
                return (tape.CrossEntropy(logits, batch.Select(b => b.Class).ToArray()), lengths.Sum());
            },
            model => Evaluate(model, test), ev => (ev.Loss, ev.Accuracy), observer, cancel, start, fingerprint);
    }

    /// <summary>Accuracy, confusion matrix and mean cross-entropy of <paramref name="model"/> on labelled texts.</summary>
    public static ClassifierEvaluation Evaluate(RnnModel model, IReadOnlyList<(string Label, string Text)> examples, int batch = 64)
    {
        var labels = model.Labels;
        int C = labels.Count;
        var confusion = new int[C, C];
        int correct = 0, counted = 0;
        double loss = 0;
        for (int b = 0; b < examples.Count; b += batch)
        {
            var chunk = examples.Skip(b).Take(batch).ToArray();
            var predictions = model.Classify(chunk.Select(e => e.Text).ToArray());
            for (int i = 0; i < chunk.Length; i++)
            {
                int truth = IndexOf(labels, chunk[i].Label);
                if (truth < 0) continue; // a label the model never saw cannot be scored
                int guess = predictions[i].ClassId;
                confusion[truth, guess]++;
                if (truth == guess) correct++;
                counted++;
                loss -= Math.Log(Math.Max(predictions[i].Probabilities[truth], 1e-30));
            }
        }
        return new ClassifierEvaluation(counted == 0 ? 0 : correct / (double)counted, confusion, labels, counted, counted == 0 ? double.NaN : loss / counted);
    }

    /// <summary>Sequences -> padded tokens (T,N) time-major (pad id 0), their lengths, and T = the longest.</summary>
    internal static (int[] Tokens, int[] Lengths, int T) Pad(IReadOnlyList<int[]> seqs)
    {
        int N = seqs.Count, T = seqs.Max(s => s.Length);
        var tokens = new int[T * N];
        var lengths = new int[N];
        for (int n = 0; n < N; n++)
        {
            lengths[n] = seqs[n].Length;
            for (int t = 0; t < lengths[n]; t++) tokens[t * N + n] = seqs[n][t];
        }
        return (tokens, lengths, T);
    }

    private static int IndexOf(IReadOnlyList<string> labels, string label)
    {
        for (int i = 0; i < labels.Count; i++) if (labels[i] == label) return i;
        return -1;
    }

    private sealed class NullObserver : ITrainObserver;
}
