// Finding libcuda.so.1 and libcudnn.so.9 (or .8) through RnnFast's one loader (NativeLibraryLoader, with its trace).
// The driver: RNNFAST_CUDA_PATH, else the soname and the driver's usual folders (Debian/Ubuntu multiarch, /usr/lib64,
// the NVIDIA container toolkit's /usr/local/nvidia/lib64, WSL's /usr/lib/wsl/lib). cuDNN: RNNFAST_CUDNN_PATH, else
// the sonames, the CUDA toolkit's folders, then Python wheels' nvidia/*/lib folders (site-packages under
// /opt/*/.venv, /usr/lib/python3*, /usr/local/lib/python3*, ~/.local/lib/python3*, $VIRTUAL_ENV, $CONDA_PREFIX).
// cuDNN 9's libcudnn.so.9 is a small shim that dlopens its sub-libraries (libcudnn_graph/ops/adv.so.9) by name, and
// those need cuBLAS(Lt); when the shim was loaded from a folder (not by name through LD_LIBRARY_PATH), those
// companions are preloaded from the same folder and the neighbouring wheels first, so the later dlopen by name finds
// them already loaded. Every companion attempt is part of the cuDNN trace.
using System.Text;
using RnnFast.Native;

namespace RnnFast.Bindings.Cuda;

/// <summary>The outcome of loading cuDNN: the shim's load result plus the companions preloaded beside it.</summary>
public sealed class CudnnLoadResult
{
    internal CudnnLoadResult(NativeLoadResult main, IReadOnlyList<NativeLoadResult> companions)
    {
        Main = main;
        Companions = companions;
    }

    /// <summary>libcudnn.so.N itself.</summary>
    public NativeLoadResult Main { get; }

    /// <summary>The sub-libraries and cuBLAS libraries preloaded from the shim's folder and its neighbours (may be empty).</summary>
    public IReadOnlyList<NativeLoadResult> Companions { get; }

    /// <summary>True when libcudnn itself loaded (companions are optional).</summary>
    public bool Succeeded => Main.Succeeded;

    /// <summary>The main trace, then one entry per companion.</summary>
    public string Describe()
    {
        var sb = new StringBuilder(Main.Describe());
        if (Companions.Count > 0)
        {
            sb.Append("; companions: ");
            sb.Append(string.Join(", ", Companions.Select(c => c.Succeeded
                ? $"{Path.GetFileName(c.LoadedFrom)} loaded"
                : $"{c.Spec.Candidates[0]}: {c.Trace.LastOrDefault()?.Error ?? "not loaded"}")));
        }
        return sb.ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => Describe();
}

/// <summary>The CUDA driver and cuDNN libraries: their lookup specs, loading (once per process) and state.</summary>
public static class CudaLibraries
{
    /// <summary>The environment variable that names libcuda's file, replacing the search.</summary>
    public const string DriverPathVariable = "RNNFAST_CUDA_PATH";

    /// <summary>The environment variable that names libcudnn's file, replacing the search.</summary>
    public const string CudnnPathVariable = "RNNFAST_CUDNN_PATH";

    private static readonly object Gate = new();
    private static readonly Lazy<NativeLibrarySpec> LazyCudnnSpec = new(() => MakeCudnnSpec(rootPrefix: ""));
    private static CudnnLoadResult? _cudnn;
    private static volatile bool _driverLoaded;
    private static volatile bool _cudnnLoaded;
    private static NativeLibraryHandle? _cudnnHandle;

    /// <summary>libcuda.so.1: the soname, then the driver's usual folders.</summary>
    public static NativeLibrarySpec DriverSpec { get; } = new("CUDA driver", DriverApiNative.Lib, DriverPathVariable,
    [
        "libcuda.so.1",
        "/usr/lib/x86_64-linux-gnu/libcuda.so.1",
        "/usr/lib64/libcuda.so.1",
        "/usr/local/nvidia/lib64/libcuda.so.1",
        "/usr/lib/wsl/lib/libcuda.so.1",
        "/usr/lib/aarch64-linux-gnu/libcuda.so.1",
    ])
    {
        InstallHint = "libcuda.so.1 comes with the NVIDIA driver: Debian `apt install libcuda1` (non-free), Ubuntu `apt install nvidia-driver-<version>`, Fedora (RPM Fusion) `dnf install xorg-x11-drv-nvidia-cuda-libs`",
    };

