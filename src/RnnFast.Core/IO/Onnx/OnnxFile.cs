// Reads and writes .onnx files (protobuf ModelProto) with bounds: the file's size is capped and checked against the memory
// available before it is read, the parser's nesting depth and message size are limited, and a tensor's element count is
// taken from its dims and data_type and checked against the bytes it holds before anything is allocated for it.
// Problems are RnnFormatException with one line naming the file and, where there is one, the node or tensor.
// Writes go to a temporary file in the same directory, flushed, then renamed over the target (like SafeTensorsWriter).
using System.Buffers.Binary;
using System.Security.Cryptography;
using Google.Protobuf;
using RnnFast.IO.Onnx.Proto;

namespace RnnFast.IO.Onnx;

/// <summary>Bounded reading and atomic writing of ONNX model files (internal: the protobuf types are not public API).</summary>
internal static class OnnxFile
{
    /// <summary>The largest .onnx file read: 1 GiB (RnnFast models are far smaller; protobuf's own cap is 2 GiB).</summary>
    public const long MaxFileBytes = 1L << 30;
    /// <summary>The deepest nesting of messages the parser follows (a model is 6 deep; only subgraphs go deeper).</summary>
    public const int MaxNesting = 24;
    /// <summary>The most dimensions a tensor may have.</summary>
    public const int MaxRank = 8;

