// Optional for a backend that can see several devices (OpenCL platforms and devices, CUDA GPUs): a description of
// each, which `rnnfast info` prints under the backend's line.
namespace RnnFast.Backends;

/// <summary>Optional for a backend: one line per device (or platform) it can see, or the reason it sees none.</summary>
public interface IBackendDevices
{
    /// <summary>Lines to print under the backend in `rnnfast info`; never throws (problems become lines).</summary>
    IReadOnlyList<string> DescribeDevices();
}
