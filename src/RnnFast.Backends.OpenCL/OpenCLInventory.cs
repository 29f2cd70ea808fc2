// Every OpenCL platform and device this process can see, enumerated once: the device list `opencl:N` indexes into,
// the best device (`opencl`: a GPU before anything else, then the most compute units), and, where there is none, why
// (libOpenCL missing, with the loader's trace; no platform registered with the ICD loader; platforms without devices).
using RnnFast.Bindings.OpenCL;
using RnnFast.Native;

namespace RnnFast.Backends.OpenCL;

/// <summary>One platform: its name, vendor and version, and how many devices it has (or why listing them failed).</summary>
internal sealed record OpenCLPlatformEntry(int Index, string Name, string Vendor, string Version, int DeviceCount, string? Problem);

/// <summary>One device: its index in the process-wide list, its platform and properties.</summary>
internal sealed record OpenCLDeviceEntry(int Index, OpenCLPlatformEntry Platform, CLDevice Device, CLDeviceProperties Properties);

/// <summary>The platforms and devices seen through one libOpenCL load, or the reason there are none.</summary>
internal sealed class OpenCLInventory
{
    private static readonly Lazy<OpenCLInventory> Process = new(() => Enumerate(CLLibrary.Load()), LazyThreadSafetyMode.ExecutionAndPublication);

    private OpenCLInventory(NativeLoadResult library, IReadOnlyList<OpenCLPlatformEntry> platforms, IReadOnlyList<OpenCLDeviceEntry> devices, string? problem)
    {
        Library = library;
        Platforms = platforms;
        Devices = devices;
        Problem = problem;
    }

    /// <summary>The inventory of this process (libOpenCL found by the loader: RNNFAST_OPENCL_PATH, then the known names).</summary>
    public static OpenCLInventory Current => Process.Value;

    public NativeLoadResult Library { get; }
    public IReadOnlyList<OpenCLPlatformEntry> Platforms { get; }
    public IReadOnlyList<OpenCLDeviceEntry> Devices { get; }

    /// <summary>Why no device can be used (null when at least one device is available).</summary>
    public string? Problem { get; }

    /// <summary>The device `opencl` uses: a GPU before other types, then the most compute units, then the first listed.</summary>
    public OpenCLDeviceEntry? Best =>
        Devices.Where(d => d.Properties.Available && d.Properties.CompilerAvailable)
            .OrderByDescending(d => d.Properties.IsGpu)
            .ThenByDescending(d => d.Properties.ComputeUnits)
            .ThenBy(d => d.Index)
            .FirstOrDefault();

    /// <summary>Enumerates through an already attempted load of libOpenCL (tests pass a failed one).</summary>
    public static OpenCLInventory Enumerate(NativeLoadResult library)
    {
        ArgumentNullException.ThrowIfNull(library);
        if (!library.Succeeded) return new OpenCLInventory(library, [], [], library.Describe());
        // The ICD loader dlopens every driver on the first call: one it would crash on (truncated) keeps OpenCL unused.
        if (OpenCLIcdCheck.Problem() is { } driverProblem) return new OpenCLInventory(library, [], [], driverProblem);
        var cl = CL.GetApi();
        CLPlatform[] platformIds;
        try
        {
            platformIds = cl.GetPlatformIDs();
        }
        catch (CLException e) when (e.Code == ErrorCodes.PlatformNotFoundKhr)
        {
            return new OpenCLInventory(library, [], [],
                $"no OpenCL platform: {e.Message} (the ICD loader {library.LoadedFrom} found no vendor driver in {OpenCLIcdCheck.Source()}; " +
                "to install one: Debian/Ubuntu `apt install pocl-opencl-icd`, Fedora `dnf install pocl`, or a GPU vendor's OpenCL driver)");
        }
        catch (CLException e)
        {
            return new OpenCLInventory(library, [], [], $"no OpenCL platform: {e.Message}");
        }
        if (platformIds.Length == 0)
            return new OpenCLInventory(library, [], [], $"no OpenCL platform: clGetPlatformIDs found none (ICD loader {library.LoadedFrom})");

        var platforms = new List<OpenCLPlatformEntry>();
        var devices = new List<OpenCLDeviceEntry>();
        for (int p = 0; p < platformIds.Length; p++)
        {
            var id = platformIds[p];
            string name = SafeInfo(() => cl.GetPlatformInfo(id, PlatformInfo.Name));
            string vendor = SafeInfo(() => cl.GetPlatformInfo(id, PlatformInfo.Vendor));
            string version = SafeInfo(() => cl.GetPlatformInfo(id, PlatformInfo.Version));
            CLDevice[] ids;
            string? problem = null;
            try { ids = cl.GetDeviceIDs(id, DeviceType.All); }
            catch (CLException e) { ids = []; problem = e.Message; }
            var entry = new OpenCLPlatformEntry(p, name, vendor, version, ids.Length, problem ?? (ids.Length == 0 ? "no devices" : null));
            platforms.Add(entry);
            foreach (var d in ids)
            {
                try { devices.Add(new OpenCLDeviceEntry(devices.Count, entry, d, CLDeviceProperties.Query(cl, d))); }
                catch (CLException e) { platforms[p] = entry with { Problem = $"a device could not be queried: {e.Message}" }; }
            }
        }
        string? none = null;
        if (devices.Count == 0)
            none = $"{platforms.Count} OpenCL platform(s) but no device: " + string.Join("; ", platforms.Select(p => $"{p.Name}: {p.Problem ?? "no devices"}"));
        else if (!devices.Any(d => d.Properties.Available && d.Properties.CompilerAvailable))
            none = "no OpenCL device is available with a compiler: " + string.Join("; ", devices.Select(d => d.Properties.Describe()));
        return new OpenCLInventory(library, platforms, devices, none);
    }

    /// <summary>`rnnfast info`'s lines: each platform and its devices with their index, or the reason there are none.</summary>
    public IReadOnlyList<string> Describe()
    {
        if (Platforms.Count == 0) return [Problem ?? "no OpenCL platform"];
        var lines = new List<string>();
        var best = Best;
        foreach (var p in Platforms)
        {
            lines.Add($"platform {p.Index}: {p.Name} ({p.Vendor}; {p.Version})" + (p.Problem == null ? "" : $": {p.Problem}"));
            foreach (var d in Devices.Where(d => d.Platform.Index == p.Index))
                lines.Add($"  opencl:{d.Index}  {d.Properties.Describe()}" + (ReferenceEquals(d, best) ? "  <- opencl" : ""));
        }
        if (Problem != null) lines.Add(Problem);
        return lines;
    }

    private static string SafeInfo(Func<string> query)
    {
        try { return query(); }
        catch (CLException e) { return $"({e.Message})"; }
    }
}
