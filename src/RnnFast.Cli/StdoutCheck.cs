// Whether the process's stdout can be written at all. With stdout closed (`rnnfast train ... >&-`) .NET reports its
// failed use of fd 1 as "Access to the path is denied", which names neither stdout nor the cause; the CLI asks the
// kernel first (fcntl(1, F_GETFL) on Unix: EBADF when closed, or an fd opened read-only) and says so in one line.
using System.Runtime.InteropServices;

namespace RnnFast.Cli;

internal static unsafe class StdoutCheck
{
    private const int F_GETFL = 3, O_ACCMODE = 3, O_RDONLY = 0;
    private static readonly delegate* unmanaged<int, int, int> Fcntl;

    static StdoutCheck()
    {
        if (OperatingSystem.IsWindows()) return;
        foreach (var name in new[] { "libc.so.6", "libc" })
            if (NativeLibrary.TryLoad(name, out var lib) && NativeLibrary.TryGetExport(lib, "fcntl", out var f))
            {
                Fcntl = (delegate* unmanaged<int, int, int>)f;
                return;
            }
    }

    /// <summary>Why stdout (fd 1) cannot be written, or null when it can (or when this platform cannot tell).</summary>
    public static string? Problem()
    {
        if (Fcntl == null) return null;
        int flags = Fcntl(1, F_GETFL);
        if (flags == -1) return "stdout is closed; nothing can be printed (run with stdout open, e.g. > /dev/null to discard the output)";
        if ((flags & O_ACCMODE) == O_RDONLY) return "stdout is closed or open for reading only; nothing can be printed (redirect it to a file, or to /dev/null to discard it)";
        return null;
    }
}
