// The character vocabulary of a text model: every distinct Unicode scalar value of the training text, sorted by code
// point (as PyTorch's `sorted(set(text))` does for the same text), mapped to ids 0..V-1. Stored in checkpoints as JSON.
using System.Text;
using System.Text.Json;

namespace RnnFast.Models;

/// <summary>Maps characters (Unicode scalar values) to token ids and back.</summary>
public sealed class CharVocab
{
    private readonly string[] _symbols;
    private readonly Dictionary<int, int> _ids;

    /// <summary>Creates a vocabulary from distinct symbols (each one Unicode scalar value), in id order.</summary>
    public CharVocab(IEnumerable<string> symbols)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        _symbols = symbols.ToArray();
        if (_symbols.Length == 0) throw new ArgumentException("vocab: no symbols", nameof(symbols));
        _ids = new Dictionary<int, int>(_symbols.Length);
        for (int i = 0; i < _symbols.Length; i++)
        {
            var s = _symbols[i];
            if (s == null || Rune.DecodeFromUtf16(s, out var r, out int used) != System.Buffers.OperationStatus.Done || used != s.Length)
                throw new ArgumentException($"vocab: entry {i} is not exactly one Unicode character", nameof(symbols));
            if (!_ids.TryAdd(r.Value, i))
                throw new ArgumentException($"vocab: entry {i} ('{Escape(s)}') appears twice", nameof(symbols));
        }
    }

    private CharVocab()
    {
        _symbols = [];
        _ids = [];
    }

    /// <summary>The vocabulary of a model without token inputs (a forecaster): no symbols.</summary>
    public static CharVocab None { get; } = new();

    /// <summary>Number of symbols (V).</summary>
    public int Count => _symbols.Length;

    /// <summary>The symbol of id <paramref name="id"/>.</summary>
    public string this[int id] => _symbols[id];

    /// <summary>The symbols in id order.</summary>
    public IReadOnlyList<string> Symbols => _symbols;

    /// <summary>The vocabulary of <paramref name="text"/>: its distinct characters sorted by code point.</summary>
    public static CharVocab FromText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var set = new SortedSet<int>();
        foreach (var r in text.EnumerateRunes()) set.Add(r.Value);
        if (set.Count == 0) throw new ArgumentException("text: is empty, no vocabulary can be built", nameof(text));
        return new CharVocab(set.Select(v => new Rune(v).ToString()));
    }

    /// <summary>True when every character of <paramref name="text"/> is in the vocabulary.</summary>
    public bool Covers(string text) => text.EnumerateRunes().All(r => _ids.ContainsKey(r.Value));

    /// <summary>The id of <paramref name="r"/>; false when the character is not in the vocabulary.</summary>
    public bool TryGetId(Rune r, out int id) => _ids.TryGetValue(r.Value, out id);

    /// <summary>The ids of <paramref name="text"/>; a character outside the vocabulary is an ArgumentException naming it.</summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        // One array of the text's length (an upper bound on its characters), trimmed only when it holds surrogate pairs:
        // a growing list would hold up to twice the text's ids and then copy them.
        var ids = new int[text.Length];
        int pos = 0;
        foreach (var r in text.EnumerateRunes())
        {
            if (!_ids.TryGetValue(r.Value, out int id))
                throw new ArgumentException($"text: character '{Escape(r.ToString())}' (U+{r.Value:X4}) at position {pos} is not in the model's vocabulary of {Count}", nameof(text));
            ids[pos++] = id;
        }
        if (pos != ids.Length) Array.Resize(ref ids, pos);
        return ids;
    }

    /// <summary>The text of <paramref name="ids"/>.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var sb = new StringBuilder();
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the vocabulary 0..{Count - 1}");
            sb.Append(_symbols[id]);
        }
        return sb.ToString();
    }

    /// <summary>The symbols as a JSON array of strings, in id order (stored in checkpoint metadata).</summary>
    public string ToJson() => ModelJson.Strings(_symbols);

    /// <summary>Reads a vocabulary written by <see cref="ToJson"/>.</summary>
    public static CharVocab FromJson(string json)
    {
        string[]? symbols;
        try
        {
            symbols = ModelJson.ParseStrings(json);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"vocab: not a JSON array of strings ({e.Message})", nameof(json), e);
        }
        return new CharVocab(symbols ?? throw new ArgumentException("vocab: null", nameof(json)));
    }

    /// <summary>A printable form of a symbol for messages (newline as \n, and so on).</summary>
    public static string Escape(string s) => s switch
    {
        "\n" => "\\n",
        "\r" => "\\r",
        "\t" => "\\t",
        _ => s.Length == 1 && char.IsControl(s[0]) ? $"\\u{(int)s[0]:x4}" : s,
    };
}
