// Checks on the files a command reads (--data, --model, --resume, the files `check` visits) and on --out: a FIFO,
// a device or a socket would block a read forever or never end, so only regular files are accepted; and --out
// must not be the file the training data is read from (the model would overwrite it). On Linux both use stat(2)
// (file type, device and inode, so a hard link or a symlink is recognised); elsewhere the checks fall back to
// what .NET can tell (directories, missing files, the same full path after resolving symlinks).
using System.Runtime.InteropServices;
using System.Text;

namespace RnnFast.Cli;

internal static unsafe class InputFiles
{
    /// <summary>
    /// <paramref name="path"/> must be an existing regular file (symlinks followed): a directory "is a directory",
    /// a missing file is "not found" (FileNotFoundException), a FIFO, device or socket "is not a regular file".
    /// </summary>
    public static void RequireRegular(string flag, string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException($"{flag}: a file name is required");
        if (Directory.Exists(path)) throw new ArgumentException($"{flag}: {path} is a directory, not a file");
        if (!File.Exists(path)) throw new FileNotFoundException($"{flag}: {path} not found", path);
        var st = Stat(path);
        if (st is { } s && (s.Mode & S_IFMT) != S_IFREG)
            throw new ArgumentException($"{flag}: {path} is not a regular file ({KindName(s.Mode)})");
    }

    /// <summary>
    /// Refuses <paramref name="outPath"/> (named by <paramref name="outFlag"/>) when it is the same file as
    /// <paramref name="inPath"/>: the same path, another spelling of it, a symlink to it or a hard link of it.
    /// </summary>
    public static void RequireDistinct(string outFlag, string? outPath, string inFlag, string? inPath)
    {
        if (string.IsNullOrWhiteSpace(outPath) || string.IsNullOrWhiteSpace(inPath)) return;
        if (SameFile(outPath, inPath))
            throw new ArgumentException($"{outFlag}: {outPath} is the {inFlag} file {inPath}; writing it would overwrite the input");
    }

    /// <summary>True when both paths name one file (device and inode on Linux, else the resolved full paths).</summary>
    public static bool SameFile(string a, string b)
    {
        if (Stat(a) is { } sa && Stat(b) is { } sb) return sa.Device == sb.Device && sa.Inode == sb.Inode;
        string ra = Resolved(a), rb = Resolved(b);
        var cmp = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return string.Equals(ra, rb, cmp);
    }

    private static string Resolved(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            var target = new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true);
            if (target != null) return Path.GetFullPath(target.FullName);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return full;
    }

    private const uint S_IFMT = 0xF000, S_IFREG = 0x8000;

    private static string KindName(uint mode) => (mode & S_IFMT) switch
    {
        0x1000 => "a FIFO",
        0x2000 => "a character device",
        0x6000 => "a block device",
        0xC000 => "a socket",
        0x4000 => "a directory",
        _ => "not a plain file",
    };

    private readonly record struct FileId(ulong Device, ulong Inode, uint Mode);

    // stat(2) through glibc/musl, found once. struct stat on x86_64: st_dev at 0, st_ino at 8, st_mode at 24;
    // on arm64, riscv64 and loongarch64 (the generic layout): st_dev at 0, st_ino at 8, st_mode at 16.
    private static readonly delegate* unmanaged<byte*, byte*, int> StatFn;
    private static readonly delegate* unmanaged<int, byte*, byte*, int> XStatFn; // glibc before 2.33 exports only __xstat
    private static readonly int ModeOffset = -1, XStatVersion;

    static InputFiles()
    {
        if (!OperatingSystem.IsLinux()) return;
        var arch = RuntimeInformation.ProcessArchitecture;
        (ModeOffset, XStatVersion) = arch switch
        {
            Architecture.X64 => (24, 1),
            Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64 => (16, 0),
            _ => (-1, 0),
        };
        if (ModeOffset < 0) return;
        foreach (var name in new[] { "libc.so.6", "libc" })
        {
            if (!NativeLibrary.TryLoad(name, out var lib)) continue;
            if (NativeLibrary.TryGetExport(lib, "stat", out var f)) { StatFn = (delegate* unmanaged<byte*, byte*, int>)f; return; }
            if (NativeLibrary.TryGetExport(lib, "__xstat", out var x)) { XStatFn = (delegate* unmanaged<int, byte*, byte*, int>)x; return; }
        }
    }

    /// <summary>The device, inode and mode of <paramref name="path"/> (symlinks followed); null where unknown.</summary>
    private static FileId? Stat(string path)
    {
        if (StatFn == null && XStatFn == null) return null;
        byte[] name = new byte[Encoding.UTF8.GetByteCount(path) + 1];
        Encoding.UTF8.GetBytes(path, name);
        byte* buf = stackalloc byte[512]; // struct stat is 144 bytes on x86_64, 128 on the generic layout
        int rc;
        fixed (byte* p = name)
            rc = StatFn != null ? StatFn(p, buf) : XStatFn(XStatVersion, p, buf);
        if (rc != 0) return null;
        return new FileId(*(ulong*)buf, *(ulong*)(buf + 8), *(uint*)(buf + ModeOffset));
    }
}