    /// <summary>Reads and parses <paramref name="path"/>; every failure is an <see cref="RnnFormatException"/> naming the file.</summary>
    public static ModelProto Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string name = Path.GetFileName(path);
        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 1);
            long length = stream.Length;
            if (length == 0) throw new RnnFormatException(name, "file is empty; not an ONNX model");
            if (length > MaxFileBytes) throw new RnnFormatException(name, $"file is {length} bytes, more than the {MaxFileBytes} bytes an ONNX model may have here");
            long available = RnnFast.Training.MemoryEstimate.AvailableBytes();
            if (length * 3 > available) throw new RnnFormatException(name, $"file is {length} bytes; reading it needs about {length * 3} bytes, more than the {available} available");
            bytes = new byte[length];
            int done = 0;
            while (done < length)
            {
                int got = stream.Read(bytes, done, (int)length - done);
                if (got <= 0) throw new RnnFormatException(name, $"the file shrank while it was being read: it ended after {done} of {length} bytes");
                done += got;
            }
            if (stream.Length != length) throw new RnnFormatException(name, $"the file changed while it was being read: {length} bytes when opened, {stream.Length} after");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new RnnFormatException(name, "cannot read the file: " + e.Message, e);
        }
        return Parse(bytes, name);
    }

    /// <summary>Parses a model held in memory (<paramref name="name"/> names it in errors).</summary>
    public static ModelProto Parse(byte[] bytes, string name)
    {
        try
        {
            using var input = CodedInputStream.CreateWithLimits(new MemoryStream(bytes, writable: false), sizeLimit: bytes.Length, recursionLimit: MaxNesting);
            var model = new ModelProto();
            model.MergeFrom(input);
            if (!input.IsAtEnd) throw new RnnFormatException(name, "not an ONNX model: bytes follow the model");
            if (model.Graph == null) throw new RnnFormatException(name, "not an ONNX model: it has no graph");
            return model;
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new RnnFormatException(name, "not an ONNX model (protobuf: " + e.Message + ")", e);
        }
    }

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> through a temporary file renamed over it.</summary>
    public static void Write(string path, ModelProto model)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(model);
        string tempPath = path + ".tmp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        try
        {
            using (var stream = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                model.WriteTo(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tempPath, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(tempPath); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* best effort; the first error matters */ }
            throw;
        }
    }

    /// <summary>The element count of <paramref name="t"/>'s dims, checked (no negative dim, at most <see cref="MaxRank"/> dims, at most int.MaxValue elements).</summary>
    public static int ElementCount(TensorProto t, string file, string what)
    {
        if (t.Dims.Count > MaxRank) throw new RnnFormatException(file, $"{what} has {t.Dims.Count} dimensions; at most {MaxRank} are supported");
        long count = 1;
        foreach (var d in t.Dims)
        {
            if (d < 0) throw new RnnFormatException(file, $"{what} has a negative dimension {d} in {FormatDims(t)}");
            if (d > int.MaxValue || (count *= d) > int.MaxValue)
                throw new RnnFormatException(file, $"{what} has dims {FormatDims(t)}: more than {int.MaxValue} elements");
        }
        return (int)count;
    }

    /// <summary>The dims of <paramref name="t"/> as "(a,b,c)".</summary>
    public static string FormatDims(TensorProto t) => "(" + string.Join(",", t.Dims) + ")";

    /// <summary>The dims as ints (after <see cref="ElementCount"/> has checked them).</summary>
    public static int[] Dims(TensorProto t) => t.Dims.Select(d => (int)d).ToArray();

    private static void RefuseExternal(TensorProto t, string file, string what)
    {
        if (t.DataLocation != 0 || t.ExternalData.Count > 0)
            throw new RnnFormatException(file, $"{what} keeps its data in an external file; only tensors stored inside the model are read");
    }

    /// <summary>A float32 tensor's values; its byte count is checked against dims and data_type before allocating.</summary>
    public static float[] Floats(TensorProto t, string file, string what)
    {
        RefuseExternal(t, file, what);
        if (t.DataType != (int)TensorProto.Types.DataType.Float)
            throw new RnnFormatException(file, $"{what} has data_type {DataTypeName(t.DataType)}, expected FLOAT");
        int count = ElementCount(t, file, what);
        if (t.RawData.Length > 0 || !HasAnyData(t))
        {
            long expected = (long)count * 4;
            if (t.RawData.Length != expected)
                throw new RnnFormatException(file, $"{what} has dims {FormatDims(t)} (FLOAT: {expected} bytes) but raw_data holds {t.RawData.Length} bytes");
            var values = new float[count];
            var raw = t.RawData.Span;
            for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(i * 4, 4));
            return values;
        }
        if (t.FloatData.Count != count)
            throw new RnnFormatException(file, $"{what} has dims {FormatDims(t)} ({count} elements) but float_data holds {t.FloatData.Count}");
        return t.FloatData.ToArray();
    }

    /// <summary>An integer tensor's values (INT64 or INT32), as longs; checked like <see cref="Floats"/>.</summary>
    public static long[] Int64s(TensorProto t, string file, string what)
    {
        RefuseExternal(t, file, what);
        int count = ElementCount(t, file, what);
        int size = t.DataType switch
        {
            (int)TensorProto.Types.DataType.Int64 => 8,
            (int)TensorProto.Types.DataType.Int32 => 4,
            _ => throw new RnnFormatException(file, $"{what} has data_type {DataTypeName(t.DataType)}, expected INT64 or INT32"),
        };
        if (t.RawData.Length > 0 || !HasAnyData(t))
        {
            long expected = (long)count * size;
            if (t.RawData.Length != expected)
                throw new RnnFormatException(file, $"{what} has dims {FormatDims(t)} ({DataTypeName(t.DataType)}: {expected} bytes) but raw_data holds {t.RawData.Length} bytes");
            var values = new long[count];
            var raw = t.RawData.Span;
            for (int i = 0; i < count; i++)
                values[i] = size == 8 ? BinaryPrimitives.ReadInt64LittleEndian(raw.Slice(i * 8, 8)) : BinaryPrimitives.ReadInt32LittleEndian(raw.Slice(i * 4, 4));
            return values;
        }
        int held = size == 8 ? t.Int64Data.Count : t.Int32Data.Count;
        if (held != count)
            throw new RnnFormatException(file, $"{what} has dims {FormatDims(t)} ({count} elements) but {(size == 8 ? "int64_data" : "int32_data")} holds {held}");
        return size == 8 ? t.Int64Data.ToArray() : t.Int32Data.Select(v => (long)v).ToArray();
    }

    /// <summary>True when every element of a FLOAT or integer tensor is zero (checked like <see cref="Floats"/>).</summary>
    public static bool AllZero(TensorProto t, string file, string what) =>
        t.DataType == (int)TensorProto.Types.DataType.Float ? Floats(t, file, what).All(v => v == 0) : Int64s(t, file, what).All(v => v == 0);

    private static bool HasAnyData(TensorProto t) =>
        t.FloatData.Count > 0 || t.Int32Data.Count > 0 || t.Int64Data.Count > 0 || t.DoubleData.Count > 0 || t.Uint64Data.Count > 0 || t.StringData.Count > 0;

    /// <summary>The ONNX name of a data_type value (e.g. FLOAT, INT64), or its number.</summary>
    public static string DataTypeName(int type) =>
        Enum.IsDefined(typeof(TensorProto.Types.DataType), type) ? ((TensorProto.Types.DataType)type).ToString().ToUpperInvariant() : type.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A FLOAT tensor with raw little-endian data.</summary>
    public static TensorProto FloatTensor(string name, int[] dims, ReadOnlySpan<float> values)
    {
        var raw = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), values[i]);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(raw) };
        t.Dims.AddRange(dims.Select(d => (long)d));
        return t;
    }

    /// <summary>An INT64 tensor with raw little-endian data.</summary>
    public static TensorProto Int64Tensor(string name, int[] dims, ReadOnlySpan<long> values)
    {
        var raw = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(i * 8), values[i]);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, RawData = ByteString.CopyFrom(raw) };
        t.Dims.AddRange(dims.Select(d => (long)d));
        return t;
    }
}
