// The kernels' source (native/opencl/*.cl, embedded in this assembly) and its compilation for one device: once per
// process and device, and across processes through a cache of program binaries on disk (keyed by the device, driver,
// options and source; under $XDG_CACHE_HOME/rnnfast/opencl or ~/.cache/rnnfast/opencl; RNNFAST_OPENCL_CACHE=DIR
// moves it, =off disables it). Each entry carries a header (magic, format version, payload length, SHA-256) that is checked
// before any byte reaches the driver; an entry that fails the check (empty, truncated, altered, an older format) or that
// the driver rejects is deleted and the source compiled again; one whose size says it is no entry (a FIFO or a device,
// size 0; a file over 64 MiB) is deleted without being read. Entries are written to a temporary file, flushed and
// renamed into place.
using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using RnnFast.Bindings.OpenCL;

namespace RnnFast.Backends.OpenCL;

/// <summary>The OpenCL C source of every kernel and the compiled program of one device.</summary>
internal static class KernelProgram
{
    /// <summary>The environment variable that moves (a directory) or disables (off) the program binary cache.</summary>
    public const string CacheVariable = "RNNFAST_OPENCL_CACHE";

    /// <summary>The kernel files, in the order they are concatenated into one program.</summary>
    public static readonly string[] Files = ["gemm.cl", "rnn_forward.cl", "rnn_backward.cl", "rnn_peephole.cl"];

    private static readonly Lazy<string> SourceText = new(LoadSource);

    /// <summary>Every kernel file, concatenated.</summary>
    public static string Source => SourceText.Value;

    /// <summary>A built program and how it was obtained.</summary>
    public sealed record Built(CLProgram Program, string Origin, TimeSpan Elapsed);

    /// <summary>
    /// Builds the kernels for <paramref name="device"/>: from the binary cache in <paramref name="cacheDirectory"/> when it
    /// holds this exact build, else from source (then caching the binary there); a null directory disables the cache.
    /// </summary>
    public static Built Build(CL cl, CLContext context, OpenCLDeviceEntry device, string options, string? cacheDirectory)
    {
        var watch = Stopwatch.StartNew();
        string? path = cacheDirectory == null ? null : CachePath(cacheDirectory, device, options);
        string? discarded = null;
        if (path != null && File.Exists(path))
        {
            // The entry is checked (magic, format version, length, SHA-256) before any byte reaches the driver: PoCL
            // and others crash or assert on a truncated binary rather than returning an error.
            byte[]? binary = null;
            try
            {
                binary = ReadEntryFile(path, out discarded);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                discarded = e.Message;
            }
            if (binary == null)
                TryDelete(path);
            else
            {
                try
                {
                    var fromBinary = cl.CreateProgramWithBinary(context, device.Device, binary);
                    try
                    {
                        cl.BuildProgram(fromBinary, device.Device, options);
                        return new Built(fromBinary, $"binary cache {path}", watch.Elapsed);
                    }
                    catch (CLException)
                    {
                        fromBinary.Dispose();
                        throw;
                    }
                }
                catch (CLException e)
                {
                    discarded = $"rejected by the driver: {e.Message}";
                    TryDelete(path); // stale or foreign: compile from source below
                }
            }
        }

        var program = cl.CreateProgramWithSource(context, Source);
        try
        {
            cl.BuildProgram(program, device.Device, options);
        }
        catch
        {
            program.Dispose();
            throw;
        }
        string origin = "compiled from source";
        if (path != null)
        {
            try
            {
                var binary = cl.GetProgramBinary(program);
                if (binary.Length > MaxEntryBytes - EntryHeaderSize)
                    origin += $" (binary not cached: {binary.Length} bytes is more than the cache keeps, {MaxEntryBytes >> 20} MiB)";
                else if (binary.Length > 0)
                {
                    WriteEntry(path, binary);
                    origin += $", binary cached at {path}";
                }
            }
            catch (Exception e) when (e is CLException or IOException or UnauthorizedAccessException)
            {
                origin += $" (binary not cached: {e.Message})";
            }
        }
        if (discarded != null) origin += $" (replaced a bad cache entry: {discarded})";
        return new Built(program, origin, watch.Elapsed);
    }

    // ---- cache entry format: a header, then the driver's binary.
    //   0  8  magic "RNFCLBIN"
    //   8  4  format version (little endian)
    //  12  4  reserved, 0
    //  16  8  payload length (little endian)
    //  24 32  SHA-256 of the payload
    //  56  .. payload

    private static readonly byte[] Magic = "RNFCLBIN"u8.ToArray();

    /// <summary>The cache entry format written and accepted; an entry of any other version is discarded.</summary>
    internal const int EntryVersion = 1;

    /// <summary>Bytes before the payload of a cache entry.</summary>
    internal const int EntryHeaderSize = 56;

