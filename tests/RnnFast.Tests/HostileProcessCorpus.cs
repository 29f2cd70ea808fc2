// Issue 15's hostile-process corpus: every `rnnfast` command (train --task lm|forecast|tag, classify, sample, predict,
// eval, check, verify, info, bench, demo), with the arguments that reach its file and size handling quickly, crossed
// with hostile conditions: (a) truncated native libraries (RNNFAST_DNNL_PATH, RNNFAST_OPENCL_PATH, an OCL_ICD_VENDORS
// folder listing a truncated PoCL driver) with the backend that needs them named; (b) non-regular files (a FIFO, a
// directory, a socket, /dev/zero, /dev/null, a symlink to a FIFO) as --data, --model, --resume, --shapes, --out-dir or
// an entry of a folder that check/verify read; (c) a damaged OpenCL program-binary cache (RNNFAST_OPENCL_CACHE at a
// folder whose entry is empty, truncated, garbage, altered, of the old format, a FIFO, a folder, a symlink to /dev/zero
// or a sparse 1 GiB file; or the cache "folder" itself a file or /dev/null) for runs on --backend opencl; (d) absurd sizes
// (flags, a bench shapes line, model files with overflowing or zero-width shapes or a 1 GiB tensor, sample --length 1e9
// with its reader gone). Every case runs with RNNFAST_MEMORY_LIMIT=400M (the machine the runs must fit), so whether a
// large run is refused does not depend on the CI machine's memory. The fixtures live in one temp folder.
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using RnnFast.Backends;
using RnnFast.Bindings.OneDnn;
using RnnFast.Bindings.OpenCL;
using RnnFast.Cli;
using RnnFast.Data;
using RnnFast.Training;

namespace RnnFast.Tests;

/// <summary>One run of the corpus: a command line, its environment and what it must end with.</summary>
/// <param name="Codes">the exit codes allowed (each within 0 and 2)</param>
/// <param name="MustSay">text that stderr (exit 2) or stdout (exit 0) must contain, when not null</param>
/// <param name="After">a check of the files the run left (null: fine; else the problem)</param>
internal sealed record ProcessCase(string Command, string Condition, string[] Args, IReadOnlyDictionary<string, string?> Env,
    string WorkDir, int[] Codes, string? MustSay, int CloseStdoutAfter = 0, Func<string?>? After = null, string? Skip = null)
{
    public string Name => $"{Command} [{Condition}]";
}

/// <summary>Builds the fixtures and the list of cases; deletes the fixtures when disposed.</summary>
internal sealed class HostileProcessCorpus : IDisposable
{
    /// <summary>Every command the corpus covers, as named in the cases.</summary>
    public static readonly string[] Commands =
        ["train-lm", "train-forecast", "train-tag", "classify", "sample", "predict", "eval", "check", "verify", "info", "bench", "demo"];

    /// <summary>The memory the runs are told they have (RNNFAST_MEMORY_LIMIT).</summary>
    public const string MemoryLimit = "400M";

    private readonly string _root = TestPaths.NewTempDir();
    private readonly List<Socket> _sockets = [];
    private int _next;

    // inputs every command reads when it is not the one under test
    private readonly string _text, _csv, _tags, _labelled, _lines, _shapes, _lm, _classifier, _golden, _goldenDir, _goodCache;

    // non-regular files
    private readonly Dictionary<string, string> _nonRegular = [];

    public List<ProcessCase> Cases { get; } = [];

    /// <summary>Lines saying what could not be set up here and why (the cases concerned are listed as skipped).</summary>
    public List<string> Notes { get; } = [];

