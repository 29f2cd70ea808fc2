// OpenMP's settings in the native process environment, written before libgomp is loaded. libgomp reads its variables
// with getenv once, when it is loaded; .NET's Environment.SetEnvironmentVariable only changes the runtime's managed
// copy on Linux, so these go through libc's setenv (overwrite = 0: a value the user set is kept) and getenv.
using System.Runtime.InteropServices;
using System.Text;

namespace RnnFast.Bindings.OneDnn;

/// <summary>What <see cref="OpenMpEnvironment.SetDefault"/> found or did for one variable.</summary>
/// <param name="Name">The variable, e.g. OMP_WAIT_POLICY.</param>
/// <param name="Value">Its value in the native environment afterwards (null when unset).</param>
/// <param name="SetHere">True when RnnFast set it (in this process); false when the user's value was already there.</param>
public sealed record OpenMpSetting(string Name, string? Value, bool SetHere)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Name}={Value}" + (SetHere ? " (set by rnnfast)" : " (the user's)");
}

/// <summary>The native process environment that OpenMP (libgomp) reads when it is loaded.</summary>
public static class OpenMpEnvironment
{
    /// <summary>OpenMP's wait policy: PASSIVE makes idle worker threads sleep instead of busy-waiting.</summary>
    public const string WaitPolicy = "OMP_WAIT_POLICY";

    /// <summary>libgomp's spin count before a waiting thread sleeps (0 with OMP_WAIT_POLICY=PASSIVE).</summary>
    public const string SpinCount = "GOMP_SPINCOUNT";

    /// <summary>OpenMP's thread count.</summary>
    public const string NumThreads = "OMP_NUM_THREADS";

    /// <summary>True where the native environment can be written (Linux, whose libc has setenv and getenv).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>getenv(<paramref name="name"/>) in the native environment; null when unset or where unsupported.</summary>
    public static unsafe string? Get(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!IsSupported) return null;
        fixed (byte* n = Utf8Z(name))
        {
            byte* v = LibcNative.getenv(n);
            return v == null ? null : Marshal.PtrToStringUTF8((IntPtr)v);
        }
    }

    /// <summary>
    /// setenv(<paramref name="name"/>, <paramref name="value"/>, overwrite: 0): sets the variable unless it is already
    /// set (also when set empty). Only effective for libraries loaded afterwards; not thread-safe against native code
    /// reading the environment at the same moment, so call it before such code runs (the backend's probe does).
    /// </summary>
    /// <exception cref="InvalidOperationException">setenv failed (its errno is in the message).</exception>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    public static unsafe OpenMpSetting SetDefault(string name, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        if (name.Contains('=')) throw new ArgumentException($"name: '{name}' contains '=', which no environment variable name may", nameof(name));
        if (!IsSupported) throw new PlatformNotSupportedException($"setting {name} in the native environment is implemented for Linux only");
        lock (SetHere)
        {
            var before = Get(name);
            if (before != null) return new OpenMpSetting(name, before, SetHere.TryGetValue(name, out var ours) && ours == before);
            int status;
            fixed (byte* n = Utf8Z(name), v = Utf8Z(value)) status = LibcNative.setenv(n, v, 0);
            if (status != 0)
                throw new InvalidOperationException($"setenv({name}={value}) failed: returned {status}, errno {Marshal.GetLastPInvokeError()}");
            var after = Get(name);
            if (after != value)
                throw new InvalidOperationException($"setenv({name}={value}) returned 0 but getenv reads back '{after ?? "(unset)"}'");
            SetHere[name] = value;
            return new OpenMpSetting(name, after, SetHere: true);
        }
    }

    /// <summary>The variables this process set through <see cref="SetDefault"/>, with the values it set.</summary>
    private static readonly Dictionary<string, string> SetHere = new(StringComparer.Ordinal);

    /// <summary>The spin count RnnFast sets: about 0.1 ms of busy-waiting (libgomp: roughly 100,000 spins a millisecond).</summary>
    public const string ShortSpinCount = "10000";

    /// <summary>
    /// Keeps OpenMP's idle workers from spinning long on a shared machine: GOMP_SPINCOUNT=10000 (about 0.1 ms before a
    /// waiting thread sleeps, instead of libgomp's default of about 3 ms) unless the user set OMP_WAIT_POLICY or
    /// GOMP_SPINCOUNT, which are then left as they are. Measured on a 2-core machine (oneDNN LSTM, ms per call):
    /// PASSIVE (no spinning) made batch-1 inference 3-8x slower on a quiet machine (every step's parallel region waits
    /// for sleeping threads to wake), while the short spin kept it at the spinning speed and kept a training step
    /// within 1.4-1.8x of its quiet time with one core kept busy elsewhere. Must run before libgomp is loaded; returns
    /// what it found or set (empty where unsupported).
    /// </summary>
    public static IReadOnlyList<OpenMpSetting> ApplyShortSpin()
    {
        if (!IsSupported) return [];
        if (Get(WaitPolicy) is { } policy) return [new OpenMpSetting(WaitPolicy, policy, SetHere: SetHere.ContainsKey(WaitPolicy))];
        return [SetDefault(SpinCount, ShortSpinCount)];
    }

    private static byte[] Utf8Z(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}

/// <summary>libc's environment calls (resolved through the one loader, see <see cref="DnnlLibrary.LibcSpec"/>).</summary>
internal static unsafe partial class LibcNative
{
    internal const string Lib = "c";

    static LibcNative() => DnnlLibrary.RegisterResolver();

    [LibraryImport(Lib, SetLastError = true)] internal static partial int setenv(byte* name, byte* value, int overwrite);
    [LibraryImport(Lib)] internal static partial byte* getenv(byte* name);
}
