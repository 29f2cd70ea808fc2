// Finding libdnnl.so.2 (and the OpenMP runtime it threads with, and libc for the environment) through RnnFast's one
// loader, checking that it is the 2.x ABI these bindings describe, and turning every dnnl_status_t into a
// DnnlException that names the call.
using RnnFast.Native;

namespace RnnFast.Bindings.OneDnn;

/// <summary>A oneDNN call returned a status other than success; the message names the call and the status.</summary>
public sealed class DnnlException : Exception
{
    /// <summary>A failed oneDNN call: <paramref name="call"/> is the C function, <paramref name="status"/> what it returned, <paramref name="detail"/> optional context.</summary>
    public DnnlException(string call, DnnlStatus status, string? detail = null)
        : base($"{call} failed: dnnl_status {(int)status} ({Describe(status)})" + (detail == null ? "" : $": {detail}"))
    {
        Call = call;
        Status = status;
    }

    /// <summary>The C function that failed, e.g. "dnnl_primitive_desc_create".</summary>
    public string Call { get; }

    /// <summary>The dnnl_status_t the failed call returned.</summary>
    public DnnlStatus Status { get; }

    /// <summary>Throws a <see cref="DnnlException"/> naming <paramref name="call"/> unless <paramref name="status"/> is success.</summary>
    public static void Check(int status, string call, string? detail = null)
    {
        if (status != 0) throw new DnnlException(call, (DnnlStatus)status, detail);
    }

    private static string Describe(DnnlStatus s) => s switch
    {
        DnnlStatus.Success => "dnnl_success",
        DnnlStatus.OutOfMemory => "dnnl_out_of_memory",
        DnnlStatus.InvalidArguments => "dnnl_invalid_arguments",
        DnnlStatus.Unimplemented => "dnnl_unimplemented",
        DnnlStatus.IteratorEnds => "dnnl_iterator_ends",
        DnnlStatus.RuntimeError => "dnnl_runtime_error",
        DnnlStatus.NotRequired => "dnnl_not_required",
        _ => "unknown status",
    };
}

/// <summary>The oneDNN library: how it is found, whether it loaded, and its version.</summary>
public static class DnnlLibrary
{
    /// <summary>The environment variable that names libdnnl's file, replacing the search.</summary>
    public const string PathVariable = "RNNFAST_DNNL_PATH";

    /// <summary>libdnnl: the 2.x soname first, then the plain name and Debian's multiarch paths.</summary>
    public static NativeLibrarySpec Spec { get; } = new("oneDNN", DnnlNative.Lib, PathVariable,
    [
        "libdnnl.so.2",
        "/usr/lib/x86_64-linux-gnu/libdnnl.so.2",
        "/usr/lib/aarch64-linux-gnu/libdnnl.so.2",
        "/usr/local/lib/libdnnl.so.2",
        "libdnnl.so",
    ], requiredExports: ["dnnl_version", "dnnl_engine_create", "dnnl_primitive_desc_create", "dnnl_lstm_forward_desc_init"])
    {
        InstallHint = "oneDNN 2.x (libdnnl.so.2): Debian/Ubuntu `apt install libdnnl2`; Fedora `dnf install onednn` where it is 2.x (3.x's libdnnl.so.3 is a different ABI)",
    };

    /// <summary>The OpenMP runtime Debian's oneDNN is built with (for the thread count).</summary>
    public static NativeLibrarySpec OpenMpSpec { get; } = new("OpenMP (libgomp)", GompNative.Lib, "RNNFAST_GOMP_PATH",
    [
        "libgomp.so.1",
        "/usr/lib/x86_64-linux-gnu/libgomp.so.1",
        "/usr/lib/aarch64-linux-gnu/libgomp.so.1",
    ]);

    /// <summary>The C library, for setenv / getenv (OpenMP's settings must be in the native environment, see <see cref="OpenMpEnvironment"/>).</summary>
    public static NativeLibrarySpec LibcSpec { get; } = new("C library (libc)", LibcNative.Lib, "RNNFAST_LIBC_PATH",
    [
        "libc.so.6",
        "libc.musl-x86_64.so.1",
        "libc.musl-aarch64.so.1",
    ], requiredExports: ["setenv", "getenv"]);

    /// <summary>Called by the native classes' static constructors, before their first call resolves a library.</summary>
    internal static void RegisterResolver() =>
        NativeLibraryLoader.RegisterResolver(typeof(DnnlLibrary).Assembly, Spec, OpenMpSpec, LibcSpec);

    /// <summary>Loads libdnnl once per process (the outcome, with its trace, is cached).</summary>
    public static NativeLoadResult Load() => NativeLibraryLoader.Load(Spec);

    /// <summary>The loaded library's version "major.minor.patch"; the library must be loaded.</summary>
    public static unsafe (int Major, int Minor, int Patch, uint CpuRuntime) Version()
    {
        Load().GetHandleOrThrow();
        var v = DnnlNative.dnnl_version();
        if (v == null) throw new DnnlException("dnnl_version", DnnlStatus.RuntimeError, "returned NULL");
        return (v->Major, v->Minor, v->Patch, v->CpuRuntime);
    }
}

/// <summary>
/// The worker-thread count of oneDNN's CPU engine. Debian's build threads with OpenMP, whose count is a per-thread
/// setting (omp_set_num_threads), so callers apply it on the thread that executes, just before executing.
/// </summary>
public static class DnnlThreads
{
    // Evaluated before any TrySet, so the default is OpenMP's own (OMP_NUM_THREADS or the available cores).
    private static readonly Lazy<int> DefaultCount = new(() =>
        NativeLibraryLoader.Load(DnnlLibrary.OpenMpSpec).Succeeded && DnnlLibrary.Version().CpuRuntime == 2 /* DNNL_RUNTIME_OMP */
            ? GompNative.omp_get_max_threads()
            : 0);

    /// <summary>True when oneDNN threads with OpenMP and libgomp could be loaded, so the count can be set.</summary>
    public static bool CanSet => DefaultCount.Value > 0;

    /// <summary>OpenMP's default thread count in this process (before any change), or the core count when unknown.</summary>
    public static int Default => CanSet ? DefaultCount.Value : Environment.ProcessorCount;

    /// <summary>omp_get_max_threads() on the calling thread, or <see cref="Environment.ProcessorCount"/> when unknown.</summary>
    public static int Current => CanSet ? GompNative.omp_get_max_threads() : Environment.ProcessorCount;

    /// <summary>omp_set_num_threads(<paramref name="n"/>) on the calling thread; false when not applicable.</summary>
    public static bool TrySet(int n)
    {
        if (n <= 0 || !CanSet) return false;
        GompNative.omp_set_num_threads(n);
        return true;
    }
}
