// The hyperparameters of a sequence network, stored in a checkpoint's metadata: a character language model,
// classifier or tagger (token ids in, through an embedding), or a forecaster (real-valued feature vectors in, z-scored with
// the statistics stored here, a regression head on every step).
using System.Globalization;
using System.Text.Json;

namespace RnnFast.Models;

/// <summary>What a character network computes.</summary>
public enum NetworkKind
{
    /// <summary>Embedding -> RNN -> Linear(V): the next character at every step (char-rnn).</summary>
    LanguageModel,

    /// <summary>Embedding -> RNN -> last valid step -> Linear(C): one label per sequence.</summary>
    Classifier,

    /// <summary>Feature vectors (F) -> RNN -> Linear(O) on every step: real-valued targets (e.g. the next value of a series).</summary>
    Forecaster,

    /// <summary>Embedding -> RNN (uni- or bidirectional) -> Linear(C) on every step: one label per character.</summary>
    Tagger,

    /// <summary>Embedding -> RNN -> pooled sequence -> Linear(C): an independent yes/no (sigmoid) per label, several labels per text.</summary>
    MultiLabel,
}

/// <summary>How a classifier turns the RNN's outputs over a sequence into one feature vector.</summary>
public enum SequencePooling
{
    /// <summary>The output at the sequence's last valid step (a bidirectional stack: the reverse half at step 0).</summary>
    Last,

    /// <summary>The mean of the outputs over the sequence's valid steps.</summary>
    Mean,
}

/// <summary>
/// How a forecaster's real-valued inputs and targets are scaled: z-scores with the training part's statistics, and
/// optionally differenced (the model sees and predicts changes; a forecast adds the change to the last level).
/// </summary>
public sealed record SeriesScaling
{
    /// <summary>(F): the mean of each input column over the training part (after differencing, if any).</summary>
    public required float[] InputMean { get; init; }
    /// <summary>(F): the sample standard deviation of each input column over the training part.</summary>
    public required float[] InputStd { get; init; }
    /// <summary>(O): the mean of each target over the training part.</summary>
    public required float[] TargetMean { get; init; }
    /// <summary>(O): the standard deviation of each target over the training part.</summary>
    public required float[] TargetStd { get; init; }
    /// <summary>True when inputs and targets are changes from the previous step.</summary>
    public bool Differenced { get; init; }
    /// <summary>Steps ahead a forecast looks (1 = the next step).</summary>
    public int Horizon { get; init; } = 1;
}

/// <summary>Shape and hyperparameters of a <see cref="CharNetwork"/>.</summary>
public sealed record NetworkConfig
{
    /// <summary>What the network predicts (see <see cref="NetworkKind"/>).</summary>
    public required NetworkKind Kind { get; init; }
    /// <summary>The recurrent cell.</summary>
    public required RnnMode Mode { get; init; }
    /// <summary>L: stacked RNN layers.</summary>
    public required int Layers { get; init; }
    /// <summary>H: hidden size of each direction.</summary>
    public required int Hidden { get; init; }
    /// <summary>Embedding width (token inputs); 0 for a model with real-valued feature inputs.</summary>
    public required int Embed { get; init; }
    /// <summary>Width F of real-valued input vectors; 0 for a model with token inputs (then <see cref="Embed"/> applies).</summary>
    public int Features { get; init; }
    /// <summary>Names of the F input columns (forecaster).</summary>
    public IReadOnlyList<string> FeatureNames { get; init; } = [];
    /// <summary>Names of the O predicted columns (forecaster).</summary>
    public IReadOnlyList<string> TargetNames { get; init; } = [];
    /// <summary>Input and target scaling of a forecaster (null: none).</summary>
    public SeriesScaling? Scaling { get; init; }
    /// <summary>True for a bidirectional RNN (D = 2).</summary>
    public bool Bidirectional { get; init; }
    /// <summary>LSTM peephole connections (weight_ph_l{k}, saved with the model; metadata 'peephole' = true). LSTM only.</summary>
    public bool Peephole { get; init; }
    /// <summary>Dropout applied to the embedding output and the RNN output during training (0 = none).</summary>
    public float Dropout { get; init; }
    /// <summary>The character vocabulary (V symbols).</summary>
    public required CharVocab Vocab { get; init; }
    /// <summary>How a classifier pools the RNN's outputs over a sequence (other kinds: <see cref="SequencePooling.Last"/> only).</summary>
    public SequencePooling Pooling { get; init; } = SequencePooling.Last;
    /// <summary>Class names (classifier), tag names (tagger) or label names (multi-label), index = class id.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];
    /// <summary>
    /// True when the model's interchange form takes sequences batch-major, (N,T,...), as an ONNX model exported from a
    /// batch_first PyTorch module does; ONNX export writes that layout again. RnnModel's own API stays time-major.
    /// Metadata 'batch_first' = 'true' (absent: false).
    /// </summary>
    public bool BatchFirst { get; init; }
    /// <summary>
    /// True for a model without a head of its own (an imported bare RNN): head.weight is the identity (D*H, D*H), head.bias
    /// zero, so the outputs are the RNN's; ONNX export leaves the head out again. Metadata 'head' = 'identity'.
    /// </summary>
    public bool IdentityHead { get; init; }

