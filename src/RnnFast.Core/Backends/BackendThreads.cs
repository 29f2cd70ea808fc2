// Sets a backend's worker-thread count from an options property (TrainOptions.Threads, ForecastOptions.Threads, the
// CLI's --threads): the backends that take a count implement IBackendThreads (cpu: its worker pool; onednn: its
// threads); asking any other backend for a count is an error naming the property, never silently ignored.
namespace RnnFast.Backends;

/// <summary>Applies a requested thread count to a backend (see <see cref="IBackendThreads"/>).</summary>
public static class BackendThreads
{
    /// <summary>
    /// Sets <paramref name="backend"/>'s threads to <paramref name="threads"/> (nothing when null). Throws
    /// <see cref="ArgumentException"/> starting with <paramref name="property"/> when the count is below 1 or the backend
    /// has no thread setting.
    /// </summary>
    public static void Apply(Backend backend, int? threads, string property)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(property);
        if (threads is not int n) return;
        if (n < 1) throw new ArgumentException($"{property}: must be at least 1, got {n}");
        if (backend is not IBackendThreads t)
            throw new ArgumentException($"{property}: backend '{backend.Name}' has no thread setting (the cpu and onednn backends have one)");
        t.Threads = n;
    }
}
