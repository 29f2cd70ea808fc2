// Runs the built `rnnfast` as a child process with a wall-clock limit and measures its peak resident memory: under GNU
// time (`/usr/bin/time -f %M -o FILE`, the kernel's ru_maxrss of the whole run, signals reported) where it is installed,
// else by polling the child's VmHWM in /proc/<pid>/status every few milliseconds (the last reading before exit).
// stdin is closed at once; stdout can be closed after a few characters, as `rnnfast sample ... | head -c 10` does.
using System.Diagnostics;
using System.Globalization;

namespace RnnFast.Tests;

/// <summary>What one measured run did: exit code, output, wall time, peak resident bytes, the signal that ended it.</summary>
internal sealed record MeasuredOutcome(int Code, string Out, string Err, TimeSpan Elapsed, long PeakBytes, int Signal, bool TimedOut);

internal static class MeasuredProcess
{
    private const string GnuTime = "/usr/bin/time";

    /// <summary>True when GNU time is installed and takes -f/-o (it then measures every run).</summary>
    public static bool UsesGnuTime { get; } = ProbeGnuTime();

    /// <summary>How the peak is measured, for the summary.</summary>
    public static string Method => UsesGnuTime ? "GNU time %M (ru_maxrss)" : "VmHWM polled from /proc/<pid>/status";

    private static bool ProbeGnuTime()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(GnuTime)) return false;
        string report = Path.Combine(Path.GetTempPath(), $"rnnfast-time-probe-{Guid.NewGuid():N}");
        try
        {
            var psi = new ProcessStartInfo(GnuTime) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[] { "-f", "%M", "-o", report, "true" }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            p.WaitForExit(10_000);
            return p.HasExited && p.ExitCode == 0 && File.Exists(report) && long.TryParse(File.ReadAllText(report).Trim(), out _);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            return false;
        }
        finally
        {
            File.Delete(report);
        }
    }

    /// <summary>
    /// Runs `dotnet rnnfast.dll <paramref name="args"/>` in <paramref name="workingDirectory"/>, killed (whole tree) after
    /// <paramref name="limit"/>; with <paramref name="closeStdoutAfter"/> &gt; 0, stdout is closed after that many characters.
    /// </summary>
    public static MeasuredOutcome Run(IReadOnlyList<string> args, IReadOnlyDictionary<string, string?> env, string workingDirectory,
        TimeSpan limit, int closeStdoutAfter = 0)
    {
        var inner = CliProcess.StartInfo(args, env, workingDirectory);
        inner.RedirectStandardInput = true;
        string? report = null;
        ProcessStartInfo psi = inner;
        if (UsesGnuTime)
        {
            report = Path.Combine(workingDirectory, $".peak-{Guid.NewGuid():N}");
            psi = new ProcessStartInfo(GnuTime)
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
                UseShellExecute = false, WorkingDirectory = workingDirectory,
            };
            foreach (var a in new[] { "-f", "%M", "-o", report, inner.FileName }) psi.ArgumentList.Add(a);
            foreach (var a in inner.ArgumentList) psi.ArgumentList.Add(a);
            psi.Environment.Clear();
            foreach (var (k, v) in inner.Environment) psi.Environment[k] = v;
        }

        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start the child");
        p.StandardInput.Close();
        long polled = 0;
        using var stopPolling = new CancellationTokenSource();
        Task? poller = UsesGnuTime ? null : Task.Run(() => Poll(p.Id, ref polled, stopPolling.Token));
        var stderr = p.StandardError.ReadToEndAsync();
        Task<string> stdout = closeStdoutAfter > 0 ? Task.Run(() => ReadThenClose(p, closeStdoutAfter)) : p.StandardOutput.ReadToEndAsync();

        bool exited = p.WaitForExit(limit);
        clock.Stop();
        if (!exited)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.WaitForExit();
        }
        p.WaitForExit(); // the output pipes drained
        stopPolling.Cancel();
        poller?.Wait();
        string err = stderr.Wait(TimeSpan.FromSeconds(5)) ? stderr.Result : "";
        string output = stdout.Wait(TimeSpan.FromSeconds(5)) ? stdout.Result : "";

        int code = p.ExitCode, signal = 0;
        long peak = polled;
        if (report != null && File.Exists(report))
        {
            foreach (var line in File.ReadAllLines(report))
            {
                if (line.StartsWith("Command terminated by signal ", StringComparison.Ordinal))
                    signal = int.Parse(line["Command terminated by signal ".Length..].Trim(), CultureInfo.InvariantCulture);
                else if (long.TryParse(line.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long kb))
                    peak = kb * 1024;
            }
            File.Delete(report);
        }
        else if (exited && code > 128 && code < 128 + 65)
            signal = code - 128; // .NET reports a child killed by signal N as 128 + N
        return new MeasuredOutcome(code, output, err, clock.Elapsed, exited ? peak : -1, signal, !exited);
    }

    private static string ReadThenClose(Process p, int count)
    {
        var buf = new char[count];
        int got = 0;
        while (got < count)
        {
            int n = p.StandardOutput.Read(buf, got, count - got);
            if (n <= 0) break;
            got += n;
        }
        p.StandardOutput.Close(); // the reader goes away
        return new string(buf, 0, got);
    }

    private static void Poll(int pid, ref long peak, CancellationToken stop)
    {
        string status = $"/proc/{pid}/status";
        while (!stop.IsCancellationRequested)
        {
            try
            {
                foreach (var line in File.ReadLines(status))
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    {
                        long bytes = long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                        if (bytes > peak) peak = bytes;
                    }
            }
            catch (IOException) { return; } // exited
            catch (UnauthorizedAccessException) { return; }
            Thread.Sleep(5);
        }
    }
}
