// Source-generated JSON for the small metadata values models store (string arrays), so trimming keeps working.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RnnFast.Models;

[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(float[]))]
internal sealed partial class ModelJsonContext : JsonSerializerContext;

internal static class ModelJson
{
    public static string Strings(IEnumerable<string> values) => JsonSerializer.Serialize(values.ToArray(), ModelJsonContext.Default.StringArray);

    public static string[]? ParseStrings(string json) => JsonSerializer.Deserialize(json, ModelJsonContext.Default.StringArray);

    public static string Floats(IEnumerable<float> values) => JsonSerializer.Serialize(values.ToArray(), ModelJsonContext.Default.SingleArray);

    public static float[]? ParseFloats(string json) => JsonSerializer.Deserialize(json, ModelJsonContext.Default.SingleArray);
}
