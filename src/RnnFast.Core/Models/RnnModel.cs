// The embedding API: a trained character model (language model or classifier) loaded for inference.
//   var model = RnnModel.Load("model.safetensors");          // backend: "auto" by default; model.Backend says which
//   var s = model.NewState(); var logits = model.Step(s, id); // streaming, one token at a time, no allocation
//   model.Forward(sequences) / model.Classify(texts)          // batch inference over variable-length sequences
// A loaded model is immutable: any number of threads may use it at once, each with its own RnnState.
using System.Numerics.Tensors;
using RnnFast.Backends;

namespace RnnFast.Models;

/// <summary>A class and its probability, as returned by <see cref="RnnModel.Classify(string)"/>.</summary>
public sealed record ClassPrediction(int ClassId, string Label, float Probability, float[] Probabilities);

/// <summary>A character model ready for inference on one backend.</summary>
public sealed class RnnModel : IDisposable
{
    private readonly float[] _embedding;   // (V,E)
    private readonly float[] _headW;       // (O, D*H)
    private readonly float[] _headB;       // (O)
    private readonly RnnParameters _rnn;
    private readonly IRnnPlan _plan;

    private RnnModel(NetworkConfig config, Backend backend, Tensor embedding, RnnParameters rnn, Tensor headW, Tensor headB)
    {
        Config = config;
        Backend = backend;
        // Private copies: the model stays the same even if the caller changes the tensors it came from.
        _embedding = embedding.ToArray();
        _headW = headW.ToArray();
        _headB = headB.ToArray();
        _rnn = RnnParameters.FromTensors(config.RnnDesc, rnn.Tensors.Select(t => t.ToHost()).ToArray());
        _plan = backend.CreateRnnPlan(_rnn);
    }

    /// <summary>Loads a checkpoint written by `rnnfast train` / `rnnfast classify`, or a PyTorch state_dict saved as
    /// safetensors (see the README). <paramref name="backend"/>: a backend name or "auto".</summary>
    public static RnnModel Load(string path, string backend = "auto", CharVocab? vocab = null)
    {
        var contents = Checkpoint.Read(path, vocab);
        var b = BackendRegistry.Get(backend);
        var rnn = RnnParameters.FromNamed(contents.Config.RnnDesc, n => contents.Tensors.GetValueOrDefault(n), "rnn.", Path.GetFileName(path));
        return new RnnModel(contents.Config, b, contents.Tensors["embedding.weight"], rnn, contents.Tensors["head.weight"], contents.Tensors["head.bias"]);
    }

    /// <summary>A snapshot of a network being trained (its weights are copied).</summary>
    public static RnnModel FromNetwork(CharNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        return new RnnModel(network.Config, network.Backend, network.Embedding.Weight.Value, network.Rnn.Plan.Parameters,
            network.Head.Weight.Value, network.Head.Bias?.Value ?? Tensor.Zeros(network.Config.OutputSize));
    }

    /// <summary>The backend batch inference runs on.</summary>
    public Backend Backend { get; }
    public NetworkConfig Config { get; }
    public NetworkKind Kind => Config.Kind;
    public CharVocab Vocab => Config.Vocab;
    public IReadOnlyList<string> Labels => Config.Labels;
    /// <summary>Width of what <see cref="Step"/> returns: V for a language model, C for a classifier.</summary>
    public int OutputSize => Config.OutputSize;

    /// <summary>A fresh (zero) state for streaming with <see cref="Step"/>. Unidirectional models only.</summary>
    public RnnState NewState()
    {
        if (Config.Bidirectional)
            throw new InvalidOperationException("streaming needs a unidirectional model; a bidirectional one must see the whole sequence (use Forward or Classify)");
        return new RnnState(this, Config);
    }

