// A backend: something that can run RNN plans (and own tensor memory). It reports whether it can run on this
// machine and why not, and a score that `auto` uses to pick the best (ggml's registry/device/score idea).
namespace RnnFast.Backends;

/// <summary>Whether a backend computes on the CPU or on a GPU.</summary>
public enum BackendKind
{
    /// <summary>Runs on the host CPU (host memory).</summary>
    Cpu,
    /// <summary>Runs on a GPU (device memory; tensors are copied to and from it).</summary>
    Gpu,
}

/// <summary>Whether a backend can run here; when it cannot, <see cref="Reason"/> says why.</summary>
public sealed record BackendAvailability(bool IsAvailable, string Reason)
{
    /// <summary>Available; <paramref name="detail"/> says what was found (e.g. the library version).</summary>
    public static BackendAvailability Yes(string detail = "") => new(true, detail);
    /// <summary>Unavailable, for <paramref name="reason"/> (one line, e.g. the library that failed to load).</summary>
    public static BackendAvailability No(string reason) => new(false, reason);
}

/// <summary>A place RNN work runs (reference, managed SIMD, oneDNN, OpenCL, cuDNN): availability with a reason, a score for `auto`, memory and RNN plans.</summary>
public abstract class Backend
{
    private readonly Lazy<BackendAvailability> _availability;

    /// <summary>Sets up the lazy probe; <see cref="Probe"/> runs on first access to <see cref="Availability"/>.</summary>
    protected Backend() => _availability = new Lazy<BackendAvailability>(SafeProbe, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Short name used by --backend and RNNFAST_BACKEND (e.g. "reference", "cpu", "onednn").</summary>
    public abstract string Name { get; }

    /// <summary>Whether the backend computes on the CPU or a GPU.</summary>
    public abstract BackendKind Kind { get; }

    /// <summary>One line saying what this backend is.</summary>
    public abstract string Description { get; }

    /// <summary>Higher is preferred by `auto` among available backends.</summary>
    public abstract int Score { get; }

    /// <summary>
    /// The highest <see cref="Score"/> this backend can have once probed, known without probing (no library is
    /// loaded to answer it). `auto` does not probe a backend whose bound cannot beat an available backend it already
    /// found, so a command on `auto` loads no library it will not use. Default: <see cref="Score"/> (a backend whose
    /// score depends on its probe overrides this).
    /// </summary>
    public virtual int MaxScore => Score;

    /// <summary>Probed once, lazily; a probe that throws makes the backend unavailable with the exception's message.</summary>
    public BackendAvailability Availability => _availability.Value;

    /// <summary>True when the probe found everything this backend needs.</summary>
    public bool IsAvailable => Availability.IsAvailable;

    /// <summary>Checks whether this backend can run here (loads libraries, finds devices). Must not throw.</summary>
    protected abstract BackendAvailability Probe();

    /// <summary>Memory for <paramref name="length"/> float32 elements owned by this backend.</summary>
    public virtual TensorStorage Allocate(int length) => new HostStorage(new float[length], this);

    /// <summary>
    /// The tolerance this backend's results are checked at against the reference (|a - b| &lt;= Abs + Rel * |b|):
    /// fp32 backends keep the default; a backend that trades accuracy for speed on purpose (cpu:bf16) states its own.
    /// </summary>
    public virtual (double Abs, double Rel) CheckTolerance => (DefaultAbsTolerance, DefaultRelTolerance);

    /// <summary>The fp32 tolerance every backend is checked at against the reference (and PyTorch's goldens): absolute part.</summary>
    public const double DefaultAbsTolerance = 1e-4;

    /// <summary>The fp32 tolerance's relative part: |a - b| &lt;= 1e-4 + 1e-3|b|.</summary>
    public const double DefaultRelTolerance = 1e-3;

    /// <summary>Prepares <paramref name="parameters"/> to run on this backend (weights converted once).</summary>
    public abstract IRnnPlan CreateRnnPlan(RnnParameters parameters);

    /// <summary>
    /// Why this backend cannot run <paramref name="desc"/> at all (e.g. cuDNN has no peephole LSTM), or null when it
    /// can. A backend that refuses a description throws <see cref="NotSupportedException"/> with this reason from
    /// <see cref="CreateRnnPlan"/>; `auto` given a description skips it. Default: every description is runnable.
    /// </summary>
    public virtual string? RefusalFor(RnnDesc desc)
    {
        ArgumentNullException.ThrowIfNull(desc);
        return null;
    }

    /// <summary>Throws <see cref="NotSupportedException"/> ("&lt;backend&gt;: &lt;reason&gt;") when <see cref="RefusalFor"/> refuses <paramref name="desc"/>.</summary>
    protected void EnsureCanRun(RnnDesc desc)
    {
        if (RefusalFor(desc) is { } reason) throw new NotSupportedException($"{Name}: {reason}");
    }

    /// <summary>
    /// The backend that "name:qualifier" names (e.g. "opencl:1", a device of this backend). By default a backend takes
    /// no qualifier: the error names the backend and the qualifier.
    /// </summary>
    public virtual Backend WithQualifier(string qualifier) =>
        throw new ArgumentException($"backend: '{Name}' takes no qualifier (got '{Name}:{qualifier}')", nameof(qualifier));

    /// <summary>Throws <see cref="BackendUnavailableException"/> with the reason when this backend cannot run here.</summary>
    public void EnsureAvailable()
    {
        if (!IsAvailable) throw new BackendUnavailableException(Name, Availability.Reason);
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    private BackendAvailability SafeProbe()
    {
        try
        {
            return Probe();
        }
        catch (Exception e)
        {
            return BackendAvailability.No($"probe failed: {e.GetType().Name}: {e.Message}");
        }
    }
}

/// <summary>A backend was asked for that cannot run here; the message carries the reason.</summary>
public sealed class BackendUnavailableException : Exception
{
    /// <summary>Backend <paramref name="backend"/> cannot run here, for <paramref name="reason"/>.</summary>
    public BackendUnavailableException(string backend, string reason)
        : base($"backend '{backend}' is not available: {reason}")
    {
        BackendName = backend;
        Reason = reason;
    }

    /// <summary>The name of the backend that was asked for.</summary>
    public string BackendName { get; }
    /// <summary>Why it cannot run (its probe's message).</summary>
    public string Reason { get; }
}
