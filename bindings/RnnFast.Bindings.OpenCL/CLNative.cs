// The OpenCL C API through Silk.NET.OpenCL's CL class, bound to the libOpenCL that RnnFast's one loader found: the
// RNNFAST_OPENCL_PATH override, the ELF checks, the required-export checks and the trace all run before Silk.NET sees
// the library, and Silk.NET never loads a library itself (each entry point is resolved from our handle with
// NativeLibrary.GetExport). Internal: the public surface is the CL class over SafeHandles.
using System.Runtime.InteropServices;
using Silk.NET.Core.Contexts;
using SilkCL = Silk.NET.OpenCL.CL;

namespace RnnFast.Bindings.OpenCL;

internal static class CLNative
{
    /// <summary>The family's import name in <see cref="CLLibrary.Spec"/> (the loader caches its outcome under it).</summary>
    internal const string Lib = "OpenCL";

    private static readonly Lazy<SilkCL> Instance = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Silk.NET's CL over the process-wide libOpenCL; throws <see cref="DllNotFoundException"/> (with the trace) when it cannot load.</summary>
    internal static SilkCL Api => Instance.Value;

    private static SilkCL Create()
    {
        var load = CLLibrary.Load();
        // Process lifetime: the loader never unloads a library, so the raw handle stays valid for every later lookup.
        IntPtr library = load.GetHandleOrThrow().DangerousGetHandle();
        string from = load.LoadedFrom ?? Lib;
        return new SilkCL(new LamdaNativeContext(symbol =>
            NativeLibrary.TryGetExport(library, symbol, out var address)
                ? address
                : throw new EntryPointNotFoundException($"{symbol} is not exported by the OpenCL library loaded from {from}")));
    }
}
