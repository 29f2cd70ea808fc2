// Read-only reader for .safetensors files. Open() reads the whole file into native memory with bounded reads (never a
// memory mapping: a file truncated while mapped kills the process with SIGBUS) and validates the whole header (JSON
// shape, dtypes, shapes, offsets, overlaps) before returning; tensors are then read from that copy.
// Every problem with the file's content is reported as a SafeTensorsFormatException ("<file>: <problem>").
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace RnnFast.IO;

/// <summary>
/// One tensor's header entry. <see cref="DataBegin"/> and <see cref="DataEnd"/> are byte offsets relative to
/// the start of the data section, as written in the header.
/// </summary>
public sealed record SafeTensorInfo(string Name, SafeTensorDType DType, int[] Shape, long DataBegin, long DataEnd)
{
    private readonly int[] _shape = Shape;
    private readonly long _elementCount = CountElements(Shape);

    /// <summary>The dimensions, outermost first; empty for a scalar.</summary>
    public int[] Shape
    {
        get => _shape;
        init
        {
            _elementCount = CountElements(value);
            _shape = value;
        }
    }

    /// <summary>Product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount => _elementCount;

    /// <summary>Length of the tensor's data in bytes.</summary>
    public long ByteLength => DataEnd - DataBegin;

    /// <summary>Product of the dimensions; throws <see cref="ArgumentException"/> for negative dimensions or overflow.</summary>
    internal static long CountElements(int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"shape has a negative dimension ({d})", nameof(shape));
            }

            if (d == 0)
            {
                count = 0;
            }
        }

        if (count == 0)
        {
            return 0;
        }

        foreach (int d in shape)
        {
            if (count > long.MaxValue / d)
            {
                throw new ArgumentException("the shape's element count overflows a 64-bit integer", nameof(shape));
            }

            count *= d;
        }

        return count;
    }
}

