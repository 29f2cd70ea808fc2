// A seeded, deterministic generator of hostile safetensors files made from one real file (a trained checkpoint or a
// PyTorch reference case): flipped bits, truncations, giant or off-by-some header lengths, offsets that overlap, run
// backwards or point past the end, shapes whose element count overflows int/long, dtype/shape mismatches, deeply
// nested or huge JSON, wrong metadata (vocabulary or sizes missing or inconsistent with the tensors), missing tensors,
// names with control characters, NaN/Inf weights, and zero-width dimensions beside absurd ones (no bytes, a huge shape). Each case says whether a correct reader must refuse it.
using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace RnnFast.Tests;

/// <summary>What a correct loader must do with a hostile case.</summary>
public enum HostileExpectation
{
    /// <summary>The file is broken or inconsistent: it must be refused with the typed exception (CLI: exit code 2).</summary>
    Refused,

    /// <summary>The mutation leaves a usable model (e.g. extra tensors, no vocabulary): it must load.</summary>
    Loads,

    /// <summary>Either outcome is right (e.g. a flipped bit in a weight's mantissa).</summary>
    Either,
}

/// <summary>One generated file: what was done to it, the expected outcome and its bytes.</summary>
public sealed record HostileCase(int Index, string Kind, HostileExpectation Expect, byte[] Bytes)
{
    public override string ToString() => $"case {Index} ({Kind}, {Expect}, {Bytes.Length} bytes)";
}

/// <summary>Generates hostile variants of a safetensors file, deterministically from a seed.</summary>
public sealed class HostileModelCorpus
{
    private readonly byte[] _original;
    private readonly JsonObject _header;
    private readonly byte[] _data;
    private readonly string[] _tensors;           // tensor names in header order
    private readonly bool _isCharModel;           // checkpoint metadata (vocab, sizes, train.*) mutations apply

