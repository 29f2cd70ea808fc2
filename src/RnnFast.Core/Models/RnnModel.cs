// The embedding API: a trained character model (language model, classifier, tagger or forecaster) loaded for inference.
//   var model = RnnModel.Load("model.safetensors");          // backend: RNNFAST_BACKEND, else auto; model.Backend says which
//   var s = model.NewState(); var logits = model.Step(s, id); // streaming on the model's backend, one token at a time
//   model.StepMany(states, tokens, logits)                   // many streams advanced together: one GEMM per layer
//   model.Forward(sequences) / model.Classify(texts)          // batch inference over variable-length sequences
//   model.Tag(text)                                           // a tagger: one tag per character, over the whole text
//   model.ClassifyMultiLabel(text)                            // a multi-label classifier: a probability per label, the set above 0.5
// A loaded model is immutable: any number of threads may use it at once, each with its own RnnState.
using System.Numerics.Tensors;
using RnnFast.Backends;

namespace RnnFast.Models;

/// <summary>A class and its probability, as returned by <see cref="RnnModel.Classify(string)"/>.</summary>
public sealed record ClassPrediction(int ClassId, string Label, float Probability, float[] Probabilities);

/// <summary>
/// A multi-label prediction, as returned by <see cref="RnnModel.ClassifyMultiLabel(string)"/>: every label's probability
/// (an independent sigmoid each) and the labels whose probability is above 0.5, in label order.
/// </summary>
public sealed record MultiLabelPrediction(float[] Probabilities, IReadOnlyList<int> LabelIds, IReadOnlyList<string> Labels);

/// <summary>
/// One character's tag, as returned by <see cref="RnnModel.Tag(string, bool)"/>: the character (a Unicode scalar, as the
/// vocabulary counts them), the most likely tag and its probability, and every tag's probability.
/// </summary>
public sealed record TagPrediction(string Symbol, int TagId, string Label, float Probability, float[] Probabilities);

/// <summary>A character model ready for inference on one backend.</summary>
public sealed class RnnModel : IDisposable
{
    private readonly float[]? _embedding;  // (V,E); null for a model with feature inputs
    private readonly float[] _headW;       // (O, D*H)
    private readonly float[] _headB;       // (O)
    private readonly RnnParameters _rnn;
    private readonly IRnnPlan _plan;
    private readonly List<RnnStepper> _multi = []; // pooled multi-stream steppers

    private RnnModel(NetworkConfig config, Backend backend, Tensor? embedding, RnnParameters rnn, Tensor headW, Tensor headB)
    {
        Config = config;
        Backend = backend;
        // Private copies: the model stays the same even if the caller changes the tensors it came from.
        _embedding = embedding?.ToArray();
        _headW = headW.ToArray();
        _headB = headB.ToArray();
        _rnn = RnnParameters.FromTensors(config.RnnDesc, rnn.Tensors.Select(t => t.ToHost()).ToArray());
        _plan = backend.CreateRnnPlan(_rnn);
    }

    /// <summary>Loads a checkpoint written by `rnnfast train` / `rnnfast classify`, or a PyTorch state_dict saved as
    /// safetensors (see the README). <paramref name="backend"/>: a backend name, "auto", or null for the
    /// RNNFAST_BACKEND environment variable (else auto).</summary>
    public static RnnModel Load(string path, string? backend = null, CharVocab? vocab = null)
    {
        var contents = Checkpoint.Read(path, vocab);
        var b = BackendRegistry.Get(backend);
        var rnn = RnnParameters.FromNamed(contents.Config.RnnDesc, n => contents.Tensors.GetValueOrDefault(n), "rnn.", Path.GetFileName(path));
        return new RnnModel(contents.Config, b, contents.Tensors.GetValueOrDefault("embedding.weight"), rnn, contents.Tensors["head.weight"], contents.Tensors["head.bias"])
        {
            UnusedTensors = contents.UnusedTensors,
        };
    }

