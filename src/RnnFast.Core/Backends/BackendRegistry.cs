// The list of backends and the choice among them: a name, `auto` (best available score), or RNNFAST_BACKEND when no
// name is given. The managed backends are built in; the native ones live in their own assemblies (so the engine does
// not depend on them) and are named here in a fixed list, found by assembly-qualified name when the registry is first
// used. That is not scanning: no assembly is searched, and [DynamicDependency] keeps each constructor when trimmed. A
// backend whose assembly the application does not carry is listed as unavailable with that reason, like any other.
using System.Diagnostics.CodeAnalysis;
using RnnFast.Backends.Reference;

namespace RnnFast.Backends;

/// <summary>The explicitly registered backends and the choice among them: a name, `auto`, or RNNFAST_BACKEND.</summary>
public static class BackendRegistry
{
    /// <summary>The environment variable naming the default backend ("auto" when unset).</summary>
    public const string EnvironmentVariable = "RNNFAST_BACKEND";
    private static readonly object Gate = new();
    private static readonly List<Backend> Registered = [];

    /// <summary>The native backends the `RnnFast` package brings: name, type, assembly (the order `rnnfast info` lists).</summary>
    internal static readonly (string Name, string Type, string Assembly)[] KnownBackends =
    [
        ("onednn", "RnnFast.Backends.OneDnn.OneDnnBackend", "RnnFast.Backends.OneDnn"),
        ("opencl", "RnnFast.Backends.OpenCL.OpenCLBackend", "RnnFast.Backends.OpenCL"),
        ("cuda", "RnnFast.Backends.Cuda.CudaBackend", "RnnFast.Backends.Cuda"),
    ];

    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor, "RnnFast.Backends.OneDnn.OneDnnBackend", "RnnFast.Backends.OneDnn")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor, "RnnFast.Backends.OpenCL.OpenCLBackend", "RnnFast.Backends.OpenCL")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor, "RnnFast.Backends.Cuda.CudaBackend", "RnnFast.Backends.Cuda")]
    static BackendRegistry()
    {
        Registered.Add(Host);
        Registered.Add(new Cpu.CpuBackend());
        foreach (var (name, type, assembly) in KnownBackends) Registered.Add(CreateKnown(name, type, assembly));
    }

    /// <summary>The backend that owns plain host tensors (the reference backend).</summary>
    public static Backend Host => ReferenceBackend.Instance;

    /// <summary>
    /// Constructing a backend only records what it is: its probe (which loads native libraries) runs the first time its
    /// availability is asked for, so `auto` and `info` probe, while a named backend's command probes only that one.
    /// </summary>
    [UnconditionalSuppressMessage("Trimming", "IL2057", Justification = "The names are constants kept by the DynamicDependency attributes on the static constructor.")]
    [UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "The public parameterless constructors are kept by the DynamicDependency attributes.")]
    private static Backend CreateKnown(string name, string typeName, string assemblyName)
    {
        Type? type;
        try
        {
            type = Type.GetType($"{typeName}, {assemblyName}", throwOnError: false);
        }
        catch (Exception e)
        {
            return new MissingBackend(name, $"assembly {assemblyName} could not be loaded: {e.Message}");
        }
        if (type == null)
            return new MissingBackend(name, $"assembly {assemblyName} is not part of this application (reference the RnnFast package, which brings every backend)");
        try
        {
            return (Backend)Activator.CreateInstance(type)!;
        }
        catch (Exception e)
        {
            var inner = e is System.Reflection.TargetInvocationException { InnerException: { } ie } ? ie : e;
            return new MissingBackend(name, $"{typeName} could not be created: {inner.GetType().Name}: {inner.Message}");
        }
    }

    /// <summary>Every registered backend, available or not.</summary>
    public static IReadOnlyList<Backend> All
    {
        get
        {
            lock (Gate) return Registered.ToArray();
        }
    }

    /// <summary>
    /// Adds a backend of the application's own (the package's backends are registered already); a name that is taken
    /// is ignored.
    /// </summary>
    public static void Register(Backend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        lock (Gate)
        {
            if (Registered.Any(b => string.Equals(b.Name, backend.Name, StringComparison.OrdinalIgnoreCase)))
                return;
            Registered.Add(backend);
        }
    }

    /// <summary>The best available backend by score.</summary>
    public static Backend Auto() => Auto(All);

    /// <summary>
    /// The best available backend among <paramref name="candidates"/> by score (ties: the first). A backend whose
    /// library is missing, of the wrong kind, or whose probe failed is unavailable and skipped, so `auto` falls back
    /// to the next one; when none is left the exception lists every backend with its reason. Backends are probed in
    /// order of <see cref="Backend.MaxScore"/>, and one whose bound cannot beat the best available one found so far
    /// is not probed at all (its libraries are not loaded).
    /// </summary>
    public static Backend Auto(IEnumerable<Backend> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        var list = candidates.ToList();
        Backend? best = null;
        int bestIndex = -1;
        foreach (var (b, index) in list.Select((b, i) => (b, i)).OrderByDescending(x => x.b.MaxScore))
        {
            // ties go to the earlier backend in the list, so an equal bound later in the list cannot win either
            if (best != null && (b.MaxScore < best.Score || (b.MaxScore == best.Score && index > bestIndex))) continue;
            if (!b.IsAvailable) continue;
            if (best == null || b.Score > best.Score || (b.Score == best.Score && index < bestIndex))
            {
                best = b;
                bestIndex = index;
            }
        }
        return best
            ?? throw new BackendUnavailableException("auto", list.Count == 0
                ? "no backend is registered"
                : "no backend is available (" + string.Join("; ", list.Select(b => $"{b.Name}: {b.Availability.Reason}")) + ")");
    }

    /// <summary>
    /// The best available backend among <paramref name="candidates"/> that can run <paramref name="desc"/> (its
    /// <see cref="Backend.RefusalFor"/> is null): a backend that refuses the description is skipped like an unavailable
    /// one, and when none is left the exception lists each backend with its reason.
    /// </summary>
    public static Backend Auto(IEnumerable<Backend> candidates, RnnDesc desc)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(desc);
        var list = candidates.ToList();
        string? Why(Backend b) => b.IsAvailable ? b.RefusalFor(desc) : b.Availability.Reason;
        return list.Where(b => Why(b) == null).OrderByDescending(b => b.Score).FirstOrDefault()
            ?? throw new BackendUnavailableException("auto", list.Count == 0
                ? "no backend is registered"
                : $"no available backend can run {desc} (" + string.Join("; ", list.Select(b => $"{b.Name}: {Why(b)}")) + ")");
    }

    /// <summary>
    /// <see cref="Get(string?)"/> for a known description: `auto` (named, or by default) picks the best available
    /// backend that can run <paramref name="desc"/>; a backend named explicitly is returned as it is (its plan refuses a
    /// description it cannot run, never another backend in its place).
    /// </summary>
    public static Backend GetFor(string? name, RnnDesc desc)
    {
        ArgumentNullException.ThrowIfNull(desc);
        string? env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        string? effective = string.IsNullOrWhiteSpace(name) ? env : name;
        if (string.IsNullOrWhiteSpace(effective) || effective.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase))
            return Auto(All, desc);
        return Resolve(All, name, env);
    }

    /// <summary>
    /// Resolves a backend name: null or empty means RNNFAST_BACKEND, else `auto`; `auto` picks the best available.
    /// "name:qualifier" (e.g. "opencl:1") asks the backend named for the variant the qualifier names
    /// (<see cref="Backend.WithQualifier"/>). An unknown name or an unavailable backend throws with the list of names /
    /// the reason.
    /// </summary>
    public static Backend Get(string? name = null) => Resolve(All, name, Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>
    /// <see cref="Get"/>'s rule over any list of backends (tests use their own): <paramref name="name"/>, else
    /// <paramref name="environmentValue"/> (the RNNFAST_BACKEND value), else `auto`. A named backend that cannot run
    /// here is an error with its reason, never a silent fallback.
    /// </summary>
    public static Backend Resolve(IReadOnlyList<Backend> candidates, string? name, string? environmentValue)
    {
        var backend = FindIn(candidates, name, environmentValue);
        backend.EnsureAvailable();
        return backend;
    }

    /// <summary>
    /// Like <see cref="Get"/> but returns the backend even when it cannot run here (its Availability says why);
    /// unknown names and bad qualifiers still throw.
    /// </summary>
    public static Backend Find(string? name) => FindIn(All, name, Environment.GetEnvironmentVariable(EnvironmentVariable));

    private static Backend FindIn(IReadOnlyList<Backend> candidates, string? name, string? environmentValue)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        // A name from the environment is reported as such ("RNNFAST_BACKEND=warp: unknown backend ..."), one from the
        // caller as "backend: ..." (the CLI shows it as --backend).
        string source = "backend";
        if (string.IsNullOrWhiteSpace(name))
        {
            name = environmentValue;
            if (!string.IsNullOrWhiteSpace(name)) source = $"{EnvironmentVariable}={name.Trim()}";
        }
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase)) return Auto(candidates);
        name = name.Trim();
        string? qualifier = null;
        int colon = name.IndexOf(':');
        if (colon >= 0)
        {
            qualifier = name[(colon + 1)..].Trim();
            name = name[..colon].Trim();
            if (qualifier.Length == 0)
                throw new ArgumentException($"{source}: '{name}:' has an empty qualifier (write '{name}' or '{name}:QUALIFIER')", nameof(name));
        }
        var backend = candidates.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"{source}: unknown backend '{name}' (known: auto, {string.Join(", ", candidates.Select(b => b.Name))})", nameof(name));
        return qualifier == null ? backend : backend.WithQualifier(qualifier);
    }
}
