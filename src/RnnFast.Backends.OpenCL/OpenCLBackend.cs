// The OpenCL backend ("opencl"; "opencl:N" for device N of `rnnfast info`'s list): RNN, LSTM (with projection) and
// GRU on any OpenCL device: a GPU (AMD, Intel, NVIDIA) or PoCL on the CPU, which is how CI tests it. Probe loads
// libOpenCL through the one loader (its trace is the reason when that fails), lists platforms and devices, picks the
// device (a GPU first, then the most compute units) and creates its context and queue; the kernels are compiled on
// the first plan (once per process and device). A GPU device scores above the cpu backend, so `auto` takes it; a CPU
// device (PoCL) scores below cpu and onednn, so `auto` keeps the managed backend there.
using RnnFast.Bindings.OpenCL;
using RnnFast.Native;

namespace RnnFast.Backends.OpenCL;

/// <summary>The OpenCL backend: RnnFast's RNN plans as OpenCL kernels (tiled SGEMM, fused gate kernels) on one device.</summary>
public sealed class OpenCLBackend : Backend, IBackendDeviceInfo, IBackendDevices
{
    /// <summary>Score on a GPU: above the managed cpu backend (10).</summary>
    public const int GpuScore = 20;

    /// <summary>Score on a CPU device (PoCL): below cpu (10) and onednn (5), above the reference (1).</summary>
    public const int CpuDeviceScore = 3;

    private readonly object _gate = new();
    private readonly Dictionary<int, OpenCLBackend> _byIndex = [];
    private readonly int? _deviceIndex;
    private readonly string? _libraryOverride;
    private readonly OpenCLDevice? _injected;
    private OpenCLDevice? _device;

    /// <summary>The backend as registered: the best device, libOpenCL found by the loader (RNNFAST_OPENCL_PATH, then the known names).</summary>
    public OpenCLBackend() { }

    /// <summary>For tests: probes with <paramref name="libraryPath"/> as the only candidate for libOpenCL (uncached load).</summary>
    internal OpenCLBackend(string libraryPath) => _libraryOverride = libraryPath;

    private OpenCLBackend(int deviceIndex) => _deviceIndex = deviceIndex;

    /// <summary>For tests: a backend on a runtime of the test's own (e.g. with another SGEMM form), named "opencl:test".</summary>
    internal OpenCLBackend(OpenCLDevice device)
    {
        _injected = device;
        _deviceIndex = device.Entry.Index;
    }

    /// <inheritdoc/>
    public override string Name => _injected != null ? "opencl:test" : _deviceIndex is int i ? $"opencl:{i}" : "opencl";

    /// <summary>Gpu unless the chosen device is a CPU (PoCL); unavailable backends report Gpu, what they are for.</summary>
    public override BackendKind Kind => IsAvailable && !Device.Entry.Properties.IsGpu ? BackendKind.Cpu : BackendKind.Gpu;

    /// <summary><see cref="GpuScore"/> on a GPU, <see cref="CpuDeviceScore"/> on a CPU device.</summary>
    public override int Score => IsAvailable && !Device.Entry.Properties.IsGpu ? CpuDeviceScore : GpuScore;

    /// <summary><see cref="GpuScore"/>: what a GPU device would score (known without loading libOpenCL).</summary>
    public override int MaxScore => _injected != null ? Score : GpuScore;

    /// <inheritdoc/>
    public override string Description =>
        (IsAvailable ? $"{Device.Entry.Properties.Name} ({Device.Entry.Properties.TypeName}, {Device.Entry.Platform.Name}), " : "") +
        "OpenCL kernels: SGEMM sized from the device (local-memory tiles on GPUs, vector registers on CPU devices), fused " +
        "gate kernels, BPTT on the device; `opencl:N` picks device N" +
        (IsAvailable ? $"; {Device.Tiles.Describe()}" + (Device.IsCompiled ? $", kernels {Device.Kernels.Origin} ({Device.Kernels.BuildTime.TotalSeconds:0.00} s)" : "") : "");

    /// <summary>The device this backend runs on (throws with the reason when unavailable).</summary>
    internal OpenCLDevice Device
    {
        get
        {
            EnsureAvailable();
            return _device!;
        }
    }

    // ------------------------------------------------------------------ IBackendDeviceInfo

    /// <inheritdoc/>
    public string DeviceName => IsAvailable ? Device.Entry.Properties.Name : "(unavailable)";

