// Tests for the safetensors reader and writer (RnnFast.IO): round trips, half/bfloat16 decoding, the PyTorch
// golden file, one test per class of malformed input, atomic writes, and a small randomized mutation loop.
using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using RnnFast.IO;
using Xunit;

namespace RnnFast.Tests;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _dir;

    public SafeTensorsTests()
    {
        _dir = Path.Combine(Path.GetTempPath(), "rnnfast-safetensors-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    // ----------------------------------------------------------------------------------------------------------
    // Helpers

    private string PathFor(string fileName) => Path.Combine(_dir, fileName);

    /// <summary>8-byte little-endian header length (or an override), the header bytes, then the data bytes.</summary>
    private static byte[] BuildFile(byte[] header, byte[] data, ulong? headerLength = null)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    private static byte[] BuildFile(string headerJson, int dataLength)
        => BuildFile(Encoding.UTF8.GetBytes(headerJson), new byte[dataLength]);

    private string WriteFile(string fileName, byte[] bytes)
    {
        string path = PathFor(fileName);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Opening must fail with a one-line message naming the file and containing every given word.</summary>
    private static SafeTensorsFormatException AssertRejected(string path, params string[] words)
    {
        var ex = Assert.Throws<SafeTensorsFormatException>(() =>
        {
            using SafeTensorsFile file = SafeTensorsFile.Open(path);
        });
        AssertGoodMessage(ex, path, words);
        return ex;
    }

    private static void AssertGoodMessage(SafeTensorsFormatException ex, string path, params string[] words)
    {
        Assert.Equal(path, ex.FilePath);
        Assert.StartsWith(path + ": ", ex.Message);
        Assert.Contains(Path.GetFileName(path), ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.DoesNotContain('\r', ex.Message);
        foreach (string word in words)
        {
            Assert.Contains(word, ex.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    private static string[] TempFiles(string dir) => Directory.GetFiles(dir, "*.tmp-*");

    private const string OneF32 = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";

    // ----------------------------------------------------------------------------------------------------------
    // Round trips and decoding

    [Fact]
    public void RoundTrip_F32_I32_I64_WithMetadata()
    {
        string path = PathFor("roundtrip.safetensors");
        float[] weights = [1.5f, -2.25f, 3f, float.MaxValue, float.Epsilon, float.NaN];
        int[] counts = [int.MinValue, -1, 0, int.MaxValue];
        long[] ids = [long.MinValue, -7, 42, long.MaxValue];
        var metadata = new Dictionary<string, string>
        {
            ["mode"] = "LSTM",
            ["note"] = "quotes \" and \\ backslashes, ünïcode, line\nbreak",
        };

        SafeTensorsWriter.Write(
            path,
            [
                SafeTensorEntry.F32("weights", [2, 3], weights),
                SafeTensorEntry.I32("counts", [4], counts),
                SafeTensorEntry.I64("ids", [2, 2], ids),
                SafeTensorEntry.F32("scalar", [], new[] { 0.25f }),
                SafeTensorEntry.F32("empty", [0, 5], ReadOnlyMemory<float>.Empty),
            ],
            metadata);

        // The data section starts at a multiple of 8.
        byte[] raw = File.ReadAllBytes(path);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(raw);
        Assert.Equal(0UL, (8 + headerLength) % 8);

        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Equal(path, file.FilePath);
        Assert.Equal(["weights", "counts", "ids", "scalar", "empty"], file.Tensors.Select(t => t.Name));
        Assert.Equal(2, file.Metadata.Count);
        Assert.Equal("LSTM", file.Metadata["mode"]);
        Assert.Equal(metadata["note"], file.Metadata["note"]);

        SafeTensorInfo w = file.GetInfo("weights");
        Assert.Equal(SafeTensorDType.F32, w.DType);
        Assert.Equal([2, 3], w.Shape);
        Assert.Equal(6, w.ElementCount);
        Assert.Equal(0, w.DataBegin);
        Assert.Equal(24, w.DataEnd);
        Assert.Equal(weights, file.ReadFloat32("weights"));
        Assert.Equal(36, (w with { Shape = [6, 6] }).ElementCount); // 'with' recomputes the count

        Assert.Equal(SafeTensorDType.I32, file.GetInfo("counts").DType);
        Assert.Equal(counts.Select(c => (long)c), file.ReadInt64("counts"));
        Assert.Equal(ids, file.ReadInt64("ids"));

        SafeTensorInfo scalar = file.GetInfo("scalar");
        Assert.Empty(scalar.Shape);
        Assert.Equal(1, scalar.ElementCount);
        Assert.Equal([0.25f], file.ReadFloat32("scalar"));

        Assert.Equal(0, file.GetInfo("empty").ElementCount);
        Assert.Empty(file.ReadFloat32("empty"));
        Assert.Equal(0, file.GetRawBytes("empty").Length);

        // Tensors are laid out back to back in the given order.
        Assert.Equal(file.Tensors[0].DataEnd, file.Tensors[1].DataBegin);
        Assert.Equal(file.Tensors[1].DataEnd, file.Tensors[2].DataBegin);

        byte[] counted = file.GetRawBytes("counts").ToArray();
        Assert.Equal(16, counted.Length);
        Assert.Equal(int.MinValue, BinaryPrimitives.ReadInt32LittleEndian(counted));

        var destination = new float[6];
        file.ReadFloat32("weights", destination);
        Assert.Equal(weights, destination);
        Assert.Throws<ArgumentException>(() => file.ReadFloat32("weights", new float[5]));

        Assert.True(file.Contains("ids"));
        Assert.False(file.Contains("nope"));
    }

    [Fact]
    public void Write_WithoutTensorsOrMetadata_GivesAnEmptyButValidFile()
    {
        string path = PathFor("empty.safetensors");
        SafeTensorsWriter.Write(path, []);
        Assert.Equal(16, new FileInfo(path).Length); // "{}" padded to 8 bytes

        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Empty(file.Tensors);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void Reads_HandBuilt_F16_BF16_F64_AndSmallIntegers()
    {
        ushort[] f16 = [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x7C00, 0x0001, 0x8000];
        float[] f16Expected = [1f, -2f, 0.5f, 65504f, float.PositiveInfinity, MathF.Pow(2, -24), -0f];
        ushort[] bf16 = [0x3F80, 0xC000, 0x4049, 0x7F80, 0xFF80, 0x0000];
        float[] bf16Expected = [1f, -2f, 3.140625f, float.PositiveInfinity, float.NegativeInfinity, 0f];

        var data = new List<byte>();
        foreach (ushort h in f16)
        {
            data.Add((byte)h);
            data.Add((byte)(h >> 8));
        } // [0, 14)

        foreach (ushort h in bf16)
        {
            data.Add((byte)h);
            data.Add((byte)(h >> 8));
        } // [14, 26)

        var f64 = new byte[16];
        BinaryPrimitives.WriteDoubleLittleEndian(f64, 0.1);
        BinaryPrimitives.WriteDoubleLittleEndian(f64.AsSpan(8), -1e300);
        data.AddRange(f64); // [26, 42)
        data.AddRange(new byte[] { 0xFF, 0x7F, 0x80 }); // I8 [42, 45)
        data.AddRange(new byte[] { 0xFF, 0x00 }); // U8 [45, 47)
        data.AddRange(new byte[] { 0, 1, 2 }); // BOOL [47, 50)

        string header =
            "{\"half\":{\"dtype\":\"F16\",\"shape\":[7],\"data_offsets\":[0,14]}," +
            "\"brain\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[14,26]}," +
            "\"dbl\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[26,42]}," +
            "\"i8\":{\"dtype\":\"I8\",\"shape\":[3],\"data_offsets\":[42,45]}," +
            "\"u8\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[45,47]}," +
            "\"flags\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[47,50]}}";
        string path = WriteFile("mixed.safetensors", BuildFile(Encoding.UTF8.GetBytes(header), data.ToArray()));

        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Empty(file.Metadata);
        Assert.Equal(f16Expected, file.ReadFloat32("half"));
        Assert.True(float.IsNegative(file.ReadFloat32("half")[6]));
        Assert.Equal(bf16Expected, file.ReadFloat32("brain"));
        Assert.Equal([2, 3], file.GetInfo("brain").Shape);
        Assert.Equal([0.1f, float.NegativeInfinity], file.ReadFloat32("dbl"));
        Assert.Equal([-1L, 127L, -128L], file.ReadInt64("i8"));
        Assert.Equal([255L, 0L], file.ReadInt64("u8"));
        Assert.Equal([0L, 1L, 1L], file.ReadInt64("flags"));

        Span<float> halfSpan = stackalloc float[7];
        file.ReadFloat32("half", halfSpan);
        Assert.Equal(65504f, halfSpan[3]);

        Assert.Equal(1f, SafeTensorDTypeExtensions.HalfBitsToSingle(0x3C00));
        Assert.Equal(1f, SafeTensorDTypeExtensions.BFloat16BitsToSingle(0x3F80));
    }

    [Fact]
    public void GoldenFile_LstmBasic_Opens()
    {
        string path = TestPaths.Golden("lstm_basic");
        Assert.True(File.Exists(path), $"golden file not found: {path}");

        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Equal("LSTM", file.Metadata["mode"]);
        SafeTensorInfo w = file.GetInfo("weight_ih_l0");
        Assert.Equal(SafeTensorDType.F32, w.DType);
        Assert.Equal([64, 8], w.Shape);
        float[] values = file.ReadFloat32("weight_ih_l0");
        Assert.Equal(512, values.Length);
        Assert.All(values, v => Assert.True(float.IsFinite(v)));
    }

    // ----------------------------------------------------------------------------------------------------------
    // Legal edge cases

    [Fact]
    public void EdgeCases_ThatTheFormatAllows_AreAccepted()
    {
        // "{}" alone: no tensors, 0-byte data section.
        string path = WriteFile("bare.safetensors", BuildFile("{}", 0));
        using (SafeTensorsFile file = SafeTensorsFile.Open(path))
        {
            Assert.Empty(file.Tensors);
        }

        // Space padding after the JSON, scalar, zero-element tensors sharing an offset or sitting inside another
        // tensor's range, a gap between tensors, trailing bytes after the last one, and "__metadata__": null.
        string header =
            "{\"__metadata__\":null," +
            "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}," +
            "\"z1\":{\"data_offsets\":[2,2],\"shape\":[0,3],\"dtype\":\"I64\"}," +
            "\"z2\":{\"dtype\":\"BF16\",\"shape\":[4,0],\"data_offsets\":[2,2]}," +
            "\"v\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[8,12]}}      ";
        path = WriteFile("edges.safetensors", BuildFile(header, 20));
        using (SafeTensorsFile file = SafeTensorsFile.Open(path))
        {
            Assert.Empty(file.Metadata);
            Assert.Equal(4, file.Tensors.Count);
            Assert.Equal([0f], file.ReadFloat32("s"));
            Assert.Empty(file.ReadInt64("z1"));
            Assert.Empty(file.ReadFloat32("z2"));
            Assert.Equal([0L], file.ReadInt64("v"));
        }
    }

    // ----------------------------------------------------------------------------------------------------------
    // Malformed input: every problem is a SafeTensorsFormatException naming the file and the problem.

    [Fact]
    public void Rejects_FileShorterThan8Bytes()
    {
        AssertRejected(WriteFile("zero.safetensors", []), "shorter", "0 bytes");
        AssertRejected(WriteFile("five.safetensors", [1, 0, 0, 0, 0]), "shorter");
    }

    [Fact]
    public void Rejects_MissingFile()
    {
        AssertRejected(PathFor("does-not-exist.safetensors"), "cannot open");
    }

    [Fact]
    public void Rejects_HeaderLengthZero()
    {
        AssertRejected(WriteFile("len0.safetensors", BuildFile([], [1, 2, 3], headerLength: 0)), "header length is 0");
    }

    [Fact]
    public void Rejects_HeaderLengthPastEndOfFile()
    {
        byte[] header = Encoding.UTF8.GetBytes("{}");
        AssertRejected(WriteFile("lenlong.safetensors", BuildFile(header, [], headerLength: 3)), "header length 3", "past the end of the file");
        AssertRejected(WriteFile("lenmax.safetensors", BuildFile(header, [], headerLength: ulong.MaxValue)), "header length");
    }

    [Fact]
    public void Rejects_HeaderLengthOver100MiB()
    {
        byte[] header = Encoding.UTF8.GetBytes("{}");
        AssertRejected(WriteFile("lenhuge.safetensors", BuildFile(header, [], headerLength: (100UL << 20) + 1)), "100 MiB");
    }

    [Fact]
    public void Rejects_HeaderThatIsNotUtf8()
    {
        byte[] header = Encoding.UTF8.GetBytes("{\"ab\":1}");
        header[2] = 0xFF;
        AssertRejected(WriteFile("utf8.safetensors", BuildFile(header, [])), "UTF-8");
    }

    [Fact]
    public void Rejects_HeaderNestedTooDeep()
    {
        string deep = new string('[', 100) + new string(']', 100);
        AssertRejected(WriteFile("deep.safetensors", BuildFile("{\"x\":{\"dtype\":" + deep + "}}", 0)), "too deep");
    }

    [Fact]
    public void Rejects_DuplicateTensorNames()
    {
        AssertRejected(WriteFile("dup.safetensors", BuildFile("{\"x\":" + OneF32 + ",\"x\":" + OneF32 + "}", 4)), "duplicate", "'x'");
        // The same name once plain and once escaped is still a duplicate.
        AssertRejected(WriteFile("dupesc.safetensors", BuildFile("{\"x\":" + OneF32 + ",\"\\u0078\":" + OneF32 + "}", 4)), "duplicate");
    }

    [Fact]
    public void Rejects_OverlappingTensors()
    {
        string header =
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}," +
            "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}," +
            "\"c\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[4,16]}}";
        AssertRejected(WriteFile("overlap.safetensors", BuildFile(header, 24)), "overlap");
    }

    [Fact]
    public void Rejects_OffsetsPastEndOfDataSection()
    {
        string header = "{\"x\":{\"dtype\":\"F32\",\"shape\":[100],\"data_offsets\":[0,400]}}";
        string path = WriteFile("model.safetensors", BuildFile(header, 96));
        var ex = AssertRejected(path, "past the end of the data section", "96 bytes");
        Assert.Equal(path + ": tensor 'x' data_offsets [0, 400] run past the end of the data section (96 bytes)", ex.Message);
    }

    [Theory]
    [InlineData("not-object", "[1,2]", "not an object")]
    [InlineData("not-object-string", "\"hello\"", "not an object")]
    [InlineData("invalid-json", "{\"x\":", "not valid JSON")]
    [InlineData("trailing-garbage", "{} x", "not valid JSON")]
    [InlineData("comment", "{/* hi */}", "not valid JSON")]
    [InlineData("lone-surrogate", "{\"\\ud800\":{}}", "cannot be decoded")]
    [InlineData("entry-not-object", "{\"x\":[1,2]}", "'x'", "not an object")]
    [InlineData("entry-null", "{\"x\":null}", "'x'", "not an object")]
    [InlineData("missing-dtype", "{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "missing", "dtype")]
    [InlineData("missing-shape", "{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "missing", "shape")]
    [InlineData("missing-offsets", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", "missing", "data_offsets")]
    [InlineData("extra-field", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"foo\":1}}", "unexpected", "'foo'")]
    [InlineData("repeated-field", "{\"x\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "more than once")]
    [InlineData("dtype-not-string", "{\"x\":{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,4]}}", "dtype", "not a string")]
    [InlineData("unknown-dtype", "{\"x\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", "unknown dtype", "'Q7'")]
    [InlineData("lowercase-dtype", "{\"x\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "unknown dtype", "'f32'")]
    [InlineData("shape-not-array", "{\"x\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}", "shape", "not an array")]
    [InlineData("shape-negative", "{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "negative")]
    [InlineData("shape-fraction", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", "not an integer")]
    [InlineData("shape-exponent", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1e0],\"data_offsets\":[0,4]}}", "not an integer")]
    [InlineData("shape-string-dim", "{\"x\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", "not an integer")]
    [InlineData("shape-huge-dim", "{\"x\":{\"dtype\":\"F32\",\"shape\":[4294967296],\"data_offsets\":[0,4]}}", "too large")]
    [InlineData("shape-beyond-int64", "{\"x\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", "not an integer")]
    [InlineData("count-overflow", "{\"x\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,4]}}", "overflow")]
    [InlineData("bytes-overflow", "{\"x\":{\"dtype\":\"F64\",\"shape\":[2147483647,2147483647],\"data_offsets\":[0,4]}}", "overflow")]
    [InlineData("offsets-not-array", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":4}}", "data_offsets", "two non-negative integers")]
    [InlineData("offsets-one", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "data_offsets", "1 values")]
    [InlineData("offsets-three", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", "data_offsets", "more than two")]
    [InlineData("offsets-negative", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", "data_offsets", "non-negative")]
    [InlineData("offsets-fraction", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0]}}", "data_offsets", "non-negative integer")]
    [InlineData("offsets-begin-after-end", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", "begin after end")]
    [InlineData("size-mismatch", "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "size mismatch", "needs 8")]
    [InlineData("rank-too-high", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", "more than 64 dimensions")]
    [InlineData("metadata-not-string", "{\"__metadata__\":{\"a\":1}}", "__metadata__", "'a'", "not a string")]
    [InlineData("metadata-nested", "{\"__metadata__\":{\"a\":{\"b\":\"c\"}}}", "__metadata__", "not a string")]
    [InlineData("metadata-not-object", "{\"__metadata__\":[\"a\"]}", "__metadata__", "not an object")]
    [InlineData("metadata-twice", "{\"__metadata__\":{},\"__metadata__\":{}}", "__metadata__", "more than once")]
    [InlineData("metadata-duplicate-key", "{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", "duplicate key")]
    public void Rejects_MalformedHeader(string stem, string header, params string[] words)
    {
        AssertRejected(WriteFile(stem + ".safetensors", BuildFile(header, 16)), words);
    }

    [Fact]
    public void Messages_StayOnOneLine_EvenForNamesWithLineBreaks()
    {
        string header = "{\"bad\\nname\":{\"dtype\":\"Q\\r\\n\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        var ex = AssertRejected(WriteFile("newline.safetensors", BuildFile(header, 4)), "unknown dtype");
        Assert.Contains("bad\\nname", ex.Message);
    }

    [Fact]
    public void Reading_MissingTensorOrWrongDType_Fails()
    {
        string header =
            "{\"f\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}," +
            "\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[4,12]}}";
        string path = WriteFile("kinds.safetensors", BuildFile(header, 12));
        using SafeTensorsFile file = SafeTensorsFile.Open(path);

        AssertGoodMessage(Assert.Throws<SafeTensorsFormatException>(() => file.GetInfo("ghost")), path, "'ghost'", "missing");
        AssertGoodMessage(Assert.Throws<SafeTensorsFormatException>(() => file.ReadFloat32("ghost")), path, "'ghost'", "missing");
        AssertGoodMessage(Assert.Throws<SafeTensorsFormatException>(() => file.ReadFloat32("i")), path, "'i'", "I64", "float32");
        AssertGoodMessage(Assert.Throws<SafeTensorsFormatException>(() => file.ReadFloat32("i", new float[1])), path, "'i'", "I64");
        AssertGoodMessage(Assert.Throws<SafeTensorsFormatException>(() => file.ReadInt64("f")), path, "'f'", "F32", "int64");
    }

    [Fact]
    public void Tensors_TooLargeForAnArray_AreRefusedOnRead()
    {
        // 2^31 one-byte elements, in a sparse file: the header is valid, reads into one array are not possible.
        string header = "{\"big\":{\"dtype\":\"U8\",\"shape\":[65536,32768],\"data_offsets\":[0,2147483648]}}";
        byte[] headerBytes = Encoding.UTF8.GetBytes(header);
        string path = PathFor("big.safetensors");
        using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            stream.Write(BuildFile(headerBytes, []));
            stream.SetLength(8 + headerBytes.Length + 2147483648L);
        }

        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Equal(2147483648L, file.GetInfo("big").ElementCount);
        AssertGoodMessage(Assert.Throws<SafeTensorsFormatException>(() => file.ReadInt64("big")), path, "'big'", "too many");
        AssertGoodMessage(Assert.Throws<SafeTensorsFormatException>(() => file.GetRawBytes("big").Length), path, "'big'", "too large");
    }

    [Fact]
    public void Disposed_File_RefusesReads()
    {
        string path = WriteFile("disposed.safetensors", BuildFile("{\"x\":" + OneF32 + "}", 4));
        SafeTensorsFile file = SafeTensorsFile.Open(path);
        file.Dispose();
        file.Dispose(); // twice is fine
        Assert.Throws<ObjectDisposedException>(() => file.ReadFloat32("x"));
        Assert.Throws<ObjectDisposedException>(() => file.GetRawBytes("x").Length);
        Assert.Single(file.Tensors);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Writer

    [Fact]
    public void Entries_AreValidated()
    {
        Assert.Throws<ArgumentException>(() => SafeTensorEntry.F32("x", [2, 3], new float[5]));
        Assert.Throws<ArgumentException>(() => SafeTensorEntry.I64("x", [-1], new long[0]));
        Assert.Throws<ArgumentException>(() => SafeTensorEntry.I32("", [1], new int[1]));
        Assert.Throws<ArgumentException>(() => SafeTensorEntry.F32("__metadata__", [1], new float[1]));
        Assert.ThrowsAny<ArgumentException>(() => SafeTensorEntry.F32("x", null!, new float[1]));

        int[] shape = [2];
        SafeTensorEntry entry = SafeTensorEntry.F32("x", shape, new float[2]);
        shape[0] = 7; // the entry keeps its own copy
        Assert.Equal([2], entry.Shape);
        Assert.Equal(8, entry.ByteLength);
    }

    [Fact]
    public void Write_IsAtomic_AndLeavesNoTempFiles()
    {
        string path = PathFor("atomic.safetensors");
        SafeTensorsWriter.Write(path, [SafeTensorEntry.F32("a", [2], new[] { 1f, 2f })]);
        SafeTensorsWriter.Write(path, [SafeTensorEntry.F32("b", [3], new[] { 3f, 4f, 5f })], new Dictionary<string, string> { ["v"] = "2" });
        Assert.Empty(TempFiles(_dir));
        byte[] good = File.ReadAllBytes(path);

        using (SafeTensorsFile file = SafeTensorsFile.Open(path))
        {
            Assert.False(file.Contains("a"));
            Assert.Equal([3f, 4f, 5f], file.ReadFloat32("b"));
            Assert.Equal("2", file.Metadata["v"]);
        }

        // A duplicate name fails the write; the existing file is untouched and no temp file remains.
        var ex = Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(
            path, [SafeTensorEntry.F32("d", [1], new[] { 1f }), SafeTensorEntry.F32("d", [1], new[] { 2f })]));
        Assert.Contains("'d'", ex.Message);
        Assert.Equal(good, File.ReadAllBytes(path));
        Assert.Empty(TempFiles(_dir));

        // So does an exception thrown while the tensors are enumerated.
        Assert.Throws<InvalidOperationException>(() => SafeTensorsWriter.Write(path, Failing()));
        Assert.Equal(good, File.ReadAllBytes(path));
        Assert.Empty(TempFiles(_dir));

        // And an I/O failure while writing: the target's directory does not exist.
        string nowhere = Path.Combine(_dir, "missing-dir", "x.safetensors");
        Assert.ThrowsAny<IOException>(() => SafeTensorsWriter.Write(nowhere, [SafeTensorEntry.F32("a", [1], new[] { 1f })]));
        Assert.Empty(TempFiles(_dir));

        static IEnumerable<SafeTensorEntry> Failing()
        {
            yield return SafeTensorEntry.F32("ok", [1], new[] { 1f });
            throw new InvalidOperationException("generator failed");
        }
    }

    [Fact]
    public void Write_OverAFileThatIsOpen_LeavesTheOpenReaderOnTheOldContent()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Windows does not allow replacing a mapped file.
        }

        string path = PathFor("replace.safetensors");
        SafeTensorsWriter.Write(path, [SafeTensorEntry.F32("x", [2], new[] { 1f, 2f })]);
        using SafeTensorsFile old = SafeTensorsFile.Open(path);
        SafeTensorsWriter.Write(path, [SafeTensorEntry.F32("x", [2], new[] { 8f, 9f })]);

        Assert.Equal([1f, 2f], old.ReadFloat32("x"));
        using SafeTensorsFile fresh = SafeTensorsFile.Open(path);
        Assert.Equal([8f, 9f], fresh.ReadFloat32("x"));
        Assert.Empty(TempFiles(_dir));
    }

    // ----------------------------------------------------------------------------------------------------------
    // Randomized mutations: every outcome is a successful open (and reads) or a SafeTensorsFormatException.

    [Fact]
    public void RandomMutations_EitherOpenOrThrowFormatException()
    {
        string seedPath = PathFor("seed.safetensors");
        SafeTensorsWriter.Write(
            seedPath,
            [
                SafeTensorEntry.F32("w", [2, 3], new[] { 1f, 2f, 3f, 4f, 5f, 6f }),
                SafeTensorEntry.I64("ids", [3], new[] { 1L, -2L, 3L }),
                SafeTensorEntry.I32("n", [], new[] { 9 }),
                SafeTensorEntry.F32("e", [0], ReadOnlyMemory<float>.Empty),
            ],
            new Dictionary<string, string> { ["mode"] = "LSTM", ["k"] = "v" });
        byte[] seed = File.ReadAllBytes(seedPath);

        // Half-float tensors exercise the conversions too.
        string halfHeader =
            "{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,8]}," +
            "\"f\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[8,10]}}";
        byte[] halfSeed = BuildFile(Encoding.UTF8.GetBytes(halfHeader), [0, 0x3C, 0, 0xC0, 0x80, 0x3F, 0, 0xC0, 1, 0]);

        const string JsonBytes = "{}[]\",:0123456789-+.eE \\u\0";
        var random = new Random(20240611);
        string path = PathFor("mutant.safetensors");
        var stopwatch = Stopwatch.StartNew();
        int opened = 0;
        for (int iteration = 0; iteration < 2000; iteration++)
        {
            byte[] source = iteration % 4 == 3 ? halfSeed : seed;
            int hl = (int)BinaryPrimitives.ReadUInt64LittleEndian(source);
            byte[] bytes = (byte[])source.Clone();
            switch (random.Next(7))
            {
                case 0: // flip a few bits anywhere
                    for (int k = random.Next(1, 5); k > 0; k--)
                    {
                        bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                    }

                    break;

                case 1: // overwrite header bytes with JSON punctuation and digits
                    for (int k = random.Next(1, 4); k > 0; k--)
                    {
                        bytes[8 + random.Next(hl)] = (byte)JsonBytes[random.Next(JsonBytes.Length)];
                    }

                    break;

                case 2: // truncate
                    Array.Resize(ref bytes, random.Next(bytes.Length));
                    break;

                case 3: // random header length
                    ulong length = random.Next(3) switch
                    {
                        0 => (ulong)random.NextInt64(),
                        1 => (ulong)random.Next(bytes.Length + 16),
                        _ => (ulong)(hl + random.Next(-8, 9)),
                    };
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes, length);
                    break;

                case 4: // delete a run of header bytes, keeping the length prefix consistent
                {
                    int at = 8 + random.Next(hl);
                    int count = Math.Min(random.Next(1, 12), 8 + hl - at);
                    bytes = [.. bytes.AsSpan(0, at), .. bytes.AsSpan(at + count)];
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(hl - count));
                    break;
                }

                case 5: // insert random characters into the header, keeping the length prefix consistent
                {
                    int at = 8 + random.Next(hl + 1);
                    byte[] insert = new byte[random.Next(1, 6)];
                    for (int k = 0; k < insert.Length; k++)
                    {
                        insert[k] = random.Next(4) == 0 ? (byte)random.Next(256) : (byte)JsonBytes[random.Next(JsonBytes.Length)];
                    }

                    bytes = [.. bytes.AsSpan(0, at), .. insert, .. bytes.AsSpan(at)];
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(hl + insert.Length));
                    break;
                }

                default: // change a number inside the header
                {
                    int at = 8 + random.Next(hl);
                    string replacement = random.Next(5) switch
                    {
                        0 => "-1",
                        1 => "99999999999999999999",
                        2 => "2147483648",
                        3 => "0",
                        _ => random.Next(100).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    };
                    if (bytes[at] is >= (byte)'0' and <= (byte)'9')
                    {
                        byte[] rep = Encoding.ASCII.GetBytes(replacement);
                        bytes = [.. bytes.AsSpan(0, at), .. rep, .. bytes.AsSpan(at + 1)];
                        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(hl + rep.Length - 1));
                    }

                    break;
                }
            }

            File.WriteAllBytes(path, bytes);
            try
            {
                using SafeTensorsFile file = SafeTensorsFile.Open(path);
                opened++;
                _ = file.Metadata.Count;
                foreach (SafeTensorInfo t in file.Tensors)
                {
                    if (t.DType.IsFloatingPoint())
                    {
                        _ = file.ReadFloat32(t.Name);
                    }
                    else
                    {
                        _ = file.ReadInt64(t.Name);
                    }

                    _ = file.GetRawBytes(t.Name).Length;
                }
            }
            catch (SafeTensorsFormatException ex)
            {
                Assert.StartsWith(path + ": ", ex.Message);
                Assert.DoesNotContain('\n', ex.Message);
            }
            catch (Exception ex)
            {
                Assert.Fail($"mutation {iteration} threw {ex.GetType().Name}: {ex.Message}\nbytes: {Convert.ToHexString(bytes)}");
            }
        }

        Assert.True(opened > 0, "no mutation produced an openable file");
        // A guard against a pathological (hanging or quadratic) input, not a speed claim: generous for a loaded CI machine.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(120), $"mutation loop took {stopwatch.Elapsed}");
    }
}
