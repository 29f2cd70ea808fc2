// Optional capabilities a backend may declare: the device it computes on (with its FP32 peak) and a worker-thread
// count. Tools (the bench harness, `rnnfast info`) read them; the engine itself does not depend on them.
namespace RnnFast.Backends;

/// <summary>
/// Optional for a backend: the device it runs on and that device's FP32 peak (a GPU backend computes it from the
/// device's properties: SMs x FP32 lanes x 2 x clock).
/// </summary>
public interface IBackendDeviceInfo
{
    /// <summary>The device's name, e.g. "NVIDIA H100 80GB HBM3".</summary>
    string DeviceName { get; }

    /// <summary>FP32 peak in GFLOP/s, or null when unknown.</summary>
    double? PeakGflops { get; }

    /// <summary>How <see cref="PeakGflops"/> was obtained (e.g. "132 SMs x 128 lanes x 2 x 1.98 GHz").</summary>
    string PeakSource { get; }
}

/// <summary>Optional for a backend: the number of worker threads it computes with, settable at run time.</summary>
public interface IBackendThreads
{
    /// <summary>The number of worker threads the backend computes with.</summary>
    int Threads { get; set; }
}
