// Checks a shared library file before anything dlopen()s it. The system loader maps an ELF file's segments as its
// program headers describe them; when the file is shorter than they say (a truncated copy, a half-finished download)
// the first touch of a page past the end raises SIGBUS and kills the process with no message. So before a load the
// file (and, recursively, the DT_NEEDED libraries it would pull in, found the way ld.so finds them) is read here:
// ELF magic, 64-bit little-endian, this process's machine, a shared object, program headers, every segment and the
// section table inside the file. A name without a slash is first resolved as dlopen would: LD_LIBRARY_PATH, then the
// folders of /etc/ld.so.conf and the default ones (a library the loader finds elsewhere is left to the loader).
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace RnnFast.Native;

/// <summary>
/// Reads shared library files before they are loaded: a file the system loader would crash on (truncated, or not an
/// ELF shared object for this process) is reported as a one-line problem instead.
/// </summary>
public static class ElfImageCheck
{
    private const int MaxFiles = 256; // dependency closure bound (libdnnl pulls in about ten)

    private static readonly Lazy<IReadOnlyList<string>> SystemFolders = new(ReadSystemFolders);

    /// <summary>
    /// The problem that would keep <paramref name="nameOrPath"/> (a file path, or a name resolved as dlopen resolves
    /// it) or one of the libraries it needs from loading safely, in one line (naming the file found for a name, and
    /// the library that needs a dependency; the caller names <paramref name="nameOrPath"/> itself); null when every file
    /// found looks sound, or when a name is not found here (the loader then reports it itself). Linux only; null
    /// elsewhere.
    /// </summary>
    public static string? FindProblem(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        if (!OperatingSystem.IsLinux()) return null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<(string Name, string? NeededBy, IReadOnlyList<string> Rpath, IReadOnlyList<string> Runpath)>();
        pending.Enqueue((nameOrPath, null, [], []));
        while (pending.Count > 0 && seen.Count < MaxFiles)
        {
            var (name, neededBy, rpath, runpath) = pending.Dequeue();
            var (path, via) = Resolve(name, rpath, runpath);
            if (path == null) continue; // not found here: dlopen will say so (or find it in a place we do not model)
            string full;
            try { full = Path.GetFullPath(path); } catch (Exception e) when (e is ArgumentException or IOException) { continue; }
            if (!seen.Add(full)) continue;
            var image = Read(full, out var problem);
            if (problem != null)
            {
                string where = string.Equals(name, path, StringComparison.Ordinal) ? "" : $"{path}{via}: ";
                return neededBy == null ? where + problem : $"{neededBy} needs {name}: {where}{problem}";
            }
            string origin = Path.GetDirectoryName(full) ?? "/";
            foreach (var needed in image!.Needed)
                pending.Enqueue((needed, Path.GetFileName(full),
                    image.Runpath.Count > 0 ? [] : image.Rpath.Select(d => d.Replace("$ORIGIN", origin).Replace("${ORIGIN}", origin)).ToArray(),
                    image.Runpath.Select(d => d.Replace("$ORIGIN", origin).Replace("${ORIGIN}", origin)).ToArray()));
        }
        return null;
    }

    /// <summary>
    /// The problem with the one file at <paramref name="path"/> (its dependencies are not followed), or null when it
    /// is an ELF shared object for this process whose headers, segments and section table lie inside the file.
    /// </summary>
    public static string? FileProblem(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Read(path, out var problem);
        return problem;
    }

    /// <summary>A name's file the way ld.so searches (path as is; else RPATH, LD_LIBRARY_PATH, RUNPATH, system folders).</summary>
    private static (string? Path, string Via) Resolve(string name, IReadOnlyList<string> rpath, IReadOnlyList<string> runpath)
    {
        if (name.Contains('/')) return (File.Exists(name) ? name : null, "");
        foreach (var dir in rpath)
            if (Exists(dir, name) is { } p) return (p, " (through the RPATH of the library that needs it)");
        var ld = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
        if (!string.IsNullOrEmpty(ld))
            foreach (var dir in ld.Split(':', ';'))
                if (Exists(dir.Length == 0 ? "." : dir, name) is { } p) return (p, $" (through LD_LIBRARY_PATH={ld})");
        foreach (var dir in runpath)
            if (Exists(dir, name) is { } p) return (p, " (through the RUNPATH of the library that needs it)");
        foreach (var dir in SystemFolders.Value)
            if (Exists(dir, name) is { } p) return (p, "");
        return (null, "");
    }

