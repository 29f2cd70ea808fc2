// The properties of one OpenCL device that RnnFast shows (`rnnfast info`) and chooses by (device selection, tile sizes).
namespace RnnFast.Bindings.OpenCL;

/// <summary>A device's name, vendor, versions, type, compute units, memories, work-group limit and preferred float vector width.</summary>
public sealed record CLDeviceProperties(
    string Name,
    string Vendor,
    string Version,
    string DriverVersion,
    string OpenCLCVersion,
    DeviceType Type,
    int ComputeUnits,
    int MaxClockMHz,
    long GlobalMemBytes,
    long LocalMemBytes,
    long MaxAllocBytes,
    int MaxWorkGroupSize,
    bool Available,
    bool CompilerAvailable,
    int PreferredFloatVectorWidth)
{
    /// <summary>True for a GPU (CL_DEVICE_TYPE_GPU).</summary>
    public bool IsGpu => Type.HasFlag(DeviceType.Gpu);

    /// <summary>"GPU", "CPU", "accelerator" or the raw type.</summary>
    public string TypeName => Type.HasFlag(DeviceType.Gpu) ? "GPU" : Type.HasFlag(DeviceType.Cpu) ? "CPU"
        : Type.HasFlag(DeviceType.Accelerator) ? "accelerator" : Type.ToString();

    /// <summary>Reads every property with clGetDeviceInfo.</summary>
    public static CLDeviceProperties Query(CL cl, CLDevice device)
    {
        ArgumentNullException.ThrowIfNull(cl);
        ArgumentNullException.ThrowIfNull(device);
        return new CLDeviceProperties(
            cl.GetDeviceInfoString(device, DeviceInfo.Name).Trim(),
            cl.GetDeviceInfoString(device, DeviceInfo.Vendor).Trim(),
            cl.GetDeviceInfoString(device, DeviceInfo.Version).Trim(),
            cl.GetDeviceInfoString(device, DeviceInfo.DriverVersion).Trim(),
            cl.GetDeviceInfoString(device, DeviceInfo.OpenCLCVersion).Trim(),
            (DeviceType)cl.GetDeviceInfo<ulong>(device, DeviceInfo.Type),
            (int)cl.GetDeviceInfo<uint>(device, DeviceInfo.MaxComputeUnits),
            (int)cl.GetDeviceInfo<uint>(device, DeviceInfo.MaxClockFrequency),
            (long)cl.GetDeviceInfo<ulong>(device, DeviceInfo.GlobalMemSize),
            (long)cl.GetDeviceInfo<ulong>(device, DeviceInfo.LocalMemSize),
            (long)cl.GetDeviceInfo<ulong>(device, DeviceInfo.MaxMemAllocSize),
            (int)Math.Min(cl.GetDeviceInfo<nuint>(device, DeviceInfo.MaxWorkGroupSize), int.MaxValue),
            cl.GetDeviceInfo<uint>(device, DeviceInfo.Available) != 0,
            cl.GetDeviceInfo<uint>(device, DeviceInfo.CompilerAvailable) != 0,
            (int)cl.GetDeviceInfo<uint>(device, DeviceInfo.PreferredVectorWidthFloat));
    }

    /// <summary>One line: name, type, vendor, version, compute units, memories, work-group size.</summary>
    public string Describe() =>
        $"{Name} ({TypeName}, {Vendor}; {Version}; driver {DriverVersion}), {ComputeUnits} compute units @ {MaxClockMHz} MHz, " +
        $"global {FormatBytes(GlobalMemBytes)}, local {FormatBytes(LocalMemBytes)}, max work-group {MaxWorkGroupSize}" +
        (Available ? "" : ", NOT AVAILABLE") + (CompilerAvailable ? "" : ", no compiler");

    /// <summary>Bytes as B, KiB, MiB or GiB with one decimal.</summary>
    public static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
