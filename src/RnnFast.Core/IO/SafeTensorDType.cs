// Element types of the safetensors format that RnnFast understands, their sizes and header names,
// and the little-endian conversions to float32 (from F32/F16/BF16/F64) and int64 (from the integer types).
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace RnnFast.IO;

/// <summary>Tensor element types; the member names are exactly the dtype strings used in safetensors headers.</summary>
public enum SafeTensorDType
{
    /// <summary>32-bit IEEE float (the only type RnnFast computes in).</summary>
    F32,
    /// <summary>16-bit IEEE half.</summary>
    F16,
    /// <summary>bfloat16 (8 exponent bits, 7 mantissa bits).</summary>
    BF16,
    /// <summary>64-bit IEEE double.</summary>
    F64,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Boolean, one byte per element.</summary>
    BOOL,
}

/// <summary>Sizes, header names and element conversions for <see cref="SafeTensorDType"/>.</summary>
public static class SafeTensorDTypeExtensions
{
    /// <summary>Bytes per element.</summary>
    public static int SizeInBytes(this SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F32 => 4,
        SafeTensorDType.F16 => 2,
        SafeTensorDType.BF16 => 2,
        SafeTensorDType.F64 => 8,
        SafeTensorDType.I32 => 4,
        SafeTensorDType.I64 => 8,
        SafeTensorDType.I8 => 1,
        SafeTensorDType.U8 => 1,
        SafeTensorDType.BOOL => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype"),
    };

    /// <summary>The dtype string written in a safetensors header ("F32", "BF16", ...).</summary>
    public static string ToHeaderName(this SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F32 => "F32",
        SafeTensorDType.F16 => "F16",
        SafeTensorDType.BF16 => "BF16",
        SafeTensorDType.F64 => "F64",
        SafeTensorDType.I32 => "I32",
        SafeTensorDType.I64 => "I64",
        SafeTensorDType.I8 => "I8",
        SafeTensorDType.U8 => "U8",
        SafeTensorDType.BOOL => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype"),
    };

    /// <summary>Parses a header dtype string (case-sensitive, as the format requires).</summary>
    public static bool TryParseHeaderName(string? name, out SafeTensorDType dtype)
    {
        switch (name)
        {
            case "F32": dtype = SafeTensorDType.F32; return true;
            case "F16": dtype = SafeTensorDType.F16; return true;
            case "BF16": dtype = SafeTensorDType.BF16; return true;
            case "F64": dtype = SafeTensorDType.F64; return true;
            case "I32": dtype = SafeTensorDType.I32; return true;
            case "I64": dtype = SafeTensorDType.I64; return true;
            case "I8": dtype = SafeTensorDType.I8; return true;
            case "U8": dtype = SafeTensorDType.U8; return true;
            case "BOOL": dtype = SafeTensorDType.BOOL; return true;
            default: dtype = default; return false;
        }
    }

    /// <summary>True for F32, F16, BF16 and F64: the dtypes that can be read as float32.</summary>
    public static bool IsFloatingPoint(this SafeTensorDType dtype)
        => dtype is SafeTensorDType.F32 or SafeTensorDType.F16 or SafeTensorDType.BF16 or SafeTensorDType.F64;

    /// <summary>True for I64, I32, I8, U8 and BOOL: the dtypes that can be read as int64.</summary>
    public static bool IsInteger(this SafeTensorDType dtype)
        => dtype is SafeTensorDType.I64 or SafeTensorDType.I32 or SafeTensorDType.I8 or SafeTensorDType.U8 or SafeTensorDType.BOOL;

