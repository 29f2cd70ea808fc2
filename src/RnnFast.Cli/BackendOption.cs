// The shared --backend option: a backend name, or `auto` (default: RNNFAST_BACKEND, else the best available); and the
// shared --threads option of train, classify, sample and predict (TrainOptions.Threads / IBackendThreads).
using System.CommandLine;

namespace RnnFast.Cli;

internal static class BackendOption
{
    public static Option<string?> Create() => new("--backend", "-b")
    {
        Description = "backend to run on: auto, reference, cpu, cpu:bf16, cpu:int8 (reduced-precision recurrent weights for small batches), onednn, opencl, opencl:N (device N of rnnfast info), ... (default: $RNNFAST_BACKEND, else auto)",
    };

    public static Option<int?> CreateThreads() => new("--threads")
    {
        Description = "worker threads of the backend (cpu, onednn), the calling thread included (default: one per logical core)",
    };
}
