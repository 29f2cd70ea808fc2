// Packing and the package smoke check, loaded by build.cake.
//   PackPackages: dotnet pack of the solution into artifacts/packages (RnnFast, its dependency packages RnnFast.Core,
//     RnnFast.Backends.*, RnnFast.Bindings.*, and the RnnFast.Cli tool; tests, benchmarks, samples and RnnFast.Tools
//     are IsPackable=false). The version comes from MinVer (git tags).
//   PackageSmoke: what a new user does with those packages, with no project reference: a new console app in a temp
//     folder adds `RnnFast` from the local feed and runs samples/EmbedQuickstart's Program.cs (lists every backend
//     with its availability, loads a model on the chosen backend, steps it); the tool is installed with
//     `dotnet tool install --tool-path` and `rnnfast info` and `rnnfast train` run from it. Restores use their own
//     packages folder (a stale RnnFast of the same version in ~/.nuget/packages cannot be picked up) and a nuget.config
//     holding the local feed (the only source for RnnFast*) plus this machine's configured sources.
using System.Diagnostics;
using System.Text.RegularExpressions;

DirectoryPath PackagesDirectory() => MakeAbsolute(Directory("./artifacts/packages"));

void PackPackages(string solution, string configuration, bool noBuild)
{
    var output = PackagesDirectory();
    CleanDirectory(output);
    var msbuild = new DotNetMSBuildSettings();
    // Reproducible PDB paths where Pack builds itself (after the Test target's Build it reuses that build).
    if (!noBuild) msbuild = msbuild.WithProperty("ContinuousIntegrationBuild", "true");
    DotNetPack(solution, new DotNetPackSettings
    {
        Configuration = configuration,
        OutputDirectory = output,
        NoBuild = noBuild,
        MSBuildSettings = msbuild,
    });
    foreach (var f in GetFiles(output.FullPath + "/*.nupkg")) Information($"packed {f.GetFilename()}");
}

/// The version the packages were packed with, read from RnnFast.Cli.VERSION.nupkg.
string PackedVersion()
{
    var names = GetFiles(PackagesDirectory().FullPath + "/RnnFast.Cli.*.nupkg")
        .Select(f => f.GetFilename().ToString())
        .Select(n => Regex.Match(n, @"^RnnFast\.Cli\.(\d+\.\d+\.\d+.*)\.nupkg$"))
        .Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct().ToList();
    if (names.Count != 1)
        throw new Exception($"expected one RnnFast.Cli package in {PackagesDirectory()}, found {names.Count} (run the Pack target)");
    return names[0];
}

/// The package sources this machine's NuGet configuration enables (`dotnet nuget list source`).
List<string> MachineSources(string workingDirectory)
{
    var (code, text) = SmokeRun("dotnet", new[] { "nuget", "list", "source", "--format", "short" }, workingDirectory, null);
    if (code != 0) throw new Exception("dotnet nuget list source failed: " + text);
    // short format: one line per source, "E <url>" for an enabled one, "D <url>" for a disabled one
    return text.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("E ")).Select(l => l.Substring(2).Trim()).ToList();
}

(int Code, string Text) SmokeRun(string file, IEnumerable<string> args, string workingDirectory, IDictionary<string, string> env)
{
    var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory };
    foreach (var a in args) psi.ArgumentList.Add(a);
    psi.Environment.Remove("RNNFAST_BACKEND");
    if (env != null) foreach (var kv in env) psi.Environment[kv.Key] = kv.Value;
    using var p = Process.Start(psi);
    var stdout = p.StandardOutput.ReadToEndAsync();
    var stderr = p.StandardError.ReadToEndAsync();
    if (!p.WaitForExit(300_000)) { p.Kill(true); return (-1, $"{file} {string.Join(" ", args)}: timed out after 300 s"); }
    return (p.ExitCode, stdout.Result + stderr.Result);
}

