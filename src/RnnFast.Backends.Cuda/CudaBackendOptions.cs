// Settings of the cuda backend: math mode (exact FP32 by default, TF32 tensor cores only when asked), the RNN algorithm
// (cuDNN's standard one by default; persistent-static kernels for small batches as an option, falling back to standard
// where cuDNN declines), and the device. Read from the environment (RNNFAST_CUDA_TF32, RNNFAST_CUDA_ALGO,
// RNNFAST_CUDA_DEVICE) or set through CudaBackend.Options.
using RnnFast.Bindings.Cuda;

namespace RnnFast.Backends.Cuda;

/// <summary>Which cuDNN RNN algorithm a plan uses.</summary>
public enum CudaRnnAlgorithm
{
    /// <summary>CUDNN_RNN_ALGO_STANDARD for every batch.</summary>
    Standard,
    /// <summary>CUDNN_RNN_ALGO_PERSIST_STATIC when N is at most <see cref="CudaBackendOptions.PersistentMaxBatch"/> (standard where cuDNN declines it).</summary>
    PersistentForSmallBatch,
}

/// <summary>The cuda backend's settings; plans take the options current when they are created.</summary>
public sealed record CudaBackendOptions
{
    /// <summary>The environment variable that sets <see cref="AllowTf32"/> when the backend is probed.</summary>
    public const string Tf32Variable = "RNNFAST_CUDA_TF32";
    /// <summary>The environment variable that sets <see cref="Algorithm"/> when the backend is probed.</summary>
    public const string AlgoVariable = "RNNFAST_CUDA_ALGO";
    /// <summary>The environment variable naming the CUDA device ordinal to run on.</summary>
    public const string DeviceVariable = "RNNFAST_CUDA_DEVICE";

    /// <summary>Let cuDNN use TF32 tensor cores for FP32 data (CUDNN_DEFAULT_MATH; about 1e-3 relative error). Off: CUDNN_FMA_MATH, exact FP32.</summary>
    public bool AllowTf32 { get; init; }

    /// <summary>The cuDNN RNN algorithm new plans use (default: the standard algorithm, which supports every shape).</summary>
    public CudaRnnAlgorithm Algorithm { get; init; } = CudaRnnAlgorithm.Standard;

    /// <summary>Largest batch that uses the persistent algorithm under <see cref="CudaRnnAlgorithm.PersistentForSmallBatch"/>.</summary>
    public int PersistentMaxBatch { get; init; } = 32;

    /// <summary>The CUDA device ordinal.</summary>
    public int Device { get; init; }

    /// <summary>cudnnMathType_t for the RNN descriptor.</summary>
    public CudnnMathType MathType => AllowTf32 ? CudnnMathType.Default : CudnnMathType.Fma;

    /// <summary>The algorithm for a batch of <paramref name="batch"/> sequences.</summary>
    public CudnnRnnAlgo AlgoFor(int batch) =>
        Algorithm == CudaRnnAlgorithm.PersistentForSmallBatch && batch <= PersistentMaxBatch ? CudnnRnnAlgo.PersistStatic : CudnnRnnAlgo.Standard;

    /// <summary>
    /// RNNFAST_CUDA_TF32 (1/true/yes or 0/false/no), RNNFAST_CUDA_ALGO (standard | persist), RNNFAST_CUDA_DEVICE (ordinal).
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
                    "standard" => CudaRnnAlgorithm.Standard,
                    "persist" or "persistent" or "persist_static" => CudaRnnAlgorithm.PersistentForSmallBatch,
                    _ => throw new ArgumentException($"{AlgoVariable}='{algo}' is not 'standard' or 'persist'"),
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
