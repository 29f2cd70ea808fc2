// The cache sizes the cpu backend's blocking decisions read: the L2 of one core, from Linux's sysfs
// (/sys/devices/system/cpu/cpu0/cache/index*/: the unified level-2 cache's "size", e.g. "1024K"), else 1 MiB (the
// smallest L2 of the x86 server cores this backend is tuned on). Read once.
namespace RnnFast.Backends.Cpu;

internal static class CacheSizes
{
    private const long DefaultL2 = 1L << 20;

    /// <summary>Bytes of level-2 cache per core.</summary>
    public static long L2PerCore { get; } = ReadL2();

    private static long ReadL2()
    {
        if (!OperatingSystem.IsLinux()) return DefaultL2;
        try
        {
            const string root = "/sys/devices/system/cpu/cpu0/cache";
            if (!Directory.Exists(root)) return DefaultL2;
            foreach (var dir in Directory.EnumerateDirectories(root, "index*"))
            {
                string level = ReadSmall(Path.Combine(dir, "level")), type = ReadSmall(Path.Combine(dir, "type"));
                if (level != "2" || type is not ("Unified" or "Data")) continue;
                long? bytes = ParseSize(ReadSmall(Path.Combine(dir, "size")));
                if (bytes is >= 64 * 1024 and <= 64L << 20) return bytes.Value;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return DefaultL2;
    }

    // sysfs attributes are a few bytes; read at most 64 (a file that is not what it should be cannot stall or bloat this)
    private static string ReadSmall(string path)
    {
        if (!File.Exists(path)) return "";
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
        var buf = new byte[64];
        int n = f.Read(buf, 0, buf.Length);
        return System.Text.Encoding.ASCII.GetString(buf, 0, n).Trim();
    }

    /// <summary>"1024K", "2M", "524288" as bytes; null when unreadable.</summary>
    internal static long? ParseSize(string text)
    {
        if (text.Length == 0) return null;
        long unit = char.ToUpperInvariant(text[^1]) switch { 'K' => 1024, 'M' => 1 << 20, 'G' => 1 << 30, _ => 1 };
        string digits = unit == 1 ? text : text[..^1];
        return long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long v) ? v * unit : null;
    }
}
