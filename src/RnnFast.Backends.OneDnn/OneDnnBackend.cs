// The oneDNN backend ("onednn"): RNN, LSTM (with projection) and GRU through oneDNN 2.x's RNN primitives on the CPU.
// Probe loads libdnnl.so.2 through the one loader (its trace is the reason when that fails), checks the 2.x ABI and
// creates the CPU engine. The thread count is OpenMP's (Debian's build), applied on the executing thread.
using RnnFast.Bindings.OneDnn;
using RnnFast.Native;

namespace RnnFast.Backends.OneDnn;

/// <summary>The oneDNN backend: RnnFast's RNN plans on oneDNN 2.x's RNN primitives (libdnnl.so.2).</summary>
public sealed class OneDnnBackend : Backend, IBackendThreads
{
    [ThreadStatic] private static int _appliedThreads;
    private readonly string? _libraryOverride;
    private readonly bool _useOverride;
    private DnnlEngine? _engine;
    private string _loadedFrom = "";
    private string _version = "";
    private int _threads;

    /// <summary>The backend as registered: libdnnl is found by the loader (RNNFAST_DNNL_PATH, then the known names).</summary>
    public OneDnnBackend() { }

    /// <summary>For tests: probes with <paramref name="libraryPath"/> as the only candidate (uncached load).</summary>
    internal OneDnnBackend(string libraryPath)
    {
        _libraryOverride = libraryPath;
        _useOverride = true;
    }

    public override string Name => "onednn";
    public override BackendKind Kind => BackendKind.Cpu;
    /// <summary>
    /// Below the managed `cpu` backend (10): `auto` prefers `cpu`, which runs variable-length batches natively (oneDNN
    /// runs one primitive per distinct length) and whose own thread pool does not spin against other OpenMP programs;
    /// measured here, oneDNN's training step was several times slower under load. Ask for `onednn` by name.
    /// </summary>
    public override int Score => 5;

    public override string Description =>
        (IsAvailable ? $"oneDNN {_version} RNN primitives ({_loadedFrom}), {Threads} OpenMP thread(s)" : "oneDNN 2.x RNN primitives (libdnnl.so.2)") +
        "; LSTM projection on lstm_v3 (forward and backward, supported by 2.6); GRU as linear-before-reset GRU; variable" +
        " lengths run as groups of equal length; a configuration oneDNN reports unimplemented runs on the cpu backend instead";

    /// <summary>OpenMP worker threads oneDNN computes with (0 = OpenMP's default: OMP_NUM_THREADS or all cores).</summary>
    public int Threads
    {
        get => _threads > 0 ? _threads : (IsAvailable ? DnnlThreads.Default : Environment.ProcessorCount);
        set => _threads = Math.Max(0, value);
    }

    /// <summary>The CPU engine every plan of this backend uses.</summary>
    internal DnnlEngine Engine
    {
        get
        {
            EnsureAvailable();
            return _engine!;
        }
    }

    protected override BackendAvailability Probe()
    {
        var load = _useOverride ? NativeLibraryLoader.TryLoad(DnnlLibrary.Spec, _libraryOverride) : DnnlLibrary.Load();
        if (!load.Succeeded) return BackendAvailability.No(load.Describe());
        // The bindings' imports always resolve through the process-wide load (a test override only changes the probe).
        if (_useOverride && !DnnlLibrary.Load().Succeeded) return BackendAvailability.No(DnnlLibrary.Load().Describe());
        var v = DnnlLibrary.Version();
        if (v.Major != 2)
            return BackendAvailability.No($"{load.LoadedFrom} is oneDNN {v.Major}.{v.Minor}.{v.Patch}; these bindings need the 2.x C API (libdnnl.so.2)");
        _version = $"{v.Major}.{v.Minor}.{v.Patch}";
        _loadedFrom = load.LoadedFrom ?? "";
        _engine = DnnlEngine.Create(DnnlEngineKind.Cpu, 0);
        return BackendAvailability.Yes($"oneDNN {_version} from {_loadedFrom}, CPU engine created");
    }

    public override IRnnPlan CreateRnnPlan(RnnParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        EnsureAvailable();
        return new OneDnnRnnPlan(this, parameters);
    }

    /// <summary>Applies <see cref="Threads"/> (or OpenMP's default) on the calling thread, whose OpenMP count is its own.</summary>
    internal void ApplyThreads()
    {
        int want = _threads > 0 ? _threads : DnnlThreads.Default;
        if (want == _appliedThreads) return;
        if (DnnlThreads.TrySet(want)) _appliedThreads = want;
    }
}