    /// <summary>libcudnn.so.9 then .8: sonames, CUDA toolkit folders, then Python wheels (globbed once, when first asked for).</summary>
    public static NativeLibrarySpec CudnnSpec => LazyCudnnSpec.Value;

    /// <summary>True once <see cref="LoadDriver"/> succeeded (error formatting asks the driver only then).</summary>
    public static bool DriverLoaded => _driverLoaded;

    /// <summary>True once <see cref="LoadCudnn"/> succeeded.</summary>
    public static bool CudnnLoaded => _cudnnLoaded;

    /// <summary>Called by the native classes' static constructors, before their first call resolves a library.</summary>
    internal static void RegisterResolver() =>
        NativeLibraryLoader.RegisterResolver(typeof(CudaLibraries).Assembly, DriverSpec, CudnnSpec);

    /// <summary>Loads libcuda once per process (the outcome, with its trace, is cached).</summary>
    public static NativeLoadResult LoadDriver()
    {
        var r = NativeLibraryLoader.Load(DriverSpec);
        if (r.Succeeded) _driverLoaded = true;
        return r;
    }

    /// <summary>Loads libcudnn once per process, then its companions when it came from a folder (see the file header).</summary>
    public static CudnnLoadResult LoadCudnn()
    {
        lock (Gate)
        {
            if (_cudnn != null) return _cudnn;
            var main = NativeLibraryLoader.Load(CudnnSpec);
            var companions = new List<NativeLoadResult>();
            if (main.Succeeded && main.LoadedFrom is { } from && from.Contains('/'))
                foreach (var path in CompanionPaths(from))
                    companions.Add(NativeLibraryLoader.TryLoad(new NativeLibrarySpec($"cuDNN companion {Path.GetFileName(path)}",
                        Path.GetFileName(path), CudnnPathVariable, [path]), null));
            _cudnn = new CudnnLoadResult(main, companions);
            if (main.Succeeded)
            {
                _cudnnHandle = main.Handle;
                _cudnnLoaded = true;
            }
            return _cudnn;
        }
    }

    /// <summary>True when the loaded cuDNN exports <paramref name="symbol"/> (false before it is loaded).</summary>
    public static bool CudnnHasExport(string symbol) => _cudnnHandle?.HasExport(symbol) ?? false;

    /// <summary>
    /// The cuDNN spec with the wheel folders found under <paramref name="rootPrefix"/> ("" = the real file system; tests
    /// pass a temporary folder laid out like one).
    /// </summary>
    public static NativeLibrarySpec MakeCudnnSpec(string rootPrefix)
    {
        var candidates = new List<string>();
        foreach (var version in new[] { "9", "8" })
        {
            string file = "libcudnn.so." + version;
            candidates.Add(file);
            foreach (var dir in new[]
                     {
                         "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib",
                         "/usr/local/cuda/lib", "/usr/lib/aarch64-linux-gnu",
                     })
                candidates.Add(rootPrefix + dir + "/" + file);
            candidates.AddRange(WheelLibraryPaths(file, rootPrefix));
        }
        return new NativeLibrarySpec("cuDNN", CudnnNative.Lib, CudnnPathVariable, candidates.Distinct(StringComparer.Ordinal).ToArray())
        {
            InstallHint = "cuDNN 9: `pip install nvidia-cudnn-cu12` (a wheel, found in site-packages/nvidia/cudnn/lib) or NVIDIA's CUDA repository's libcudnn9-cuda-12 (apt or dnf)",
        };
    }

    /// <summary>
    /// Every existing site-packages/nvidia/*/lib/<paramref name="fileName"/> under the usual Python locations (virtual
    /// environments under /opt, the system and /usr/local Pythons, the user's ~/.local, $VIRTUAL_ENV, $CONDA_PREFIX).
    /// </summary>
    public static IReadOnlyList<string> WheelLibraryPaths(string fileName, string rootPrefix = "")
    {
        var found = new List<string>();
        foreach (var site in SitePackagesFolders(rootPrefix))
        foreach (var lib in SafeDirectories(Path.Combine(site, "nvidia")).Order(StringComparer.Ordinal))
        {
            var path = Path.Combine(lib, "lib", fileName);
            if (File.Exists(path)) found.Add(path);
        }
        return found;
    }

