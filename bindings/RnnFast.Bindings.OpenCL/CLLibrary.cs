// Finding the OpenCL ICD loader (libOpenCL.so.1) through RnnFast's one loader, which records every attempt; Silk.NET's
// CL is then built over the handle it returns (CLNative), so this is the only place libOpenCL is loaded.
using RnnFast.Native;

namespace RnnFast.Bindings.OpenCL;

/// <summary>The OpenCL ICD loader library: how it is found and whether it loaded.</summary>
public static class CLLibrary
{
    /// <summary>The environment variable that names libOpenCL's file, replacing the search.</summary>
    public const string PathVariable = "RNNFAST_OPENCL_PATH";

    /// <summary>libOpenCL: the ICD loader's soname first, then the development name and Debian's multiarch paths.</summary>
    public static NativeLibrarySpec Spec { get; } = new("OpenCL", CLNative.Lib, PathVariable,
    [
        "libOpenCL.so.1",
        "libOpenCL.so",
        "/usr/lib/x86_64-linux-gnu/libOpenCL.so.1",
        "/usr/lib/aarch64-linux-gnu/libOpenCL.so.1",
        "/usr/local/cuda/lib64/libOpenCL.so.1",
    ], requiredExports: ["clGetPlatformIDs", "clGetDeviceIDs", "clCreateContext", "clEnqueueNDRangeKernel"])
    {
        InstallHint = InstallAdvice,
    };

    /// <summary>Which packages provide an ICD loader and a driver (for the unavailable reasons).</summary>
    public const string InstallAdvice =
        "the ICD loader libOpenCL.so.1 and a driver: Debian/Ubuntu `apt install ocl-icd-libopencl1 pocl-opencl-icd`; Fedora `dnf install ocl-icd pocl`; or a GPU vendor's OpenCL driver";

    /// <summary>Loads libOpenCL once per process (the outcome, with its trace, is cached).</summary>
    public static NativeLoadResult Load() => NativeLibraryLoader.Load(Spec);
}
