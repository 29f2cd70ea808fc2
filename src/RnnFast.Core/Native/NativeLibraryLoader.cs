// One loader with a trace (ARCHITECTURE principle 6): every native library family (oneDNN, OpenCL, CUDA, ...) is found
// here. A family names its [LibraryImport] name, an environment variable that overrides the search, and the names and
// paths to try; each attempt and its error is recorded, so a backend that cannot load its library can show exactly
// what was tried. Bindings register a DllImportResolver for their assembly, so [LibraryImport("dnnl")] resolves here.
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace RnnFast.Native;

/// <summary>
/// One native library family: the name its [LibraryImport]s use, the environment variable that overrides the search
/// (a file path), and the candidate names and paths tried in order when the variable is not set.
/// </summary>
public sealed class NativeLibrarySpec
{
    /// <summary>A library family <paramref name="family"/> imported as <paramref name="importName"/>, overridden by the file path in <paramref name="environmentVariable"/>, else searched as <paramref name="candidates"/> in order; a loaded file must export every name in <paramref name="requiredExports"/>.</summary>
    public NativeLibrarySpec(string family, string importName, string environmentVariable, IReadOnlyList<string> candidates,
        IReadOnlyList<string>? requiredExports = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(family);
        ArgumentException.ThrowIfNullOrWhiteSpace(importName);
        ArgumentException.ThrowIfNullOrWhiteSpace(environmentVariable);
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0) throw new ArgumentException("candidates: at least one name or path is needed", nameof(candidates));
        Family = family;
        ImportName = importName;
        EnvironmentVariable = environmentVariable;
        Candidates = candidates.ToArray();
        RequiredExports = requiredExports?.ToArray() ?? [];
    }

    /// <summary>What the library is, for messages (e.g. "oneDNN").</summary>
    public string Family { get; }

    /// <summary>The library name the bindings' [LibraryImport] attributes use (e.g. "dnnl").</summary>
    public string ImportName { get; }

    /// <summary>The environment variable whose value (a file path) replaces the search (e.g. RNNFAST_DNNL_PATH).</summary>
    public string EnvironmentVariable { get; }

    /// <summary>Names (resolved by the system loader) and absolute paths, tried in order.</summary>
    public IReadOnlyList<string> Candidates { get; }

    /// <summary>
    /// Symbols a candidate must export to count as this library: a file that loads but lacks one (another library
    /// named by mistake, e.g. an override pointing at libm) is unloaded and recorded as a failed attempt.
    /// </summary>
    public IReadOnlyList<string> RequiredExports { get; }

    /// <summary>
    /// Which package provides the library (e.g. "Debian/Ubuntu: apt install libdnnl2"), added to the one-line failure
    /// description so `rnnfast info` says what to install; null when there is nothing to say.
    /// </summary>
    public string? InstallHint { get; init; }

    /// <summary>
    /// True when the library's symbols must be visible to the libraries it loads itself (plugins that expect their host's
    /// symbols, e.g. Open MPI's components): after the checks the loaded candidate is opened again with
    /// RTLD_NOW | RTLD_GLOBAL, and a failure to do so is a failed attempt.
    /// </summary>
    public bool Global { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"{Family} ({ImportName})";
}

/// <summary>One attempt to load a library: what was tried and, when it failed, why.</summary>
public sealed record NativeLoadAttempt(string Candidate, bool Succeeded, string? Error)
{
    /// <inheritdoc/>
    public override string ToString() => Succeeded ? $"{Candidate}: loaded" : $"{Candidate}: {Error}";
}

/// <summary>
/// A loaded native library. The library stays loaded for the life of the process (the bindings' imports point into
/// it), so releasing this handle does not unload it.
/// </summary>
public sealed class NativeLibraryHandle : SafeHandle
{
    internal NativeLibraryHandle(IntPtr handle) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(handle);

    /// <inheritdoc/>
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>True when the library exports <paramref name="symbol"/>.</summary>
    public bool HasExport(string symbol) => !IsInvalid && NativeLibrary.TryGetExport(handle, symbol, out _);

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => true; // process lifetime: never unloaded (see the type's summary)
}

/// <summary>The outcome of loading one library family: the handle, or the failure with every attempt.</summary>
public sealed class NativeLoadResult
{
    internal NativeLoadResult(NativeLibrarySpec spec, NativeLibraryHandle? handle, string? loadedFrom, IReadOnlyList<NativeLoadAttempt> trace, string? note)
    {
        Spec = spec;
        Handle = handle;
        LoadedFrom = loadedFrom;
        Trace = trace;
        Note = note;
    }

    /// <summary>The library family that was loaded (or not).</summary>
    public NativeLibrarySpec Spec { get; }

    /// <summary>The loaded library, or null when every attempt failed.</summary>
    public NativeLibraryHandle? Handle { get; }

    /// <summary>True when one of the candidates loaded.</summary>
    public bool Succeeded => Handle != null;

    /// <summary>The candidate that loaded (a name or a path), or null.</summary>
    public string? LoadedFrom { get; }

    /// <summary>Every attempt in order, with its error.</summary>
    public IReadOnlyList<NativeLoadAttempt> Trace { get; }

    /// <summary>Extra context, e.g. that the environment override replaced the search.</summary>
    public string? Note { get; }

