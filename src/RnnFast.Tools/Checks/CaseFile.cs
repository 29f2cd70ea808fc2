// Typed access to a reference file's metadata and tensors, turning every problem into an RnnFormatException
// that names the file and the field or tensor.
using System.Globalization;
using RnnFast.IO;

namespace RnnFast.Checks;

internal sealed class CaseFile
{
    public CaseFile(SafeTensorsFile file)
    {
        File = file;
        Name = Path.GetFileName(file.FilePath);
    }

    public SafeTensorsFile File { get; }
    public string Name { get; }

    public string Meta(string key) =>
        File.Metadata.TryGetValue(key, out var v) ? v : throw Error($"__metadata__ has no '{key}'");

    public string? MetaOrNull(string key) => File.Metadata.TryGetValue(key, out var v) ? v : null;

    public int MetaInt(string key, int? fallback = null)
    {
        var s = MetaOrNull(key);
        if (s == null) return fallback ?? throw Error($"__metadata__ has no '{key}'");
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            throw Error($"__metadata__ '{key}' = '{s}' is not an integer");
        return v;
    }

    public double MetaDouble(string key, double? fallback = null)
    {
        var s = MetaOrNull(key);
        if (s == null) return fallback ?? throw Error($"__metadata__ has no '{key}'");
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            throw Error($"__metadata__ '{key}' = '{s}' is not a number");
        return v;
    }

    public bool MetaBool(string key, bool? fallback = null)
    {
        var s = MetaOrNull(key);
        if (s == null) return fallback ?? throw Error($"__metadata__ has no '{key}'");
        return s.Trim().ToLowerInvariant() switch
        {
            "true" or "1" or "yes" => true,
            "false" or "0" or "no" => false,
            _ => throw Error($"__metadata__ '{key}' = '{s}' is not a boolean"),
        };
    }

    public bool Has(string name) => File.Contains(name);

    public Tensor Tensor(string name)
    {
        if (!File.Contains(name)) throw Error($"tensor '{name}' is missing");
        return RnnFast.IO.StateDictLoader.ReadTensor(File, name); // a shape no tensor can take is a format error naming the file
    }

    public Tensor? TensorOrNull(string name) => File.Contains(name) ? Tensor(name) : null;

    /// <summary>A float tensor whose shape must be <paramref name="shape"/>.</summary>
    public Tensor Tensor(string name, params int[] shape)
    {
        var t = Tensor(name);
        if (!t.HasShape(shape))
            throw Error($"tensor '{name}' has shape {RnnFast.Tensor.FormatShape(t.Shape)}, expected {RnnFast.Tensor.FormatShape(shape)}");
        return t;
    }

    public Tensor? TensorOrNull(string name, params int[] shape) => File.Contains(name) ? Tensor(name, shape) : null;

    /// <summary>An integer tensor whose values must lie in [min, max].</summary>
    public int[] Ints(string name, int[] shape, long min, long max)
    {
        if (!File.Contains(name)) throw Error($"tensor '{name}' is missing");
        var info = File.GetInfo(name);
        if (!info.Shape.AsSpan().SequenceEqual(shape))
            throw Error($"tensor '{name}' has shape {RnnFast.Tensor.FormatShape(info.Shape)}, expected {RnnFast.Tensor.FormatShape(shape)}");
        var raw = File.ReadInt64(name);
        var result = new int[raw.Length];
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] < min || raw[i] > max)
                throw Error($"tensor '{name}' element {i} = {raw[i]} is outside {min}..{max}");
            result[i] = (int)raw[i];
        }
        return result;
    }

    public RnnFormatException Error(string problem, Exception? inner = null) => new(Name, problem, inner);
}
