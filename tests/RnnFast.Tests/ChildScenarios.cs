// The test assembly as a program (`dotnet RnnFast.Tests.dll SCENARIO ARGS...`), for what must run in a child process:
// a signal such as SIGBUS would kill the test host, and a peak resident size (VmHWM) is only the run's own in a fresh
// process. ChildScenarios.Run starts one and returns its exit code, output and peak resident bytes.
using System.Diagnostics;
using RnnFast.Cli;
using RnnFast.IO;

namespace RnnFast.Tests;

public static class ChildScenarios
{
    /// <summary>The entry point of the child process (xunit does not call it; GenerateProgramFile is off).</summary>
    public static int Main(string[] args)
    {
        switch (args.Length > 0 ? args[0] : "")
        {
            case "open-truncate-read":
            {
                // Open a safetensors file, cut it back to its header, then read every float tensor: the reader must not
                // depend on the file staying as it was once Open has returned.
                string path = args[1];
                using var file = SafeTensorsFile.Open(path);
                long keep = 8 + (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(path).AsSpan(0, 8));
                using (var s = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete)) s.SetLength(keep);
                double sum = 0;
                int n = 0;
                foreach (var t in file.Tensors)
                {
                    if (t.DType != SafeTensorDType.F32) continue;
                    foreach (float v in file.ReadFloat32(t.Name)) sum += v;
                    n++;
                }
                Console.WriteLine($"read {n} tensors after truncation, sum {sum}");
                return 0;
            }
            case "cli":
            {
                // `rnnfast ARGS...` in this process, then its peak resident size on the last line.
                int code = CliApp.Run(args[1..], Console.Out, Console.Error);
                Console.Out.Flush();
                Console.WriteLine($"peak-rss-bytes={PeakResidentBytes()}");
                return code;
            }
            default:
                Console.Error.WriteLine($"unknown scenario '{(args.Length > 0 ? args[0] : "")}'");
                return 64;
        }
    }

    /// <summary>This process's peak resident set (VmHWM in /proc/self/status), in bytes; -1 where unknown.</summary>
    public static long PeakResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        return Process.GetCurrentProcess().PeakWorkingSet64;
    }

    /// <summary>What a child run did; <see cref="PeakRss"/> is parsed from the cli scenario's last line (-1 if absent).</summary>
    public sealed record Result(int Code, string Out, string Err, long PeakRss);

    /// <summary>Runs a scenario in a child process (killed after <paramref name="timeout"/>) with extra environment variables.</summary>
    public static Result Run(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? env = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(CliProcess.DotnetHost)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetTempPath(),
        };
        psi.ArgumentList.Add(typeof(ChildScenarios).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["RNNFAST_BACKEND"] = null;
        if (env != null)
            foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"child {string.Join(' ', args)} did not finish in time");
        }
        p.WaitForExit();
        string o = stdout.Result;
        long peak = -1;
        int at = o.LastIndexOf("peak-rss-bytes=", StringComparison.Ordinal);
        if (at >= 0) peak = long.Parse(o[(at + 15)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        return new Result(p.ExitCode, o, stderr.Result, peak);
    }
}