    private static string? Exists(string dir, string name)
    {
        try
        {
            var p = Path.Combine(dir, name);
            return File.Exists(p) ? p : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>/etc/ld.so.conf's folders (with its includes), then the default ones for this architecture.</summary>
    private static IReadOnlyList<string> ReadSystemFolders()
    {
        var dirs = new List<string>();
        void ReadConf(string file, int depth)
        {
            if (depth > 8) return;
            string[] lines;
            try { lines = File.ReadAllLines(file); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
            foreach (var raw in lines)
            {
                var line = raw.Split('#')[0].Trim();
                if (line.Length == 0) continue;
                if (line.StartsWith("include", StringComparison.Ordinal) && line.Length > 7 && char.IsWhiteSpace(line[7]))
                {
                    var pattern = line[8..].Trim();
                    if (!Path.IsPathRooted(pattern)) pattern = Path.Combine(Path.GetDirectoryName(file) ?? "/etc", pattern);
                    var folder = Path.GetDirectoryName(pattern) ?? "/etc";
                    string[] files;
                    try { files = Directory.Exists(folder) ? Directory.GetFiles(folder, Path.GetFileName(pattern)) : []; }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { files = []; }
                    foreach (var f in files.Order(StringComparer.Ordinal)) ReadConf(f, depth + 1);
                }
                else if (!line.StartsWith("hwcap", StringComparison.Ordinal)) dirs.Add(line);
            }
        }
        ReadConf("/etc/ld.so.conf", 0);
        string triple = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
        dirs.AddRange([$"/lib/{triple}", $"/usr/lib/{triple}", "/lib64", "/usr/lib64", "/lib", "/usr/lib"]);
        return dirs.Distinct(StringComparer.Ordinal).ToArray();
    }

    private sealed record Image(IReadOnlyList<string> Needed, IReadOnlyList<string> Rpath, IReadOnlyList<string> Runpath);

    private static Image? Read(string path, out string? problem)
    {
        problem = null;
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            long size = RandomAccess.GetLength(handle);
            return Parse(handle, size, out problem);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"cannot be read: {e.Message}";
            return null;
        }
    }

    private static ushort ExpectedMachine => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 62,
        Architecture.Arm64 => 183,
        _ => 0, // not checked
    };

    private static Image? Parse(Microsoft.Win32.SafeHandles.SafeFileHandle file, long size, out string? problem)
    {
        Image? Fail(string p, out string? problemOut)
        {
            problemOut = p;
            return null;
        }
        var header = new byte[64];
        int got = RandomAccess.Read(file, header, 0);
        if (got < 4 || header[0] != 0x7F || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F')
            return Fail(size == 0 ? "empty file (0 bytes), not an ELF shared library" : "not an ELF shared library (no ELF magic number)", out problem);
        if (got < 64) return Fail($"truncated: {size} bytes, shorter than the 64-byte ELF header", out problem);
        if (header[4] != 2) return Fail($"a {(header[4] == 1 ? "32" : "unknown")}-bit ELF file; this process is 64-bit", out problem);
        if (header[5] != 1) return Fail("a big-endian ELF file; this process is little-endian", out problem);
        var h = header.AsSpan();
        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(h[16..]);
        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(h[18..]);
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(h[32..]);
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(h[40..]);
        ushort phentsize = BinaryPrimitives.ReadUInt16LittleEndian(h[54..]);
        ushort phnum = BinaryPrimitives.ReadUInt16LittleEndian(h[56..]);
        ushort shentsize = BinaryPrimitives.ReadUInt16LittleEndian(h[58..]);
        ulong shnum = BinaryPrimitives.ReadUInt16LittleEndian(h[60..]);
        if (type != 3) return Fail($"ELF type {type}, not a shared object (ET_DYN)", out problem);
        if (ExpectedMachine != 0 && machine != ExpectedMachine)
            return Fail($"built for ELF machine {machine}; this process is {RuntimeInformation.ProcessArchitecture} (machine {ExpectedMachine})", out problem);
        ulong usize = (ulong)size;
        if (phnum == 0 || phentsize < 56) return Fail("no usable program headers", out problem);
        if (!Within(phoff, (ulong)phnum * phentsize, usize))
            return Fail($"truncated: program headers end at byte {Sum(phoff, (ulong)phnum * phentsize)} of a {size}-byte file", out problem);
        var ph = new byte[phnum * phentsize];
        RandomAccess.Read(file, ph, (long)phoff);
        var loads = new List<(ulong Vaddr, ulong Offset, ulong FileSize)>();
        (ulong Offset, ulong Size)? dynamic = null;
        for (int i = 0; i < phnum; i++)
        {
            var e = ph.AsSpan(i * phentsize, 56);
            uint ptype = BinaryPrimitives.ReadUInt32LittleEndian(e);
            ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(e[8..]);
            ulong vaddr = BinaryPrimitives.ReadUInt64LittleEndian(e[16..]);
            ulong filesz = BinaryPrimitives.ReadUInt64LittleEndian(e[32..]);
            if (filesz > 0 && !Within(offset, filesz, usize))
                return Fail($"truncated: segment {i} (type {ptype:x}) ends at byte {Sum(offset, filesz)} of a {size}-byte file", out problem);
            if (ptype == 1) loads.Add((vaddr, offset, filesz));
            else if (ptype == 2) dynamic = (offset, filesz);
        }
        if (loads.Count == 0) return Fail("no loadable segment", out problem);
        if (shoff != 0)
        {
            if (shnum == 0 && shentsize >= 64 && Within(shoff, 64, usize)) // more than 0xff00 sections: the count is in section 0
            {
                var s0 = new byte[64];
                RandomAccess.Read(file, s0, (long)shoff);
                shnum = BinaryPrimitives.ReadUInt64LittleEndian(s0.AsSpan(32));
            }
            if (!Within(shoff, shnum * shentsize, usize))
                return Fail($"truncated: the section table ends at byte {Sum(shoff, shnum * shentsize)} of a {size}-byte file", out problem);
        }
        problem = null;
        return dynamic is { } d ? ReadDynamic(file, d.Offset, d.Size, loads, usize) : new Image([], [], []);
    }

    /// <summary>DT_NEEDED, DT_RPATH and DT_RUNPATH strings (through DT_STRTAB, mapped from its address to the file).</summary>
    private static Image ReadDynamic(Microsoft.Win32.SafeHandles.SafeFileHandle file, ulong offset, ulong size, List<(ulong Vaddr, ulong Offset, ulong FileSize)> loads, ulong fileSize)
    {
        size = Math.Min(size, 1 << 20);
        var dyn = new byte[size];
        RandomAccess.Read(file, dyn, (long)offset);
        var needed = new List<ulong>();
        ulong? strtab = null, strsz = null, rpath = null, runpath = null;
        for (int i = 0; i + 16 <= dyn.Length; i += 16)
        {
            long tag = BinaryPrimitives.ReadInt64LittleEndian(dyn.AsSpan(i));
            ulong val = BinaryPrimitives.ReadUInt64LittleEndian(dyn.AsSpan(i + 8));
            if (tag == 0) break;
            switch (tag)
            {
                case 1: needed.Add(val); break;
                case 5: strtab = val; break;
                case 10: strsz = val; break;
                case 15: rpath = val; break;
                case 29: runpath = val; break;
            }
        }
        if (strtab is not { } st) return new Image([], [], []);
        var seg = loads.FirstOrDefault(l => st >= l.Vaddr && st < l.Vaddr + l.FileSize);
        if (seg.FileSize == 0) return new Image([], [], []);
        ulong start = st - seg.Vaddr + seg.Offset;
        ulong length = Math.Min(strsz ?? (seg.Offset + seg.FileSize - start), Math.Min(fileSize - start, 1 << 22));
        var table = new byte[length];
        RandomAccess.Read(file, table, (long)start);
        string? Str(ulong at)
        {
            if (at >= (ulong)table.Length) return null;
            int end = Array.IndexOf(table, (byte)0, (int)at);
            return System.Text.Encoding.UTF8.GetString(table, (int)at, (end < 0 ? table.Length : end) - (int)at);
        }
        static string[] Split(string? s) => s == null ? [] : s.Split(':', StringSplitOptions.RemoveEmptyEntries);
        return new Image(needed.Select(Str).OfType<string>().Where(s => s.Length > 0).ToArray(),
            Split(rpath is { } r ? Str(r) : null), Split(runpath is { } u ? Str(u) : null));
    }

    private static bool Within(ulong offset, ulong length, ulong size) => offset <= size && length <= size - offset;

    private static string Sum(ulong a, ulong b) => a > ulong.MaxValue - b ? "(past 2^64)" : (a + b).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
