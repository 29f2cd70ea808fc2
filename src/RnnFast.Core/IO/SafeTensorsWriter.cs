// Writes .safetensors files atomically (temp file in the same directory, flushed to disk, then renamed over the
// target), streaming each tensor's data straight from the caller's memory rather than building the file in memory.
using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace RnnFast.IO;

/// <summary>
/// One tensor to write: a name, a shape and data whose length equals the shape's element count.
/// The data is referenced, not copied; it must not change until <see cref="SafeTensorsWriter.Write"/> returns.
/// </summary>
public sealed class SafeTensorEntry
{
    private readonly int[] _shape;
    private readonly ReadOnlyMemory<float> _f32;
    private readonly ReadOnlyMemory<long> _i64;
    private readonly ReadOnlyMemory<int> _i32;

    private SafeTensorEntry(
        string name, SafeTensorDType dtype, int[] shape, int dataLength,
        ReadOnlyMemory<float> f32 = default, ReadOnlyMemory<long> i64 = default, ReadOnlyMemory<int> i32 = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == "__metadata__")
        {
            throw new ArgumentException("'__metadata__' is reserved and cannot be a tensor name", nameof(name));
        }

        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length > SafeTensorsFile.MaxRank)
        {
            throw new ArgumentException(
                $"tensor '{name}' has {shape.Length} dimensions; at most {SafeTensorsFile.MaxRank} are supported", nameof(shape));
        }

        _shape = (int[])shape.Clone();
        long count = SafeTensorInfo.CountElements(_shape);
        if (count != dataLength)
        {
            throw new ArgumentException(
                $"tensor '{name}' shape [{string.Join(", ", _shape)}] has {count} elements but the data holds {dataLength}", nameof(shape));
        }

        Name = name;
        DType = dtype;
        ElementCount = count;
        _f32 = f32;
        _i64 = i64;
        _i32 = i32;
    }

    /// <summary>The tensor's name (unique within a file).</summary>
    public string Name { get; }

    /// <summary>The dtype the data is written as.</summary>
    public SafeTensorDType DType { get; }

    /// <summary>A copy of the shape given at creation.</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>Product of the shape (1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>Size of the data in the file.</summary>
    public long ByteLength => ElementCount * DType.SizeInBytes();

    /// <summary>A float32 tensor.</summary>
    public static SafeTensorEntry F32(string name, int[] shape, ReadOnlyMemory<float> data)
        => new(name, SafeTensorDType.F32, shape, data.Length, f32: data);

    /// <summary>An int64 tensor.</summary>
    public static SafeTensorEntry I64(string name, int[] shape, ReadOnlyMemory<long> data)
        => new(name, SafeTensorDType.I64, shape, data.Length, i64: data);

    /// <summary>An int32 tensor.</summary>
    public static SafeTensorEntry I32(string name, int[] shape, ReadOnlyMemory<int> data)
        => new(name, SafeTensorDType.I32, shape, data.Length, i32: data);

    internal int[] ShapeArray => _shape;

    /// <summary>Writes the data little-endian.</summary>
    internal void WriteData(Stream stream)
    {
        switch (DType)
        {
            case SafeTensorDType.F32:
                WriteLittleEndian(stream, _f32.Span, static (dst, v) => BinaryPrimitives.WriteSingleLittleEndian(dst, v));
                break;
            case SafeTensorDType.I64:
                WriteLittleEndian(stream, _i64.Span, static (dst, v) => BinaryPrimitives.WriteInt64LittleEndian(dst, v));
                break;
            case SafeTensorDType.I32:
                WriteLittleEndian(stream, _i32.Span, static (dst, v) => BinaryPrimitives.WriteInt32LittleEndian(dst, v));
                break;
            default:
                throw new InvalidOperationException($"no writer for dtype {DType}");
        }
    }

    private delegate void ElementWriter<T>(Span<byte> destination, T value);

    private static void WriteLittleEndian<T>(Stream stream, ReadOnlySpan<T> data, ElementWriter<T> write)
        where T : unmanaged
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data));
            return;
        }

        // Big-endian hosts: convert through a small buffer.
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int perChunk = buffer.Length / size;
            for (int start = 0; start < data.Length; start += perChunk)
            {
                int n = Math.Min(perChunk, data.Length - start);
                for (int i = 0; i < n; i++)
                {
                    write(buffer.AsSpan(i * size, size), data[start + i]);
                }

                stream.Write(buffer, 0, n * size);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>Writes safetensors files.</summary>
public static class SafeTensorsWriter
{
    /// <summary>
    /// Writes <paramref name="tensors"/> (in the given order) and optional string metadata to <paramref name="path"/>.
    /// The file is written to "<c>&lt;path&gt;.tmp-&lt;random&gt;</c>" in the same directory, flushed to disk and then
    /// moved over <paramref name="path"/>, so readers see either the old file or the complete new one. On any failure
    /// the temporary file is deleted; temporary files of writers that were killed are deleted first
    /// (<see cref="DeleteStaleTemporaries"/>). Names must be unique (<see cref="ArgumentException"/> otherwise).
    /// </summary>
    public static void Write(string path, IEnumerable<SafeTensorEntry> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);

        var list = new List<SafeTensorEntry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (SafeTensorEntry entry in tensors)
        {
            if (entry is null)
            {
                throw new ArgumentException("the tensor list contains a null entry", nameof(tensors));
            }

            if (!names.Add(entry.Name))
            {
                throw new ArgumentException($"duplicate tensor name '{entry.Name}'", nameof(tensors));
            }

            list.Add(entry);
        }

        byte[] header = BuildHeader(list, metadata, out int paddedLength);

        DeleteStaleTemporaries(path);
        string tempPath = path + TempInfix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        try
        {
            using (var stream = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                Span<byte> prefix = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)paddedLength);
                stream.Write(prefix);
                stream.Write(header);
                for (int i = header.Length; i < paddedLength; i++)
                {
                    stream.WriteByte((byte)' ');
                }

                foreach (SafeTensorEntry entry in list)
                {
                    entry.WriteData(stream);
                }

                stream.Flush(flushToDisk: true);
            }

            File.Move(tempPath, path, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(tempPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort; the original exception matters more.
            }

            throw;
        }
    }

    private const string TempInfix = ".tmp-";

    /// <summary>
    /// Deletes "<c>&lt;path&gt;.tmp-&lt;16 hex digits&gt;</c>" files that no writer holds: what a process killed in the middle of
    /// <see cref="Write"/> leaves behind. A live writer holds its temporary file with FileShare.None (an exclusive lock
    /// on Unix), so its file cannot be opened here and is left alone. Returns how many files were deleted.
    /// </summary>
    public static int DeleteStaleTemporaries(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        string prefix = Path.GetFileName(path) + TempInfix;
        if (dir == null || !Directory.Exists(dir))
        {
            return 0;
        }

        int deleted = 0;
        foreach (string file in Directory.EnumerateFiles(dir, prefix + "*"))
        {
            string suffix = Path.GetFileName(file)[prefix.Length..];
            if (suffix.Length != 16 || !suffix.All(char.IsAsciiHexDigitLower))
            {
                continue;
            }

            try
            {
                using (new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None, bufferSize: 1))
                {
                    File.Delete(file); // unlinked while held, so no writer can be starting on it meanwhile
                }

                deleted++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Held by a live writer, or not ours to delete: leave it.
            }
        }

        return deleted;
    }

    /// <summary>The header JSON (unpadded) and its length padded with spaces to a multiple of 8.</summary>
    private static byte[] BuildHeader(List<SafeTensorEntry> tensors, IReadOnlyDictionary<string, string>? metadata, out int paddedLength)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + (tensors.Count * 96));
        var options = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };
        using (var json = new Utf8JsonWriter(buffer, options))
        {
            json.WriteStartObject();
            if (metadata is not null && metadata.Count > 0)
            {
                json.WriteStartObject("__metadata__");
                foreach (KeyValuePair<string, string> kv in metadata)
                {
                    if (kv.Value is null)
                    {
                        throw new ArgumentException($"metadata value for key '{kv.Key}' is null", nameof(metadata));
                    }

                    json.WriteString(kv.Key, kv.Value);
                }

                json.WriteEndObject();
            }

            long offset = 0;
            foreach (SafeTensorEntry entry in tensors)
            {
                long end = checked(offset + entry.ByteLength);
                json.WriteStartObject(entry.Name);
                json.WriteString("dtype", entry.DType.ToHeaderName());
                json.WriteStartArray("shape");
                foreach (int d in entry.ShapeArray)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(end);
                json.WriteEndArray();
                json.WriteEndObject();
                offset = end;
            }

            json.WriteEndObject();
        }

        long padded = (buffer.WrittenCount + 7L) & ~7L;
        if (padded > SafeTensorsFile.MaxHeaderLength)
        {
            throw new ArgumentException(
                $"the header would be {padded} bytes, over the {SafeTensorsFile.MaxHeaderLength}-byte limit readers accept", nameof(tensors));
        }

        paddedLength = (int)padded;
        return buffer.WrittenSpan.ToArray();
    }
}