    /// <summary>A snapshot of a network being trained (its weights are copied).</summary>
    public static RnnModel FromNetwork(CharNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        return new RnnModel(network.Config, network.Backend, network.Embedding?.Weight.Value, network.Rnn.Plan.Parameters,
            network.Head.Weight.Value, network.Head.Bias?.Value ?? Tensor.Zeros(network.Config.OutputSize));
    }

    /// <summary>Copies of the model's weights under checkpoint names (embedding.weight, rnn.*, head.weight, head.bias): what export writes.</summary>
    internal Dictionary<string, Tensor> NamedTensors()
    {
        var d = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        if (_embedding != null) d["embedding.weight"] = Tensor.FromArray((float[])_embedding.Clone(), Vocab.Count, Config.Embed);
        d["head.weight"] = Tensor.FromArray((float[])_headW.Clone(), OutputSize, Config.RnnDesc.OutputSize);
        d["head.bias"] = Tensor.FromArray((float[])_headB.Clone(), OutputSize);
        for (int i = 0; i < _rnn.Ids.Count; i++) d["rnn." + _rnn.Ids[i].TorchName] = Tensor.FromArray(_rnn.Tensors[i].ToArray(), _rnn.Tensors[i].Shape);
        return d;
    }

    /// <summary>Tensors of the loaded file this model does not read (e.g. a PyTorch state_dict's extra modules), by name.</summary>
    public IReadOnlyList<string> UnusedTensors { get; private init; } = [];

    /// <summary>The backend batch inference runs on.</summary>
    public Backend Backend { get; }
    /// <summary>What the model is (kind, cell, sizes, vocabulary, labels).</summary>
    public NetworkConfig Config { get; }
    /// <summary>What the model predicts.</summary>
    public NetworkKind Kind => Config.Kind;
    /// <summary>The model's character vocabulary.</summary>
    public CharVocab Vocab => Config.Vocab;
    /// <summary>The class or tag names (empty for a language model or forecaster).</summary>
    public IReadOnlyList<string> Labels => Config.Labels;
    /// <summary>Width of what <see cref="Step(RnnState, int)"/> returns: V for a language model, C for a classifier.</summary>
    public int OutputSize => Config.OutputSize;

    /// <summary>
    /// A fresh (zero) state for streaming with <see cref="Step(RnnState, int)"/>, kept where the model's backend keeps it (device
    /// memory on a GPU backend). Unidirectional models that read each step (not a mean-pooled classifier) only. Dispose it to free that memory at once.
    /// </summary>
    public RnnState NewState()
    {
        if (Config.Bidirectional)
            throw new InvalidOperationException("streaming needs a unidirectional model; a bidirectional one must see the whole sequence (use Forward or Classify)");
        if (Config.Pooling == SequencePooling.Mean)
            throw new InvalidOperationException("streaming gives the head's output at each step; a mean-pooled classifier reads the mean over every step (use Forward or Classify)");
        return new RnnState(this, _plan.CreateStepper(1), OutputSize);
    }

    /// <summary>
    /// Feeds one token to <paramref name="state"/> on <see cref="Backend"/> and returns the head's output for the
    /// sequence so far: next-token logits (V) for a language model, class logits (C) for a classifier. The span lives
    /// in the state and is overwritten by its next step. No allocation on the cpu backend.
    /// </summary>
    public ReadOnlySpan<float> Step(RnnState state, int token)
    {
        CheckState(state, nameof(state));
        CheckToken(token, nameof(token));
        state.Stepper.Step(state.Stream, Embedding.AsSpan(token * Config.Embed, Config.Embed), state.Y);
        Head(state.Y, state.Output);
        state.Steps++;
        return state.Output;
    }