    public HostileProcessCorpus()
    {
        _text = Write("corpus.txt", string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog. ", 60)));
        _csv = Write("series.csv", "time,value\n" + string.Concat(Enumerable.Range(0, 300).Select(i => $"{i},{Math.Sin(i * 0.3):F4}\n")));
        _tags = Write("tags.tsv", string.Concat(Enumerable.Range(0, 60).Select(i => i % 2 == 0 ? "A B A\tabc\n" : "B B A\tbca\n")));
        _labelled = Write("labelled.tsv", string.Concat(Enumerable.Range(0, 40).Select(i => $"{(i % 2 == 0 ? "a" : "b")}\t{(i % 2 == 0 ? "apple pie" : "banana split")} {i}\n")));
        _lines = Write("lines.txt", "apple pie\nbanana split\n");
        _shapes = Write("shapes.txt", "lstm uni 1 5 2 8 8 inference\n");
        _golden = TestPaths.Golden("gru_basic");
        _goldenDir = Dir("goldens");
        File.Copy(_golden, Path.Combine(_goldenDir, "gru_basic.safetensors"));

        _lm = Path.Combine(_root, "lm.safetensors");
        new CharLmTrainer().Train(ProgramCorpus.Generate(3000, 5), "corpus", new TrainOptions
        {
            Mode = RnnMode.Lstm, Layers = 1, Hidden = 16, Embed = 8, SeqLen = 16, Batch = 4, Steps = 2, LearningRate = 1e-2,
            Seed = 3, EvalEvery = 0, CheckpointEvery = 0, SampleLength = 0, Out = _lm, ValFraction = 0.1, Backend = "cpu",
        });
        _classifier = Path.Combine(_root, "classifier.safetensors");
        var o = new StringWriter();
        var e = new StringWriter();
        int rc = CliApp.Run(["classify", "--data", _labelled, "--steps", "2", "--hidden", "8", "--embed", "4", "--batch", "4",
            "--backend", "cpu", "--out", _classifier], o, e);
        if (rc != 0) throw new InvalidOperationException($"could not train the classifier fixture: {e}");

        MakeNonRegular();
        _goodCache = Dir("cache-good");
        AddNonRegularCases();
        AddNativeCases();
        AddCacheCases();
        AddSizeCases();
    }

    public void Dispose()
    {
        foreach (var s in _sockets) s.Dispose();
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_root, name);
        File.WriteAllText(path, text);
        return path;
    }

    private string Dir(string name) => Directory.CreateDirectory(Path.Combine(_root, name)).FullName;

    private static bool Tool(string name, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(name) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            p.WaitForExit(10_000);
            return p.HasExited && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private string? MakeFifo(string path) => Tool("mkfifo", path) ? path : null;

    private string? MakeSocket(string path)
    {
        try
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            s.Bind(new UnixDomainSocketEndPoint(path));
            _sockets.Add(s);
            return path;
        }
        catch (Exception e) when (e is SocketException or PlatformNotSupportedException or ArgumentException)
        {
            return null;
        }
    }

    private void MakeNonRegular()
    {
        var nr = Dir("nonregular");
        if (MakeFifo(Path.Combine(nr, "fifo")) is { } fifo) _nonRegular["fifo"] = fifo;
        else Notes.Add("no FIFO: mkfifo is not available here");
        _nonRegular["directory"] = Dir("nonregular/folder");
        if (MakeSocket(Path.Combine(nr, "sock")) is { } sock) _nonRegular["socket"] = sock;
        else Notes.Add("no socket: Unix domain sockets are not available here");
        foreach (var dev in new[] { "/dev/zero", "/dev/null" })
            if (File.Exists(dev)) _nonRegular[dev] = dev;
        if (_nonRegular.TryGetValue("fifo", out var f))
        {
            var link = Path.Combine(nr, "link-to-fifo");
            File.CreateSymbolicLink(link, f);
            _nonRegular["symlink to a FIFO"] = link;
        }
    }

    /// <summary>A fresh working folder for one case (outputs and locks of parallel cases never meet).</summary>
    private string CaseDir() => Dir($"case-{Interlocked.Increment(ref _next):D3}");

    private static Dictionary<string, string?> Env(params (string Key, string? Value)[] extra)
    {
        var env = new Dictionary<string, string?> { [MemoryEstimate.LimitVariable] = MemoryLimit };
        foreach (var (k, v) in extra) env[k] = v;
        return env;
    }

