// Runs the built `rnnfast` program as a real child process (`dotnet rnnfast.dll ...`, the dll the test project's build
// copies beside the tests), with extra environment variables, capturing exit code, stdout and stderr; or starts it for
// a test that kills it. Used where in-process calls cannot show the behaviour: process exit codes, SIGKILL, and the
// native loader's once-per-process environment overrides.
using System.Diagnostics;
using RnnFast.Cli;

namespace RnnFast.Tests;

internal static class CliProcess
{
    /// <summary>rnnfast.dll beside the test assembly.</summary>
    public static string CliDll { get; } = Path.Combine(Path.GetDirectoryName(typeof(CliApp).Assembly.Location)!, "rnnfast.dll");

    /// <summary>The dotnet host running these tests (DOTNET_HOST_PATH under `dotnet test`), else `dotnet` on PATH.</summary>
    public static string DotnetHost
    {
        get
        {
            var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk)) return fromSdk;
            var self = Environment.ProcessPath;
            if (self != null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
            return "dotnet";
        }
    }

    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? env = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        psi.ArgumentList.Add(CliDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["RNNFAST_BACKEND"] = null; // the tests say which backend they mean
        if (env != null)
            foreach (var (k, v) in env) psi.Environment[k] = v;
        return psi;
    }

    /// <summary>Runs rnnfast to completion (killing it after <paramref name="timeout"/>) and returns what it did.</summary>
    public static (int Code, string Out, string Err) Run(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? env = null, TimeSpan? timeout = null)
    {
        using var p = Process.Start(StartInfo(args, env)) ?? throw new InvalidOperationException("could not start dotnet");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"rnnfast {string.Join(' ', args)} did not finish in time");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
