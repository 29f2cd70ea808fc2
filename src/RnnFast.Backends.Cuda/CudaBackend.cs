// The CUDA backend ("cuda"): RNN, LSTM (with projection) and GRU through cuDNN's RNN API on an NVIDIA GPU, driven
// through the CUDA driver API. Probe, in order (the first failure is the reason `rnnfast info` shows):
//   1. the settings (RNNFAST_CUDA_TF32 / _ALGO / _DEVICE) parse;
//   2. libcuda.so.1 loads (trace of every place tried: "libcuda.so.1 not found ...");
//   3. cuInit succeeds and a device exists ("no CUDA device ...");
//   4. libcudnn.so.9 (or .8) loads, with its companions, and exports the v8 RNN API;
//   5. the device's primary context, a stream, a cuDNN handle on that stream and a no-dropout descriptor are created;
//   6. a self-test runs a tiny LSTM forward (inference and training) and backward, so a missing cuDNN sub-library or
//      cuBLAS shows up here as a reason instead of at the first real call.
// All GPU work of the backend is queued on its one stream under one lock (one cuDNN handle serves every plan).
using System.Diagnostics.CodeAnalysis;
using RnnFast.Bindings.Cuda;
using RnnFast.Native;

namespace RnnFast.Backends.Cuda;

/// <summary>The CUDA backend: RnnFast's RNN plans on cuDNN's RNN API (libcudnn.so.9) through the CUDA driver (libcuda.so.1).</summary>
public sealed class CudaBackend : Backend, IBackendDeviceInfo
{
    private static readonly string[] RequiredCudnnExports =
    [
        "cudnnCreate", "cudnnSetStream", "cudnnCreateRNNDescriptor", "cudnnSetRNNDescriptor_v8", "cudnnSetRNNDataDescriptor",
        "cudnnGetRNNWeightSpaceSize", "cudnnGetRNNWeightParams", "cudnnGetRNNTempSpaceSizes", "cudnnRNNForward",
        "cudnnRNNBackwardData_v8", "cudnnRNNBackwardWeights_v8", "cudnnSetDropoutDescriptor", "cudnnSetTensorNdDescriptor",
    ];

    private readonly string? _driverOverride, _cudnnOverride;
    private readonly bool _useOverrides;
    private CudaBackendOptions? _options;
    private string _summary = "";
    private double? _peak;
    private string _peakSource = "";

    /// <summary>The backend as registered: libraries found by the loader (RNNFAST_CUDA_PATH / RNNFAST_CUDNN_PATH, then the known places).</summary>
    public CudaBackend() { }

    /// <summary>For tests: probes with these files as the only candidates (uncached loads); null keeps the normal search.</summary>
    internal CudaBackend(string? driverPath, string? cudnnPath)
    {
        _driverOverride = driverPath;
        _cudnnOverride = cudnnPath;
        _useOverrides = true;
    }

    /// <inheritdoc/>
    public override string Name => "cuda";
    /// <inheritdoc/>
    public override BackendKind Kind => BackendKind.Gpu;

    /// <summary>Above the managed cpu backend (10): where a CUDA device and cuDNN are present, `auto` picks the GPU.</summary>
    public override int Score => 20;

    /// <inheritdoc/>
    public override string Description =>
        (IsAvailable ? _summary : "cuDNN RNN API on an NVIDIA GPU (libcuda.so.1 + libcudnn.so.9)") +
        "; weights in cuDNN's weight space (one copy per parameter version), device-resident forward/backward, padded I/O for " +
        "variable lengths only; FP32 exact (FMA math) unless RNNFAST_CUDA_TF32=1; algorithm auto: standard or persistent kernels, " +
        "whichever is faster, timed per shape for batches up to 32 (RNNFAST_CUDA_ALGO=standard|persist fixes it)";