    /// <summary>
    /// The command line of <paramref name="command"/>, small enough to finish in a second or two, with one input replaced
    /// (<paramref name="role"/> = "--data", "--model", "--resume", "--shapes", "--out-dir", "check", "verify") and a backend.
    /// </summary>
    private string[] Line(string command, string dir, string? role = null, string? path = null, string? backend = null, string[]? extra = null)
    {
        string Pick(string r, string normal) => role == r ? path! : normal;
        var b = backend == null ? Array.Empty<string>() : ["--backend", backend];
        string[] line = command switch
        {
            "train-lm" when role == "--resume" =>
                ["train", "--data", _text, "--resume", path!, "--out", Path.Combine(dir, "lm.safetensors"), "--steps", "3", .. b],
            "train-lm" => ["train", "--data", Pick("--data", _text), "--out", Path.Combine(dir, "lm.safetensors"), "--steps", "1",
                "--hidden", "8", "--embed", "4", "--layers", "1", "--seq-len", "8", "--batch", "2", "--eval-every", "0", .. b],
            "train-forecast" => ["train", "--task", "forecast", "--target", "value", "--data", Pick("--data", _csv),
                "--out", Path.Combine(dir, "f.safetensors"), "--steps", "1", "--hidden", "8", "--layers", "1", "--seq-len", "8",
                "--batch", "2", "--eval-every", "0", .. b],
            "train-tag" => ["train", "--task", "tag", "--data", Pick("--data", _tags), "--out", Path.Combine(dir, "t.safetensors"),
                "--steps", "1", "--hidden", "8", "--embed", "4", "--layers", "1", "--batch", "2", "--eval-every", "0", .. b],
            "classify" => ["classify", "--data", Pick("--data", _labelled), "--steps", "1", "--hidden", "8", "--embed", "4",
                "--batch", "2", "--out", Path.Combine(dir, "c.safetensors"), .. b],
            "sample" => ["sample", "--model", Pick("--model", _lm), "--length", "20", .. b],
            "predict" => ["predict", "--model", Pick("--model", _classifier), "--data", Pick("--data", _lines), .. b],
            "eval" => ["eval", "--model", Pick("--model", _lm), "--data", Pick("--data", _text), .. b],
            "check" => ["check", Pick("check", _golden), .. b],
            "verify" => ["verify", "--goldens", Pick("verify", _goldenDir), .. b],
            "info" => ["info"],
            "bench" => ["bench", "--shapes", Pick("--shapes", _shapes), "--backends", backend ?? "cpu", "--max-seconds", "0.05", "--max-reps", "2"],
            "demo" => ["demo", "--seconds", "0.3", "--out-dir", Pick("--out-dir", Path.Combine(dir, "demo")), .. b],
            _ => throw new ArgumentException($"unknown command {command}"),
        };
        return extra == null ? line : With(line, extra);
    }

    /// <summary><paramref name="line"/> with each "--flag value" pair of <paramref name="extra"/> replacing that flag's value, or appended.</summary>
    private static string[] With(string[] line, string[] extra)
    {
        var result = line.ToList();
        for (int i = 0; i + 1 < extra.Length; i += 2)
        {
            int at = result.IndexOf(extra[i]);
            if (at >= 0) result[at + 1] = extra[i + 1];
            else result.AddRange([extra[i], extra[i + 1]]);
        }
        return [.. result];
    }

    private void Add(string command, string condition, string[] args, Dictionary<string, string?> env, string dir, int[] codes,
        string? mustSay, int closeAfter = 0, Func<string?>? after = null, string? skip = null) =>
        Cases.Add(new ProcessCase(command, condition, args, env, dir, codes, mustSay, closeAfter, after, skip));

    // ---- (b) non-regular files where a command reads a file

    private static readonly (string Command, string Role)[] FileRoles =
    [
        ("train-lm", "--data"), ("train-lm", "--resume"), ("train-forecast", "--data"), ("train-tag", "--data"), ("classify", "--data"),
        ("sample", "--model"), ("predict", "--model"), ("predict", "--data"), ("eval", "--model"), ("eval", "--data"),
        ("check", "check"), ("check", "check folder entry"), ("verify", "verify folder entry"), ("bench", "--shapes"), ("demo", "--out-dir"),
    ];

