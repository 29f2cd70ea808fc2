// The raw entry points of the CUDA driver API (libcuda.so.1) that RnnFast calls, named like ManagedCuda's
// DriverAPINativeMethods. Signatures from cuda.h (CUDA 12.6); where cuda.h #defines a name to a versioned symbol
// (cuMemAlloc -> cuMemAlloc_v2, cuStreamDestroy -> cuStreamDestroy_v2, cuDevicePrimaryCtxRelease ->
// cuDevicePrimaryCtxRelease_v2, ...) the versioned symbol is bound, as a C program compiled against cuda.h would.
// ABI: CUresult and enums are int; CUdevice is int; CUdeviceptr is unsigned long long (ulong); CUcontext, CUstream,
// CUevent are pointers (nint); size_t is nuint. Internal: the public surface is the SafeHandles in CudaHandles.cs.
using System.Runtime.InteropServices;

namespace RnnFast.Bindings.Cuda;

internal static unsafe partial class DriverApiNative
{
    internal const string Lib = "cuda";

    static DriverApiNative() => CudaLibraries.RegisterResolver();

    // ---------------------------------------------------------------- initialization, version, errors
    [LibraryImport(Lib)] internal static partial int cuInit(uint flags);
    [LibraryImport(Lib)] internal static partial int cuDriverGetVersion(int* driverVersion);
    [LibraryImport(Lib)] internal static partial int cuGetErrorName(int error, byte** pStr);
    [LibraryImport(Lib)] internal static partial int cuGetErrorString(int error, byte** pStr);

    // ---------------------------------------------------------------- devices
    [LibraryImport(Lib)] internal static partial int cuDeviceGetCount(int* count);
    [LibraryImport(Lib)] internal static partial int cuDeviceGet(int* device, int ordinal);
    [LibraryImport(Lib)] internal static partial int cuDeviceGetName(byte* name, int len, int dev);
    [LibraryImport(Lib)] internal static partial int cuDeviceGetAttribute(int* pi, int attrib, int dev);
    [LibraryImport(Lib)] internal static partial int cuDeviceTotalMem_v2(nuint* bytes, int dev);

    // ---------------------------------------------------------------- primary context
    [LibraryImport(Lib)] internal static partial int cuDevicePrimaryCtxRetain(nint* pctx, int dev);
    [LibraryImport(Lib)] internal static partial int cuDevicePrimaryCtxRelease_v2(int dev);
    [LibraryImport(Lib)] internal static partial int cuCtxSetCurrent(nint ctx);
    [LibraryImport(Lib)] internal static partial int cuCtxSynchronize();

    // ---------------------------------------------------------------- streams and events
    [LibraryImport(Lib)] internal static partial int cuStreamCreate(nint* phStream, uint flags);
    [LibraryImport(Lib)] internal static partial int cuStreamDestroy_v2(nint hStream);
    [LibraryImport(Lib)] internal static partial int cuStreamSynchronize(nint hStream);
    [LibraryImport(Lib)] internal static partial int cuEventCreate(nint* phEvent, uint flags);
    [LibraryImport(Lib)] internal static partial int cuEventRecord(nint hEvent, nint hStream);
    [LibraryImport(Lib)] internal static partial int cuEventSynchronize(nint hEvent);
    [LibraryImport(Lib)] internal static partial int cuEventElapsedTime(float* pMilliseconds, nint hStart, nint hEnd);
    [LibraryImport(Lib)] internal static partial int cuEventDestroy_v2(nint hEvent);

    // ---------------------------------------------------------------- memory
    [LibraryImport(Lib)] internal static partial int cuMemAlloc_v2(ulong* dptr, nuint bytesize);
    [LibraryImport(Lib)] internal static partial int cuMemFree_v2(ulong dptr);
    [LibraryImport(Lib)] internal static partial int cuMemGetInfo_v2(nuint* free, nuint* total);
    [LibraryImport(Lib)] internal static partial int cuMemcpyHtoD_v2(ulong dstDevice, void* srcHost, nuint byteCount);
    [LibraryImport(Lib)] internal static partial int cuMemcpyDtoH_v2(void* dstHost, ulong srcDevice, nuint byteCount);
    [LibraryImport(Lib)] internal static partial int cuMemcpyDtoD_v2(ulong dstDevice, ulong srcDevice, nuint byteCount);
    [LibraryImport(Lib)] internal static partial int cuMemcpyHtoDAsync_v2(ulong dstDevice, void* srcHost, nuint byteCount, nint hStream);
    [LibraryImport(Lib)] internal static partial int cuMemcpyDtoHAsync_v2(void* dstHost, ulong srcDevice, nuint byteCount, nint hStream);
    [LibraryImport(Lib)] internal static partial int cuMemcpyDtoDAsync_v2(ulong dstDevice, ulong srcDevice, nuint byteCount, nint hStream);
    [LibraryImport(Lib)] internal static partial int cuMemsetD8_v2(ulong dstDevice, byte uc, nuint n);
    [LibraryImport(Lib)] internal static partial int cuMemsetD32_v2(ulong dstDevice, uint ui, nuint n);
    [LibraryImport(Lib)] internal static partial int cuMemsetD8Async(ulong dstDevice, byte uc, nuint n, nint hStream);
    [LibraryImport(Lib)] internal static partial int cuMemHostRegister_v2(void* p, nuint bytesize, uint flags);
    [LibraryImport(Lib)] internal static partial int cuMemHostUnregister(void* p);
    [LibraryImport(Lib)] internal static partial int cuMemsetD32Async(ulong dstDevice, uint ui, nuint n, nint hStream);
}