/// <summary>
/// A safetensors file read into memory (a file that is truncated or rewritten while it is read is refused with
/// <see cref="SafeTensorsFormatException"/>). Dispose it to release that memory;
/// spans from <see cref="GetRawBytes"/> are valid only until then. Reads may run concurrently; Dispose may not.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    /// <summary>Largest JSON header accepted (the limit the reference implementation uses).</summary>
    public const long MaxHeaderLength = 100L * 1024 * 1024;

    /// <summary>Deepest JSON nesting accepted in the header.</summary>
    public const int MaxHeaderDepth = 64;

    /// <summary>Most dimensions a tensor's shape may have.</summary>
    public const int MaxRank = 64;

    private const string MetadataKey = "__metadata__";

    private readonly NativeMemoryHandle _buffer;
    private readonly long _dataStart;
    private readonly Dictionary<string, int> _index;
    private readonly SafeTensorInfo[] _tensors;
    private readonly IReadOnlyList<SafeTensorInfo> _tensorsView;
    private byte* _base; // first byte of the file in memory; null once disposed

    private SafeTensorsFile(
        string path,
        NativeMemoryHandle buffer,
        byte* basePointer,
        long dataStart,
        Header header)
    {
        FilePath = path;
        _buffer = buffer;
        _base = basePointer;
        _dataStart = dataStart;
        _tensors = header.Tensors;
        _tensorsView = Array.AsReadOnly(_tensors);
        _index = header.Index;
        Metadata = header.Metadata.AsReadOnly();
    }

    /// <summary>The path the file was opened with.</summary>
    public string FilePath { get; }

    /// <summary>The header's <c>__metadata__</c> entries, in header order; empty when there are none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensors in header order.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors => _tensorsView;

    /// <summary>
    /// Reads <paramref name="path"/> into memory and validates its header completely. Throws
    /// <see cref="SafeTensorsFormatException"/> if the file cannot be read, is larger than the memory available, changes
    /// size while it is read, or is not a valid safetensors file.
    /// </summary>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);

        FileStream? stream = null;
        NativeMemoryHandle? buffer = null;
        bool pointerAcquired = false;
        try
        {
            long length;
            try
            {
                stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 1);
                length = stream.Length;
            }
            catch (Exception e) when (IsIoFailure(e))
            {
                throw new SafeTensorsFormatException(path, "cannot open the file: " + e.Message, e);
            }

            if (length < 8)
            {
                throw new SafeTensorsFormatException(
                    path, $"file is {length} bytes, shorter than the 8-byte header length prefix");
            }

            long available = RnnFast.Training.MemoryEstimate.AvailableBytes();
            if (length > available)
            {
                throw new SafeTensorsFormatException(
                    path, $"file is {length} bytes, more than the {available} bytes of memory available to read it");
            }

            try
            {
                buffer = FileContents.Read(stream.SafeFileHandle, length);
            }
            catch (Exception e) when (IsIoFailure(e) || e is OutOfMemoryException)
            {
                throw new SafeTensorsFormatException(path, "cannot read the file: " + e.Message, e);
            }
            finally
            {
                stream.Dispose();
            }

            bool added = false;
            buffer.DangerousAddRef(ref added);
            pointerAcquired = added;
            byte* p = (byte*)buffer.DangerousGetHandle();

            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(p, 8));
            if (headerLength == 0)
            {
                throw new SafeTensorsFormatException(path, "header length is 0; the JSON header must at least be '{}'");
            }

            if (headerLength > MaxHeaderLength)
            {
                throw new SafeTensorsFormatException(
                    path, $"header length {headerLength} exceeds the 100 MiB limit");
            }

            if (headerLength > (ulong)(length - 8))
            {
                throw new SafeTensorsFormatException(
                    path, $"header length {headerLength} runs past the end of the file (only {length - 8} bytes follow the length prefix)");
            }

            long dataStart = 8 + (long)headerLength;
            long dataLength = length - dataStart;
            Header header = ParseHeader(path, new ReadOnlySpan<byte>(p + 8, (int)headerLength), dataLength);

            var file = new SafeTensorsFile(path, buffer, p, dataStart, header);
            return file;
        }
        catch
        {
            if (pointerAcquired)
            {
                buffer!.DangerousRelease();
            }

            buffer?.Dispose();
            stream?.Dispose();
            throw;
        }
    }

    /// <summary>True if the file holds a tensor of that name.</summary>
    public bool Contains(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _index.ContainsKey(name);
    }

    /// <summary>The header entry of a tensor; throws <see cref="SafeTensorsFormatException"/> if it is missing.</summary>
    public SafeTensorInfo GetInfo(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_index.TryGetValue(name, out int i))
        {
            throw new SafeTensorsFormatException(FilePath, $"tensor {Quote(name)} is missing");
        }

        return _tensors[i];
    }

    /// <summary>
    /// Reads a floating-point tensor (F32, F16, BF16 or F64) as float32. Integer dtypes are refused with a
    /// <see cref="SafeTensorsFormatException"/> naming the tensor and its dtype.
    /// </summary>
    public float[] ReadFloat32(string name)
    {
        SafeTensorInfo info = GetInfo(name);
        RequireFloat(info);
        int count = ArrayLength(info);
        float[] result = count == 0 ? [] : GC.AllocateUninitializedArray<float>(count);
        CopyFloat32(info, result);
        return result;
    }

    /// <summary>
    /// Reads a floating-point tensor into <paramref name="destination"/>, whose length must equal the tensor's
    /// element count (otherwise <see cref="ArgumentException"/>).
    /// </summary>
    public void ReadFloat32(string name, Span<float> destination)
    {
        SafeTensorInfo info = GetInfo(name);
        RequireFloat(info);
        int count = ArrayLength(info);
        if (destination.Length != count)
        {
            throw new ArgumentException(
                $"{FilePath}: tensor {Quote(name)} has {count} elements but the destination holds {destination.Length}",
                nameof(destination));
        }

        CopyFloat32(info, destination);
    }

    /// <summary>
    /// Reads an integer tensor (I64 as is; I32, I8, U8 and BOOL widened) as int64. Floating-point dtypes are
    /// refused with a <see cref="SafeTensorsFormatException"/> naming the tensor and its dtype.
    /// </summary>
    public long[] ReadInt64(string name)
    {
        SafeTensorInfo info = GetInfo(name);
        if (!info.DType.IsInteger())
        {
            throw new SafeTensorsFormatException(
                FilePath, $"tensor {Quote(name)} has dtype {info.DType.ToHeaderName()}, which cannot be read as int64");
        }

        int count = ArrayLength(info);
        long[] result = count == 0 ? [] : GC.AllocateUninitializedArray<long>(count);
        byte* src = DataPointer(info);
        int size = info.DType.SizeInBytes();
        for (int start = 0; start < count; start += ChunkElements)
        {
            int n = Math.Min(ChunkElements, count - start);
            SafeTensorDTypeExtensions.ConvertToInt64(
                info.DType, new ReadOnlySpan<byte>(src + ((long)start * size), n * size), result.AsSpan(start, n));
        }

        return result;
    }

    /// <summary>
    /// The tensor's bytes (little-endian, row-major) as a view into the file's copy in memory, valid until <see cref="Dispose"/>.
    /// Tensors of 2 GiB or more cannot be viewed as one span and are refused.
    /// </summary>
    public ReadOnlySpan<byte> GetRawBytes(string name)
    {
        SafeTensorInfo info = GetInfo(name);
        byte* src = DataPointer(info);
        long length = info.ByteLength;
        if (length > int.MaxValue)
        {
            throw new SafeTensorsFormatException(
                FilePath, $"tensor {Quote(name)} is {length} bytes, too large to view as one span");
        }

        return new ReadOnlySpan<byte>(src, (int)length);
    }

    /// <summary>Releases the memory holding the file.</summary>
    public void Dispose()
    {
        if (_base == null)
        {
            return;
        }

        _base = null;
        _buffer.DangerousRelease();
        _buffer.Dispose();
    }

    private const int ChunkElements = 1 << 20;

    private void CopyFloat32(SafeTensorInfo info, Span<float> destination)
    {
        byte* src = DataPointer(info);
        int size = info.DType.SizeInBytes();
        int count = destination.Length;
        for (int start = 0; start < count; start += ChunkElements)
        {
            int n = Math.Min(ChunkElements, count - start);
            SafeTensorDTypeExtensions.ConvertToSingle(
                info.DType, new ReadOnlySpan<byte>(src + ((long)start * size), n * size), destination.Slice(start, n));
        }
    }

    private void RequireFloat(SafeTensorInfo info)
    {
        if (!info.DType.IsFloatingPoint())
        {
            throw new SafeTensorsFormatException(
                FilePath, $"tensor {Quote(info.Name)} has dtype {info.DType.ToHeaderName()}, which cannot be read as float32");
        }
    }

    private int ArrayLength(SafeTensorInfo info)
    {
        if (info.ElementCount > Array.MaxLength)
        {
            throw new SafeTensorsFormatException(
                FilePath, $"tensor {Quote(info.Name)} has {info.ElementCount} elements, too many to read into one array");
        }

        return (int)info.ElementCount;
    }

    private byte* DataPointer(SafeTensorInfo info)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        return _base + _dataStart + info.DataBegin;
    }

    private static bool IsIoFailure(Exception e)
        => e is IOException or UnauthorizedAccessException or NotSupportedException or System.Security.SecurityException;

    // ---------------------------------------------------------------------------------------------------------
    // Header parsing

    private sealed class Header(SafeTensorInfo[] tensors, Dictionary<string, int> index, Dictionary<string, string> metadata)
    {
        public SafeTensorInfo[] Tensors { get; } = tensors;

        public Dictionary<string, int> Index { get; } = index;

        public Dictionary<string, string> Metadata { get; } = metadata;
    }

    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        // Our own depth check (MaxHeaderDepth) fires first and gives the clearer message.
        MaxDepth = MaxHeaderDepth + 8,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    /// <summary>Validates and parses the JSON header; <paramref name="dataLength"/> is the size of the data section.</summary>
    private static Header ParseHeader(string path, ReadOnlySpan<byte> json, long dataLength)
    {
        if (!Utf8.IsValid(json))
        {
            throw new SafeTensorsFormatException(path, "header is not valid UTF-8");
        }

        try
        {
            CheckSyntax(path, json);
            return ParseContent(path, json, dataLength);
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException(path, "header is not valid JSON: " + e.Message, e);
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader.GetString refuses strings it cannot transcode (e.g. escaped lone surrogates).
            throw new SafeTensorsFormatException(path, "header holds a JSON string that cannot be decoded: " + e.Message, e);
        }
    }

    /// <summary>First pass: the header must be one well-formed JSON value, nested at most <see cref="MaxHeaderDepth"/> deep.</summary>
    private static void CheckSyntax(string path, ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, isFinalBlock: true, new JsonReaderState(ReaderOptions));
        while (reader.Read())
        {
            if ((reader.TokenType == JsonTokenType.StartObject || reader.TokenType == JsonTokenType.StartArray)
                && reader.CurrentDepth >= MaxHeaderDepth)
            {
                throw new SafeTensorsFormatException(
                    path, $"header JSON is nested too deep (more than {MaxHeaderDepth} levels)");
            }
        }
    }

    /// <summary>Second pass over JSON already known to be well formed: checks what every entry says.</summary>
    private static Header ParseContent(string path, ReadOnlySpan<byte> json, long dataLength)
    {
        var reader = new Utf8JsonReader(json, isFinalBlock: true, new JsonReaderState(ReaderOptions));
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new SafeTensorsFormatException(path, $"header is a JSON {Describe(reader.TokenType)}, not an object");
        }

        var tensors = new List<SafeTensorInfo>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        Dictionary<string, string>? metadata = null;
        bool sawMetadata = false;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string key = reader.GetString()!;
            reader.Read();
            if (key == MetadataKey)
            {
                if (sawMetadata)
                {
                    throw new SafeTensorsFormatException(path, "header has '__metadata__' more than once");
                }

                sawMetadata = true;
                metadata = ParseMetadata(path, ref reader);
            }
            else
            {
                if (index.ContainsKey(key))
                {
                    throw new SafeTensorsFormatException(path, $"duplicate tensor name {Quote(key)}");
                }

                index.Add(key, tensors.Count);
                tensors.Add(ParseTensor(path, ref reader, key, dataLength));
            }
        }

        SafeTensorInfo[] array = tensors.ToArray();
        CheckNoOverlap(path, array);
        return new Header(array, index, metadata ?? new Dictionary<string, string>(StringComparer.Ordinal));
    }

    private static Dictionary<string, string>? ParseMetadata(string path, ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null; // "__metadata__": null is read as no metadata
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new SafeTensorsFormatException(
                path, $"'__metadata__' is a JSON {Describe(reader.TokenType)}, not an object of strings");
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                throw new SafeTensorsFormatException(
                    path, $"'__metadata__' value for key {Quote(key)} is a JSON {Describe(reader.TokenType)}, not a string");
            }

            if (!metadata.TryAdd(key, reader.GetString()!))
            {
                throw new SafeTensorsFormatException(path, $"'__metadata__' has duplicate key {Quote(key)}");
            }
        }

        return metadata;
    }

    private static SafeTensorInfo ParseTensor(string path, ref Utf8JsonReader reader, string name, long dataLength)
    {
        string q = Quote(name);
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new SafeTensorsFormatException(
                path, $"tensor {q} entry is a JSON {Describe(reader.TokenType)}, not an object");
        }

        SafeTensorDType? dtype = null;
        int[]? shape = null;
        long begin = -1, end = -1;
        bool sawOffsets = false;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string field = reader.GetString()!;
            reader.Read();
            switch (field)
            {
                case "dtype":
                    if (dtype is not null)
                    {
                        throw new SafeTensorsFormatException(path, $"tensor {q} has field 'dtype' more than once");
                    }

                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw new SafeTensorsFormatException(
                            path, $"tensor {q} field 'dtype' is a JSON {Describe(reader.TokenType)}, not a string");
                    }

                    string text = reader.GetString()!;
                    if (!SafeTensorDTypeExtensions.TryParseHeaderName(text, out SafeTensorDType parsed))
                    {
                        throw new SafeTensorsFormatException(path, $"tensor {q} has unknown dtype {Quote(text)}");
                    }

                    dtype = parsed;
                    break;

                case "shape":
                    if (shape is not null)
                    {
                        throw new SafeTensorsFormatException(path, $"tensor {q} has field 'shape' more than once");
                    }

                    shape = ParseShape(path, ref reader, q);
                    break;

                case "data_offsets":
                    if (sawOffsets)
                    {
                        throw new SafeTensorsFormatException(path, $"tensor {q} has field 'data_offsets' more than once");
                    }

                    sawOffsets = true;
                    (begin, end) = ParseOffsets(path, ref reader, q);
                    break;

                default:
                    throw new SafeTensorsFormatException(path, $"tensor {q} has unexpected field {Quote(field)}");
            }
        }

        if (dtype is null)
        {
            throw new SafeTensorsFormatException(path, $"tensor {q} is missing field 'dtype'");
        }

        if (shape is null)
        {
            throw new SafeTensorsFormatException(path, $"tensor {q} is missing field 'shape'");
        }

        if (!sawOffsets)
        {
            throw new SafeTensorsFormatException(path, $"tensor {q} is missing field 'data_offsets'");
        }

        long count;
        try
        {
            count = SafeTensorInfo.CountElements(shape);
        }
        catch (ArgumentException)
        {
            throw new SafeTensorsFormatException(
                path, $"tensor {q} shape {FormatShape(shape)} has an element count that overflows a 64-bit integer");
        }

        int size = dtype.Value.SizeInBytes();
        if (count > long.MaxValue / size)
        {
            throw new SafeTensorsFormatException(
                path, $"tensor {q} shape {FormatShape(shape)} with dtype {dtype.Value.ToHeaderName()} has a byte size that overflows a 64-bit integer");
        }

        long byteLength = count * size;
        string offsets = $"[{begin}, {end}]";
        if (begin > end)
        {
            throw new SafeTensorsFormatException(path, $"tensor {q} data_offsets {offsets} has begin after end");
        }

        if (end - begin != byteLength)
        {
            throw new SafeTensorsFormatException(
                path,
                $"tensor {q} data_offsets {offsets} span {end - begin} bytes, but dtype {dtype.Value.ToHeaderName()} with shape {FormatShape(shape)} needs {byteLength} (size mismatch)");
        }

        if (end > dataLength)
        {
            throw new SafeTensorsFormatException(
                path, $"tensor {q} data_offsets {offsets} run past the end of the data section ({dataLength} bytes)");
        }

        return new SafeTensorInfo(name, dtype.Value, shape, begin, end);
    }

    private static int[] ParseShape(string path, ref Utf8JsonReader reader, string q)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new SafeTensorsFormatException(
                path, $"tensor {q} field 'shape' is a JSON {Describe(reader.TokenType)}, not an array of integers");
        }

        var dims = new List<int>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (dims.Count == MaxRank)
            {
                throw new SafeTensorsFormatException(path, $"tensor {q} shape has more than {MaxRank} dimensions");
            }

            if (reader.TokenType != JsonTokenType.Number)
            {
                throw new SafeTensorsFormatException(
                    path, $"tensor {q} shape dimension {dims.Count} is a JSON {Describe(reader.TokenType)}, not an integer");
            }

            if (!reader.TryGetInt64(out long d))
            {
                throw new SafeTensorsFormatException(
                    path, $"tensor {q} shape dimension {dims.Count} ({NumberText(ref reader)}) is not an integer that fits in 64 bits");
            }

            if (d < 0)
            {
                throw new SafeTensorsFormatException(path, $"tensor {q} shape dimension {dims.Count} is negative ({d})");
            }

            if (d > int.MaxValue)
            {
                throw new SafeTensorsFormatException(
                    path, $"tensor {q} shape dimension {dims.Count} ({d}) is too large (more than {int.MaxValue})");
            }

            dims.Add((int)d);
        }

        return dims.ToArray();
    }

    private static (long Begin, long End) ParseOffsets(string path, ref Utf8JsonReader reader, string q)
    {
        const string Expected = "two non-negative integers [begin, end]";
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new SafeTensorsFormatException(
                path, $"tensor {q} field 'data_offsets' is a JSON {Describe(reader.TokenType)}, not {Expected}");
        }

        Span<long> values = stackalloc long[2];
        int n = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (n == 2)
            {
                throw new SafeTensorsFormatException(path, $"tensor {q} data_offsets has more than two values; expected {Expected}");
            }

            if (reader.TokenType != JsonTokenType.Number)
            {
                throw new SafeTensorsFormatException(
                    path, $"tensor {q} data_offsets value {n} is a JSON {Describe(reader.TokenType)}; expected {Expected}");
            }

            if (!reader.TryGetInt64(out long v) || v < 0)
            {
                throw new SafeTensorsFormatException(
                    path, $"tensor {q} data_offsets value {n} ({NumberText(ref reader)}) is not a non-negative integer; expected {Expected}");
            }

            values[n++] = v;
        }

        if (n != 2)
        {
            throw new SafeTensorsFormatException(path, $"tensor {q} data_offsets has {n} values; expected {Expected}");
        }

        return (values[0], values[1]);
    }

    /// <summary>Non-empty byte ranges must not share any byte (gaps between them are allowed).</summary>
    private static void CheckNoOverlap(string path, SafeTensorInfo[] tensors)
    {
        if (tensors.Length < 2)
        {
            return;
        }

        var order = new int[tensors.Length];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (a, b) =>
        {
            int c = tensors[a].DataBegin.CompareTo(tensors[b].DataBegin);
            return c != 0 ? c : tensors[a].DataEnd.CompareTo(tensors[b].DataEnd);
        });

        SafeTensorInfo? furthest = null; // the non-empty tensor seen so far that ends last
        foreach (int i in order)
        {
            SafeTensorInfo t = tensors[i];
            if (t.DataBegin == t.DataEnd)
            {
                continue;
            }

            if (furthest is not null && t.DataBegin < furthest.DataEnd)
            {
                throw new SafeTensorsFormatException(
                    path,
                    $"tensors {Quote(furthest.Name)} [{furthest.DataBegin}, {furthest.DataEnd}] and {Quote(t.Name)} [{t.DataBegin}, {t.DataEnd}] overlap in the data section");
            }

            if (furthest is null || t.DataEnd > furthest.DataEnd)
            {
                furthest = t;
            }
        }
    }

    private static string Describe(JsonTokenType type) => type switch
    {
        JsonTokenType.StartObject => "object",
        JsonTokenType.StartArray => "array",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        _ => type.ToString(),
    };

    private static string NumberText(ref Utf8JsonReader reader)
    {
        ReadOnlySpan<byte> raw = reader.ValueSpan; // the reader works on one contiguous span, never a sequence
        return raw.Length <= 40 ? Encoding.UTF8.GetString(raw) : Encoding.UTF8.GetString(raw[..40]) + "...";
    }

    private static string FormatShape(int[] shape)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }

            sb.Append(shape[i].ToString(CultureInfo.InvariantCulture));
        }

        return sb.Append(']').ToString();
    }

    /// <summary>A name in single quotes for messages, shortened if very long.</summary>
    internal static string Quote(string name)
    {
        const int Max = 120;
        return name.Length <= Max ? $"'{name}'" : $"'{name[..Max]}...' ({name.Length} chars)";
    }
}
