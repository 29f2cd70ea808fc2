// Runs before any test is discovered: registers the same backends the `rnnfast` program has, so every
// backend-parameterized test covers every backend (unavailable ones are skipped with their reason).
using System.Runtime.CompilerServices;

namespace RnnFast.Tests;

internal static class TestSetup
{
    [ModuleInitializer]
    internal static void RegisterBackends() => RnnFast.Cli.BackendCatalog.RegisterAll();
}