string SmokeStep(string what, string file, string[] args, string dir, IDictionary<string, string> env)
{
    var clock = Stopwatch.StartNew();
    var (code, text) = SmokeRun(file, args, dir, env);
    Information($"  {what}: exit {code}, {clock.Elapsed.TotalSeconds:F1} s");
    if (code != 0) throw new Exception($"package smoke: {what} failed (exit {code}): {file} {string.Join(" ", args)}\n{text}");
    return text;
}

/// requiredAvailable: backends that must be available on this machine (the Deps target installs their libraries).
void PackageSmoke(string[] requiredAvailable)
{
    var clock = Stopwatch.StartNew();
    string version = PackedVersion();
    string feed = PackagesDirectory().FullPath;
    string tmp = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rnnfast-package-smoke-" + Guid.NewGuid().ToString("N").Substring(0, 8));
    bool keep = HasArgument("smoke-keep");   // leave the temp folder for a look
    System.IO.Directory.CreateDirectory(tmp);
    Information($"package smoke: RnnFast {version} from {feed}, in {tmp}");
    try
    {
        var sources = MachineSources(tmp);
        var config = new System.Text.StringBuilder();
        config.AppendLine("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <config>");
        config.AppendLine($"    <add key=\"globalPackagesFolder\" value=\"{tmp}/nuget-packages\" />\n  </config>\n  <packageSources>\n    <clear />");
        config.AppendLine($"    <add key=\"rnnfast-local\" value=\"{feed}\" />");
        for (int i = 0; i < sources.Count; i++) config.AppendLine($"    <add key=\"machine-{i}\" value=\"{System.Security.SecurityElement.Escape(sources[i])}\" />");
        // the user-wide package cache as a read-only source for third-party dependencies (fast, offline where it has them)
        string cache = System.IO.Path.Combine(Environment.GetEnvironmentVariable("HOME") ?? "/root", ".nuget", "packages");
        bool useCache = System.IO.Directory.Exists(cache) && Environment.GetEnvironmentVariable("NUGET_PACKAGES") == null;
        if (useCache) config.AppendLine($"    <add key=\"user-cache\" value=\"{cache}\" />");
        config.AppendLine("  </packageSources>\n  <packageSourceMapping>");
        config.AppendLine("    <packageSource key=\"rnnfast-local\">\n      <package pattern=\"RnnFast\" />\n      <package pattern=\"RnnFast.*\" />\n    </packageSource>");
        var others = Enumerable.Range(0, sources.Count).Select(i => $"machine-{i}").Concat(useCache ? new[] { "user-cache" } : Array.Empty<string>());
        foreach (var key in others) config.AppendLine($"    <packageSource key=\"{key}\">\n      <package pattern=\"*\" />\n    </packageSource>");
        config.AppendLine("  </packageSourceMapping>\n</configuration>");
        // the library's folder holds this nuget.config; the tool installs from a sibling folder without it
        string library = System.IO.Path.Combine(tmp, "library");
        System.IO.Directory.CreateDirectory(library);
        System.IO.File.WriteAllText(System.IO.Path.Combine(library, "nuget.config"), config.ToString());
        var env = new Dictionary<string, string> { ["NUGET_PACKAGES"] = $"{tmp}/nuget-packages", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" };

        // The tool: installed from the local feed, `rnnfast info` exits 0 and lists the backends. --add-source cannot be
        // combined with source mapping, so this runs in a folder under the machine's own NuGet configuration (the tool
        // package has no dependencies; NUGET_PACKAGES keeps the restore away from ~/.nuget/packages).
        string tools = System.IO.Path.Combine(tmp, "tools"), toolDir = System.IO.Path.Combine(tmp, "tool-install");
        System.IO.Directory.CreateDirectory(toolDir);
        SmokeStep("dotnet tool install RnnFast.Cli", "dotnet",
            new[] { "tool", "install", "--tool-path", tools, "RnnFast.Cli", "--add-source", feed, "--version", version }, toolDir, env);
        string rnnfast = System.IO.Path.Combine(tools, "rnnfast");
        string info = SmokeStep("rnnfast info", rnnfast, new[] { "info" }, tmp, env);
        Information(string.Join("\n", info.Split('\n').Select(l => "    " + l)));
        if (!info.Contains($"RnnFast {version}")) throw new Exception($"package smoke: rnnfast info does not report version {version}:\n{info}");

        // The bench problem lists travel inside the tool: an unknown --shapes name is refused listing the ones it has.
        var (shapesCode, shapesText) = SmokeRun(rnnfast, new[] { "bench", "--shapes", "no-such-list" }, tmp, env);
        foreach (var list in new[] { "small", "deepbench-inference", "deepbench-training", "lstm-yardstick" })
            if (shapesCode != 2 || !shapesText.Contains(list))
                throw new Exception($"package smoke: the installed tool does not carry bench/shapes/{list}.txt (exit {shapesCode}):\n{shapesText}");

        // A small model, trained by the installed tool, for the library snippet to load.
        string corpus = System.IO.Path.Combine(tmp, "corpus.txt");
        System.IO.File.WriteAllText(corpus, string.Concat(Enumerable.Range(0, 120).Select(i => $"x = {i} + {i % 7}\nprint(x)\n")));
        string model = System.IO.Path.Combine(tmp, "tiny.safetensors");
        SmokeStep("rnnfast train (tiny model)", rnnfast, new[] { "train", "--data", corpus, "--out", model, "--steps", "2", "--layers", "1",
            "--hidden", "16", "--embed", "8", "--seq-len", "16", "--batch", "4", "--eval-every", "0", "--checkpoint-every", "0", "--backend", "cpu" }, tmp, env);

        // The library: a new console app whose only RnnFast reference is the package, running EmbedQuickstart's code.
        string app = System.IO.Path.Combine(library, "SmokeApp");
        SmokeStep("dotnet new console", "dotnet", new[] { "new", "console", "-o", app, "--framework", "net10.0" }, library, env);
        SmokeStep("dotnet add package RnnFast", "dotnet", new[] { "add", app, "package", "RnnFast", "--version", version }, library, env);
        System.IO.File.Copy("samples/EmbedQuickstart/Program.cs", System.IO.Path.Combine(app, "Program.cs"), overwrite: true);
        SmokeStep("dotnet build SmokeApp", "dotnet", new[] { "build", app, "-c", "Release", "--nologo", "-v", "q" }, library, env);
        string dll = System.IO.Path.Combine(app, "bin", "Release", "net10.0", "SmokeApp.dll");
        string listed = SmokeStep("SmokeApp (backend auto)", "dotnet", new[] { dll, model }, tmp, env);
        Information(string.Join("\n", listed.Split('\n').Select(l => "    " + l)));
        foreach (var name in new[] { "reference", "cpu", "onednn", "opencl", "cuda" })
            if (!listed.Contains($"backend {name} available=")) throw new Exception($"package smoke: the app does not list backend {name}:\n{listed}");
        foreach (var name in requiredAvailable)
        {
            if (!listed.Contains($"backend {name} available=True"))
                throw new Exception($"package smoke: backend {name} is not available to the packaged app (its native library is installed by the Deps target; pass --smoke-require= to waive):\n{listed}");
            string chosen = SmokeStep($"SmokeApp (RNNFAST_BACKEND={name})", "dotnet", new[] { dll, model }, tmp,
                new Dictionary<string, string>(env) { ["RNNFAST_BACKEND"] = name });
            if (!chosen.Contains($"model on {name}") || !chosen.Contains("step ")) throw new Exception($"package smoke: RNNFAST_BACKEND={name} did not run the model on {name}:\n{chosen}");
        }
        if (!listed.Contains("model on ") || !listed.Contains("step ")) throw new Exception($"package smoke: the app did not load and step the model:\n{listed}");
        Information($"package smoke: passed in {clock.Elapsed.TotalSeconds:F0} s (RnnFast {version}; required available: {string.Join(",", requiredAvailable)})");
    }
    finally
    {
        if (keep) Information($"package smoke: kept {tmp}");
        else try { System.IO.Directory.Delete(tmp, recursive: true); } catch (Exception e) { Warning($"could not remove {tmp}: {e.Message}"); }
    }
}