    private void AddNonRegularCases()
    {
        foreach (var (command, role) in FileRoles)
            foreach (var (kind, path) in _nonRegular)
            {
                if (role == "--out-dir" && kind == "directory") continue; // a folder is what --out-dir wants
                string dir = CaseDir();
                string[] args;
                string say = path;
                if (role.EndsWith("folder entry", StringComparison.Ordinal))
                {
                    // a folder of reference cases holding one good file and the hostile one under a .safetensors name
                    string folder = Dir(Path.GetRelativePath(_root, dir) + "/cases");
                    File.Copy(_golden, Path.Combine(folder, "a.safetensors"));
                    string entry = Path.Combine(folder, "b.safetensors");
                    if (kind == "directory") Directory.CreateDirectory(entry);
                    else File.CreateSymbolicLink(entry, path);
                    args = command == "check" ? Line("check", dir, "check", folder) : Line("verify", dir, "verify", folder, "cpu");
                    say = kind == "directory" ? "" : entry;
                    Add(command, $"{role} is {kind}", args, Env(), dir, kind == "directory" ? [0, 2] : [2], say == "" ? null : say);
                    continue;
                }
                args = Line(command, dir, role, path, command is "check" or "verify" or "info" ? null : "cpu");
                if (role == "check" && kind == "directory") // `check FOLDER` checks the folder's files: an empty one is no error
                    Add(command, $"{role} is {kind}", args, Env(), dir, [0, 2], null);
                else
                    Add(command, $"{role} is {kind}", args, Env(), dir, [2], say);
            }
    }

    // ---- (a) truncated native libraries, with the backend that needs them named