    /// <summary>Number of outputs of the head: V for a language model, C for a classifier or tagger, O for a forecaster.</summary>
    public int OutputSize => Kind switch
    {
        NetworkKind.LanguageModel => Vocab.Count,
        NetworkKind.Forecaster => TargetNames.Count,
        _ => Labels.Count,
    };

    /// <summary>True for a kind that reads one feature vector per sequence (a classifier), pooled as <see cref="Pooling"/> says.</summary>
    public bool PoolsSequences => Kind is NetworkKind.Classifier or NetworkKind.MultiLabel;

    /// <summary>The metadata spelling of a pooling: <c>last</c> or <c>mean</c>.</summary>
    public static string PoolingName(SequencePooling pooling) => pooling == SequencePooling.Mean ? "mean" : "last";

    /// <summary>Reads <c>last</c> or <c>mean</c> (any case); anything else is an ArgumentException naming <paramref name="text"/>.</summary>
    public static SequencePooling ParsePooling(string text) => text?.Trim().ToLowerInvariant() switch
    {
        "last" => SequencePooling.Last,
        "mean" => SequencePooling.Mean,
        _ => throw new ArgumentException($"text: expected last or mean, got '{text}'", nameof(text)),
    };

    /// <summary>True when the inputs are real-valued vectors (no embedding).</summary>
    public bool HasFeatureInput => Features > 0;

    /// <summary>The RNN's input width: <see cref="Features"/> for real-valued inputs, else <see cref="Embed"/>.</summary>
    public int InputSize => HasFeatureInput ? Features : Embed;

    /// <summary>The RNN stack this configuration describes (input size I = the embedding or feature size).</summary>
    public RnnDesc RnnDesc => new(Mode, InputSize, Hidden, Layers, Bidirectional, peephole: Peephole);

