// The native backends this program ships, registered explicitly at start-up (no reflection scanning, so trimming
// keeps them). The core registers its managed backends itself; each native backend assembly adds one line here.
using RnnFast.Backends;

namespace RnnFast.Cli;

/// <summary>Registers every backend built into the `rnnfast` program with <see cref="BackendRegistry"/>.</summary>
public static class BackendCatalog
{
    private static int _done;

    /// <summary>Idempotent: registers the native backends once per process.</summary>
    public static void RegisterAll()
    {
        if (Interlocked.Exchange(ref _done, 1) == 1) return;
        // Native backends (each reports itself unavailable, with the reason, where its library or device is missing):
        BackendRegistry.Register(new RnnFast.Backends.OneDnn.OneDnnBackend());
        BackendRegistry.Register(new RnnFast.Backends.OpenCL.OpenCLBackend());
        BackendRegistry.Register(new RnnFast.Backends.Cuda.CudaBackend());
    }
}
