// What each cell of a character model's last layer does over a text: the model is run step by step (RnnModel.Step)
// and every step's activations are kept, T steps x H cells: tanh of the cell state c for an LSTM (what its output
// gate lets through), the hidden state h otherwise. A classifier, tagger or multi-label model also gives every step's
// class probabilities (T x C), what it would answer if the text ended there. Bounded: at most MaxCharacters characters.
using System.Numerics.Tensors;

namespace RnnFast.Models;

/// <summary>Per-step, per-cell activations of a model's last layer over a text (see <see cref="Collect"/>).</summary>
public sealed class CellActivations
{
    /// <summary>The longest text <see cref="Collect"/> reads, in characters (Unicode scalars).</summary>
    public const int MaxCharacters = 100_000;

    private CellActivations(string[] symbols, int[] stepOf, float[] values, int cells, string source, float[]? probabilities, IReadOnlyList<string> labels)
    {
        Symbols = symbols;
        StepOf = stepOf;
        Values = values;
        Cells = cells;
        Source = source;
        Probabilities = probabilities;
        Labels = labels;
    }

    /// <summary>The text's characters (Unicode scalars), in order.</summary>
    public IReadOnlyList<string> Symbols { get; }

    /// <summary>For each character, the step the model read it at, or -1 for a character outside the vocabulary (not read).</summary>
    public IReadOnlyList<int> StepOf { get; }

    /// <summary>Steps the model took: the characters it read.</summary>
    public int Steps => Values.Length / Math.Max(1, Cells);

    /// <summary>Cells of the last layer (H, or H_out with a projection for h).</summary>
    public int Cells { get; }

    /// <summary>The activations (Steps, Cells), row-major: row t is every cell after reading step t.</summary>
    public float[] Values { get; }

    /// <summary>What a value is: "tanh(c)" (LSTM) or "h".</summary>
    public string Source { get; }

    /// <summary>A classifier's, tagger's or multi-label model's probabilities per step (Steps, C), row-major; null for a language model.</summary>
    public float[]? Probabilities { get; }

    /// <summary>The class labels of <see cref="Probabilities"/> (empty for a language model).</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Cell <paramref name="cell"/>'s activation at every step (Steps).</summary>
    public float[] Cell(int cell)
    {
        if ((uint)cell >= (uint)Cells) throw new ArgumentOutOfRangeException(nameof(cell), $"cell: expected 0 to {Cells - 1}, got {cell}");
        var v = new float[Steps];
        for (int t = 0; t < v.Length; t++) v[t] = Values[t * Cells + cell];
        return v;
    }

    /// <summary>
    /// Runs <paramref name="model"/> over <paramref name="text"/> one character at a time from a zero state and keeps
    /// the last layer's activations after each. Characters outside the vocabulary are not read (their
    /// <see cref="StepOf"/> is -1). The model must read tokens and stream (unidirectional, not mean-pooled).
    /// </summary>
    public static CellActivations Collect(RnnModel model, string text)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(text);
        if (model.Config.HasFeatureInput) throw new ArgumentException("model: reads numeric features, not text", nameof(model));
        var symbols = new List<string>(Math.Min(text.Length, MaxCharacters + 1));
        foreach (var r in text.EnumerateRunes())
        {
            if (symbols.Count == MaxCharacters)
                throw new ArgumentException($"text: more than {MaxCharacters} characters; give a shorter excerpt", nameof(text));
            symbols.Add(r.ToString());
        }
        var desc = model.Config.RnnDesc;
        int L = desc.NumLayers, Ho = desc.OutputHiddenSize, H = desc.HiddenSize;
        bool lstm = desc.HasCellState;
        int cells = lstm ? H : Ho;
        using var state = model.NewState();
        var saved = new float[state.Size];
        var stepOf = new int[symbols.Count];
        var values = new List<float>(symbols.Count * cells);
        bool withProbabilities = model.Kind is NetworkKind.Classifier or NetworkKind.Tagger or NetworkKind.MultiLabel;
        int C = model.OutputSize;
        var probabilities = withProbabilities ? new List<float>(symbols.Count * C) : null;
        var p = new float[C];
        int steps = 0, i = 0;
        foreach (var r in text.EnumerateRunes())
        {
            if (!model.Vocab.TryGetId(r, out int id)) { stepOf[i++] = -1; continue; }
            var output = model.Step(state, id);
            if (lstm)
            {
                state.CopyTo(saved); // h of every layer (L*H_out), then c of every layer (L*H): the last layer's c is the last H
                var c = saved.AsSpan(L * Ho + (L - 1) * H, H);
                TensorPrimitives.Tanh(c, c);
                foreach (var v in c) values.Add(v);
            }
            else
                foreach (var v in state.Hidden) values.Add(v);
            if (probabilities != null)
            {
                if (model.Kind == NetworkKind.MultiLabel) TensorPrimitives.Sigmoid(output, p);
                else TensorPrimitives.SoftMax(output, p);
                probabilities.AddRange(p);
            }
            stepOf[i++] = steps++;
        }
        return new CellActivations(symbols.ToArray(), stepOf, values.ToArray(), cells, lstm ? "tanh(c)" : "h", probabilities?.ToArray(),
            withProbabilities ? model.Labels : []);
    }
}
