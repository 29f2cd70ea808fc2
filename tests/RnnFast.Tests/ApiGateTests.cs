// The build gate on the public API (issue 16): a shipped project under src/ fails to build when a public member has no
// XML doc comment (CS1591) or is missing from its PublicAPI.*.txt (RS0016). The test builds a tiny project laid out
// like the repository (src/Probe, beside copies of the real Directory.Build.props and .targets), so it checks the
// repository's own settings, not a restatement of them.
using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

public sealed class ApiGateTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Source = """
        namespace Probe;

        /// <summary>A probe of the API gate.</summary>
        public static class Api
        {
            /// <summary>Documented and listed in PublicAPI.Unshipped.txt: no error.</summary>
            public static int Good() => 1;

            public static int NoDoc() => 2;

            /// <summary>Documented but not listed.</summary>
            public static int NotInApi() => 3;
        }
        """;

    private const string Unshipped = """
        #nullable enable
        Probe.Api
        static Probe.Api.Good() -> int
        static Probe.Api.NoDoc() -> int

        """;

    [Fact]
    public void A_shipped_project_fails_to_build_on_an_undocumented_or_unlisted_public_member()
    {
        foreach (var f in new[] { "Directory.Build.props", "Directory.Build.targets" })
            File.Copy(Path.Combine(TestPaths.RepoRoot, f), Path.Combine(_dir, f));
        string project = Path.Combine(_dir, "src", "Probe");
        Directory.CreateDirectory(project);
        File.WriteAllText(Path.Combine(project, "Probe.csproj"), "<Project Sdk=\"Microsoft.NET.Sdk\" />\n");
        File.WriteAllText(Path.Combine(project, "Api.cs"), Source);
        File.WriteAllText(Path.Combine(project, "PublicAPI.Shipped.txt"), "#nullable enable\n");
        File.WriteAllText(Path.Combine(project, "PublicAPI.Unshipped.txt"), Unshipped);

        var (code, text) = Run(project);
        output.WriteLine(text);
        var errors = text.Split('\n').Where(l => l.Contains(": error ")).Distinct().ToArray();
        Assert.NotEqual(0, code);
        Assert.Contains(errors, l => l.Contains("error CS1591") && l.Contains("Api.NoDoc()"));
        Assert.Contains(errors, l => l.Contains("error RS0016") && l.Contains("NotInApi"));
        // nothing else failed: the documented, listed member passes and the setup itself (restore, analyzer) is sound
        Assert.All(errors, l => Assert.True(l.Contains("error CS1591") || l.Contains("error RS0016"), l));
        Assert.DoesNotContain(errors, l => l.Contains("Good"));
    }

    private static (int, string) Run(string project)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "build", project, "-c", "Release", "--nologo", "-v", "q" })
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(4))) { p.Kill(true); return (-1, "dotnet build timed out"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
