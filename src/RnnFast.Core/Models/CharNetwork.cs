// A sequence network's modules and its training-time forward passes on the autograd tape:
//   language model: tokens (T,N) -> Embedding (T,N,E) -> RNN (T,N,H) -> Linear (T,N,V) -> mean cross-entropy
//   classifier:     tokens (T,N) + lengths -> Embedding -> RNN -> last valid step or mean over the valid steps (N,D*H)
//                   -> Linear (N,C) -> cross-entropy
//   tagger:         tokens (T,N) + lengths -> Embedding -> RNN (uni- or bidirectional) -> Linear (T,N,C) on every step
//                   -> cross-entropy over every valid step (padded steps carry the ignore index -100)
//   forecaster:     features (T,N,F) -> RNN (T,N,H) -> Linear (T,N,O) on every step -> mean squared error
// Parameter names follow a PyTorch module with attributes `embedding`, `rnn` and `head`.
using RnnFast.Autograd;
using RnnFast.Backends;

namespace RnnFast.Models;

/// <summary>Embedding, RNN stack and linear head, with their parameters as tape variables.</summary>
public sealed class CharNetwork : IDisposable
{
    /// <summary>A freshly initialised network (PyTorch's default initialisation, seeded).</summary>
    public CharNetwork(NetworkConfig config, Backend backend, Random rng)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Embedding = config.HasFeatureInput ? null : new Embedding(config.Vocab.Count, config.Embed, rng);
        Rnn = new RnnLayer(config.RnnDesc, backend, rng);
        Head = new Linear(config.RnnDesc.OutputSize, config.OutputSize, rng);
        Backend = backend;
    }

    /// <summary>A network around existing weights (from a checkpoint or a PyTorch state_dict).</summary>
    public CharNetwork(NetworkConfig config, Backend backend, Tensor? embedding, RnnParameters rnn, Tensor headWeight, Tensor headBias)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        if (config.HasFeatureInput != (embedding == null))
            throw new ArgumentException(config.HasFeatureInput ? "embedding: a model with feature inputs has no embedding" : "embedding: a token model needs one", nameof(embedding));
        Embedding = embedding == null ? null : new Embedding(embedding);
        Rnn = new RnnLayer(rnn, backend);
        Head = new Linear(headWeight, headBias);
        Backend = backend;
    }

    /// <summary>What the network is (kind, cell, sizes, vocabulary, labels).</summary>
    public NetworkConfig Config { get; }
    /// <summary>The backend the RNN runs on.</summary>
    public Backend Backend { get; }
    /// <summary>The token embedding; null for a model with real-valued feature inputs.</summary>
    public Embedding? Embedding { get; }
    /// <summary>The recurrent stack between the embedding and the head.</summary>
    public RnnLayer Rnn { get; }
    /// <summary>The output layer: D*H to vocabulary logits (language model, tagger) or class logits (classifier).</summary>
    public Linear Head { get; }

    /// <summary>LSTM: sets the forget gate's slice [H, 2H) of every b_ih to <paramref name="value"/> (and of b_hh to 0).</summary>
    public void SetForgetBias(float value)
    {
        if (Config.Mode != RnnMode.Lstm) throw new InvalidOperationException($"forget bias: only an LSTM has a forget gate, not {Config.Mode}");
        var p = Rnn.Plan.Parameters;
        int H = Config.Hidden;
        for (int l = 0; l < Config.Layers; l++)
        for (int d = 0; d < Config.RnnDesc.Directions; d++)
        {
            if (p.TryGet(l, d, RnnParamKind.BiasIh) is not { } bih || p.TryGet(l, d, RnnParamKind.BiasHh) is not { } bhh) continue;
            bih.Span.Slice(H, H).Fill(value);
            bhh.Span.Slice(H, H).Clear();
            bih.MarkChanged();
            bhh.MarkChanged();
        }
    }

    /// <summary>Every parameter with its PyTorch-style name: embedding.weight, rnn.weight_ih_l0, ..., head.weight, head.bias.</summary>
    public IEnumerable<(string Name, Variable Parameter)> NamedParameters() =>
        (Embedding?.NamedParameters("embedding.") ?? []).Concat(Rnn.NamedParameters("rnn.")).Concat(Head.NamedParameters("head."));

    /// <summary>Every trainable tensor (embedding, RNN weights, head), in the order <see cref="NamedParameters"/> lists them.</summary>
    public IReadOnlyList<Variable> Parameters() => NamedParameters().Select(p => p.Parameter).ToArray();

    /// <summary>
    /// Language-model loss on a batch: <paramref name="tokens"/> and <paramref name="targets"/> are (T,N) time-major.
    /// Dropout (when the config has it and <paramref name="training"/>) uses <paramref name="rng"/>.
    /// </summary>
    public Variable LanguageModelLoss(Tape tape, int[] tokens, int[] targets, int T, int N, bool training, Random? rng)
    {
        var x = TokenEmbedding.Forward(tape, tokens, T, N);               // (T,N,E)
        x = MaybeDropout(tape, x, training, rng);
        var y = Rnn.Forward(tape, x).Output;                               // (T,N,H)
        y = MaybeDropout(tape, y, training, rng);
        var logits = Head.Forward(tape, y);                                // (T,N,V)
        return tape.CrossEntropy(tape.Reshape(logits, T * N, Config.OutputSize), targets);
    }

    /// <summary>Classifier logits (N,C) for padded tokens (T,N) with per-sequence lengths.</summary>
    public Variable ClassifierLogits(Tape tape, int[] tokens, int[] lengths, int T, int N, bool training, Random? rng)
    {
        var x = TokenEmbedding.Forward(tape, tokens, T, N);               // (T,N,E)
        x = MaybeDropout(tape, x, training, rng);
        var y = Rnn.Forward(tape, x, lengths: lengths).Output;             // (T,N,D*H)
        var pooled = Config.Pooling == SequencePooling.Mean
            ? tape.MeanValidSteps(y, lengths)                              // (N,D*H) mean over the valid steps
            : LastStep(tape, y, lengths);                                  // (N,D*H)
        pooled = MaybeDropout(tape, pooled, training, rng);
        return Head.Forward(tape, pooled);                                 // (N,C)
    }

    /// <summary>The tag that marks a padded step in <see cref="TaggerLoss"/>'s tags (PyTorch's ignore_index default).</summary>
    public const int IgnoreIndex = -100;

    /// <summary>
    /// Tagger loss on a batch: <paramref name="tokens"/> and <paramref name="tags"/> are (T,N) time-major, padded past each
    /// sequence's length in <paramref name="lengths"/> (N); a padded step's tag must be <see cref="IgnoreIndex"/>. The mean
    /// cross-entropy over every valid step (a valid step may also carry <see cref="IgnoreIndex"/> to leave it out).
    /// </summary>
    public Variable TaggerLoss(Tape tape, int[] tokens, int[] tags, int[] lengths, int T, int N, bool training, Random? rng)
    {
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(tags);
        ArgumentNullException.ThrowIfNull(lengths);
        if (Config.Kind != NetworkKind.Tagger) throw new InvalidOperationException($"TaggerLoss: this network is a {Config.Kind}, not a Tagger");
        if (T <= 0) throw new ArgumentException($"T: must be positive, got {T}", nameof(T));
        if (N <= 0) throw new ArgumentException($"N: must be positive, got {N}", nameof(N));
        if (tokens.Length != T * N) throw new ArgumentException($"tokens: expected (T={T}, N={N}) = {T * N} ids, found {tokens.Length}", nameof(tokens));
        if (tags.Length != T * N) throw new ArgumentException($"tags: expected (T={T}, N={N}) = {T * N} tags, found {tags.Length}", nameof(tags));
        if (lengths.Length != N) throw new ArgumentException($"lengths: expected {N} (one per sequence), found {lengths.Length}", nameof(lengths));
        for (int n = 0; n < N; n++)
        {
            if (lengths[n] < 1 || lengths[n] > T) throw new ArgumentException($"lengths: entry {n} is {lengths[n]}, expected 1..{T}", nameof(lengths));
            for (int t = lengths[n]; t < T; t++)
                if (tags[t * N + n] != IgnoreIndex)
                    throw new ArgumentException($"tags: step {t} of sequence {n} is padding (its length is {lengths[n]}) but holds {tags[t * N + n]}, not {IgnoreIndex}", nameof(tags));
        }
        int C = Config.OutputSize;
        var x = TokenEmbedding.Forward(tape, tokens, T, N);               // (T,N,E)
        x = MaybeDropout(tape, x, training, rng);
        var y = Rnn.Forward(tape, x, lengths: lengths).Output;             // (T,N,D*H)
        y = MaybeDropout(tape, y, training, rng);
        var logits = Head.Forward(tape, y);                                // (T,N,C)
        return tape.CrossEntropy(tape.Reshape(logits, T * N, C), tags, IgnoreIndex);
    }

    /// <summary>
    /// Forecaster loss on a batch of windows: <paramref name="inputs"/> (T,N,F) and <paramref name="targets"/> (T,N,O),
    /// time-major and already scaled; the mean squared error over every step, sequence and target.
    /// </summary>
    public Variable ForecastLoss(Tape tape, float[] inputs, float[] targets, int T, int N, bool training, Random? rng)
    {
        ArgumentNullException.ThrowIfNull(tape);
        int F = Config.Features, O = Config.OutputSize;
        if (!Config.HasFeatureInput) throw new InvalidOperationException("ForecastLoss: this network reads tokens, not feature vectors");
        if (inputs.Length != T * N * F) throw new ArgumentException($"inputs: expected (T={T}, N={N}, F={F}) = {T * N * F} floats, found {inputs.Length}", nameof(inputs));
        if (targets.Length != T * N * O) throw new ArgumentException($"targets: expected (T={T}, N={N}, O={O}) = {T * N * O} floats, found {targets.Length}", nameof(targets));
        var x = Variable.Constant(Tensor.FromArray(inputs, T, N, F));     // (T,N,F)
        var y = Rnn.Forward(tape, x).Output;                               // (T,N,H)
        y = MaybeDropout(tape, y, training, rng);
        var prediction = Head.Forward(tape, y);                            // (T,N,O)
        return tape.MseLoss(prediction, Tensor.FromArray(targets, T, N, O));
    }

    private Embedding TokenEmbedding => Embedding ?? throw new InvalidOperationException("this network reads feature vectors, not tokens");

    /// <summary>The feature a classifier reads: forward direction at each sequence's last valid step; for a
    /// bidirectional stack the reverse direction's output at step 0 (which has seen the whole sequence) is used
    /// for its half, as PyTorch users do with h_n.</summary>
    private Variable LastStep(Tape tape, Variable y, int[] lengths)
    {
        if (!Config.Bidirectional) return tape.LastValidStep(y, lengths);
        // Bidirectional: the last valid step holds [fwd(last) | rev(last)]; rev(0) is the informative reverse state.
        var atLast = tape.LastValidStep(y, lengths);                       // (N,2H)
        var atFirst = tape.LastValidStep(y, Enumerable.Repeat(1, lengths.Length).ToArray()); // (N,2H) at t=0
        int N = lengths.Length, H = Config.Hidden;
        var maskFwd = new float[N * 2 * H];
        var maskRev = new float[N * 2 * H];
        for (int n = 0; n < N; n++)
        for (int j = 0; j < H; j++)
        {
            maskFwd[n * 2 * H + j] = 1;
            maskRev[n * 2 * H + H + j] = 1;
        }
        return tape.Add(tape.Mul(atLast, Variable.Constant(Tensor.FromArray(maskFwd, N, 2 * H))),
            tape.Mul(atFirst, Variable.Constant(Tensor.FromArray(maskRev, N, 2 * H))));
    }

    private Variable MaybeDropout(Tape tape, Variable x, bool training, Random? rng) =>
        training && Config.Dropout > 0 ? tape.Dropout(x, Config.Dropout, rng ?? throw new ArgumentNullException(nameof(rng)), true) : x;

    /// <summary>Releases the RNN's backend plan.</summary>
    public void Dispose() => Rnn.Dispose();
}
