// A sequence labeller trained with CTC: feature frames (T,N,F) -> RNN (uni- or bidirectional, over each sequence's own
// length) -> Linear(C) on every step -> LogSoftmax -> (T,N,C) log-probabilities, where class 0 is the CTC blank and
// class k+1 is label k. Training records that forward on the tape (LogProbs, then Tape.CtcLoss); Decode runs the RNN
// plan in inference mode and decodes each sequence greedily and with prefix beam search (CtcDecoding).
// Parameter names follow a PyTorch module with attributes `rnn` and `head`. Save/Load keep a network in one safetensors
// file: those tensors plus metadata (kind = ctc_labeller, mode, sizes, bidirectional, the labels as a JSON array).
using System.Globalization;
using System.Text.Json;
using RnnFast.Autograd;
using RnnFast.Backends;
using RnnFast.IO;

namespace RnnFast.Models;

/// <summary>RNN and linear head over feature frames, producing CTC log-probabilities (class 0 = blank, class k+1 = label k).</summary>
public sealed class CtcNetwork : IDisposable
{
    /// <summary>The blank class.</summary>
    public const int Blank = 0;

    /// <summary>A freshly initialised network (PyTorch's default initialisation, drawn from <paramref name="rng"/>).</summary>
    /// <param name="features">F: the width of a frame.</param>
    /// <param name="labels">The label names; label k is class k+1.</param>
    /// <param name="desc">The RNN (its input size must be <paramref name="features"/>).</param>
    /// <param name="backend">Where the RNN runs.</param>
    /// <param name="rng">The initial weights' random stream.</param>
    public CtcNetwork(int features, IReadOnlyList<string> labels, RnnDesc desc, Backend backend, Random rng)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(desc);
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(rng);
        if (features <= 0) throw new ArgumentException($"features: must be positive, got {features}", nameof(features));
        if (labels.Count < 1) throw new ArgumentException("labels: needs at least one label", nameof(labels));
        if (desc.InputSize != features)
            throw new ArgumentException($"desc: input size {desc.InputSize} differs from the frame width {features}", nameof(desc));
        Features = features;
        Labels = [.. labels];
        Rnn = new RnnLayer(desc, backend, rng);
        Head = new Linear(desc.OutputSize, Classes, rng);
    }

    /// <summary>A network around existing weights (e.g. from <see cref="Load"/>): the tensors are used in place.</summary>
    public CtcNetwork(int features, IReadOnlyList<string> labels, RnnParameters rnn, Tensor headWeight, Tensor headBias, Backend backend)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(rnn);
        ArgumentNullException.ThrowIfNull(headWeight);
        ArgumentNullException.ThrowIfNull(headBias);
        ArgumentNullException.ThrowIfNull(backend);
        if (labels.Count < 1) throw new ArgumentException("labels: needs at least one label", nameof(labels));
        if (rnn.Desc.InputSize != features)
            throw new ArgumentException($"rnn: input size {rnn.Desc.InputSize} differs from the frame width {features}", nameof(rnn));
        if (!headWeight.HasShape(labels.Count + 1, rnn.Desc.OutputSize))
            throw new ArgumentException($"headWeight: expected (C={labels.Count + 1}, {rnn.Desc.OutputSize}), found {Tensor.FormatShape(headWeight.Shape)}", nameof(headWeight));
        if (!headBias.HasShape(labels.Count + 1))
            throw new ArgumentException($"headBias: expected ({labels.Count + 1}), found {Tensor.FormatShape(headBias.Shape)}", nameof(headBias));
        Features = features;
        Labels = [.. labels];
        Rnn = new RnnLayer(rnn, backend);
        Head = new Linear(headWeight, headBias);
    }

    /// <summary>The metadata kind of a saved CTC network.</summary>
    public const string Kind = "ctc_labeller";

    /// <summary>F: the width of a frame.</summary>
    public int Features { get; }

    /// <summary>The label names; label k is class k+1 (class 0 is the blank).</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>C = labels + 1 (the blank).</summary>
    public int Classes => Labels.Count + 1;

    /// <summary>The recurrent stack.</summary>
    public RnnLayer Rnn { get; }

    /// <summary>The per-step head, (C, D*H).</summary>
    public Linear Head { get; }

    /// <summary>Every parameter with its PyTorch-style name: rnn.weight_ih_l0, ..., head.weight, head.bias.</summary>
    public IEnumerable<(string Name, Variable Parameter)> NamedParameters() =>
        Rnn.NamedParameters("rnn.").Concat(Head.NamedParameters("head."));

    /// <summary>The parameters, in <see cref="NamedParameters"/> order.</summary>
    public IReadOnlyList<Variable> Parameters() => NamedParameters().Select(p => p.Parameter).ToArray();

    /// <summary>
    /// Records the forward on <paramref name="tape"/>: <paramref name="frames"/> (T,N,F) time-major, zero-padded past each
    /// sequence's length in <paramref name="lengths"/> (N, each 1..T) -> log-probabilities (T,N,C).
    /// </summary>
    public Variable LogProbs(Tape tape, float[] frames, int[] lengths, int T, int N)
    {
        ArgumentNullException.ThrowIfNull(tape);
        CheckBatch(frames, lengths, T, N);
        var x = Variable.Constant(Tensor.FromArray(frames, T, N, Features));   // (T,N,F)
        var y = Rnn.Forward(tape, x, lengths: lengths).Output;                 // (T,N,D*H)
        return tape.LogSoftmax(Head.Forward(tape, y));                         // (T,N,C)
    }

    /// <summary>Inference (no tape): log-probabilities (T,N,C) of a padded batch laid out as in <see cref="LogProbs"/>.</summary>
    public float[] InferLogProbs(float[] frames, int[] lengths, int T, int N)
    {
        CheckBatch(frames, lengths, T, N);
        using var r = RnnRunner.Forward(Rnn.Plan, Tensor.FromArray(frames, T, N, Features), lengths: lengths, training: false);
        var output = r.Output.IsHost ? r.Output : r.Output.ToHost();           // (T,N,D*H)
        var tape = new Tape();
        var logits = tape.Linear(Variable.Constant(output), Variable.Constant(Head.Weight.Value), Head.Bias == null ? null : Variable.Constant(Head.Bias.Value));
        return tape.LogSoftmax(logits).Value.ToArray();                        // (T,N,C)
    }

    /// <summary>
    /// Decodes each sequence (frames (steps, F) row-major) greedily and with prefix beam search of width
    /// <paramref name="beamWidth"/>; the results are label indices (0..labels-1), blanks removed.
    /// </summary>
    public IReadOnlyList<(int[] Greedy, int[] Beam)> Decode(IReadOnlyList<(float[] Frames, int Steps)> sequences, int beamWidth = 8, int batch = 64)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (batch <= 0) throw new ArgumentException($"batch: must be positive, got {batch}", nameof(batch));
        var result = new List<(int[], int[])>(sequences.Count);
        for (int b = 0; b < sequences.Count; b += batch)
        {
            var chunk = sequences.Skip(b).Take(batch).ToArray();
            var (frames, lengths, T) = Pad(chunk, Features);
            int N = chunk.Length, C = Classes;
            var lp = InferLogProbs(frames, lengths, T, N);
            for (int n = 0; n < N; n++)
            {
                var rows = CtcDecoding.SequenceRows(lp, N, C, n, lengths[n]);
                var greedy = CtcDecoding.Greedy(rows, lengths[n], C, Blank).Labels;
                var beam = CtcDecoding.BeamSearch(rows, lengths[n], C, Blank, beamWidth).Labels;
                result.Add((ToLabels(greedy), ToLabels(beam)));
            }
        }
        return result;
    }

    /// <summary>Label indices as text: the label names joined by <paramref name="separator"/>.</summary>
    public string Spell(IEnumerable<int> labels, string separator = "") => string.Join(separator, labels.Select(k => Labels[k]));

    /// <summary>
    /// Pads sequences of frames ((steps, F) row-major each, steps &gt;= 1) into one time-major (T,N,F) array, T the
    /// longest; returns it with the lengths.
    /// </summary>
    public static (float[] Frames, int[] Lengths, int T) Pad(IReadOnlyList<(float[] Frames, int Steps)> sequences, int features)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        int N = sequences.Count;
        if (N == 0) throw new ArgumentException("sequences: empty batch", nameof(sequences));
        var lengths = new int[N];
        for (int n = 0; n < N; n++)
        {
            var (f, steps) = sequences[n];
            if (f == null || steps < 1 || (long)steps * features != f.Length)
                throw new ArgumentException($"sequences: sequence {n} has {f?.Length ?? 0} floats for {steps} steps of {features} features", nameof(sequences));
            lengths[n] = steps;
        }
        int T = lengths.Max();
        var frames = new float[(long)T * N * features];
        for (int n = 0; n < N; n++)
            for (int t = 0; t < lengths[n]; t++)
                Array.Copy(sequences[n].Frames, t * features, frames, ((long)t * N + n) * features, features);
        return (frames, lengths, T);
    }

    /// <summary>Writes the weights and the configuration to <paramref name="path"/> (atomically: a temporary file, then a rename).</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var inv = CultureInfo.InvariantCulture;
        var d = Rnn.Desc;
        var entries = NamedParameters().Select(p => SafeTensorEntry.F32(p.Name, (int[])p.Parameter.Shape.Clone(), p.Parameter.Value.ToArray())).ToList();
        var meta = new Dictionary<string, string>
        {
            ["kind"] = Kind,
            ["mode"] = RnnDesc.TorchModeName(d.Mode),
            ["num_layers"] = d.NumLayers.ToString(inv),
            ["hidden_size"] = d.HiddenSize.ToString(inv),
            ["input_size"] = Features.ToString(inv),
            ["bidirectional"] = d.Bidirectional ? "true" : "false",
            ["blank"] = Blank.ToString(inv),
            ["labels"] = ModelJson.Strings(Labels),
        };
        SafeTensorsWriter.Write(path, entries, meta);
    }

    /// <summary>
    /// Reads a network written by <see cref="Save"/> onto the backend named (null: RNNFAST_BACKEND, else auto). A file
    /// that is not one, or whose metadata or tensors do not fit together, is an <see cref="RnnFormatException"/> naming
    /// the file and the problem.
    /// </summary>
    public static CtcNetwork Load(string path, string? backend = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = SafeTensorsFile.Open(path);
        string source = Path.GetFileName(path);
        string Meta(string key) => file.Metadata.TryGetValue(key, out var v) ? v : throw new RnnFormatException(source, $"__metadata__ has no '{key}'");
        int Size(string key)
        {
            string v = Meta(key);
            if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n <= 0 || n > 1 << 20)
                throw new RnnFormatException(source, $"__metadata__ '{key}' = '{v}' is not a size in 1..{1 << 20}");
            return n;
        }
        if (Meta("kind") != Kind) throw new RnnFormatException(source, $"kind is '{Meta("kind")}', expected {Kind} (a CTC network saved by CtcNetwork.Save)");
        if (Meta("blank") != "0") throw new RnnFormatException(source, $"__metadata__ 'blank' = '{Meta("blank")}', expected 0");
        bool bidirectional = Meta("bidirectional") switch
        {
            "true" => true,
            "false" => false,
            var b => throw new RnnFormatException(source, $"__metadata__ 'bidirectional' = '{b}' is not true or false"),
        };
        string[]? labels;
        try
        {
            labels = ModelJson.ParseStrings(Meta("labels"));
        }
        catch (JsonException e)
        {
            throw new RnnFormatException(source, $"__metadata__ 'labels' is not a JSON array of strings: {e.Message}", e);
        }
        if (labels == null || labels.Length == 0 || labels.Any(string.IsNullOrEmpty))
            throw new RnnFormatException(source, "__metadata__ 'labels' must list at least one non-empty label");
        int features = Size("input_size"), hidden = Size("hidden_size"), layers = Size("num_layers");
        RnnDesc desc;
        try
        {
            desc = new RnnDesc(RnnDesc.ParseMode(Meta("mode")), features, hidden, layers, bidirectional);
        }
        catch (ArgumentException e)
        {
            throw new RnnFormatException(source, $"__metadata__ describes no valid RNN: {e.Message}", e);
        }
        var rnn = file.LoadRnnParameters(desc, "rnn.");
        Tensor Head(string name, params int[] shape)
        {
            if (!file.Contains(name)) throw new RnnFormatException(source, $"tensor '{name}' is missing");
            var t = file.ReadTensor(name);
            if (!t.HasShape(shape))
                throw new RnnFormatException(source, $"tensor '{name}' has shape {Tensor.FormatShape(t.Shape)}, expected {Tensor.FormatShape(shape)}");
            return t;
        }
        int C = labels.Length + 1;
        var weight = Head("head.weight", C, desc.OutputSize);
        var bias = Head("head.bias", C);
        return new CtcNetwork(features, labels, rnn, weight, bias, BackendRegistry.Get(backend));
    }

    private static int[] ToLabels(int[] classes) => classes.Select(c => c - 1).ToArray();

    private void CheckBatch(float[] frames, int[] lengths, int T, int N)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(lengths);
        if (T <= 0) throw new ArgumentException($"T: must be positive, got {T}", nameof(T));
        if (N <= 0) throw new ArgumentException($"N: must be positive, got {N}", nameof(N));
        if ((long)T * N * Features != frames.Length)
            throw new ArgumentException($"frames: expected (T={T}, N={N}, F={Features}) = {(long)T * N * Features} floats, found {frames.Length}", nameof(frames));
        if (lengths.Length != N) throw new ArgumentException($"lengths: expected {N} (one per sequence), found {lengths.Length}", nameof(lengths));
        for (int n = 0; n < N; n++)
            if (lengths[n] < 1 || lengths[n] > T) throw new ArgumentException($"lengths: entry {n} is {lengths[n]}, expected 1..{T}", nameof(lengths));
    }

    /// <summary>Releases the RNN plan.</summary>
    public void Dispose() => Rnn.Dispose();
}