    /// <summary>
    /// Feeds one token to <paramref name="state"/> and returns the head's output for the sequence so far: next-token
    /// logits (V) for a language model, class logits (C) for a classifier. The span lives in the state and is
    /// overwritten by its next step. No allocation.
    /// </summary>
    public ReadOnlySpan<float> Step(RnnState state, int token)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!ReferenceEquals(state.Owner, this)) throw new ArgumentException("state: belongs to another model", nameof(state));
        if ((uint)token >= (uint)Vocab.Count) throw new ArgumentOutOfRangeException(nameof(token), $"token: {token} is outside the vocabulary 0..{Vocab.Count - 1}");
        int E = Config.Embed;
        ReadOnlySpan<float> x = _embedding.AsSpan(token * E, E);
        for (int l = 0; l < Config.Layers; l++)
        {
            StreamingCell.Step(Config.Mode, _rnn, l, x, state.Hs[l], state.Cs[l], state.Gates, state.HhN);
            x = state.Hs[l];
        }
        Head(x, state.Output);
        state.Steps++;
        return state.Output;
    }

    /// <summary>
    /// Batch inference over variable-length token sequences on <see cref="Backend"/>. Returns, for a language model,
    /// logits (T,N,V) time-major with T the longest sequence (rows past a sequence's end are the head's bias);
    /// for a classifier, class logits (N,C) read at each sequence's last token.
    /// </summary>
    public Tensor Forward(IReadOnlyList<int[]> sequences)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0) throw new ArgumentException("sequences: empty batch", nameof(sequences));
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
                _embedding.AsSpan(sequences[n][t] * E, E).CopyTo(x.AsSpan((t * N + n) * E, E));
        }
        var r = _plan.Forward(RnnRunner.Prepare(Config.RnnDesc, Tensor.FromArray(x, T, N, E), lengths: lengths), training: false);
        var y = r.Output.IsHost ? r.Output.HostArray : r.Output.ToArray();  // (T,N,D*H)
        int F = Config.RnnDesc.OutputSize, O = OutputSize;
        if (Kind == NetworkKind.LanguageModel)
        {
            var logits = new float[T * N * O];
            for (int row = 0; row < T * N; row++) Head(y.AsSpan(row * F, F), logits.AsSpan(row * O, O));
            return Tensor.FromArray(logits, T, N, O);
        }
        var cls = new float[N * O];
        var feature = new float[F];
        for (int n = 0; n < N; n++)
        {
            int last = lengths[n] - 1;
            y.AsSpan((last * N + n) * F, F).CopyTo(feature);
            if (Config.Bidirectional) // reverse half: its output at t = 0 has seen the whole sequence
                y.AsSpan(n * F + Config.Hidden, Config.Hidden).CopyTo(feature.AsSpan(Config.Hidden));
            Head(feature, cls.AsSpan(n * O, O));
        }
        return Tensor.FromArray(cls, N, O);
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
        if (Kind != NetworkKind.Classifier) throw new InvalidOperationException("this model is a language model, not a classifier");
        if (texts.Count == 0) throw new ArgumentException("texts: empty batch", nameof(texts));
        var ids = new int[texts.Count][];
        for (int n = 0; n < texts.Count; n++)
        {
            var text = texts[n] ?? throw new ArgumentException($"texts: entry {n} is null", nameof(texts));
            if (text.Length == 0) throw new ArgumentException($"texts: entry {n} is empty", nameof(texts));
            try { ids[n] = Vocab.Encode(text); }
            catch (ArgumentException e) { throw new ArgumentException($"texts: entry {n}: {e.Message}", nameof(texts), e); }
        }
        var logits = Forward(ids);
        int C = OutputSize;
        var result = new ClassPrediction[texts.Count];
        for (int n = 0; n < texts.Count; n++)
        {
            var p = new float[C];
            TensorPrimitives.SoftMax(logits.Span.Slice(n * C, C), p);
            int best = TensorPrimitives.IndexOfMax(p);
            result[n] = new ClassPrediction(best, Labels[best], p[best], p);
        }
        return result;
    }

    /// <summary>
    /// Feeds <paramref name="prime"/> then samples <paramref name="length"/> characters, calling
    /// <paramref name="onText"/> with each one as it is produced. Returns the generated text (without the prime).
    /// </summary>
    public string Generate(string prime, int length, SamplingOptions options, Action<string>? onText = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (Kind != NetworkKind.LanguageModel) throw new InvalidOperationException("this model is a classifier; only a language model generates text");
        if (length < 0) throw new ArgumentException($"length: must be >= 0, got {length}", nameof(length));
        var state = NewState();
        var rng = new Random(options.Seed);
        var scratch = new float[OutputSize];
        ReadOnlySpan<float> logits = default;
        int[] ids;
        try { ids = string.IsNullOrEmpty(prime) ? [rng.Next(Vocab.Count)] : Vocab.Encode(prime); }
        catch (ArgumentException e) { throw new ArgumentException("prime: " + e.Message, nameof(prime), e); }
        foreach (var id in ids) logits = Step(state, id);
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < length && !cancel.IsCancellationRequested; i++)
        {
            int next = Sampler.Pick(logits, options, rng, scratch);
            var ch = Vocab[next];
            sb.Append(ch);
            onText?.Invoke(ch);
            logits = Step(state, next);
        }
        return sb.ToString();
    }

    /// <summary>output (O) = head.weight (O,F) · feature (F) + head.bias.</summary>
    private void Head(ReadOnlySpan<float> feature, Span<float> output)
    {
        int F = feature.Length;
        for (int o = 0; o < output.Length; o++)
            output[o] = _headB[o] + TensorPrimitives.Dot(_headW.AsSpan(o * F, F), feature);
    }

    public void Dispose() => _plan.Dispose();
}
