// The OpenCL ICD loader (libOpenCL.so.1) dlopen()s every vendor driver it is told about on the first OpenCL call, out
// of RnnFast's reach: a truncated driver there kills the process with SIGBUS. So before that first call the drivers
// are found the way ocl-icd finds them (OCL_ICD_VENDORS: a folder of .icd files, one .icd file, or a library;
// else OPENCL_VENDOR_PATH or /etc/OpenCL/vendors; plus the Khronos loader's OCL_ICD_FILENAMES and OPENCL_LAYERS) and
// each is read by ElfImageCheck; a bad one makes the backend unavailable with its path. The same description of
// where the drivers come from is what the "no platform" message names.
using RnnFast.Native;

namespace RnnFast.Backends.OpenCL;

/// <summary>Where the ICD loader takes its vendor drivers from, and whether each can be loaded safely.</summary>
internal static class OpenCLIcdCheck
{
    /// <summary>The default folder of .icd files.</summary>
    public const string DefaultVendorFolder = "/etc/OpenCL/vendors";

    /// <summary>
    /// Where the drivers come from, for messages: "OCL_ICD_VENDORS=...", "OPENCL_VENDOR_PATH=..." or the default folder.
    /// </summary>
    public static string Source()
    {
        if (Environment.GetEnvironmentVariable("OCL_ICD_VENDORS") is { Length: > 0 } v) return $"OCL_ICD_VENDORS={v}";
        if (Environment.GetEnvironmentVariable("OPENCL_VENDOR_PATH") is { Length: > 0 } p) return $"OPENCL_VENDOR_PATH={p}";
        return DefaultVendorFolder;
    }

    /// <summary>The driver libraries (names or paths) the ICD loader will dlopen, each with the file that lists it.</summary>
    public static IReadOnlyList<(string Library, string ListedIn)> Drivers()
    {
        var list = new List<(string, string)>();
        string vendorFolder = Environment.GetEnvironmentVariable("OPENCL_VENDOR_PATH") is { Length: > 0 } vp ? vp : DefaultVendorFolder;
        var vendors = Environment.GetEnvironmentVariable("OCL_ICD_VENDORS");
        if (!string.IsNullOrEmpty(vendors))
        {
            if (Directory.Exists(vendors)) AddFolder(list, vendors);
            else if (vendors.EndsWith(".icd", StringComparison.Ordinal))
            {
                string file = vendors;
                if (!vendors.Contains('/') && File.Exists(Path.Combine(vendorFolder, vendors))) file = Path.Combine(vendorFolder, vendors);
                AddIcd(list, file);
            }
            else list.Add((vendors, "OCL_ICD_VENDORS"));
        }
        else AddFolder(list, vendorFolder);
        foreach (var variable in new[] { "OCL_ICD_FILENAMES", "OPENCL_LAYERS" })
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } names)
                foreach (var name in names.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    list.Add((name, variable));
        return list;
    }

    /// <summary>The first driver that cannot be loaded safely, in one line naming it and where it is listed; else null.</summary>
    public static string? Problem()
    {
        foreach (var (library, listedIn) in Drivers())
            if (ElfImageCheck.FindProblem(library) is { } problem)
                return $"the OpenCL driver {library} (listed in {listedIn}, drivers from {Source()}) cannot be loaded safely: {problem}; " +
                       "the ICD loader would load it on the first OpenCL call, so OpenCL is not used (fix or remove that driver)";
        return null;
    }

    private static void AddFolder(List<(string, string)> list, string folder)
    {
        string[] files;
        try { files = Directory.GetFiles(folder, "*.icd"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        foreach (var f in files.Order(StringComparer.Ordinal)) AddIcd(list, f);
    }

    private static void AddIcd(List<(string, string)> list, string icdFile)
    {
        string text;
        try { text = File.ReadAllText(icdFile); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (!string.IsNullOrEmpty(line)) list.Add((line, icdFile));
    }
}
