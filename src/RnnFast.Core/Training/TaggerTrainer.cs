// Trains and evaluates a character tagger (one label per character): characters -> Embedding -> RNN (uni- or
// bidirectional) over each sequence's own length -> Linear(C) on every step -> cross-entropy over every valid step,
// padded steps carrying the ignore index -100. Examples are shuffled with the seed and split into train / held-out;
// every step draws a batch depending only on (seed, step). The data format is a TSV row per example,
// `TAGS<TAB>TEXT`, where TAGS holds one space-separated label per character (Unicode scalar) of TEXT.
using System.Diagnostics;
using RnnFast.Autograd;
using RnnFast.Backends;
using RnnFast.Datasets;
using RnnFast.Models;

namespace RnnFast.Training;

/// <summary>Per-character accuracy and mean cross-entropy of a tagger on held-out examples.</summary>
/// <param name="Accuracy">Characters tagged correctly / characters scored.</param>
/// <param name="Characters">Characters scored.</param>
/// <param name="Sequences">Examples read.</param>
/// <param name="Loss">Mean cross-entropy per scored character (nats).</param>
/// <param name="Dropped">Characters the model never saw, dropped with their tags (see <see cref="TaggerTrainer.Evaluate"/>).</param>
/// <param name="Labels">The model's tags.</param>
public sealed record TaggerEvaluation(double Accuracy, long Characters, int Sequences, double Loss, long Dropped, IReadOnlyList<string> Labels);

/// <summary>One tagged text: the text and one tag per character (Unicode scalar) of it.</summary>
public sealed record TaggedText(string Text, IReadOnlyList<string> Tags);

/// <summary>Trains and evaluates a character tagger (<see cref="NetworkKind.Tagger"/>) on tagged texts.</summary>
public sealed class TaggerTrainer
{
    /// <summary>
    /// Reads tagged texts, one <c>TAGS&lt;TAB&gt;TEXT</c> row per example (through <see cref="LabeledText"/>: RFC 4180
    /// quoting with a tab separator), TAGS holding one space-separated tag per character of TEXT. A row whose tag count
    /// differs from its character count is a <see cref="FormatException"/> naming the file and the example.
    /// </summary>
    public static IReadOnlyList<TaggedText> Read(string path)
    {
        var rows = LabeledText.Read(path);
        var result = new TaggedText[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            var (field, text) = rows[i];
            var tags = field.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            int chars = CountChars(text);
            if (tags.Length != chars)
                throw new FormatException($"{path}: example {i + 1}: {tags.Length} tag(s) for {chars} character(s) of '{Shorten(text)}'; " +
                                          "TAGS must hold one space-separated tag per character of TEXT");
            result[i] = new TaggedText(text, tags);
        }
        return result;
    }

    /// <summary>Trains on tagged texts; returns the evaluation on the held-out <paramref name="testFraction"/> of them.</summary>
    public (TaggerEvaluation Test, TrainResult Run) Train(IReadOnlyList<TaggedText> examples, double testFraction,
        TrainOptions options, ITrainObserver? observer = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(options);
        var o = options;
        o.Validate();
        SequenceTrainingLoop.RefuseStart(o, "tagger");
        observer ??= new NullObserver();
        SequenceTrainingLoop.CheckSplit(examples.Count, testFraction);
        for (int i = 0; i < examples.Count; i++)
        {
            var e = examples[i] ?? throw new ArgumentException($"examples: example {i + 1} is null", nameof(examples));
            if (string.IsNullOrEmpty(e.Text)) throw new ArgumentException($"examples: example {i + 1} has an empty text", nameof(examples));
            if (e.Tags == null || e.Tags.Any(t => string.IsNullOrWhiteSpace(t)))
                throw new ArgumentException($"examples: example {i + 1} has a missing or empty tag", nameof(examples));
            int chars = CountChars(e.Text);
            if (e.Tags.Count != chars)
                throw new ArgumentException($"examples: example {i + 1} has {e.Tags.Count} tag(s) for {chars} character(s)", nameof(examples));
        }
        var backend = TrainingSetup.ChooseBackend(o);

        var labels = examples.SelectMany(e => e.Tags).Distinct().Order(StringComparer.Ordinal).ToArray();
        if (labels.Length < 2) throw new ArgumentException($"examples: needs at least 2 distinct tags, got {labels.Length}", nameof(examples));
        var tagOf = labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i, StringComparer.Ordinal);
        var vocab = CharVocab.FromText(string.Concat(examples.Select(e => e.Text)));
        MemoryEstimate.Require(MemoryEstimate.Training(o, vocab.Count, labels.Length, examples.Max(e => e.Text.Length), Math.Min(o.Batch, examples.Count),
            "the longest example's length", TrainOptions.NameOf(nameof(TrainOptions.Batch))));

