// CPU-time clocks for the bench (libc's clock_gettime, Linux; null elsewhere or if the call fails), nanosecond
// resolution. The calling thread's clock measures the peak probe's threads; the process clock (every thread, user +
// system) gives `rnnfast bench`'s cpu_ms: on a shared machine a call's wall time includes the time other processes held
// the cores, its CPU time mostly does not. With one thread (`--threads 1`) a call's CPU time is the kernels' work; with
// more it also counts the workers spinning between steps.
using System.Runtime.InteropServices;

namespace RnnFast.Bench;

internal static partial class CpuClock
{
    private const int ClockProcessCpuTimeId = 2, ClockThreadCpuTimeId = 3; // Linux's clock ids
    private static bool _missing = !OperatingSystem.IsLinux() || !Environment.Is64BitProcess;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>CPU seconds the calling thread has used; null where unavailable.</summary>
    public static double? ThreadSeconds() => Read(ClockThreadCpuTimeId);

    /// <summary>CPU seconds the whole process has used; null where unavailable.</summary>
    public static double? ProcessSeconds() => Read(ClockProcessCpuTimeId);

    private static double? Read(int clock)
    {
        if (_missing) return null;
        try
        {
            if (ClockGetTime(clock, out var t) != 0) return null;
            return t.Seconds + t.Nanoseconds * 1e-9;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _missing = true;
            return null;
        }
    }
}
