// The list of backends, registered explicitly (no reflection, so trimming keeps them), and the choice among
// them: a name, `auto` (best available score), or RNNFAST_BACKEND when no name is given.
using RnnFast.Backends.Reference;

namespace RnnFast.Backends;

/// <summary>The explicitly registered backends and the choice among them: a name, `auto`, or RNNFAST_BACKEND.</summary>
public static class BackendRegistry
{
    public const string EnvironmentVariable = "RNNFAST_BACKEND";
    private static readonly object Gate = new();
    private static readonly List<Backend> Registered = [];

    static BackendRegistry()
    {
        Host = new ReferenceBackend();
        Registered.Add(Host);
        Registered.Add(new Cpu.CpuBackend());
    }

    /// <summary>The backend that owns plain host tensors (the reference backend).</summary>
    public static Backend Host { get; }

    /// <summary>Every registered backend, available or not.</summary>
    public static IReadOnlyList<Backend> All
    {
        get
        {
            lock (Gate) return Registered.ToArray();
        }
    }

    /// <summary>Adds a backend (native backend assemblies call this from their own Register()).</summary>
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
    public static Backend Auto() =>
        All.Where(b => b.IsAvailable).OrderByDescending(b => b.Score).FirstOrDefault()
        ?? throw new BackendUnavailableException("auto", "no backend is available");

    /// <summary>
    /// Resolves a backend name: null or empty means RNNFAST_BACKEND, else `auto`; `auto` picks the best available.
    /// "name:qualifier" (e.g. "opencl:1") asks the backend named for the variant the qualifier names
    /// (<see cref="Backend.WithQualifier"/>). An unknown name or an unavailable backend throws with the list of names /
    /// the reason.
    /// </summary>
    public static Backend Get(string? name = null)
    {
        var backend = Find(name);
        backend.EnsureAvailable();
        return backend;
    }

    /// <summary>
    /// Like <see cref="Get"/> but returns the backend even when it cannot run here (its Availability says why);
    /// unknown names and bad qualifiers still throw.
    /// </summary>
    public static Backend Find(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) name = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase)) return Auto();
        name = name.Trim();
        string? qualifier = null;
        int colon = name.IndexOf(':');
        if (colon >= 0)
        {
            qualifier = name[(colon + 1)..].Trim();
            name = name[..colon].Trim();
            if (qualifier.Length == 0)
                throw new ArgumentException($"backend: '{name}:' has an empty qualifier (write '{name}' or '{name}:QUALIFIER')", nameof(name));
        }
        var backend = All.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"backend: unknown backend '{name}' (known: auto, {string.Join(", ", All.Select(b => b.Name))})", nameof(name));
        return qualifier == null ? backend : backend.WithQualifier(qualifier);
    }
}