    /// <summary>A cache entry's bytes for <paramref name="payload"/>.</summary>
    internal static byte[] EncodeEntry(ReadOnlySpan<byte> payload)
    {
        var entry = new byte[EntryHeaderSize + payload.Length];
        Magic.CopyTo(entry, 0);
        BinaryPrimitives.WriteInt32LittleEndian(entry.AsSpan(8), EntryVersion);
        BinaryPrimitives.WriteInt64LittleEndian(entry.AsSpan(16), payload.Length);
        SHA256.HashData(payload, entry.AsSpan(24, 32));
        payload.CopyTo(entry.AsSpan(EntryHeaderSize));
        return entry;
    }

    /// <summary>The largest cache entry read or written; a program binary of these kernels is well under a MiB.</summary>
    internal const long MaxEntryBytes = 64L << 20;

    /// <summary>
    /// The payload of the cache entry at <paramref name="path"/>, or null (with the reason). The size is checked before the
    /// file is opened: a FIFO or a device (size 0) would block the read or never end, and an entry larger than
    /// <see cref="MaxEntryBytes"/> (a sparse file, say) would take that much memory; neither is read.
    /// </summary>
    internal static byte[]? ReadEntryFile(string path, out string? problem)
    {
        long length = new FileInfo(path).Length; // symlinks followed
        if (length < EntryHeaderSize)
        {
            problem = $"{length} bytes, shorter than the {EntryHeaderSize}-byte header (or not a regular file)";
            return null;
        }
        if (length > MaxEntryBytes)
        {
            problem = $"{length} bytes, more than any entry this cache writes ({MaxEntryBytes >> 20} MiB)";
            return null;
        }
        var bytes = new byte[length];
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None))
        {
            if (!stream.CanSeek)
            {
                problem = "not a regular file";
                return null;
            }
            int got = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (got != bytes.Length || stream.ReadByte() >= 0)
            {
                problem = "changed while it was read";
                return null;
            }
        }
        return ReadEntry(bytes, out problem);
    }

    /// <summary>
    /// The payload of a cache entry, or null (with the reason) when it is not a whole, intact entry of this format.
    /// </summary>
    internal static byte[]? ReadEntry(byte[] entry, out string? problem)
    {
        problem = null;
        if (entry.Length < EntryHeaderSize)
            problem = $"{entry.Length} bytes, shorter than the {EntryHeaderSize}-byte header";
        else if (!entry.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            problem = "no RnnFast cache header (an older format or another file)";
        else if (BinaryPrimitives.ReadInt32LittleEndian(entry.AsSpan(8)) is var v && v != EntryVersion)
            problem = $"format version {v}, expected {EntryVersion}";
        else if (BinaryPrimitives.ReadInt64LittleEndian(entry.AsSpan(16)) is var n && n != entry.Length - EntryHeaderSize)
            problem = $"payload of {entry.Length - EntryHeaderSize} bytes, header says {n}";
        else if (n == 0)
            problem = "empty payload";
        else
        {
            var payload = entry.AsSpan(EntryHeaderSize);
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(payload, hash);
            if (!hash.SequenceEqual(entry.AsSpan(24, 32)))
                problem = "checksum mismatch";
            else
                return payload.ToArray();
        }
        return null;
    }

    /// <summary>
    /// Writes the entry for <paramref name="payload"/> to a temporary file in the same directory, flushes it to disk and
    /// renames it over <paramref name="path"/>, so a reader sees the old entry, the new one or none: never a part.
    /// </summary>
    internal static void WriteEntry(string path, ReadOnlySpan<byte> payload)
    {
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $"{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            var entry = EncodeEntry(payload);
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(entry);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    /// <summary>For tests: when set on the calling flow, the cache directory used instead of the environment's.</summary>
    internal static readonly AsyncLocal<string?> DirectoryOverride = new();

    /// <summary>The cache directory, or null when disabled or no home directory is known.</summary>
    public static string? CacheDirectory()
    {
        if (DirectoryOverride.Value is { } overridden) return overridden;
        var setting = Environment.GetEnvironmentVariable(CacheVariable);
        if (!string.IsNullOrWhiteSpace(setting))
            return setting.Trim().Equals("off", StringComparison.OrdinalIgnoreCase) ? null : setting.Trim();
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrWhiteSpace(xdg)) return Path.Combine(xdg, "rnnfast", "opencl");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".cache", "rnnfast", "opencl");
    }

    /// <summary>The binary's file: a hash of everything that changes the binary.</summary>
    internal static string CachePath(string dir, OpenCLDeviceEntry device, string options)
    {
        var p = device.Properties;
        var key = string.Join("\n", device.Platform.Name, device.Platform.Version, p.Name, p.Vendor, p.Version, p.DriverVersion, options, Source);
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..32].ToLowerInvariant();
        return Path.Combine(dir, hash + ".bin");
    }

    private static string LoadSource()
    {
        var asm = typeof(KernelProgram).Assembly;
        var sb = new StringBuilder();
        foreach (var file in Files)
        {
            using var stream = asm.GetManifestResourceStream("RnnFast.OpenCL." + file)
                ?? throw new InvalidOperationException($"kernel source '{file}' is not embedded in {asm.GetName().Name}");
            using var reader = new StreamReader(stream);
            sb.Append("// ---- ").Append(file).Append('\n').Append(reader.ReadToEnd()).Append('\n');
        }
        return sb.ToString();
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
