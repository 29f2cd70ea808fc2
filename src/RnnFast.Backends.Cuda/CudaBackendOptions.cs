// Settings of the cuda backend: math mode (exact FP32 by default, TF32 tensor cores only when asked), the RNN algorithm
// (by default chosen per batch shape by timing cuDNN's standard and persistent-static kernels on the first calls;
// standard or persistent-for-small-batches when fixed, falling back to standard where cuDNN declines), padded I/O (only
// for variable-length batches by default), and the device. Read from the environment (RNNFAST_CUDA_TF32,
// RNNFAST_CUDA_ALGO, RNNFAST_CUDA_PADDED_IO, RNNFAST_CUDA_DEVICE) or set through CudaBackend.Options.
using RnnFast.Bindings.Cuda;

namespace RnnFast.Backends.Cuda;

/// <summary>Which cuDNN RNN algorithm a plan uses.</summary>
public enum CudaRnnAlgorithm
{
    /// <summary>CUDNN_RNN_ALGO_STANDARD for every batch.</summary>
    Standard,
    /// <summary>CUDNN_RNN_ALGO_PERSIST_STATIC when N is at most <see cref="CudaBackendOptions.PersistentMaxBatch"/> (standard where cuDNN declines it).</summary>
    PersistentForSmallBatch,
    /// <summary>
    /// For batches of at most <see cref="CudaBackendOptions.PersistentMaxBatch"/>: the faster of the standard and the
    /// persistent algorithm for each batch size, sequence-length range (powers of two) and phase, timed on the first calls
    /// of that shape (one untimed and <see cref="CudaBackendOptions.TuningCalls"/> timed calls of each); larger batches
    /// use the standard algorithm. Both are exact FP32 under FMA math; their results differ in rounding only.
    /// </summary>
    Auto,
}

/// <summary>The cuda backend's settings; plans take the options current when they are created.</summary>
public sealed record CudaBackendOptions
{
    /// <summary>The environment variable that sets <see cref="AllowTf32"/> when the backend is probed.</summary>
    public const string Tf32Variable = "RNNFAST_CUDA_TF32";
    /// <summary>The environment variable that sets <see cref="Algorithm"/> when the backend is probed.</summary>
    public const string AlgoVariable = "RNNFAST_CUDA_ALGO";
    /// <summary>The environment variable that sets <see cref="AlwaysPaddedIo"/> (always | variable).</summary>
    public const string PaddedIoVariable = "RNNFAST_CUDA_PADDED_IO";
    /// <summary>The environment variable naming the CUDA device ordinal to run on.</summary>
    public const string DeviceVariable = "RNNFAST_CUDA_DEVICE";

    /// <summary>Let cuDNN use TF32 tensor cores for FP32 data (CUDNN_DEFAULT_MATH; about 1e-3 relative error). Off: CUDNN_FMA_MATH, exact FP32.</summary>
    public bool AllowTf32 { get; init; }

    /// <summary>The cuDNN RNN algorithm new plans use (default: <see cref="CudaRnnAlgorithm.Auto"/>, timed per batch shape).</summary>
    public CudaRnnAlgorithm Algorithm { get; init; } = CudaRnnAlgorithm.Auto;

    /// <summary>Largest batch that may use the persistent algorithm (<see cref="CudaRnnAlgorithm.PersistentForSmallBatch"/>, <see cref="CudaRnnAlgorithm.Auto"/>).</summary>
    public int PersistentMaxBatch { get; init; } = 32;

    /// <summary>Timed calls of each algorithm before <see cref="CudaRnnAlgorithm.Auto"/> settles a shape (after one untimed call of each).</summary>
    public int TuningCalls { get; init; } = 2;

    /// <summary>
    /// Describe every batch with padded I/O (cuDNN's SEQ_MAJOR_UNPACKED layout with per-sequence lengths), as variable-length
    /// batches need. Off (the default): batches whose sequences all have length T use the packed layout with padded I/O
    /// disabled, cuDNN's faster path for them. The memory layout (T, N, C) is the same either way.
    /// </summary>
    public bool AlwaysPaddedIo { get; init; }

    /// <summary>The CUDA device ordinal.</summary>
    public int Device { get; init; }

    /// <summary>cudnnMathType_t for the RNN descriptor.</summary>
    public CudnnMathType MathType => AllowTf32 ? CudnnMathType.Default : CudnnMathType.Fma;

    /// <summary>The algorithm for a batch of <paramref name="batch"/> sequences.</summary>
    /// <remarks>Under <see cref="CudaRnnAlgorithm.Auto"/> this is the first algorithm tried; <see cref="TunesFor"/> says whether the batch is timed.</remarks>
    public CudnnRnnAlgo AlgoFor(int batch) =>
        Algorithm == CudaRnnAlgorithm.PersistentForSmallBatch && batch <= PersistentMaxBatch ? CudnnRnnAlgo.PersistStatic : CudnnRnnAlgo.Standard;

    /// <summary>Whether a batch of <paramref name="batch"/> sequences is timed on both algorithms (<see cref="CudaRnnAlgorithm.Auto"/>).</summary>
    public bool TunesFor(int batch) => Algorithm == CudaRnnAlgorithm.Auto && batch <= PersistentMaxBatch;

    /// <summary>
    /// RNNFAST_CUDA_TF32 (1/true/yes or 0/false/no), RNNFAST_CUDA_ALGO (auto | standard | persist), RNNFAST_CUDA_PADDED_IO
    /// (variable | always), RNNFAST_CUDA_DEVICE (ordinal).
    /// A value that cannot be read throws <see cref="ArgumentException"/> naming the variable.
    /// </summary>
    public static CudaBackendOptions FromEnvironment(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        var o = new CudaBackendOptions();
        if (read(Tf32Variable) is { Length: > 0 } tf32)
        {
            o = o with
            {
                AllowTf32 = tf32.Trim().ToLowerInvariant() switch
                {
                    "1" or "true" or "yes" or "on" => true,
                    "0" or "false" or "no" or "off" => false,
                    _ => throw new ArgumentException($"{Tf32Variable}='{tf32}' is not 1 or 0"),
                },
            };
        }
        if (read(AlgoVariable) is { Length: > 0 } algo)
        {
            o = o with
            {
                Algorithm = algo.Trim().ToLowerInvariant() switch
                {
                    "auto" => CudaRnnAlgorithm.Auto,
                    "standard" => CudaRnnAlgorithm.Standard,
                    "persist" or "persistent" or "persist_static" => CudaRnnAlgorithm.PersistentForSmallBatch,
                    _ => throw new ArgumentException($"{AlgoVariable}='{algo}' is not 'auto', 'standard' or 'persist'"),
                },
            };
        }
        if (read(PaddedIoVariable) is { Length: > 0 } padded)
        {
            o = o with
            {
                AlwaysPaddedIo = padded.Trim().ToLowerInvariant() switch
                {
                    "always" => true,
                    "variable" => false,
                    _ => throw new ArgumentException($"{PaddedIoVariable}='{padded}' is not 'always' or 'variable'"),
                },
            };
        }
        if (read(DeviceVariable) is { Length: > 0 } dev)
        {
            if (!int.TryParse(dev.Trim(), out int ordinal) || ordinal < 0)
                throw new ArgumentException($"{DeviceVariable}='{dev}' is not a device ordinal (0, 1, ...)");
            o = o with { Device = ordinal };
        }
        return o;
    }
}