    /// <summary>The settings new plans use (read from the environment at the probe; may be replaced afterwards).</summary>
    public CudaBackendOptions Options
    {
        get => _options ?? new CudaBackendOptions();
        set => _options = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>The device this backend runs on (null before a successful probe).</summary>
    public CudaDeviceInfo? Device { get; private set; }

    /// <summary>cudnnGetVersion of the loaded cuDNN (0 before a successful probe).</summary>
    public long CudnnVersion { get; private set; }

    // ------------------------------------------------------------------ IBackendDeviceInfo

    /// <inheritdoc/>
    public string DeviceName => Device?.Name ?? "CUDA device";
    /// <inheritdoc/>
    public double? PeakGflops => _peak;
    /// <inheritdoc/>
    public string PeakSource => _peakSource;

    // ------------------------------------------------------------------ what plans and storages share

    /// <summary>Serializes every use of the stream, the cuDNN handle and the pool.</summary>
    internal object Gate { get; } = new();

    internal CudaContext Context { get; private set; } = null!;
    internal CudaStream Stream { get; private set; } = null!;
    internal CudnnContext Cudnn { get; private set; } = null!;
    internal DropoutDescriptor NoDropout { get; private set; } = null!;
    internal CudaMemoryPool Pool { get; private set; } = null!;

    /// <inheritdoc/>
    protected override BackendAvailability Probe()
    {
        CudaBackendOptions options;
        try
        {
            options = _options ?? CudaBackendOptions.FromEnvironment();
        }
        catch (ArgumentException e)
        {
            return BackendAvailability.No(e.Message);
        }
        _options = options;

        // 2. the driver library
        var driver = _useOverrides && _driverOverride != null ? NativeLibraryLoader.TryLoad(CudaLibraries.DriverSpec, _driverOverride) : CudaLibraries.LoadDriver();
        if (!driver.Succeeded) return BackendAvailability.No($"libcuda.so.1 not found (no NVIDIA driver here?): {driver.Describe()}");
        if (_useOverrides && !CudaLibraries.LoadDriver().Succeeded)
            return BackendAvailability.No($"libcuda.so.1 not found by the bindings' own search: {CudaLibraries.LoadDriver().Describe()}");

        // 3. initialization and a device
        int count;
        try
        {
            CudaDriver.Init();
            count = CudaDriver.DeviceCount();
        }
        catch (CudaException e)
        {
            return BackendAvailability.No(e.Code == CuResult.ErrorNoDevice
                ? $"no CUDA device ({e.Message}; driver from {driver.LoadedFrom})"
                : $"the CUDA driver from {driver.LoadedFrom} cannot be used: {e.Message}");
        }
        if (count == 0) return BackendAvailability.No($"no CUDA device (cuDeviceGetCount = 0; driver from {driver.LoadedFrom})");
        if (options.Device >= count)
            return BackendAvailability.No($"{CudaBackendOptions.DeviceVariable}={options.Device}, but there are only {count} CUDA device(s)");

        // 4. cuDNN
        string cudnnFrom;
        if (_useOverrides && _cudnnOverride != null)
        {
            var r = NativeLibraryLoader.TryLoad(CudaLibraries.CudnnSpec, _cudnnOverride);
            if (!r.Succeeded) return BackendAvailability.No($"libcudnn.so.9 not found: {r.Describe()}");
        }
        var cudnn = CudaLibraries.LoadCudnn();
        if (!cudnn.Succeeded)
            return BackendAvailability.No($"libcudnn.so.9 not found (cuDNN 9 or 8 provides the RNN API; set {CudaLibraries.CudnnPathVariable}): {cudnn.Describe()}");
        cudnnFrom = cudnn.Main.LoadedFrom ?? "?";
        var missing = RequiredCudnnExports.Where(s => !CudaLibraries.CudnnHasExport(s)).ToList();
        if (missing.Count > 0)
            return BackendAvailability.No($"{cudnnFrom} lacks {string.Join(", ", missing)} (cuDNN 8.0 or newer is needed)");
        CudnnVersion = CudnnContext.Version();
        if (CudnnVersion < 8000) return BackendAvailability.No($"{cudnnFrom} is cuDNN {CudnnVersion}; the v8 RNN API needs 8.0 or newer");

        // 5. device, context, stream, handle
        try
        {
            int device = CudaDriver.GetDevice(options.Device);
            Device = CudaDriver.Describe(options.Device);
            Context = CudaContext.RetainPrimary(device);
            Stream = CudaStream.Create(Context);
            Cudnn = CudnnContext.Create(Context);
            Cudnn.SetStream(Stream);
            NoDropout = DropoutDescriptor.CreateNoDropout(Cudnn);
            var (_, total) = Context.MemoryInfo();
            Pool = new CudaMemoryPool(Context, Math.Min(total / 4, 8L << 30));
        }
        catch (Exception e) when (e is CudaException or CudnnException)
        {
            return BackendAvailability.No($"setting up {Device?.Name ?? "the CUDA device"} failed: {e.Message}");
        }
        (_peak, _peakSource) = GpuPeak.Estimate(Device.ComputeMajor, Device.ComputeMinor, Device.Multiprocessors, Device.ClockKHz);

        // 6. self-test
        try
        {
            SelfTest();
        }
        catch (Exception e) when (e is CudaException or CudnnException or InvalidOperationException)
        {
            return BackendAvailability.No($"cuDNN self-test on {Device.Name} failed: {e.Message} (cuDNN: {cudnn.Describe()})");
        }

        int driverVersion = CudaDriver.Version();
        _summary = $"cuDNN {FormatVersion(CudnnVersion)} RNN API on {Device} (driver CUDA {driverVersion / 1000}.{driverVersion % 1000 / 10}, " +
                   $"cuDNN from {cudnnFrom}; math {(options.AllowTf32 ? "TF32 allowed" : "FP32 exact")}, algorithm {options.Algorithm})";
        return BackendAvailability.Yes(_summary);
    }

    /// <summary>cuDNN has no peephole connections: a peephole LSTM (RnnDesc.Peephole) is refused, with this reason.</summary>
    public override string? RefusalFor(RnnDesc desc) =>
        desc.Peephole ? "cuDNN has no peephole LSTM (RnnDesc.Peephole is true); use cpu, onednn or opencl" : base.RefusalFor(desc);

    /// <inheritdoc/>
    public override IRnnPlan CreateRnnPlan(RnnParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        EnsureAvailable();
        EnsureCanRun(parameters.Desc);
        return new CudnnRnnPlan(this, parameters, Options);
    }

    /// <summary>Device memory for <paramref name="length"/> floats, zeroed.</summary>
    public override TensorStorage Allocate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        EnsureAvailable();
        lock (Gate)
        {
            Context.MakeCurrent();
            var m = Pool.Rent((long)length * sizeof(float));
            m.ZeroAsync(Stream);
            return new CudaStorage(this, m, length);
        }
    }

    /// <summary>"9.10.0" from 91000 (cuDNN 9: major*10000 + minor*100 + patch; cuDNN 8: major*1000 + minor*100 + patch).</summary>
    public static string FormatVersion(long v) =>
        v >= 90000 ? $"{v / 10000}.{v % 10000 / 100}.{v % 100}" : $"{v / 1000}.{v % 1000 / 100}.{v % 100}";

    /// <summary>A tiny LSTM (2 layers, bidirectional) through every call a plan makes, on the probe's objects.</summary>
    [SuppressMessage("Reliability", "CA2000", Justification = "disposed by using")]
    private void SelfTest()
    {
        var desc = new RnnDesc(RnnMode.Lstm, inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true);
        var p = RnnParameters.Create(desc, new Random(7));
        using var plan = new CudnnRnnPlan(this, p, Options);
        var x = Tensor.Full(0.5f, 3, 2, 3);
        var inputs = new RnnInputs(x, Lengths: [3, 2]);
        plan.Forward(inputs, training: false);
        var fwd = plan.Forward(inputs, training: true);
        plan.Backward(inputs, fwd, Tensor.Full(1f, 3, 2, 8), null, null);
    }
}