    /// <summary>The site-packages / dist-packages folders that exist under the usual Python locations.</summary>
    public static IReadOnlyList<string> SitePackagesFolders(string rootPrefix = "")
    {
        var pythonRoots = new List<string>();
        foreach (var opt in SafeDirectories(rootPrefix + "/opt").Order(StringComparer.Ordinal))
        {
            pythonRoots.Add(Path.Combine(opt, ".venv", "lib"));
            pythonRoots.Add(Path.Combine(opt, "lib"));
        }
        pythonRoots.Add(rootPrefix + "/usr/lib");
        pythonRoots.Add(rootPrefix + "/usr/local/lib");
        if (rootPrefix.Length == 0)
        {
            var home = Environment.GetEnvironmentVariable("HOME");
            if (!string.IsNullOrEmpty(home)) pythonRoots.Add(Path.Combine(home, ".local", "lib"));
            foreach (var v in new[] { "VIRTUAL_ENV", "CONDA_PREFIX" })
                if (Environment.GetEnvironmentVariable(v) is { Length: > 0 } env) pythonRoots.Add(Path.Combine(env, "lib"));
        }
        else
        {
            pythonRoots.Add(rootPrefix + "/root/.local/lib");
        }

        var sites = new List<string>();
        foreach (var root in pythonRoots.Distinct(StringComparer.Ordinal))
        foreach (var py in SafeDirectories(root).Where(d => Path.GetFileName(d).StartsWith("python3", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        foreach (var name in new[] { "site-packages", "dist-packages" })
        {
            var site = Path.Combine(py, name);
            if (Directory.Exists(site)) sites.Add(site);
        }
        return sites;
    }

    /// <summary>
    /// What to preload after libcudnn.so.N was loaded from <paramref name="cudnnPath"/>: cuBLAS and cuBLASLt from the
    /// neighbouring wheel folders (../../*/lib, e.g. nvidia/cublas/lib or nvidia/cu13/lib), then the cuDNN sub-libraries
    /// the RNN API needs from the same folder (graph, ops, adv for cuDNN 9; ops/adv infer/train for cuDNN 8), in
    /// dependency order. Only files that exist are listed.
    /// </summary>
    public static IReadOnlyList<string> CompanionPaths(string cudnnPath)
    {
        var dir = Path.GetDirectoryName(cudnnPath);
        if (string.IsNullOrEmpty(dir)) return [];
        string version = Path.GetFileName(cudnnPath) is { } f && f.StartsWith("libcudnn.so.", StringComparison.Ordinal) ? f["libcudnn.so.".Length..] : "9";
        var list = new List<string>();
        var wheelRoot = Path.GetDirectoryName(Path.GetDirectoryName(dir)); // site-packages/nvidia
        if (wheelRoot != null)
        {
            foreach (var lib in SafeDirectories(wheelRoot).Order(StringComparer.Ordinal).Select(d => Path.Combine(d, "lib")).Append(dir))
            foreach (var stem in new[] { "libcublasLt.so.", "libcublas.so." })
            foreach (var file in SafeFiles(lib).Where(p => IsSoname(Path.GetFileName(p), stem)).Order(StringComparer.Ordinal))
                if (!list.Contains(file)) list.Add(file);
        }
        string[] subs = version == "8"
            ? ["libcudnn_ops_infer", "libcudnn_ops_train", "libcudnn_adv_infer", "libcudnn_adv_train"]
            : ["libcudnn_graph", "libcudnn_ops", "libcudnn_adv"];
        foreach (var sub in subs)
        {
            var path = Path.Combine(dir, $"{sub}.so.{version}");
            if (File.Exists(path)) list.Add(path);
        }
        return list;
    }

    /// <summary>True for "stem" + digits (a soname such as libcublasLt.so.13), not for longer version strings.</summary>
    private static bool IsSoname(string name, string stem) =>
        name.StartsWith(stem, StringComparison.Ordinal) && name.Length > stem.Length && name[stem.Length..].All(char.IsAsciiDigit);

    private static IEnumerable<string> SafeDirectories(string path)
    {
        try
        {
            return Directory.Exists(path) ? Directory.GetDirectories(path) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static IEnumerable<string> SafeFiles(string path)
    {
        try
        {
            return Directory.Exists(path) ? Directory.GetFiles(path) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