    /// <summary>Checks every field; the message starts with the property, e.g. <c>NetworkConfig.Layers: must be positive, got 0</c>.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind)) Fail(nameof(Kind), $"must be a NetworkKind, got {(int)Kind}");
        if (!Enum.IsDefined(Mode)) Fail(nameof(Mode), $"must be an RnnMode, got {(int)Mode}");
        if (Layers <= 0) Fail(nameof(Layers), $"must be positive, got {Layers}");
        if (Hidden <= 0) Fail(nameof(Hidden), $"must be positive, got {Hidden}");
        if (Features < 0) Fail(nameof(Features), $"must be >= 0, got {Features}");
        if (!HasFeatureInput && Embed <= 0) Fail(nameof(Embed), $"must be positive, got {Embed}");
        if (Kind == NetworkKind.Forecaster)
        {
            if (!HasFeatureInput) Fail(nameof(Features), "a forecaster reads real-valued vectors: must be positive");
            // A forecaster trained here (with scaling) predicts forward; an imported per-step model of real-valued
            // inputs (no scaling) may read its sequences in both directions.
            if (Bidirectional && Scaling != null) Fail(nameof(Bidirectional), "a forecaster predicts forward only");
            if (TargetNames == null || TargetNames.Count == 0) Fail(nameof(TargetNames), "a forecaster needs at least one target");
            if (FeatureNames == null || FeatureNames.Count != Features) Fail(nameof(FeatureNames), $"expected {Features} names, got {FeatureNames?.Count ?? 0}");
            if (Scaling is { } sc)
            {
                if (sc.InputMean.Length != Features || sc.InputStd.Length != Features)
                    Fail(nameof(Scaling), $"input statistics have {sc.InputMean.Length}/{sc.InputStd.Length} entries, expected {Features}");
                if (sc.TargetMean.Length != TargetNames.Count || sc.TargetStd.Length != TargetNames.Count)
                    Fail(nameof(Scaling), $"target statistics have {sc.TargetMean.Length}/{sc.TargetStd.Length} entries, expected {TargetNames.Count}");
                if (sc.InputStd.Concat(sc.TargetStd).Any(v => !(v > 0) || !float.IsFinite(v)))
                    Fail(nameof(Scaling), "every standard deviation must be positive and finite");
                if (sc.InputMean.Concat(sc.TargetMean).Any(v => !float.IsFinite(v))) Fail(nameof(Scaling), "every mean must be finite");
                if (sc.Horizon < 1) Fail(nameof(Scaling), $"Horizon must be at least 1, got {sc.Horizon}");
            }
        }
        else if (HasFeatureInput) Fail(nameof(Features), $"only a forecaster reads real-valued vectors; a {Kind} reads tokens");
        if (Peephole && Mode != RnnMode.Lstm) Fail(nameof(Peephole), $"peephole connections are only defined for LSTM, not {RnnDesc.TorchModeName(Mode)}");
        if (!Enum.IsDefined(Pooling)) Fail(nameof(Pooling), $"must be a SequencePooling, got {(int)Pooling}");
        if (Pooling != SequencePooling.Last && !PoolsSequences) Fail(nameof(Pooling), $"only a classifier pools a sequence; a {Kind} must use Last, got {Pooling}");
        if (Dropout is < 0 or >= 1 || float.IsNaN(Dropout)) Fail(nameof(Dropout), $"must be in [0, 1), got {Dropout}");
        if (Vocab == null) Fail(nameof(Vocab), "is null");
        if (Kind == NetworkKind.LanguageModel && Bidirectional) Fail(nameof(Bidirectional), "a language model predicts forward only");
        if (Labels == null) Fail(nameof(Labels), "is null");
        if (Kind == NetworkKind.Classifier && Labels.Count < 2) Fail(nameof(Labels), $"a classifier needs at least 2 classes, got {Labels.Count}");
        if (Kind == NetworkKind.MultiLabel && Labels.Count < 1) Fail(nameof(Labels), "a multi-label classifier needs at least 1 label, got 0");
        if (Kind == NetworkKind.Tagger && Labels.Count < 2) Fail(nameof(Labels), $"a tagger needs at least 2 tags, got {Labels.Count}");
        _ = RnnDesc;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(string property, string problem) => throw new ArgumentException($"{nameof(NetworkConfig)}.{property}: {problem}");

    /// <summary>The metadata entries that describe this config.</summary>
    public Dictionary<string, string> ToMetadata()
    {
        var meta = CommonMetadata();
        if (Peephole) meta["peephole"] = "true"; // absent: no peepholes (files without it read as before)
        if (BatchFirst) meta["batch_first"] = "true";
        if (IdentityHead) meta["head"] = "identity";
        if (PoolsSequences) meta["pooling"] = PoolingName(Pooling);
        if (Kind != NetworkKind.Forecaster) return meta;
        var inv = CultureInfo.InvariantCulture;
        meta["input_size"] = Features.ToString(inv);
        meta["features"] = ModelJson.Strings(FeatureNames);
        meta["targets"] = ModelJson.Strings(TargetNames);
        meta.Remove("embed_size");
        if (Scaling is { } sc)
        {
            meta["scaling.input_mean"] = ModelJson.Floats(sc.InputMean);
            meta["scaling.input_std"] = ModelJson.Floats(sc.InputStd);
            meta["scaling.target_mean"] = ModelJson.Floats(sc.TargetMean);
            meta["scaling.target_std"] = ModelJson.Floats(sc.TargetStd);
            meta["scaling.differenced"] = sc.Differenced ? "true" : "false";
            meta["scaling.horizon"] = sc.Horizon.ToString(inv);
        }
        return meta;
    }

    /// <summary>The metadata every kind writes.</summary>
    private Dictionary<string, string> CommonMetadata() => new()
    {
        ["kind"] = Kind switch
        {
            NetworkKind.LanguageModel => "char_lm", NetworkKind.Forecaster => "forecaster", NetworkKind.Tagger => "char_tagger",
            NetworkKind.MultiLabel => "char_multilabel", _ => "char_classifier",
        },
        ["mode"] = RnnDesc.TorchModeName(Mode),
        ["num_layers"] = Layers.ToString(CultureInfo.InvariantCulture),
        ["hidden_size"] = Hidden.ToString(CultureInfo.InvariantCulture),
        ["embed_size"] = Embed.ToString(CultureInfo.InvariantCulture),
        ["bidirectional"] = Bidirectional ? "true" : "false",
        ["dropout"] = Dropout.ToString("R", CultureInfo.InvariantCulture),
        ["vocab"] = Vocab.ToJson(),
        ["labels"] = ModelJson.Strings(Labels),
    };
}