    /// <summary>
    /// Advances many streams (for example a server's sessions) by one token each, together: their states are gathered
    /// into one batch, stepped as one GEMM per layer on <see cref="Backend"/>, and scattered back. Each stream keeps its
    /// own state and position. <paramref name="outputs"/> receives (N, <see cref="OutputSize"/>): stream n's logits in
    /// row n. Thread-safe like <see cref="Step(RnnState, int)"/> (each state used by one call at a time).
    /// </summary>
    public void StepMany(IReadOnlyList<RnnState> states, ReadOnlySpan<int> tokens, Span<float> outputs)
    {
        ArgumentNullException.ThrowIfNull(states);
        int N = states.Count, O = OutputSize, E = Config.Embed, Ho = Config.RnnDesc.OutputHiddenSize;
        if (N == 0) throw new ArgumentException("states: empty", nameof(states));
        if (tokens.Length != N) throw new ArgumentException($"tokens: expected {N} (one per state), found {tokens.Length}", nameof(tokens));
        if (outputs.Length != N * O) throw new ArgumentException($"outputs: expected (N={N}, O={O}) = {N * O} floats, found {outputs.Length}", nameof(outputs));
        for (int n = 0; n < N; n++)
        {
            CheckState(states[n], $"states[{n}]");
            CheckToken(tokens[n], $"tokens[{n}]");
            for (int m = 0; m < n; m++)
                if (ReferenceEquals(states[m], states[n])) throw new ArgumentException($"states: entries {m} and {n} are the same state", nameof(states));
        }
        var (stepper, batch) = RentMulti(N);
        try
        {
            var scratch = batch.Scratch;
            var x = scratch.AsSpan(0, N * E);                              // (N,E)
            var y = scratch.AsSpan(N * E, N * Ho);                         // (N,H_out)
            for (int n = 0; n < N; n++)
            {
                Embedding.AsSpan(tokens[n] * E, E).CopyTo(x.Slice(n * E, E));
                states[n].GatherInto(batch.State, n);
            }
            stepper.Step(batch.State, x, y);
            for (int n = 0; n < N; n++)
            {
                var s = states[n];
                s.ScatterFrom(batch.State, n);
                y.Slice(n * Ho, Ho).CopyTo(s.Y);
                Head(s.Y, s.Output);
                s.Output.CopyTo(outputs.Slice(n * O, O));
                s.Steps++;
            }
        }
        finally
        {
            ReturnMulti(stepper, batch);
        }
    }

    /// <summary>A batch state of a fixed number of streams and its scratch (x and y rows).</summary>
    private sealed class MultiBatch(RnnStepState state, float[] scratch)
    {
        public RnnStepState State { get; } = state;
        public float[] Scratch { get; } = scratch;
    }

    private readonly Dictionary<int, Stack<MultiBatch>> _batches = new();

    private (RnnStepper, MultiBatch) RentMulti(int n)
    {
        RnnStepper? stepper = null;
        MultiBatch? batch = null;
        lock (_multi)
        {
            // any pooled stepper big enough; batches are kept per stream count (a state has a fixed N)
            for (int i = _multi.Count - 1; i >= 0; i--)
                if (_multi[i].MaxStreams >= n)
                {
                    stepper = _multi[i];
                    _multi.RemoveAt(i);
                    break;
                }
            if (_batches.TryGetValue(n, out var stack) && stack.Count > 0) batch = stack.Pop();
        }
        stepper ??= _plan.CreateStepper(Math.Max(n, 64));
        batch ??= new MultiBatch(stepper.CreateState(n), new float[n * (Config.InputSize + Config.RnnDesc.OutputHiddenSize)]);
        return (stepper, batch);
    }

    private void ReturnMulti(RnnStepper stepper, MultiBatch batch)
    {
        lock (_multi)
        {
            _multi.Add(stepper);
            if (!_batches.TryGetValue(batch.State.Streams, out var stack)) _batches[batch.State.Streams] = stack = new Stack<MultiBatch>();
            stack.Push(batch);
        }
    }

