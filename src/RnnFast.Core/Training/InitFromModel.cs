// TrainOptions.InitFrom: a new run that starts from a trained model's weights (fine-tuning on new data). The model's
// architecture (cell, layers, hidden, embedding size, peephole, directions, a classifier's pooling) must be the one
// the options ask for: one that differs is refused naming the option, the model's value and the file. The vocabulary
// is the model's, extended with the new data's characters in code-point order (their embedding rows, and a language
// model's head rows, are those a fresh model of the extended size gets from the seed); a classifier's labels must be
// the same set. Only the weights come from the model: step counter, optimizer state and schedule start fresh.
using System.Globalization;
using System.Text;
using RnnFast.Models;

namespace RnnFast.Training;

internal static class InitFromModel
{
    /// <summary>Reads the model <paramref name="path"/> and refuses one of another task than <paramref name="kind"/>.</summary>
    public static CheckpointContents Read(string path, NetworkKind kind)
    {
        string file = Path.GetFileName(path);
        if (!File.Exists(path)) throw new ArgumentException($"{Name}: {path} does not exist");
        var c = Checkpoint.Read(path);
        if (c.Config.Kind != kind)
            throw new RnnFormatException(file, $"holds {Checkpoint.KindName(c.Config.Kind)}, not {Checkpoint.KindName(kind)}; {Name} needs one");
        return c;
    }

    private static string Name => TrainOptions.NameOf(nameof(TrainOptions.InitFrom));

    /// <summary>Refuses an architecture option of <paramref name="o"/> that differs from the model's (<paramref name="file"/>).</summary>
    public static void CheckArchitecture(TrainOptions o, NetworkConfig model, string file, bool pooling)
    {
        void Same<T>(string property, T mine, T theirs, Func<T, string> show)
        {
            if (EqualityComparer<T>.Default.Equals(mine, theirs)) return;
            throw new ArgumentException(
                $"{TrainOptions.NameOf(property)}: {show(mine)} differs from the model's {show(theirs)} ({file}); {Name} keeps the model's architecture");
        }
        static string Num(int v) => v.ToString(CultureInfo.InvariantCulture);
        static string Bool(bool b) => b ? "true" : "false";
        Same(nameof(TrainOptions.Mode), o.Mode, model.Mode, m => RnnDesc.TorchModeName(m).ToLowerInvariant());
        Same(nameof(TrainOptions.Layers), o.Layers, model.Layers, Num);
        Same(nameof(TrainOptions.Hidden), o.Hidden, model.Hidden, Num);
        Same(nameof(TrainOptions.Embed), o.Embed, model.Embed, Num);
        Same(nameof(TrainOptions.Peephole), o.Peephole, model.Peephole, Bool);
        Same(nameof(TrainOptions.Bidirectional), o.Bidirectional, model.Bidirectional, Bool);
        if (pooling) Same(nameof(TrainOptions.Pooling), o.Pooling, model.Pooling, p => p.ToString().ToLowerInvariant());
    }

    /// <summary>The model's vocabulary followed by the characters of <paramref name="texts"/> it lacks, in code-point order.</summary>
    public static CharVocab ExtendVocab(CharVocab model, IEnumerable<string> texts)
    {
        var added = new SortedSet<int>();
        foreach (var text in texts)
            foreach (var r in text.EnumerateRunes())
                if (!model.TryGetId(r, out _)) added.Add(r.Value);
        return added.Count == 0 ? model : new CharVocab(model.Symbols.Concat(added.Select(v => new Rune(v).ToString())));
    }

    /// <summary>
    /// Copies the model's tensors into <paramref name="net"/> (built fresh with the extended vocabulary): tensors of the
    /// same shape whole, the vocabulary-sized ones (embedding rows; a language model's head rows) for the model's ids only.
    /// </summary>
    public static void CopyWeights(CharNetwork net, CheckpointContents model, string file)
    {
        foreach (var (name, p) in net.NamedParameters())
        {
            if (!model.Tensors.TryGetValue(name, out var src))
                throw new RnnFormatException(file, $"tensor '{name}' is missing ({Name} needs every weight of the model)");
            var dst = p.Value;
            bool rowsPrefix = src.Rank == dst.Rank && src.Shape[0] <= dst.Shape[0] && src.Shape.AsSpan(1).SequenceEqual(dst.Shape.AsSpan(1));
            if (!src.SameShape(dst) && !(rowsPrefix && name is "embedding.weight" or "head.weight" or "head.bias"))
                throw new RnnFormatException(file, $"tensor '{name}' has shape {Tensor.FormatShape(src.Shape)}, the new model needs {Tensor.FormatShape(dst.Shape)}");
            var values = new float[dst.Length];
            dst.Storage.CopyToHost(values);
            src.ToArray().CopyTo(values, 0); // row-major: the model's rows are the first ones
            dst.Storage.CopyFromHost(values);
            dst.MarkChanged();
        }
    }

    /// <summary>Refuses a classifier whose labels are not the data's (both sorted ordinally).</summary>
    public static void CheckLabels(NetworkConfig model, IReadOnlyList<string> labels, string file)
    {
        if (model.Labels.SequenceEqual(labels, StringComparer.Ordinal)) return;
        throw new ArgumentException(
            $"{Name}: {file} classifies into [{string.Join(", ", model.Labels)}], the data has labels [{string.Join(", ", labels)}]; fine-tuning a classifier needs the same label set");
    }
}
