// The shared --backend option: a backend name, or `auto` (default: RNNFAST_BACKEND, else the best available).
using System.CommandLine;

namespace RnnFast.Cli;

internal static class BackendOption
{
    public static Option<string?> Create() => new("--backend", "-b")
    {
        Description = "backend to run on: auto, reference, cpu, onednn, opencl, opencl:N (device N of rnnfast info), ... (default: $RNNFAST_BACKEND, else auto)",
    };
}