    /// <summary>
    /// A feature model's step: <paramref name="x"/> (F) in the columns' own units (scaled here with the stored
    /// statistics), <paramref name="y"/> (O) receives the prediction in the targets' units (for a differenced forecaster:
    /// the predicted change; SeriesForecast adds it to the last level). No allocation on the cpu backend.
    /// </summary>
    public void Step(RnnState state, ReadOnlySpan<float> x, Span<float> y)
    {
        CheckState(state, nameof(state));
        if (!Config.HasFeatureInput) throw new InvalidOperationException("this model reads tokens: use Step(state, token)");
        int F = Config.Features, O = OutputSize;
        if (x.Length != F) throw new ArgumentException($"x: expected {F} values ({string.Join(", ", Config.FeatureNames)}), found {x.Length}", nameof(x));
        if (y.Length != O) throw new ArgumentException($"y: expected {O} values ({string.Join(", ", Config.TargetNames)}), found {y.Length}", nameof(y));
        ScaleInput(x, state.X);
        state.Stepper.Step(state.Stream, state.X, state.Y);
        Head(state.Y, state.Output);
        UnscaleOutput(state.Output, y);
        state.Steps++;
    }

    /// <summary>
    /// Many feature streams advanced together (see <see cref="StepMany(IReadOnlyList{RnnState}, ReadOnlySpan{int}, Span{float})"/>):
    /// <paramref name="x"/> (N,F) in the columns' units, <paramref name="y"/> (N,O) in the targets' units.
    /// </summary>
    public void StepMany(IReadOnlyList<RnnState> states, ReadOnlySpan<float> x, Span<float> y)
    {
        ArgumentNullException.ThrowIfNull(states);
        if (!Config.HasFeatureInput) throw new InvalidOperationException("this model reads tokens: use StepMany(states, tokens, outputs)");
        int N = states.Count, F = Config.Features, O = OutputSize, Ho = Config.RnnDesc.OutputHiddenSize;
        if (N == 0) throw new ArgumentException("states: empty", nameof(states));
        if (x.Length != N * F) throw new ArgumentException($"x: expected (N={N}, F={F}) = {N * F} values, found {x.Length}", nameof(x));
        if (y.Length != N * O) throw new ArgumentException($"y: expected (N={N}, O={O}) = {N * O} values, found {y.Length}", nameof(y));
        for (int n = 0; n < N; n++)
        {
            CheckState(states[n], $"states[{n}]");
            for (int m = 0; m < n; m++)
                if (ReferenceEquals(states[m], states[n])) throw new ArgumentException($"states: entries {m} and {n} are the same state", nameof(states));
        }
        var (stepper, batch) = RentMulti(N);
        try
        {
            var xs = batch.Scratch.AsSpan(0, N * F);                       // (N,F) scaled
            var hs = batch.Scratch.AsSpan(N * F, N * Ho);                  // (N,H_out)
            for (int n = 0; n < N; n++)
            {
                ScaleInput(x.Slice(n * F, F), xs.Slice(n * F, F));
                states[n].GatherInto(batch.State, n);
            }
            stepper.Step(batch.State, xs, hs);
            for (int n = 0; n < N; n++)
            {
                var s = states[n];
                s.ScatterFrom(batch.State, n);
                hs.Slice(n * Ho, Ho).CopyTo(s.Y);
                Head(s.Y, s.Output);
                UnscaleOutput(s.Output, y.Slice(n * O, O));
                s.Steps++;
            }
        }
        finally
        {
            ReturnMulti(stepper, batch);
        }
    }

