// The kernels' source (native/opencl/*.cl, embedded in this assembly) and its compilation for one device: once per
// process and device, and across processes through a cache of program binaries on disk (keyed by the device, driver,
// options and source; under $XDG_CACHE_HOME/rnnfast/opencl or ~/.cache/rnnfast/opencl; RNNFAST_OPENCL_CACHE=DIR
// moves it, =off disables it). A binary the driver rejects is deleted and the source compiled again.
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using RnnFast.Bindings.OpenCL;

namespace RnnFast.Backends.OpenCL;

/// <summary>The OpenCL C source of every kernel and the compiled program of one device.</summary>
internal static class KernelProgram
{
    /// <summary>The environment variable that moves (a directory) or disables (off) the program binary cache.</summary>
    public const string CacheVariable = "RNNFAST_OPENCL_CACHE";

    /// <summary>The kernel files, in the order they are concatenated into one program.</summary>
    public static readonly string[] Files = ["gemm.cl", "rnn_forward.cl", "rnn_backward.cl"];

    private static readonly Lazy<string> SourceText = new(LoadSource);

    /// <summary>Every kernel file, concatenated.</summary>
    public static string Source => SourceText.Value;

    /// <summary>A built program and how it was obtained.</summary>
    public sealed record Built(CLProgram Program, string Origin, TimeSpan Elapsed);

    /// <summary>
    /// Builds the kernels for <paramref name="device"/>: from the binary cache in <paramref name="cacheDirectory"/> when it
    /// holds this exact build, else from source (then caching the binary there); a null directory disables the cache.
    /// </summary>
    public static Built Build(CL cl, CLContext context, OpenCLDeviceEntry device, string options, string? cacheDirectory)
    {
        var watch = Stopwatch.StartNew();
        string? path = cacheDirectory == null ? null : CachePath(cacheDirectory, device, options);
        if (path != null && File.Exists(path))
        {
            try
            {
                var binary = File.ReadAllBytes(path);
                var fromBinary = cl.CreateProgramWithBinary(context, device.Device, binary);
                try
                {
                    cl.BuildProgram(fromBinary, device.Device, options);
                    return new Built(fromBinary, $"binary cache {path}", watch.Elapsed);
                }
                catch (CLException)
                {
                    fromBinary.Dispose();
                    throw;
                }
            }
            catch (Exception e) when (e is CLException or IOException or UnauthorizedAccessException)
            {
                TryDelete(path); // stale or foreign: compile from source below
            }
        }

        var program = cl.CreateProgramWithSource(context, Source);
        try
        {
            cl.BuildProgram(program, device.Device, options);
        }
        catch
        {
            program.Dispose();
            throw;
        }
        string origin = "compiled from source";
        if (path != null)
        {
            try
            {
                var binary = cl.GetProgramBinary(program);
                if (binary.Length > 0)
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    var tmp = $"{path}.{Environment.ProcessId}.tmp";
                    File.WriteAllBytes(tmp, binary);
                    File.Move(tmp, path, overwrite: true);
                    origin += $", binary cached at {path}";
                }
            }
            catch (Exception e) when (e is CLException or IOException or UnauthorizedAccessException)
            {
                origin += $" (binary not cached: {e.Message})";
            }
        }
        return new Built(program, origin, watch.Elapsed);
    }

    /// <summary>The cache directory, or null when disabled or no home directory is known.</summary>
    public static string? CacheDirectory()
    {
        var setting = Environment.GetEnvironmentVariable(CacheVariable);
        if (!string.IsNullOrWhiteSpace(setting))
            return setting.Trim().Equals("off", StringComparison.OrdinalIgnoreCase) ? null : setting.Trim();
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrWhiteSpace(xdg)) return Path.Combine(xdg, "rnnfast", "opencl");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".cache", "rnnfast", "opencl");
    }

    /// <summary>The binary's file: a hash of everything that changes the binary.</summary>
    internal static string CachePath(string dir, OpenCLDeviceEntry device, string options)
    {
        var p = device.Properties;
        var key = string.Join("\n", device.Platform.Name, device.Platform.Version, p.Name, p.Vendor, p.Version, p.DriverVersion, options, Source);
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..32].ToLowerInvariant();
        return Path.Combine(dir, hash + ".bin");
    }

    private static string LoadSource()
    {
        var asm = typeof(KernelProgram).Assembly;
        var sb = new StringBuilder();
        foreach (var file in Files)
        {
            using var stream = asm.GetManifestResourceStream("RnnFast.OpenCL." + file)
                ?? throw new InvalidOperationException($"kernel source '{file}' is not embedded in {asm.GetName().Name}");
            using var reader = new StreamReader(stream);
            sb.Append("// ---- ").Append(file).Append('\n').Append(reader.ReadToEnd()).Append('\n');
        }
        return sb.ToString();
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