    /// <summary>Unknown: OpenCL does not report FP32 lanes per compute unit (the harness then uses the CPU's measured peak for a CPU device).</summary>
    public double? PeakGflops => null;

    /// <inheritdoc/>
    public string PeakSource => "not reported by OpenCL (FP32 lanes per compute unit are vendor-specific)";

    // ------------------------------------------------------------------ probe, qualifier, plans

    /// <inheritdoc/>
    protected override BackendAvailability Probe()
    {
        if (_injected != null)
        {
            _device = _injected;
            return BackendAvailability.Yes($"test runtime on {_injected.Entry.Properties.Name}");
        }
        OpenCLInventory inventory;
        if (_libraryOverride != null)
        {
            var load = NativeLibraryLoader.TryLoad(CLLibrary.Spec, _libraryOverride);
            if (!load.Succeeded) return BackendAvailability.No(load.Describe());
            // The bindings' imports always resolve through the process-wide load (a test override only changes the probe).
            inventory = OpenCLInventory.Current;
        }
        else inventory = OpenCLInventory.Current;

        if (inventory.Problem != null && inventory.Devices.Count == 0) return BackendAvailability.No(inventory.Problem);
        OpenCLDeviceEntry? entry;
        if (_deviceIndex is int index)
        {
            entry = index < inventory.Devices.Count ? inventory.Devices[index] : null;
            if (entry == null) return BackendAvailability.No($"device {index} does not exist ({DeviceList(inventory)})");
            if (!entry.Properties.Available) return BackendAvailability.No($"device {index} ({entry.Properties.Name}) reports itself not available");
            if (!entry.Properties.CompilerAvailable) return BackendAvailability.No($"device {index} ({entry.Properties.Name}) has no OpenCL C compiler");
        }
        else
        {
            entry = inventory.Best;
            if (entry == null) return BackendAvailability.No(inventory.Problem ?? "no usable OpenCL device");
        }
        _device = OpenCLDevice.For(entry);
        return BackendAvailability.Yes($"opencl:{entry.Index} {entry.Properties.Name} ({entry.Properties.TypeName}) on {entry.Platform.Name}, " +
                                       $"libOpenCL from {inventory.Library.LoadedFrom}");
    }

    /// <summary>"opencl:N": device N of the process-wide list (`rnnfast info`). A bad N is an error naming the devices.</summary>
    public override Backend WithQualifier(string qualifier)
    {
        ArgumentNullException.ThrowIfNull(qualifier);
        if (!int.TryParse(qualifier, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index))
            throw new ArgumentException($"backend: '{Name}:{qualifier}': the qualifier must be a device number (see `rnnfast info`)", nameof(qualifier));
        var inventory = OpenCLInventory.Current;
        if (inventory.Devices.Count > 0 && index >= inventory.Devices.Count)
            throw new ArgumentException($"backend: '{Name}:{qualifier}': no such OpenCL device ({DeviceList(inventory)})", nameof(qualifier));
        lock (_gate)
        {
            if (!_byIndex.TryGetValue(index, out var b)) _byIndex[index] = b = new OpenCLBackend(index);
            return b; // with no device at all it is unavailable, and says why
        }
    }

    /// <inheritdoc/>
    public override IRnnPlan CreateRnnPlan(RnnParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var device = Device;
        _ = device.Kernels; // compile now (once per device): a build failure surfaces here, with its log
        return new OpenCLRnnPlan(this, device, parameters);
    }

    /// <summary>Device memory: tensors made with To(backend) live on the device and plans read them in place.</summary>
    public override TensorStorage Allocate(int length)
    {
        var device = Device;
        return new OpenCLStorage(this, device, device.NewBuffer(length), length);
    }

    /// <summary>One line per OpenCL platform and device this machine has (or why none is seen); empty for a backend bound to one device ("opencl:N").</summary>
    public IReadOnlyList<string> DescribeDevices()
    {
        if (_deviceIndex != null) return [];
        try
        {
            return _libraryOverride != null && !IsAvailable ? [Availability.Reason] : OpenCLInventory.Current.Describe();
        }
        catch (Exception e)
        {
            return [$"listing OpenCL devices failed: {e.GetType().Name}: {e.Message}"];
        }
    }

    private static string DeviceList(OpenCLInventory inventory) =>
        inventory.Devices.Count == 0 ? "no devices" :
        $"{inventory.Devices.Count} device(s): " + string.Join(", ", inventory.Devices.Select(d => $"{d.Index} = {d.Properties.Name}"));
}
