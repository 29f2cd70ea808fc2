// The hyperparameters of a character network (language model or classifier), stored in a checkpoint's metadata.
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
}

/// <summary>Shape and hyperparameters of a <see cref="CharNetwork"/>.</summary>
public sealed record NetworkConfig
{
    public required NetworkKind Kind { get; init; }
    public required RnnMode Mode { get; init; }
    public required int Layers { get; init; }
    public required int Hidden { get; init; }
    public required int Embed { get; init; }
    public bool Bidirectional { get; init; }
    /// <summary>Dropout applied to the embedding output and the RNN output during training (0 = none).</summary>
    public float Dropout { get; init; }
    public required CharVocab Vocab { get; init; }
    /// <summary>Class names (classifier only), index = class id.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>Number of outputs of the head: V for a language model, C for a classifier.</summary>
    public int OutputSize => Kind == NetworkKind.LanguageModel ? Vocab.Count : Labels.Count;

    public RnnDesc RnnDesc => new(Mode, Embed, Hidden, Layers, Bidirectional);

    /// <summary>Checks every field; the message starts with the property, e.g. <c>NetworkConfig.Layers: must be positive, got 0</c>.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind)) Fail(nameof(Kind), $"must be a NetworkKind, got {(int)Kind}");
        if (!Enum.IsDefined(Mode)) Fail(nameof(Mode), $"must be an RnnMode, got {(int)Mode}");
        if (Layers <= 0) Fail(nameof(Layers), $"must be positive, got {Layers}");
        if (Hidden <= 0) Fail(nameof(Hidden), $"must be positive, got {Hidden}");
        if (Embed <= 0) Fail(nameof(Embed), $"must be positive, got {Embed}");
        if (Dropout is < 0 or >= 1 || float.IsNaN(Dropout)) Fail(nameof(Dropout), $"must be in [0, 1), got {Dropout}");
        if (Vocab == null) Fail(nameof(Vocab), "is null");
        if (Kind == NetworkKind.LanguageModel && Bidirectional) Fail(nameof(Bidirectional), "a language model predicts forward only");
        if (Labels == null) Fail(nameof(Labels), "is null");
        if (Kind == NetworkKind.Classifier && Labels.Count < 2) Fail(nameof(Labels), $"a classifier needs at least 2 classes, got {Labels.Count}");
        _ = RnnDesc;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(string property, string problem) => throw new ArgumentException($"{nameof(NetworkConfig)}.{property}: {problem}");

    /// <summary>The metadata entries that describe this config.</summary>
    public Dictionary<string, string> ToMetadata() => new()
    {
        ["kind"] = Kind == NetworkKind.LanguageModel ? "char_lm" : "char_classifier",
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
