// Re-opens an already loaded library with RTLD_NOW | RTLD_GLOBAL (glibc's dlopen promotes its scope in place), for
// libraries whose own plugins resolve symbols against them (Open MPI's components against libmpi/libopen-pal). The
// runtime's NativeLibrary.Load opens with RTLD_LOCAL, which hides those symbols.
using System.Runtime.InteropServices;

namespace RnnFast.Native;

internal static partial class GlobalScope
{
    private const int RtldNow = 0x2, RtldGlobal = 0x100; // <dlfcn.h> on Linux (glibc and musl)

    [LibraryImport("libc.so.6", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr DlOpen(string file, int mode);

    [LibraryImport("libc.so.6", EntryPoint = "dlerror")]
    private static partial IntPtr DlError();

    /// <summary>Promotes <paramref name="candidate"/> (a name or path already loaded) to the global scope; null on success, else dlerror's words.</summary>
    public static string? Promote(string candidate)
    {
        if (!OperatingSystem.IsLinux()) return null; // the flag is a Linux (ELF) notion; elsewhere the first load stands
        // The reference taken here is never dropped: the library stays loaded for the process (as NativeLibraryHandle documents).
        if (DlOpen(candidate, RtldNow | RtldGlobal) != IntPtr.Zero) return null;
        return Marshal.PtrToStringUTF8(DlError()) ?? "dlopen returned NULL";
    }
}