    /// <summary>The file this process mapped whose name starts with <paramref name="prefix"/>, or null.</summary>
    private static string? MappedLibrary(string prefix) =>
        File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length >= 6)
            .Select(f => f[5]).FirstOrDefault(p => Path.GetFileName(p).StartsWith(prefix, StringComparison.Ordinal));

    private string Truncated(string source, long bytes, string name)
    {
        var path = Path.Combine(_root, "native", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var from = File.OpenRead(source);
        using var to = File.Create(path);
        var buffer = new byte[1 << 20];
        for (long left = bytes; left > 0;)
        {
            int n = from.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (n == 0) break;
            to.Write(buffer, 0, n);
            left -= n;
        }
        return path;
    }

    private void AddNativeCases()
    {
        var conditions = new List<(string Name, string Backend, (string, string?) Env, string? Skip)>();
        var onednn = BackendRegistry.Get("onednn");
        string? dnnl = onednn.IsAvailable ? MappedLibrary("libdnnl.so") : null;
        if (dnnl == null)
            conditions.Add(("libdnnl truncated", "onednn", ("", null), $"onednn is not available here ({onednn.Availability.Reason}), so there is no libdnnl to truncate"));
        else
        {
            long size = new FileInfo(dnnl).Length;
            conditions.Add(("libdnnl truncated to 4096 bytes", "onednn", (DnnlLibrary.PathVariable, Truncated(dnnl, 4096, "a/libdnnl.so.2")), null));
            conditions.Add(($"libdnnl truncated to half ({size / 2} bytes)", "onednn", (DnnlLibrary.PathVariable, Truncated(dnnl, size / 2, "b/libdnnl.so.2")), null));
        }
        var opencl = BackendRegistry.Get("opencl");
        string? cl = opencl.IsAvailable ? MappedLibrary("libOpenCL.so") : null;
        string? pocl = opencl.IsAvailable ? MappedLibrary("libpocl.so") : null;
        if (cl == null)
            conditions.Add(("libOpenCL truncated", "opencl", ("", null), $"opencl is not available here ({opencl.Availability.Reason}), so there is no libOpenCL to truncate"));
        else
            conditions.Add(("libOpenCL truncated to 4096 bytes", "opencl", (CLLibrary.PathVariable, Truncated(cl, 4096, "c/libOpenCL.so.1")), null));
        if (pocl == null)
            conditions.Add(("ICD driver truncated", "opencl", ("", null), "no PoCL driver is loaded here (opencl unavailable or another ICD), so there is none to truncate"));
        else
        {
            var bad = Truncated(pocl, 100_000, "icd/libpocl-bad.so");
            File.WriteAllText(Path.Combine(_root, "native", "icd", "bad.icd"), bad + "\n");
            conditions.Add(("OCL_ICD_VENDORS lists a truncated PoCL", "opencl", ("OCL_ICD_VENDORS", Path.Combine(_root, "native", "icd")), null));
        }

        foreach (var (name, backend, (key, value), skip) in conditions)
            foreach (var command in Commands)
            {
                string dir = CaseDir();
                var env = skip == null ? Env((key, value)) : Env();
                if (command == "info")
                    Add(command, name, Line(command, dir), env, dir, [0], "truncated", skip: skip);
                else
                    Add(command, $"{name}, --backend {backend}", Line(command, dir, backend: backend), env, dir, [2], "truncated", skip: skip);
            }
        // `auto` falls back past the broken library (check and train, the two commands of every test run)
        foreach (var (name, _, (key, value), skip) in conditions)
            foreach (var command in new[] { "check", "train-lm" })
            {
                string dir = CaseDir();
                Add(command, $"{name}, auto", Line(command, dir), skip == null ? Env((key, value)) : Env(), dir, [0], null, skip: skip);
            }
    }

    // ---- (c) a damaged OpenCL program-binary cache

    private static readonly string[] Damages =
    [
        "empty entry", "entry truncated to 100 bytes", "entry truncated to half", "garbage entry", "entry with one byte flipped",
        "entry of the old format", "entry is a FIFO", "entry is a folder", "entry is a symlink to /dev/zero", "entry is a sparse 1 GiB file",
        "cache folder is a file", "cache folder is /dev/null",
    ];

    private string? _seedEntry;
    private string? _seedProblem;

    /// <summary>One good cache entry, made by a first opencl run (not a case: it may compile the kernels cold).</summary>
    private string? SeedEntry()
    {
        if (_seedEntry != null || _seedProblem != null) return _seedEntry;
        var opencl = BackendRegistry.Get("opencl");
        if (!opencl.IsAvailable)
        {
            _seedProblem = $"opencl is not available here ({opencl.Availability.Reason})";
            return null;
        }
        var r = MeasuredProcess.Run(["check", _golden, "--backend", "opencl"], Env((KernelProgramCache, _goodCache)), _root, TimeSpan.FromSeconds(120));
        var bins = Directory.GetFiles(_goodCache, "*.bin");
        if (r.Code != 0 || bins.Length != 1)
            _seedProblem = $"the seeding run on opencl did not leave one cache entry (exit {r.Code}, {bins.Length} entries): {r.Err.Trim()}";
        else
            _seedEntry = bins[0];
        return _seedEntry;
    }

    private const string KernelProgramCache = "RNNFAST_OPENCL_CACHE";

    /// <summary>A cache folder for one case holding the damaged entry (or the damaged "folder" itself).</summary>
    private string DamagedCache(string damage, string seed)
    {
        string dir = Dir($"cache-{Interlocked.Increment(ref _next):D3}");
        string entry = Path.Combine(dir, Path.GetFileName(seed));
        byte[] good = File.ReadAllBytes(seed);
        switch (damage)
        {
            case "empty entry": File.WriteAllBytes(entry, []); break;
            case "entry truncated to 100 bytes": File.WriteAllBytes(entry, good[..100]); break;
            case "entry truncated to half": File.WriteAllBytes(entry, good[..(good.Length / 2)]); break;
            case "garbage entry":
                var g = new byte[good.Length];
                new Random(7).NextBytes(g);
                File.WriteAllBytes(entry, g);
                break;
            case "entry with one byte flipped":
                var f = (byte[])good.Clone();
                f[^1000] ^= 0x40;
                File.WriteAllBytes(entry, f);
                break;
            case "entry of the old format": File.WriteAllBytes(entry, good[56..]); break; // the driver's binary without the header
            case "entry is a FIFO": if (MakeFifo(entry) == null) throw new InvalidOperationException("mkfifo failed"); break;
            case "entry is a folder": Directory.CreateDirectory(entry); break;
            case "entry is a symlink to /dev/zero": File.CreateSymbolicLink(entry, "/dev/zero"); break;
            case "entry is a sparse 1 GiB file":
                // a valid-looking header claiming a 1 GiB payload, then a hole
                var header = (byte[])good[..56].Clone();
                BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(16), (1L << 30) - 56);
                using (var s = File.Create(entry))
                {
                    s.Write(header);
                    s.SetLength(1L << 30);
                }
                break;
            case "cache folder is a file": return Write($"cache-file-{_next}", "not a folder\n");
            case "cache folder is /dev/null": return "/dev/null";
            default: throw new ArgumentException(damage);
        }
        return dir;
    }

    private void AddCacheCases()
    {
        // every command on each of two damages (rotating), and `check` on every damage
        var plan = new List<(string Command, string Damage)>();
        for (int i = 0; i < Commands.Length; i++)
        {
            if (Commands[i] == "info") continue; // info builds no kernels
            plan.Add((Commands[i], Damages[(2 * i) % Damages.Length]));
            plan.Add((Commands[i], Damages[(2 * i + 1) % Damages.Length]));
        }
        foreach (var d in Damages)
            if (!plan.Contains(("check", d))) plan.Add(("check", d));

        string? seed = Damages.Length > 0 ? SeedEntry() : null;
        foreach (var (command, damage) in plan)
        {
            string dir = CaseDir();
            if (seed == null)
            {
                Add(command, $"OpenCL cache: {damage}", Line(command, dir, backend: "opencl"), Env(), dir, [0], null, skip: _seedProblem);
                continue;
            }
            string cache = DamagedCache(damage, seed);
            string entry = Path.Combine(cache, Path.GetFileName(seed));
            bool folderOk = Directory.Exists(cache) && cache != "/dev/null";
            Func<string?>? after = !folderOk || damage == "entry is a folder" ? null : () =>
            {
                // the damaged entry was replaced by a valid one (or removed): never left for the next run
                if (!File.Exists(entry)) return null;
                var info = new FileInfo(entry);
                if (info.LinkTarget != null) return $"the cache entry is still a symlink to {info.LinkTarget}";
                if (info.Length > 64 << 20) return $"the cache entry is still {info.Length} bytes";
                using var s = new FileStream(entry, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                var head = new byte[8];
                int n = s.Read(head);
                return n == 8 && Encoding.ASCII.GetString(head) == "RNFCLBIN" ? null : "the cache entry left behind has no RnnFast header";
            };
            Add(command, $"OpenCL cache: {damage}", Line(command, dir, backend: "opencl"), Env((KernelProgramCache, cache)), dir, [0], null, after: after);
        }
    }

    // ---- (d) absurd sizes

    private void AddSizeCases()
    {
        void Flag(string command, string mustSay, params string[] extra)
        {
            string dir = CaseDir();
            Add(command, string.Join(' ', extra), Line(command, dir, backend: command is "info" or "check" or "verify" ? null : "cpu", extra: extra),
                Env(), dir, [2], mustSay);
        }
        Flag("train-lm", "--hidden", "--hidden", "1000000000");
        Flag("train-lm", "--layers", "--layers", "1000", "--hidden", "128", "--seq-len", "64", "--batch", "32");
        Flag("train-lm", "--batch", "--batch", "40000000");
        Flag("train-lm", "--seq-len", "--seq-len", "0");
        Flag("train-lm", "--embed", "--embed", "2000000000");
        Flag("train-lm", "--steps", "--steps", "-1");
        Flag("train-forecast", "--hidden", "--hidden", "1000000000");
        Flag("train-forecast", "--horizon", "--horizon", "2000000000");
        Flag("train-forecast", "--batch", "--batch", "40000000");
        Flag("train-tag", "--hidden", "--hidden", "1000000000");
        Flag("train-tag", "--layers", "--layers", "1000", "--hidden", "128", "--batch", "32");
        Flag("classify", "--hidden", "--hidden", "1000000000");
        // the generated task's sizes (no --data)
        foreach (var (flag, value, say) in new[] { ("--examples", "100000000", "--examples"), ("--max-length", "2000000000", "--max-length"),
                     ("--classes", "1000000000", "--classes"), ("--min-length", "0", "--min-length") })
        {
            string dir = CaseDir();
            Add("classify", $"{flag} {value} (generated task)", ["classify", "--steps", "1", "--hidden", "8", "--embed", "4", "--batch", "2",
                "--backend", "cpu", flag, value], Env(), dir, [2], say);
        }
        {
            string dir = CaseDir();
            Add("sample", "--length 2000000000", ["sample", "--model", _lm, "--length", "2000000000", "--backend", "cpu"], Env(), dir, [2], "--length");
        }
        Flag("sample", "--top-k", "--top-k", "-5");
        Flag("demo", "--seconds", "--seconds", "-5");

        foreach (var line in new[] { "lstm uni 1000 1 1 4096 4096 inference", "gru bi 100000 100000 100000 100000 100000 training", "lstm uni 0 1 1 8 8 inference" })
        {
            string dir = CaseDir();
            string shapes = Path.Combine(dir, "shapes.txt");
            File.WriteAllText(shapes, line + "\n");
            Add("bench", $"shapes line '{line}'", Line("bench", dir, "--shapes", shapes), Env(), dir, [2], "shapes.txt:1");
        }

        {
            string dir = CaseDir();
            string sparse = Path.Combine(dir, "shapes-sparse.txt");
            using (var f = File.Create(sparse)) f.SetLength(1L << 30);
            Add("bench", "--shapes is a sparse 1 GiB file", Line("bench", dir, "--shapes", sparse), Env(), dir, [2], "--shapes");
        }

        // sample --length 1e9 whose reader goes away after 10 characters: ends quietly
        {
            string dir = CaseDir();
            Add("sample", "--length 1000000000, stdout closed after 10 characters", ["sample", "--model", _lm, "--length", "1000000000", "--backend", "cpu"],
                Env(), dir, [0], null, closeAfter: 10);
        }

        // model files whose sizes are absurd: overflowing shapes, zero-width dims, a giant header length, a 1 GiB tensor
        var lmCorpus = new HostileModelCorpus(File.ReadAllBytes(_lm), isCharModel: true);
        var goldenCorpus = new HostileModelCorpus(File.ReadAllBytes(_golden), isCharModel: false);
        var kinds = new[] { "shape-overflow", "zero-width-dims", "header-length-giant" };
        foreach (var kind in kinds)
        {
            var lmCase = lmCorpus.Generate(200, 11).First(c => c.Kind == kind);
            string lmFile = Write($"lm-{kind}.safetensors", "");
            File.WriteAllBytes(lmFile, lmCase.Bytes);
            int[] codes = lmCase.Expect == HostileExpectation.Refused ? [2] : [0, 2];
            foreach (var command in new[] { "sample", "eval" })
            {
                string dir = CaseDir();
                Add(command, $"--model with {kind}", Line(command, dir, "--model", lmFile, "cpu"), Env(), dir, codes, null);
            }
            {
                string dir = CaseDir();
                Add("train-lm", $"--resume with {kind}", Line("train-lm", dir, "--resume", lmFile, "cpu"), Env(), dir, codes, null);
            }
            var gCase = goldenCorpus.Generate(200, 11).First(c => c.Kind == kind);
            string gFile = Write($"golden-{kind}.safetensors", "");
            File.WriteAllBytes(gFile, gCase.Bytes);
            {
                string dir = CaseDir();
                Add("check", $"file with {kind}", Line("check", dir, "check", gFile), Env(), dir,
                    gCase.Expect == HostileExpectation.Refused ? [2] : [0, 2], null);
            }
        }
        {
            string huge = HugeTensorModel();
            foreach (var command in new[] { "sample", "eval", "predict" })
            {
                string dir = CaseDir();
                Add(command, "--model with a sparse 1 GiB tensor", Line(command, dir, "--model", huge, "cpu"), Env(), dir, [0, 2], null);
            }
        }
    }

    /// <summary>The LM checkpoint with one more tensor of 2^28 floats (1 GiB), its bytes a hole in a sparse file.</summary>
    private string HugeTensorModel()
    {
        byte[] bytes = File.ReadAllBytes(_lm);
        int n = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, n))!.AsObject();
        long dataLength = bytes.Length - 8 - n;
        header["zz.huge"] = new JsonObject
        {
            ["dtype"] = "F32",
            ["shape"] = new JsonArray(1 << 28),
            ["data_offsets"] = new JsonArray(dataLength, dataLength + (1L << 30)),
        };
        byte[] h = Encoding.UTF8.GetBytes(header.ToJsonString());
        string path = Path.Combine(_root, "lm-huge.safetensors");
        using var s = File.Create(path);
        s.Write(BitConverter.GetBytes((long)h.Length));
        s.Write(h);
        s.Write(bytes, 8 + n, (int)dataLength);
        s.SetLength(s.Length + (1L << 30));
        return path;
    }
}