    /// <summary>One line: what loaded, or that nothing did, followed by the trace.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        bool foundOne = Trace.Any(a => !a.Succeeded && a.Error != null &&
                                       (a.Error.StartsWith("not loaded: ", StringComparison.Ordinal) || a.Error.StartsWith("loaded, but", StringComparison.Ordinal)));
        sb.Append(Succeeded ? $"{Spec.Family} loaded from {LoadedFrom}" : $"{Spec.Family} library {(foundOne ? "could not be loaded" : "not found")}");
        if (Note != null) sb.Append(" (").Append(Note).Append(')');
        sb.Append("; tried: ");
        sb.Append(string.Join("; ", Trace.Select(a => a.ToString())));
        if (!Succeeded && Spec.InstallHint != null) sb.Append("; to install: ").Append(Spec.InstallHint);
        return sb.ToString();
    }

    /// <summary>The handle, or a <see cref="DllNotFoundException"/> whose message carries the trace.</summary>
    public NativeLibraryHandle GetHandleOrThrow() => Handle ?? throw new DllNotFoundException(Describe());

    /// <inheritdoc/>
    public override string ToString() => Describe();
}

/// <summary>
/// Loads native libraries through one place that records a trace, caches the outcome per family, and resolves the
/// [LibraryImport]s of binding assemblies (see <see cref="RegisterResolver"/>).
/// </summary>
public static class NativeLibraryLoader
{
    private static readonly object Gate = new();
    private static readonly Dictionary<string, NativeLoadResult> Cache = new(StringComparer.Ordinal);
    private static readonly Dictionary<Assembly, NativeLibrarySpec[]> Resolvers = [];

    /// <summary>
    /// Loads <paramref name="spec"/> once per process (later calls return the same outcome): the environment override
    /// when it is set (and only it), else each candidate in order.
    /// </summary>
    public static NativeLoadResult Load(NativeLibrarySpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        lock (Gate)
        {
            if (Cache.TryGetValue(spec.ImportName, out var cached)) return cached;
            var result = TryLoad(spec, Environment.GetEnvironmentVariable(spec.EnvironmentVariable));
            Cache[spec.ImportName] = result;
            return result;
        }
    }

    /// <summary>
    /// Tries to load <paramref name="spec"/> now, uncached. A non-empty <paramref name="overridePath"/> (normally the
    /// family's environment variable) is the only candidate tried: a user who names a file wants that file.
    /// </summary>
    public static NativeLoadResult TryLoad(NativeLibrarySpec spec, string? overridePath)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var trace = new List<NativeLoadAttempt>();
        string? note = null;
        IEnumerable<string> candidates = spec.Candidates;
        if (!string.IsNullOrWhiteSpace(overridePath))
        {
            candidates = [overridePath.Trim()];
            note = $"{spec.EnvironmentVariable}={overridePath.Trim()} replaces the search";
        }
        foreach (var candidate in candidates)
        {
            bool isPath = candidate.Contains('/') || candidate.Contains('\\');
            if (isPath && !File.Exists(candidate))
            {
                trace.Add(new NativeLoadAttempt(candidate, false, "no such file"));
                continue;
            }
            // A truncated or foreign file (or one it needs) would crash the process inside dlopen (SIGBUS): read it first.
            if (ElfImageCheck.FindProblem(candidate) is { } problem)
            {
                trace.Add(new NativeLoadAttempt(candidate, false, "not loaded: " + problem));
                continue;
            }
            try
            {
                var h = NativeLibrary.Load(candidate);
                var missing = spec.RequiredExports.Where(symbol => !NativeLibrary.TryGetExport(h, symbol, out _)).ToList();
                if (missing.Count > 0)
                {
                    NativeLibrary.Free(h);
                    trace.Add(new NativeLoadAttempt(candidate, false,
                        $"loaded, but it does not export {string.Join(", ", missing.Take(3))}{(missing.Count > 3 ? ", ..." : "")}: not the {spec.Family} library"));
                    continue;
                }
                if (spec.Global && GlobalScope.Promote(candidate) is { } globalError)
                {
                    trace.Add(new NativeLoadAttempt(candidate, false, "loaded, but not with global symbols (RTLD_GLOBAL): " + globalError));
                    continue;
                }
                trace.Add(new NativeLoadAttempt(candidate, true, null));
                return new NativeLoadResult(spec, new NativeLibraryHandle(h), candidate, trace, note);
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException or ArgumentException)
            {
                trace.Add(new NativeLoadAttempt(candidate, false, Condense(e.Message)));
            }
        }
        if (note == null) note = $"set {spec.EnvironmentVariable} to a file path to choose the library";
        return new NativeLoadResult(spec, null, null, trace, note);
    }

    /// <summary>
    /// Makes the [LibraryImport]/[DllImport] declarations of <paramref name="assembly"/> that name one of
    /// <paramref name="specs"/>' import names resolve through <see cref="Load"/>. Idempotent per assembly (the
    /// runtime allows one resolver per assembly); names that match no spec fall back to the runtime's own search.
    /// </summary>
    public static void RegisterResolver(Assembly assembly, params NativeLibrarySpec[] specs)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentNullException.ThrowIfNull(specs);
        lock (Gate)
        {
            if (Resolvers.ContainsKey(assembly)) return;
            Resolvers[assembly] = specs.ToArray();
            NativeLibrary.SetDllImportResolver(assembly, Resolve);
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        NativeLibrarySpec[]? specs;
        lock (Gate) Resolvers.TryGetValue(assembly, out specs);
        var spec = specs?.FirstOrDefault(s => string.Equals(s.ImportName, libraryName, StringComparison.Ordinal));
        if (spec == null) return IntPtr.Zero;
        // The handle is process-lifetime (never released), so handing out the raw value to the runtime is safe.
        return Load(spec).GetHandleOrThrow().DangerousGetHandle();
    }

    /// <summary>The system loader's own words (dlerror's lines), without the runtime's generic advice.</summary>
    private static string Condense(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length > 1) return string.Join(" | ", lines.Skip(1));
        return lines.Length == 1 ? lines[0] : message.Trim();
    }
}