    /// <summary>Parses <paramref name="file"/>; <paramref name="isCharModel"/> enables the model-metadata mutations.</summary>
    public HostileModelCorpus(byte[] file, bool isCharModel)
    {
        _original = file;
        int hl = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(file));
        _header = JsonNode.Parse(Encoding.UTF8.GetString(file, 8, hl))!.AsObject();
        _data = file[(8 + hl)..];
        _tensors = _header.Select(kv => kv.Key).Where(k => k != "__metadata__").ToArray();
        _isCharModel = isCharModel;
    }

    /// <summary>
    /// For a mutation whose harm depends on what the reader needs (a tensor's shape, its presence): a model needs every
    /// tensor it has; a reference case may not read every tensor the same way, so either outcome is right there.
    /// </summary>
    private HostileExpectation Semantic => _isCharModel ? HostileExpectation.Refused : HostileExpectation.Either;

    /// <summary>The mutation kinds, in the order <see cref="Generate"/> cycles through them.</summary>
    public IReadOnlyList<string> Kinds => _isCharModel ? [.. GenericKinds, .. ModelKinds] : GenericKinds;

    private static readonly string[] GenericKinds =
    [
        "flip-bits", "truncate", "header-length-giant", "header-length-near", "offsets-past-end", "offsets-overlap",
        "offsets-reversed", "shape-overflow", "shape-mismatch", "dtype-mismatch", "deep-json", "garbage-header",
        "tensor-renamed-control-chars", "non-finite-weight", "trailing-bytes", "huge-json", "zero-width-dims",
    ];

    private static readonly string[] ModelKinds = ["metadata-wrong", "tensor-missing", "extra-tensors"];

    /// <summary>
    /// <paramref name="count"/> cases, cycling through <see cref="Kinds"/> (see <see cref="Schedule"/>) with a random
    /// variant of each. The same (file, count, seed) always gives the same bytes.
    /// </summary>
    public IEnumerable<HostileCase> Generate(int count, int seed)
    {
        var schedule = Schedule();
        for (int i = 0; i < count; i++)
        {
            var rng = new Random(unchecked(seed * 1_000_003 + i * 7_919) & 0x7fffffff); // per case, independent of the others
            string kind = schedule[i % schedule.Count];
            var (expect, bytes) = Make(kind, rng);
            yield return new HostileCase(i, kind, expect, bytes);
        }
    }

    /// <summary>
    /// One round of kinds: each kind 8 times, the multi-megabyte ones ("huge-json") once and "deep-json" 4 times, so that
    /// thousands of cases stay within seconds while every kind still appears.
    /// </summary>
    private List<string> Schedule()
    {
        var round = new List<string>();
        for (int r = 0; r < 8; r++)
            foreach (var k in Kinds)
                if (k == "huge-json" ? r == 0 : k != "deep-json" || r % 2 == 0) round.Add(k);
        return round;
    }

    private (HostileExpectation, byte[]) Make(string kind, Random rng)
    {
        switch (kind)
        {
            case "flip-bits":
            {
                var b = (byte[])_original.Clone();
                for (int k = rng.Next(1, 9); k > 0; k--) b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                return (HostileExpectation.Either, b);
            }
            case "truncate":
                return (HostileExpectation.Refused, _original[..rng.Next(_original.Length)]);
            case "header-length-giant":
            {
                var b = (byte[])_original.Clone();
                ulong[] values = [0, 1, 7, (ulong)b.Length, (ulong)b.Length * 3, 100UL * 1024 * 1024 + 1, 1UL << 32, 1UL << 63, ulong.MaxValue,
                    (ulong)rng.NextInt64(b.Length, long.MaxValue)];
                BinaryPrimitives.WriteUInt64LittleEndian(b, values[rng.Next(values.Length)]);
                return (HostileExpectation.Refused, b);
            }
            case "header-length-near":
            {
                var b = (byte[])_original.Clone();
                ulong hl = BinaryPrimitives.ReadUInt64LittleEndian(b);
                int delta = rng.Next(1, 17) * (rng.Next(2) == 0 ? -1 : 1);
                BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)((long)hl + delta));
                return (HostileExpectation.Either, b); // cutting trailing padding spaces can still give valid JSON
            }
            case "offsets-past-end":
            {
                var h = CloneHeader();
                var t = Tensor(h, rng);
                var (begin, end) = Offsets(t);
                long size = end - begin;
                long newEnd = rng.Next(3) switch
                {
                    0 => _data.Length + rng.Next(1, 64),
                    1 => long.MaxValue - rng.Next(0, 8),
                    _ => (long)int.MaxValue + 1,
                };
                t["data_offsets"] = new JsonArray(newEnd - size, newEnd);
                return (HostileExpectation.Refused, Build(h));
            }
            case "offsets-overlap":
            {
                var h = CloneHeader();
                var a = Tensor(h, rng);
                var b = Tensor(h, rng, except: a);
                var (ab, ae) = Offsets(a);
                var (bb, be) = Offsets(b);
                long start = ab + 4 * rng.NextInt64(0, Math.Max(1, (ae - ab) / 4));
                b["data_offsets"] = new JsonArray(start, start + (be - bb)); // same size, starts inside a
                return (HostileExpectation.Refused, Build(h));
            }
            case "offsets-reversed":
            {
                var h = CloneHeader();
                var t = Tensor(h, rng);
                var (begin, end) = Offsets(t);
                t["data_offsets"] = new JsonArray(end, begin);
                return (HostileExpectation.Refused, Build(h));
            }
            case "shape-overflow":
            {
                var h = CloneHeader();
                var t = Tensor(h, rng);
                JsonNode[][] shapes =
                [
                    [int.MaxValue, int.MaxValue, int.MaxValue],           // element count overflows long
                    [65536, 65536],                                       // overflows int
                    [int.MaxValue, 4],
                    [46341, 46341],
                    [-1, 4],
                    [4294967296L],                                        // a dimension beyond int
                    [JsonValue.Create(1e20)],
                    [3, -2147483648],
                    [.. Enumerable.Repeat<JsonNode>(2, 70)],              // rank above the limit, 2^70 elements
                ];
                t["shape"] = new JsonArray(shapes[rng.Next(shapes.Length)].Select(n => n.DeepClone()).ToArray());
                return (HostileExpectation.Refused, Build(h));
            }
            case "shape-mismatch":
            {
                // Same element count (the offsets stay consistent), other shape: a loader must compare shapes.
                var h = CloneHeader();
                var candidates = _tensors.Where(n => !n.StartsWith("optim.", StringComparison.Ordinal)).ToArray();
                string name = candidates[rng.Next(candidates.Length)];
                var t = h[name]!.AsObject();
                var shape = t["shape"]!.AsArray().Select(n => (long)n!).ToArray();
                long count = shape.Aggregate(1L, (x, y) => x * y);
                long[] other = rng.Next(3) switch
                {
                    0 when shape.Length == 2 && shape[0] != shape[1] => [shape[1], shape[0]],
                    1 => [.. shape, 1],
                    _ => shape.Length == 1 ? [1, count] : [count],
                };
                t["shape"] = new JsonArray(other.Select(v => (JsonNode)v).ToArray());
                return (Semantic, Build(h));
            }
            case "dtype-mismatch":
            {
                var h = CloneHeader();
                var t = Tensor(h, rng);
                string[] dtypes = ["F16", "BF16", "F64", "I32", "I64", "U8", "BOOL", "I8", "F8_E4M3", "F128", "", "f32", "F32 "];
                t["dtype"] = dtypes[rng.Next(dtypes.Length)]; // I32 keeps the byte size but is not a float tensor
                return (HostileExpectation.Refused, Build(h));
            }
            case "deep-json":
            {
                int depth = rng.Next(65, 200_000);
                string deep = new string('[', depth) + new string(']', depth);
                var h = CloneHeader();
                string json;
                if (rng.Next(2) == 0)
                {
                    // the header itself nests too deep
                    json = h.ToJsonString().Insert(1, "\"deep\":" + deep + ",");
                }
                else
                {
                    // a metadata value that is itself JSON (vocab, labels, loss history) nests too deep
                    var meta = Metadata(h);
                    string key = _isCharModel ? new[] { "vocab", "labels", "train.loss_history" }[rng.Next(3)] : "kind";
                    meta[key] = deep;
                    json = h.ToJsonString();
                }
                return (HostileExpectation.Refused, Build(Encoding.UTF8.GetBytes(json), _data));
            }
            case "garbage-header":
            {
                var header = new byte[rng.Next(2, 512)];
                rng.NextBytes(header);
                if (rng.Next(2) == 0) header[0] = (byte)'{';
                return (HostileExpectation.Refused, Build(header, _data));
            }
            case "tensor-renamed-control-chars":
            {
                var h = CloneHeader();
                var candidates = _tensors.Where(n => !n.StartsWith("optim.", StringComparison.Ordinal)).ToArray();
                string name = candidates[rng.Next(candidates.Length)];
                string[] suffixes = ["\n", "\r\nerror: fake second line", "\u0000", "\u2028", "\t", "\u001b[31m"];
                var node = h[name]!;
                h.Remove(name);
                h[name + suffixes[rng.Next(suffixes.Length)]] = node;
                return (Semantic, Build(h));
            }
            case "non-finite-weight":
            {
                var candidates = _isCharModel ? _tensors : _tensors.Where(n => _header[n]!["dtype"]!.GetValue<string>() == "F32").ToArray();
                string name = candidates[rng.Next(candidates.Length)];
                var (begin, end) = Offsets(_header[name]!.AsObject());
                var data = (byte[])_data.Clone();
                if (end - begin >= 4)
                {
                    float[] bad = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, BitConverter.Int32BitsToSingle(0x7fc00001)];
                    long at = begin + 4 * rng.NextInt64(0, (end - begin) / 4);
                    BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan((int)at), bad[rng.Next(bad.Length)]);
                }
                // A model must refuse it; a reference case may run and fail its comparison instead.
                return (_isCharModel ? HostileExpectation.Refused : HostileExpectation.Either, Build(Encoding.UTF8.GetBytes(_header.ToJsonString()), data));
            }
            case "trailing-bytes":
            {
                var extra = new byte[rng.Next(1, 4096)];
                rng.NextBytes(extra);
                return (HostileExpectation.Either, [.. _original, .. extra]);
            }
            case "huge-json":
            {
                int variant = rng.Next(_isCharModel ? 3 : 2);
                return (_huge[variant] ??= MakeHuge(variant));
            }
            case "zero-width-dims":
            {
                // A dimension of 0 holds no bytes whatever the others say: [200000000, 0] is a valid 0-byte entry that a
                // loader must not take sizes from (200,000,000 class labels, say) before checking it against the rest.
                var candidates = _tensors.Where(n => !n.StartsWith("optim.", StringComparison.Ordinal)).ToArray();
                string name = _isCharModel && _tensors.Contains("head.weight") && rng.Next(3) == 0 ? "head.weight" : candidates[rng.Next(candidates.Length)];
                long[][] shapes = [[200_000_000, 0], [0, 200_000_000], [0], [int.MaxValue, 0], [0, 0], [200_000_000, 0, 7], [1, 0, int.MaxValue]];
                return (Semantic, WithZeroWidth(name, shapes[rng.Next(shapes.Length)], classifier: _isCharModel && rng.Next(2) == 0));
            }
            case "metadata-wrong":
                return MetadataWrong(rng);
            case "tensor-missing":
            {
                var h = CloneHeader();
                string[] required = _tensors.Where(n => !n.StartsWith("optim.", StringComparison.Ordinal)).ToArray();
                if (rng.Next(4) == 0)
                {
                    string[] optim = _tensors.Where(n => n.StartsWith("optim.", StringComparison.Ordinal)).ToArray();
                    h.Remove(optim[rng.Next(optim.Length)]);
                    return (HostileExpectation.Loads, Build(h)); // optimizer state matters to --resume only
                }
                h.Remove(required[rng.Next(required.Length)]);
                return (HostileExpectation.Refused, Build(h));
            }
            case "extra-tensors":
            {
                var h = CloneHeader();
                var t = Tensor(h, rng);
                h["unrelated.weight"] = t.DeepClone(); // shares another tensor's bytes: an overlap, refused
                if (rng.Next(2) == 0)
                {
                    h.Remove("unrelated.weight");
                    h["unrelated.empty"] = new JsonObject { ["dtype"] = "F32", ["shape"] = new JsonArray(0, 5), ["data_offsets"] = new JsonArray(0, 0) };
                    return (HostileExpectation.Loads, Build(h));
                }
                return (HostileExpectation.Refused, Build(h));
            }
            default:
                throw new ArgumentException($"kind: unknown mutation '{kind}'", nameof(kind));
        }
    }

    private readonly (HostileExpectation, byte[])?[] _huge = new (HostileExpectation, byte[])?[3]; // the same bytes every time: made once

    /// <summary>Multi-megabyte headers: a long metadata value, 20,000 empty tensors, or a vocabulary of 200,000 symbols.</summary>
    private (HostileExpectation, byte[]) MakeHuge(int variant)
    {
        var h = CloneHeader();
        var meta = Metadata(h);
        var harmless = _isCharModel ? HostileExpectation.Loads : HostileExpectation.Either;
        switch (variant)
        {
            case 0: // a 2 MB metadata value nobody reads: harmless for a model
                meta["comment"] = new string('x', 2 << 20);
                return (harmless, Build(h));
            case 1: // 20,000 empty tensors
                for (int k = 0; k < 20_000; k++)
                    h[$"pad.{k}"] = new JsonObject { ["dtype"] = "F32", ["shape"] = new JsonArray(0), ["data_offsets"] = new JsonArray(0, 0) };
                return (harmless, Build(h));
            default: // a vocabulary of 200,000 symbols for a model with a few dozen rows
                meta["vocab"] = new JsonArray(Enumerable.Range(0, 200_000).Select(i => (JsonNode)char.ConvertFromUtf32(0x10000 + i)).ToArray()).ToJsonString();
                return (HostileExpectation.Refused, Build(h));
        }
    }

    /// <summary>Metadata that is missing, malformed or inconsistent with the tensors.</summary>
    private (HostileExpectation, byte[]) MetadataWrong(Random rng)
    {
        var h = CloneHeader();
        var meta = Metadata(h);
        string vocabJson = meta["vocab"]!.GetValue<string>();
        var vocab = JsonNode.Parse(vocabJson)!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
        HostileExpectation expect = HostileExpectation.Refused;
        switch (rng.Next(24))
        {
            case 0: meta.Remove("vocab"); expect = HostileExpectation.Loads; break;     // runs on token ids (documented)
            case 1: meta["vocab"] = Json(vocab[..^1]); break;                             // one symbol short
            case 2: meta["vocab"] = Json([.. vocab, "\u20ac"]); break;                    // one symbol too many
            case 3: meta["vocab"] = vocabJson[..(vocabJson.Length / 2)]; break;           // not JSON
            case 4: meta["vocab"] = Json([vocab[1], .. vocab[1..]]); break;               // a duplicate symbol
            case 5: meta["vocab"] = Json(["ab", .. vocab[1..]]); break;                   // two characters in one entry
            case 6: meta["vocab"] = "null"; break;
            case 7: meta["vocab"] = "[1,2,3]"; break;
            case 8: meta["mode"] = "GRU"; break;                                          // 4 gates in the tensors
            case 9: meta["mode"] = "RNN_RELU"; break;
            case 10: meta["mode"] = "transformer"; break;
            case 11: meta["kind"] = "char_classifier"; meta["labels"] = Json(["a", "b"]); break; // head has V rows, not 2
            case 12: meta["labels"] = "{not json"; break;
            case 13: meta["num_layers"] = "3"; break;
            case 14: meta["hidden_size"] = "17"; break;
            case 15: meta["embed_size"] = "1e3"; break;
            case 16: meta["bidirectional"] = "true"; break;
            case 17: meta["dropout"] = new[] { "abc", "1.5", "NaN", "-0.1" }[rng.Next(4)]; break;
            case 18: meta["format"] = "rnnfast-char/99"; break;
            case 19: meta["train.step"] = new[] { "x", "-3", "1e99", "" }[rng.Next(4)]; break;
            case 20: meta["train.loss_history"] = "[1,2"; break;
            case 21: meta.Remove("train.lr"); break;
            case 22: meta["vocab"] = 5; break;                                          // not a string: the format refuses
            default: h.Remove("__metadata__"); expect = HostileExpectation.Loads; break; // a bare state_dict
        }
        return (expect, Build(h));
    }

    /// <summary>
    /// The file with tensor <paramref name="name"/> given <paramref name="shape"/> (which has a 0) and no bytes; with
    /// <paramref name="classifier"/>, the metadata also says char_classifier without labels, so a loader that trusted the
    /// head's rows would name that many classes.
    /// </summary>
    public byte[] WithZeroWidth(string name, long[] shape, bool classifier)
    {
        var h = CloneHeader();
        var t = h[name]!.AsObject();
        t["shape"] = new JsonArray(shape.Select(v => (JsonNode)v).ToArray());
        t["data_offsets"] = new JsonArray(0, 0);
        if (classifier)
        {
            var meta = Metadata(h);
            meta["kind"] = "char_classifier";
            meta.Remove("labels");
        }
        return Build(h);
    }

    private static string Json(string[] values) => new JsonArray(values.Select(v => (JsonNode)v).ToArray()).ToJsonString();

    private JsonObject CloneHeader() => _header.DeepClone().AsObject();

    private static JsonObject Metadata(JsonObject h)
    {
        if (h["__metadata__"] is JsonObject m) return m;
        var created = new JsonObject();
        h["__metadata__"] = created;
        return created;
    }

    private JsonObject Tensor(JsonObject h, Random rng, JsonObject? except = null)
    {
        var names = _tensors.Where(n => !ReferenceEquals(h[n], except)).ToArray();
        return h[names[rng.Next(names.Length)]]!.AsObject();
    }

    private static (long Begin, long End) Offsets(JsonObject t)
    {
        var o = t["data_offsets"]!.AsArray();
        return ((long)o[0]!, (long)o[1]!);
    }

    private byte[] Build(JsonObject header) => Build(Encoding.UTF8.GetBytes(header.ToJsonString()), _data);

    private static byte[] Build(byte[] header, byte[] data)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }
}
