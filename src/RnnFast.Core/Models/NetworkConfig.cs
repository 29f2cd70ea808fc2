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

    /// <summary>Checks every field; the message names the field.</summary>
    public void Validate()
    {
        if (Layers <= 0) throw new ArgumentException($"layers: must be positive, got {Layers}");
        if (Hidden <= 0) throw new ArgumentException($"hidden: must be positive, got {Hidden}");
        if (Embed <= 0) throw new ArgumentException($"embed: must be positive, got {Embed}");
        if (Dropout is < 0 or >= 1 || float.IsNaN(Dropout)) throw new ArgumentException($"dropout: must be in [0, 1), got {Dropout}");
        if (Kind == NetworkKind.LanguageModel && Bidirectional) throw new ArgumentException("bidirectional: a language model predicts forward only");
        if (Kind == NetworkKind.Classifier && Labels.Count < 2) throw new ArgumentException($"labels: a classifier needs at least 2 classes, got {Labels.Count}");
        _ = RnnDesc;
    }

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
