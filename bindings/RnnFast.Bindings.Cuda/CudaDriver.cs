// Driver-level queries: cuInit, the driver's version, the devices and their properties (name, compute capability,
// multiprocessors, clock, memory), like ManagedCuda's CudaContext static helpers.
using System.Runtime.InteropServices;

namespace RnnFast.Bindings.Cuda;

/// <summary>What the driver reports about one device.</summary>
public sealed record CudaDeviceInfo(int Ordinal, string Name, int ComputeMajor, int ComputeMinor, int Multiprocessors, int ClockKHz, long TotalMemoryBytes)
{
    /// <summary>"sm_90" style architecture name.</summary>
    public string Architecture => $"sm_{ComputeMajor}{ComputeMinor}";

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Name} ({Architecture}, {Multiprocessors} SMs, {ClockKHz / 1e6:0.00} GHz, {TotalMemoryBytes / (1024.0 * 1024 * 1024):0.0} GiB)";
}

/// <summary>cuInit, driver version and device enumeration. The driver library must load (<see cref="CudaLibraries.LoadDriver"/>).</summary>
public static class CudaDriver
{
    /// <summary>cuInit(0).</summary>
    public static void Init() => CudaException.Check(DriverApiNative.cuInit(0), "cuInit");

    /// <summary>cuDriverGetVersion: e.g. 13000 for CUDA 13.0.</summary>
    public static unsafe int Version()
    {
        int v;
        CudaException.Check(DriverApiNative.cuDriverGetVersion(&v), "cuDriverGetVersion");
        return v;
    }

    /// <summary>cuDeviceGetCount.</summary>
    public static unsafe int DeviceCount()
    {
        int n;
        CudaException.Check(DriverApiNative.cuDeviceGetCount(&n), "cuDeviceGetCount");
        return n;
    }

    /// <summary>cuDeviceGet: the CUdevice of ordinal <paramref name="ordinal"/>.</summary>
    public static unsafe int GetDevice(int ordinal)
    {
        int dev;
        CudaException.Check(DriverApiNative.cuDeviceGet(&dev, ordinal), "cuDeviceGet", $"ordinal {ordinal}");
        return dev;
    }

    /// <summary>cuDeviceGet, cuDeviceGetName, cuDeviceGetAttribute and cuDeviceTotalMem_v2 for device <paramref name="ordinal"/>.</summary>
    public static unsafe CudaDeviceInfo Describe(int ordinal)
    {
        int dev;
        CudaException.Check(DriverApiNative.cuDeviceGet(&dev, ordinal), "cuDeviceGet", $"ordinal {ordinal}");
        const int len = 256;
        byte* name = stackalloc byte[len];
        CudaException.Check(DriverApiNative.cuDeviceGetName(name, len, dev), "cuDeviceGetName");
        name[len - 1] = 0;
        nuint mem;
        CudaException.Check(DriverApiNative.cuDeviceTotalMem_v2(&mem, dev), "cuDeviceTotalMem_v2");
        return new CudaDeviceInfo(ordinal, Marshal.PtrToStringUTF8((nint)name) ?? "?",
            Attribute(dev, CuDeviceAttribute.ComputeCapabilityMajor), Attribute(dev, CuDeviceAttribute.ComputeCapabilityMinor),
            Attribute(dev, CuDeviceAttribute.MultiprocessorCount), Attribute(dev, CuDeviceAttribute.ClockRate), (long)mem);
    }

    /// <summary>cuDeviceGetAttribute.</summary>
    public static unsafe int Attribute(int device, CuDeviceAttribute attribute)
    {
        int v;
        CudaException.Check(DriverApiNative.cuDeviceGetAttribute(&v, (int)attribute, device), "cuDeviceGetAttribute", attribute.ToString());
        return v;
    }
}