        var (testIds, trainIds) = SequenceTrainingLoop.Split(examples.Count, testFraction, o.Seed);
        var test = testIds.Select(i => examples[i]).ToArray();
        var train = trainIds.Select(i => (Ids: vocab.Encode(examples[i].Text), Tags: examples[i].Tags.Select(t => tagOf[t]).ToArray())).ToArray();

        var config = new NetworkConfig
        {
            Kind = NetworkKind.Tagger, Mode = o.Mode, Layers = o.Layers, Hidden = o.Hidden, Embed = o.Embed,
            Bidirectional = o.Bidirectional, Peephole = o.Peephole, Dropout = o.Dropout, Vocab = vocab, Labels = labels,
        };
        return SequenceTrainingLoop.Run(config, backend, o, train, testFraction,
            (N, totalSteps) => $"tagger {config.RnnDesc} on {backend.Name}: {labels.Length} tags, V={vocab.Count}, {train.Length} train / {test.Length} test examples, {totalSteps} steps",
            (tape, net, batch, dropout) =>
            {
                int N = batch.Length;
                var (tokens, lengths, T) = ClassifierTrainer.Pad(batch.Select(b => b.Ids).ToArray());
                var tags = new int[T * N];
                Array.Fill(tags, CharNetwork.IgnoreIndex);
                for (int n = 0; n < N; n++)
                    for (int t = 0; t < lengths[n]; t++) tags[t * N + n] = batch[n].Tags[t];
                return (net.TaggerLoss(tape, tokens, tags, lengths, T, N, training: true, dropout), lengths.Sum());
            },
            model => Evaluate(model, test), ev => (ev.Loss, ev.Accuracy), observer, cancel);
    }

    /// <summary>
    /// Per-character accuracy and mean cross-entropy of a tagger on tagged texts. A character the model never saw is
    /// dropped together with its tag (as `rnnfast predict` drops it) and counted in <see cref="TaggerEvaluation.Dropped"/>;
    /// a tag the model does not know is an <see cref="ArgumentException"/> naming the example.
    /// </summary>
    public static TaggerEvaluation Evaluate(RnnModel model, IReadOnlyList<TaggedText> examples, int batch = 64)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(examples);
        if (batch <= 0) throw new ArgumentException($"batch: must be positive, got {batch}", nameof(batch));
        var labels = model.Labels;
        var tagOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < labels.Count; i++) tagOf.TryAdd(labels[i], i);
        long correct = 0, counted = 0, dropped = 0;
        double loss = 0;
        for (int b = 0; b < examples.Count; b += batch)
        {
            var chunk = examples.Skip(b).Take(batch).ToArray();
            var truths = new List<int>[chunk.Length];
            for (int i = 0; i < chunk.Length; i++)
            {
                var e = chunk[i] ?? throw new ArgumentException($"examples: example {b + i + 1} is null", nameof(examples));
                int chars = CountChars(e.Text);
                if (e.Tags.Count != chars)
                    throw new ArgumentException($"examples: example {b + i + 1} has {e.Tags.Count} tag(s) for {chars} character(s)", nameof(examples));
                truths[i] = [];
                int k = 0;
                foreach (var r in e.Text.EnumerateRunes())
                {
                    string tag = e.Tags[k++];
                    if (!model.Vocab.TryGetId(r, out _)) { dropped++; continue; }
                    if (!tagOf.TryGetValue(tag, out int id))
                        throw new ArgumentException($"examples: example {b + i + 1} has the tag '{tag}', which the model does not know " +
                                                    $"(its tags: {string.Join(", ", labels)})", nameof(examples));
                    truths[i].Add(id);
                }
            }
            var predictions = model.Tag(chunk.Select(e => e.Text).ToArray(), skipUnknown: true);
            for (int i = 0; i < chunk.Length; i++)
                for (int t = 0; t < truths[i].Count; t++)
                {
                    var p = predictions[i][t];
                    if (p.TagId == truths[i][t]) correct++;
                    loss -= Math.Log(Math.Max(p.Probabilities[truths[i][t]], 1e-30));
                    counted++;
                }
        }
        return new TaggerEvaluation(counted == 0 ? 0 : correct / (double)counted, counted, examples.Count,
            counted == 0 ? double.NaN : loss / counted, dropped, labels);
    }

    /// <summary>Characters as the vocabulary counts them: Unicode scalars.</summary>
    private static int CountChars(string text)
    {
        int n = 0;
        foreach (var _ in text.EnumerateRunes()) n++;
        return n;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";

    private sealed class NullObserver : ITrainObserver;
}