    /// <summary>
    /// Batch inference of a feature model: <paramref name="x"/> (T,N,F) time-major in the columns' units, optional
    /// per-sequence lengths; returns (T,N,O) predictions in the targets' units (zero rows past a sequence's end).
    /// </summary>
    public Tensor Forward(Tensor x, int[]? lengths = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (!Config.HasFeatureInput) throw new InvalidOperationException("this model reads tokens: use Forward(sequences)");
        int F = Config.Features, O = OutputSize;
        if (x.Rank != 3 || x.Shape[2] != F) throw new ArgumentException($"x: expected (T,N,{F}), found {Tensor.FormatShape(x.Shape)}", nameof(x));
        int T = x.Shape[0], N = x.Shape[1];
        var src = x.ToArray();
        var scaled = new float[src.Length];
        for (int row = 0; row < T * N; row++) ScaleInput(src.AsSpan(row * F, F), scaled.AsSpan(row * F, F));
        using var r = _plan.Forward(RnnRunner.Prepare(Config.RnnDesc, Tensor.FromArray(scaled, T, N, F), lengths: lengths), training: false);
        var h = r.Output.IsHost ? r.Output.HostArray : r.Output.ToArray(); // (T,N,H_out)
        int Hf = Config.RnnDesc.OutputSize;
        var result = new float[T * N * O];
        var head = new float[O];
        for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++)
        {
            if (lengths != null && t >= lengths[n]) continue;
            int row = t * N + n;
            Head(h.AsSpan(row * Hf, Hf), head);
            UnscaleOutput(head, result.AsSpan(row * O, O));
        }
        return Tensor.FromArray(result, T, N, O);
    }

    private void ScaleInput(ReadOnlySpan<float> x, Span<float> z)
    {
        if (Config.Scaling is not { } sc) { x.CopyTo(z); return; }
        for (int f = 0; f < x.Length; f++) z[f] = (x[f] - sc.InputMean[f]) / sc.InputStd[f];
    }

    private void UnscaleOutput(ReadOnlySpan<float> o, Span<float> y)
    {
        if (Config.Scaling is not { } sc) { o.CopyTo(y); return; }
        for (int k = 0; k < o.Length; k++) y[k] = o[k] * sc.TargetStd[k] + sc.TargetMean[k];
    }

    private float[] Embedding => _embedding ?? throw new InvalidOperationException("this model reads feature vectors: use Step(state, x, y)");

    private void CheckState(RnnState state, string name)
    {
        if (state == null) throw new ArgumentNullException(name);
        if (!ReferenceEquals(state.Owner, this)) throw new ArgumentException($"{name}: belongs to another model", name);
    }

    private void CheckToken(int token, string name)
    {
        if ((uint)token >= (uint)Vocab.Count) throw new ArgumentOutOfRangeException(name, $"{name}: {token} is outside the vocabulary 0..{Vocab.Count - 1}");
    }

    /// <summary>
    /// Batch inference over variable-length token sequences on <see cref="Backend"/>. Returns, for a language model,
    /// logits (T,N,V) time-major with T the longest sequence (rows past a sequence's end are the head's bias);
    /// for a classifier, class logits (N,C) read at each sequence's last token (or, with <see cref="SequencePooling.Mean"/>,
    /// from the mean of the RNN's outputs over its tokens); for a tagger, tag logits (T,N,C) at
    /// every step (rows past a sequence's end are the head's bias; a bidirectional tagger reads each sequence whole).
    /// </summary>
    public Tensor Forward(IReadOnlyList<int[]> sequences)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0) throw new ArgumentException("sequences: empty batch", nameof(sequences));
        var embedding = Embedding;
        int N = sequences.Count, T = 0, E = Config.Embed, V = Vocab.Count;
        for (int n = 0; n < N; n++)
        {
            var s = sequences[n] ?? throw new ArgumentException($"sequences: entry {n} is null", nameof(sequences));
            if (s.Length == 0) throw new ArgumentException($"sequences: entry {n} is empty", nameof(sequences));
            foreach (var id in s)
                if ((uint)id >= (uint)V) throw new ArgumentException($"sequences: entry {n} has token {id}, outside the vocabulary 0..{V - 1}", nameof(sequences));
            T = Math.Max(T, s.Length);
        }
        var x = new float[T * N * E];                                        // (T,N,E)
        var lengths = new int[N];
        for (int n = 0; n < N; n++)
        {
            lengths[n] = sequences[n].Length;
            for (int t = 0; t < lengths[n]; t++)
                embedding.AsSpan(sequences[n][t] * E, E).CopyTo(x.AsSpan((t * N + n) * E, E));
        }
        var r = _plan.Forward(RnnRunner.Prepare(Config.RnnDesc, Tensor.FromArray(x, T, N, E), lengths: lengths), training: false);
        var y = r.Output.IsHost ? r.Output.HostArray : r.Output.ToArray();  // (T,N,D*H)
        int F = Config.RnnDesc.OutputSize, O = OutputSize;
        if (Kind is NetworkKind.LanguageModel or NetworkKind.Tagger)
        {
            var logits = new float[T * N * O];
            for (int row = 0; row < T * N; row++) Head(y.AsSpan(row * F, F), logits.AsSpan(row * O, O));
            return Tensor.FromArray(logits, T, N, O);
        }
        var cls = new float[N * O];
        var feature = new float[F];
        for (int n = 0; n < N; n++)
        {
            if (Config.Pooling == SequencePooling.Mean)
            {
                feature.AsSpan().Clear();
                for (int t = 0; t < lengths[n]; t++) TensorPrimitives.Add(feature, y.AsSpan((t * N + n) * F, F), feature);
                TensorPrimitives.Multiply(feature, 1f / lengths[n], feature);
                Head(feature, cls.AsSpan(n * O, O));
                continue;
            }
            int last = lengths[n] - 1;
            y.AsSpan((last * N + n) * F, F).CopyTo(feature);
            if (Config.Bidirectional) // reverse half: its output at t = 0 has seen the whole sequence
                y.AsSpan(n * F + Config.Hidden, Config.Hidden).CopyTo(feature.AsSpan(Config.Hidden));
            Head(feature, cls.AsSpan(n * O, O));
        }
        return Tensor.FromArray(cls, N, O);
    }

    /// <summary>Token ids of a non-empty batch of non-empty texts, every character in the vocabulary (errors name the entry).</summary>
    private int[][] EncodeTexts(IReadOnlyList<string> texts)
    {
        if (texts.Count == 0) throw new ArgumentException("texts: empty batch", nameof(texts));
        var ids = new int[texts.Count][];
        for (int n = 0; n < texts.Count; n++)
        {
            var text = texts[n] ?? throw new ArgumentException($"texts: entry {n} is null", nameof(texts));
            if (text.Length == 0) throw new ArgumentException($"texts: entry {n} is empty", nameof(texts));
            try { ids[n] = Vocab.Encode(text); }
            catch (ArgumentException e) { throw new ArgumentException($"texts: entry {n}: {e.Message}", nameof(texts), e); }
        }
        return ids;
    }

    /// <summary>The most likely class of <paramref name="text"/> with every class's probability.</summary>
    public ClassPrediction Classify(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Classify([text])[0];
    }

    /// <summary>Classifies a batch of texts of any lengths in one pass.</summary>
    public IReadOnlyList<ClassPrediction> Classify(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (Kind != NetworkKind.Classifier) throw new InvalidOperationException($"this model is a {Kind}, not a classifier");
        var ids = EncodeTexts(texts);
        var logits = Forward(ids);
        int C = OutputSize;
        var result = new ClassPrediction[texts.Count];
        for (int n = 0; n < texts.Count; n++)
        {
            var p = new float[C];
            // Shifted by the largest logit first: SoftMax alone overflows (inf / inf = NaN) once a logit passes ~88.
            var row = logits.Span.Slice(n * C, C);
            TensorPrimitives.Subtract(row, TensorPrimitives.Max(row), p);
            TensorPrimitives.SoftMax(p, p);
            int best = TensorPrimitives.IndexOfMax(p);
            result[n] = new ClassPrediction(best, Labels[best], p[best], p);
        }
        return result;
    }

    /// <summary>A multi-label classifier's per-label probabilities (sigmoid) for <paramref name="text"/> and the labels above 0.5.</summary>
    public MultiLabelPrediction ClassifyMultiLabel(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return ClassifyMultiLabel([text])[0];
    }

    /// <summary>Multi-label predictions for a batch of non-empty texts of any lengths in one pass.</summary>
    public IReadOnlyList<MultiLabelPrediction> ClassifyMultiLabel(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (Kind != NetworkKind.MultiLabel) throw new InvalidOperationException($"this model is a {Kind}, not a multi-label classifier");
        var ids = EncodeTexts(texts);
        return MultiLabelFromIds(ids);
    }

    /// <summary>Multi-label predictions for non-empty id sequences (see <see cref="ClassifyMultiLabel(string)"/>).</summary>
    public IReadOnlyList<MultiLabelPrediction> MultiLabelFromIds(IReadOnlyList<int[]> sequences)
    {
        if (Kind != NetworkKind.MultiLabel) throw new InvalidOperationException($"this model is a {Kind}, not a multi-label classifier");
        var logits = Forward(sequences);
        int C = OutputSize;
        var result = new MultiLabelPrediction[sequences.Count];
        for (int n = 0; n < result.Length; n++)
        {
            var p = new float[C];
            TensorPrimitives.Sigmoid(logits.Span.Slice(n * C, C), p);
            var on = Enumerable.Range(0, C).Where(c => p[c] > 0.5f).ToArray();
            result[n] = new MultiLabelPrediction(p, on, on.Select(c => Labels[c]).ToArray());
        }
        return result;
    }

    /// <summary>
    /// Tags every character of <paramref name="text"/> (a tagger): one <see cref="TagPrediction"/> per character, in
    /// order, read from the whole text (a bidirectional tagger sees the characters after each one too). An empty text
    /// gives an empty list. A character outside the vocabulary is an <see cref="ArgumentException"/> naming it, unless
    /// <paramref name="skipUnknown"/>: then it is dropped (it gets no tag, and the model reads the text without it).
    /// </summary>
    public IReadOnlyList<TagPrediction> Tag(string text, bool skipUnknown = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Tag([text], skipUnknown)[0];
    }

    /// <summary>Tags a batch of texts of any lengths in one pass (see <see cref="Tag(string, bool)"/>).</summary>
    public IReadOnlyList<IReadOnlyList<TagPrediction>> Tag(IReadOnlyList<string> texts, bool skipUnknown = false)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (Kind != NetworkKind.Tagger) throw new InvalidOperationException($"this model is a {Kind}, not a tagger");
        var ids = new int[texts.Count][];
        for (int n = 0; n < texts.Count; n++)
        {
            var text = texts[n] ?? throw new ArgumentException($"texts: entry {n} is null", nameof(texts));
            if (skipUnknown)
            {
                var kept = new List<int>(text.Length);
                foreach (var r in text.EnumerateRunes())
                    if (Vocab.TryGetId(r, out int id)) kept.Add(id);
                ids[n] = kept.ToArray();
            }
            else
            {
                try { ids[n] = Vocab.Encode(text); }
                catch (ArgumentException e) { throw new ArgumentException($"texts: entry {n}: {e.Message}", nameof(texts), e); }
            }
        }
        var result = new IReadOnlyList<TagPrediction>[texts.Count];
        var nonEmpty = Enumerable.Range(0, ids.Length).Where(i => ids[i].Length > 0).ToArray();
        for (int i = 0; i < ids.Length; i++) if (ids[i].Length == 0) result[i] = [];
        if (nonEmpty.Length == 0) return result;
        var logits = Forward(nonEmpty.Select(i => ids[i]).ToArray()).ToArray(); // (T,N,C)
        int N = nonEmpty.Length, C = OutputSize;
        for (int n = 0; n < N; n++)
        {
            var seq = ids[nonEmpty[n]];
            var tags = new TagPrediction[seq.Length];
            for (int t = 0; t < seq.Length; t++)
            {
                var p = new float[C];
                TensorPrimitives.SoftMax(logits.AsSpan((t * N + n) * C, C), p);
                int best = TensorPrimitives.IndexOfMax(p);
                tags[t] = new TagPrediction(Vocab[seq[t]], best, Labels[best], p[best], p);
            }
            result[nonEmpty[n]] = tags;
        }
        return result;
    }

    /// <summary>
    /// Feeds <paramref name="prime"/> then samples <paramref name="length"/> characters, calling
    /// <paramref name="onText"/> with each one as it is produced. Returns the generated text (without the prime).
    /// With <paramref name="keepText"/> false the characters only go to <paramref name="onText"/> and are not
    /// accumulated (memory stays constant whatever <paramref name="length"/> is), and the result is "". Generation stops
    /// early when <paramref name="cancel"/> is cancelled (e.g. by <paramref name="onText"/> when its reader has gone), and
    /// as soon as the generated text ends with <see cref="SamplingOptions.Stop"/> (which is included).
    /// </summary>
    public string Generate(string prime, int length, SamplingOptions options, Action<string>? onText = null, CancellationToken cancel = default, bool keepText = true)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (Kind != NetworkKind.LanguageModel) throw new InvalidOperationException($"this model is a {Kind}; only a language model generates text");
        if (length < 0) throw new ArgumentException($"length: must be >= 0, got {length}", nameof(length));
        var state = NewState();
        var rng = new Random(options.Seed);
        var scratch = new float[OutputSize];
        ReadOnlySpan<float> logits = default;
        int[] ids;
        try { ids = string.IsNullOrEmpty(prime) ? [rng.Next(Vocab.Count)] : Vocab.Encode(prime); }
        catch (ArgumentException e) { throw new ArgumentException("prime: " + e.Message, nameof(prime), e); }
        var stop = options.Stop;
        if (stop != null)
            foreach (var r in stop.EnumerateRunes())
                if (!Vocab.TryGetId(r, out _))
                    throw new ArgumentException($"{nameof(SamplingOptions)}.{nameof(SamplingOptions.Stop)}: '{r}' is not in the model's vocabulary, so the text could never end with it");
        foreach (var id in ids) logits = Step(state, id);
        var sb = keepText ? new System.Text.StringBuilder() : null;
        var tail = stop != null ? new System.Text.StringBuilder(2 * stop.Length + 4) : null; // the last characters, to spot the stop string
        for (int i = 0; i < length && !cancel.IsCancellationRequested; i++)
        {
            int next = Sampler.Pick(logits, options, rng, scratch);
            var ch = Vocab[next];
            sb?.Append(ch);
            onText?.Invoke(ch);
            if (tail != null)
            {
                tail.Append(ch);
                if (tail.Length > 2 * stop!.Length) tail.Remove(0, tail.Length - stop.Length);
                if (EndsWith(tail, stop)) break;
            }
            logits = Step(state, next);
        }
        return sb?.ToString() ?? "";
    }

    private static bool EndsWith(System.Text.StringBuilder text, string end)
    {
        if (text.Length < end.Length) return false;
        for (int i = 0; i < end.Length; i++)
            if (text[text.Length - end.Length + i] != end[i]) return false;
        return true;
    }

    /// <summary>output (O) = head.weight (O,F) · feature (F) + head.bias.</summary>
    private void Head(ReadOnlySpan<float> feature, Span<float> output)
    {
        int F = feature.Length;
        for (int o = 0; o < output.Length; o++)
            output[o] = _headB[o] + TensorPrimitives.Dot(_headW.AsSpan(o * F, F), feature);
    }

    /// <summary>Releases the network's backend resources.</summary>
    public void Dispose()
    {
        lock (_multi)
        {
            foreach (var stepper in _multi) stepper.Dispose();
            foreach (var stack in _batches.Values)
                foreach (var b in stack) b.State.Dispose();
            _multi.Clear();
            _batches.Clear();
        }
        _plan.Dispose();
    }
}