    /// <summary>IEEE 754 binary16 bits to float (exact).</summary>
    public static float HalfBitsToSingle(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    /// <summary>bfloat16 bits to float (exact): the bits are the upper half of a float32.</summary>
    public static float BFloat16BitsToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>
    /// Converts little-endian elements of a floating-point dtype to float32.
    /// <paramref name="source"/> must hold exactly <c>destination.Length</c> elements.
    /// </summary>
    public static void ConvertToSingle(SafeTensorDType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        if (!dtype.IsFloatingPoint())
        {
            throw new ArgumentException($"dtype {dtype.ToHeaderName()} is not a floating-point type", nameof(dtype));
        }

        CheckLengths(dtype, source, destination.Length);
        int n = destination.Length;
        switch (dtype)
        {
            case SafeTensorDType.F32:
                if (BitConverter.IsLittleEndian)
                {
                    source.CopyTo(MemoryMarshal.AsBytes(destination));
                }
                else
                {
                    for (int i = 0; i < n; i++)
                    {
                        destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source.Slice(i * 4, 4));
                    }
                }

                break;

            case SafeTensorDType.F16:
                if (BitConverter.IsLittleEndian)
                {
                    ReadOnlySpan<ushort> halves = MemoryMarshal.Cast<byte, ushort>(source);
                    for (int i = 0; i < n; i++)
                    {
                        destination[i] = (float)BitConverter.UInt16BitsToHalf(halves[i]);
                    }
                }
                else
                {
                    for (int i = 0; i < n; i++)
                    {
                        destination[i] = HalfBitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(i * 2, 2)));
                    }
                }

                break;

            case SafeTensorDType.BF16:
                if (BitConverter.IsLittleEndian)
                {
                    ReadOnlySpan<ushort> halves = MemoryMarshal.Cast<byte, ushort>(source);
                    for (int i = 0; i < n; i++)
                    {
                        destination[i] = BitConverter.Int32BitsToSingle(halves[i] << 16);
                    }
                }
                else
                {
                    for (int i = 0; i < n; i++)
                    {
                        destination[i] = BFloat16BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(i * 2, 2)));
                    }
                }

                break;

            case SafeTensorDType.F64:
                if (BitConverter.IsLittleEndian)
                {
                    ReadOnlySpan<double> doubles = MemoryMarshal.Cast<byte, double>(source);
                    for (int i = 0; i < n; i++)
                    {
                        destination[i] = (float)doubles[i];
                    }
                }
                else
                {
                    for (int i = 0; i < n; i++)
                    {
                        destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(source.Slice(i * 8, 8));
                    }
                }

                break;
        }
    }

    /// <summary>
    /// Converts little-endian elements of an integer dtype (I64, I32, I8, U8, BOOL) to int64.
    /// BOOL bytes become 0 (zero byte) or 1 (any other byte).
    /// </summary>
    public static void ConvertToInt64(SafeTensorDType dtype, ReadOnlySpan<byte> source, Span<long> destination)
    {
        if (!dtype.IsInteger())
        {
            throw new ArgumentException($"dtype {dtype.ToHeaderName()} is not an integer type", nameof(dtype));
        }

        CheckLengths(dtype, source, destination.Length);
        int n = destination.Length;
        switch (dtype)
        {
            case SafeTensorDType.I64:
                if (BitConverter.IsLittleEndian)
                {
                    source.CopyTo(MemoryMarshal.AsBytes(destination));
                }
                else
                {
                    for (int i = 0; i < n; i++)
                    {
                        destination[i] = BinaryPrimitives.ReadInt64LittleEndian(source.Slice(i * 8, 8));
                    }
                }

                break;

            case SafeTensorDType.I32:
                if (BitConverter.IsLittleEndian)
                {
                    ReadOnlySpan<int> ints = MemoryMarshal.Cast<byte, int>(source);
                    for (int i = 0; i < n; i++)
                    {
                        destination[i] = ints[i];
                    }
                }
                else
                {
                    for (int i = 0; i < n; i++)
                    {
                        destination[i] = BinaryPrimitives.ReadInt32LittleEndian(source.Slice(i * 4, 4));
                    }
                }

                break;

            case SafeTensorDType.I8:
                for (int i = 0; i < n; i++)
                {
                    destination[i] = (sbyte)source[i];
                }

                break;

            case SafeTensorDType.U8:
                for (int i = 0; i < n; i++)
                {
                    destination[i] = source[i];
                }

                break;

            case SafeTensorDType.BOOL:
                for (int i = 0; i < n; i++)
                {
                    destination[i] = source[i] != 0 ? 1 : 0;
                }

                break;
        }
    }

    private static void CheckLengths(SafeTensorDType dtype, ReadOnlySpan<byte> source, int count)
    {
        if ((long)count * dtype.SizeInBytes() != source.Length)
        {
            throw new ArgumentException(
                $"source holds {source.Length} bytes, but {count} elements of {dtype.ToHeaderName()} need {(long)count * dtype.SizeInBytes()}",
                nameof(source));
        }
    }
}
