// The oneDNN backend ("onednn"): RNN, LSTM (with projection) and GRU through oneDNN 2.x's RNN primitives on the CPU.
// Probe sets GOMP_SPINCOUNT=10000 in the native environment (unless the user set it or OMP_WAIT_POLICY) before anything loads libgomp,
// loads libdnnl.so.2 through the one loader (its trace is the reason when that fails), checks the 2.x ABI and creates
// the CPU engine. The thread count is OpenMP's (Debian's build): per backend, applied on the executing thread.
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
    private int _defaultThreads;
    private IReadOnlyList<OpenMpSetting> _openMp = [];
    private string? _openMpProblem;

    /// <summary>The backend as registered: libdnnl is found by the loader (RNNFAST_DNNL_PATH, then the known names).</summary>
    public OneDnnBackend() { }

    /// <summary>For tests: probes with <paramref name="libraryPath"/> as the only candidate (uncached load).</summary>
    internal OneDnnBackend(string libraryPath)
    {
        _libraryOverride = libraryPath;
        _useOverride = true;
    }

    /// <inheritdoc/>
    public override string Name => "onednn";
    /// <inheritdoc/>
    public override BackendKind Kind => BackendKind.Cpu;
    /// <summary>
    /// Below the managed `cpu` backend (10): `auto` prefers `cpu`, which runs variable-length batches natively (oneDNN
    /// runs one primitive per distinct length) and keeps to the .NET thread pool. OpenMP's workers are kept from
    /// spinning long (GOMP_SPINCOUNT=10000, about 0.1 ms, see <see cref="Threads"/>): on a shared 2-core machine an LSTM
    /// training step (T=25, N=64, 512) with one core kept busy elsewhere took 1.4-1.8x its quiet time, where OpenMP's
    /// default spinning took it several times slower. Ask for `onednn` by name.
    /// </summary>
    public override int Score => 5;

    /// <inheritdoc/>
    public override string Description =>
        (IsAvailable
            ? $"oneDNN {_version} RNN primitives ({_loadedFrom}), {Threads} OpenMP thread(s)" +
              (_openMp.Count > 0 ? ", " + string.Join(", ", _openMp) : "") + (_openMpProblem != null ? ", " + _openMpProblem : "")
            : "oneDNN 2.x RNN primitives (libdnnl.so.2)") +
        "; LSTM projection and peepholes on lstm_v3 (forward and backward, supported by 2.6); GRU as linear-before-reset GRU; variable" +
        " lengths run as groups of equal length; a configuration oneDNN reports unimplemented is refused with a" +
        " NotSupportedException naming it (never run by another backend)";

    /// <summary>
    /// The number of OpenMP worker threads this backend's primitives compute with.
    /// <para>
    /// Default (0, or never set): OMP_NUM_THREADS's count when the user set that variable, otherwise
    /// <see cref="Environment.ProcessorCount"/>, i.e. the cores this process may use (its CPU affinity and any
    /// container CPU limit), not every core of the machine, which is what OpenMP alone would take.
    /// </para>
    /// <para>
    /// Set it to a positive count to override (e.g. `rnnfast bench --threads 4`, or <c>backend.Threads = 4</c> on the
    /// registered <see cref="OneDnnBackend"/>); set 0 to return to the default. Reading it returns the count in
    /// effect. The setting belongs to this backend object (another <see cref="OneDnnBackend"/> instance has its own).
    /// OpenMP's count is a per-thread setting, so each plan applies it with omp_set_num_threads on the thread that
    /// executes the primitive, just before executing; a change takes effect at the next call on every thread.
    /// </para>
    /// <para>
    /// Idle workers spin only briefly before they sleep: the probe sets GOMP_SPINCOUNT=10000 (about 0.1 ms) before
    /// libgomp loads, unless the user set OMP_WAIT_POLICY or GOMP_SPINCOUNT, so a busy machine is not slowed further by
    /// waiting threads while a quiet one keeps batch-1 steps fast (PASSIVE, no spinning at all, made them 3-8x slower).
    /// </para>
    /// </summary>
    public int Threads
    {
        get => _threads > 0 ? _threads : DefaultThreads;
        set => _threads = Math.Max(0, value);
    }

    /// <summary>The count used while <see cref="Threads"/> is not set: OMP_NUM_THREADS's when set, else the usable cores.</summary>
    private int DefaultThreads => _defaultThreads > 0 ? _defaultThreads : Environment.ProcessorCount;

    /// <summary>The library's version "major.minor.patch" (empty before a successful probe).</summary>
    internal string Version => _version;

    /// <summary>
    /// For tests: when set and it returns true for a phase ("forward-inference", "forward-training", "backward"), the
    /// plans of this backend instance treat dnnl_primitive_desc_create as having returned dnnl_unimplemented.
    /// </summary>
    internal Func<string, bool>? ForceUnimplementedForTests { get; set; }

    /// <summary>The CPU engine every plan of this backend uses.</summary>
    internal DnnlEngine Engine
    {
        get
        {
            EnsureAvailable();
            return _engine!;
        }
    }

    /// <inheritdoc/>
    protected override BackendAvailability Probe()
    {
        // Before anything loads libgomp: it reads GOMP_SPINCOUNT once, at load (a user's own settings are kept). Failing to
        // set it costs speed on a busy machine, not correctness: the backend stays usable and its description says so.
        _openMpProblem = null;
        try
        {
            _openMp = OpenMpEnvironment.ApplyShortSpin();
        }
        catch (Exception e) when (e is InvalidOperationException or DllNotFoundException or EntryPointNotFoundException)
        {
            _openMp = [];
            _openMpProblem = $"{OpenMpEnvironment.SpinCount} not set, idle OpenMP threads may spin: {e.Message}";
        }
        var load = _useOverride ? NativeLibraryLoader.TryLoad(DnnlLibrary.Spec, _libraryOverride) : DnnlLibrary.Load();
        if (!load.Succeeded) return BackendAvailability.No(load.Describe());
        // The bindings' imports always resolve through the process-wide load (a test override only changes the probe).
        if (_useOverride && !DnnlLibrary.Load().Succeeded) return BackendAvailability.No(DnnlLibrary.Load().Describe());
        var v = DnnlLibrary.Version();
        if (v.Major != 2)
            return BackendAvailability.No($"{load.LoadedFrom} is oneDNN {v.Major}.{v.Minor}.{v.Patch}; these bindings need the 2.x C API (libdnnl.so.2)");
        _version = $"{v.Major}.{v.Minor}.{v.Patch}";
        _loadedFrom = load.LoadedFrom ?? "";
        string? ompThreads = _openMpProblem == null
            ? OpenMpEnvironment.Get(OpenMpEnvironment.NumThreads)
            : Environment.GetEnvironmentVariable(OpenMpEnvironment.NumThreads);
        _defaultThreads = !string.IsNullOrWhiteSpace(ompThreads) && DnnlThreads.CanSet
            ? DnnlThreads.Default
            : Environment.ProcessorCount;
        _engine = DnnlEngine.Create(DnnlEngineKind.Cpu, 0);
        return BackendAvailability.Yes($"oneDNN {_version} from {_loadedFrom}, CPU engine created" + (_openMpProblem != null ? "; " + _openMpProblem : ""));
    }

    /// <inheritdoc/>
    public override IRnnPlan CreateRnnPlan(RnnParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        EnsureAvailable();
        return new OneDnnRnnPlan(this, parameters);
    }

    /// <summary>Applies <see cref="Threads"/> on the calling thread, whose OpenMP count is its own.</summary>
    internal void ApplyThreads()
    {
        int want = Threads;
        if (want == _appliedThreads) return;
        if (DnnlThreads.TrySet(want)) _appliedThreads = want;
    }
}
