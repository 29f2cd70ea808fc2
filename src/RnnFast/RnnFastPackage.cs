// The umbrella package's one type: what the `RnnFast` package brings, for code that wants to say so at run time.
// The package's real content is its references: the engine and every backend assembly.
namespace RnnFast;

/// <summary>The `RnnFast` package: the engine plus the onednn, opencl and cuda backend assemblies.</summary>
public static class RnnFastPackage
{
    /// <summary>The backend names the package brings, in the registry's order.</summary>
    public static IReadOnlyList<string> BackendNames { get; } = ["reference", "cpu", "onednn", "opencl", "cuda"];
}
