// Build tasks for RnnFast. Run through ./build.sh (dotnet tool restore && dotnet cake).
//   ./build.sh --target=Demo    install native deps, build, run the main job (rnnfast demo: train a char-LSTM for ~1 minute)
//   ./build.sh --target=Check   rnnfast info + rnnfast check on every PyTorch reference case
//   ./build.sh --target=Test    install native deps, build, run every test; prints "Tests: N passed, N failed, N skipped";
//                               then packs this build and runs the package smoke (build/packages.cake)
//   ./build.sh --target=Bench   BenchmarkDotNet suites over bench/shapes (Release, short job; --shapes=NAME --backends=a,b --filter=GLOB)
//   ./build.sh --target=Publish self-contained trimmed rnnfast for linux-x64 into publish/ (for machines without .NET)
//   ./build.sh --target=Pack    NuGet packages (RnnFast and its dependencies, the RnnFast.Cli tool) into artifacts/packages
#load "build/packages.cake"
var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
var goldens = Argument("goldens", EnvironmentVariable("RNNFAST_GOLDENS") ?? "../shared/goldens");
var solution = "./RnnFast.sln";
var cli = "./src/RnnFast.Cli/RnnFast.Cli.csproj";

Task("Deps")
    .Description("Install the Debian packages the native backends load (skipped where apt-get or root is missing)")
    .Does(() =>
{
    var code = StartProcess("bash", new ProcessSettings { Arguments = "native/install-deps.sh" });
    if (code != 0) throw new Exception($"native/install-deps.sh failed with exit code {code}");
});

Task("Build")
    .IsDependentOn("Deps")
    .Does(() =>
{
    DotNetBuild(solution, new DotNetBuildSettings { Configuration = configuration });
});

// --blame: when the test host crashes, the run names the test that was running; a test past 15 minutes is a hang,
// ended (no dump) and named, instead of holding CI to its limit.
ProcessArgumentBuilder BlameArguments(ProcessArgumentBuilder args) =>
    args.Append("--blame").Append("--blame-hang-timeout").Append("15m").Append("--blame-hang-dump-type").Append("none");

Task("Test")
    .IsDependentOn("Build")
    .Does(() =>
{
    var results = MakeAbsolute(Directory("./artifacts/test-results"));
    CleanDirectory(results);
    Exception failure = null;
    try
    {
        DotNetTest(solution, new DotNetTestSettings
        {
            Configuration = configuration,
            NoBuild = true,
            Loggers = new[] { "trx;LogFileName=all.trx", "console;verbosity=normal" },
            ResultsDirectory = results,
            ArgumentCustomization = BlameArguments,
        });
    }
    catch (Exception e) { failure = e; }

    // The managed cpu backend has three SIMD paths; run its kernel and golden tests again on the other two
    // (DOTNET_EnableAVX512=0: AVX2+FMA; DOTNET_EnableHWIntrinsic=0: scalar).
    foreach (var (name, variable) in new[] { ("avx2", "DOTNET_EnableAVX512"), ("scalar", "DOTNET_EnableHWIntrinsic") })
    {
        Information($"cpu backend tests on the {name} path ({variable}=0)");
        try
        {
            DotNetTest(solution, new DotNetTestSettings
            {
                Configuration = configuration,
                NoBuild = true,
                Filter = "FullyQualifiedName~Cpu|FullyQualifiedName~GoldenPlan",
                Loggers = new[] { $"trx;LogFileName={name}.trx", "console;verbosity=normal" },
                ResultsDirectory = results,
                EnvironmentVariables = new Dictionary<string, string> { [variable] = "0" },
                ArgumentCustomization = BlameArguments,
            });
        }
        catch (Exception e) { failure ??= e; }
    }

    // One plain summary line over every test assembly, read from the TRX files, then the failed tests by name with
    // the first line of their message (printed again at the end, so a CI log's tail says which one failed).
    int passed = 0, failed = 0, skipped = 0;
    var failedLines = new List<string>();
    foreach (var trx in GetFiles(results.FullPath + "/**/*.trx"))
    {
        var doc = System.Xml.Linq.XDocument.Load(trx.FullPath);
        foreach (var c in doc.Descendants().Where(e => e.Name.LocalName == "Counters"))
        {
            passed += int.Parse(c.Attribute("passed")?.Value ?? "0");
            failed += int.Parse(c.Attribute("failed")?.Value ?? "0");
            int total = int.Parse(c.Attribute("total")?.Value ?? "0"), executed = int.Parse(c.Attribute("executed")?.Value ?? "0");
            skipped += total - executed;
        }
        // a run the test host did not finish (a crash, or a hang past the blame timeout): its reason, with the test
        // that was running, from the TRX's run messages
        foreach (var info in doc.Descendants().Where(e => e.Name.LocalName == "RunInfo" && (string)e.Attribute("outcome") == "Error"))
        {
            var text = string.Join(" ", (info.Descendants().FirstOrDefault(e => e.Name.LocalName == "Text")?.Value ?? "")
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            if (text.Length > 600) text = text.Substring(0, 600) + "...";
            failedLines.Add($"ABORTED ({trx.GetFilename()}): {text}");
        }
        foreach (var r in doc.Descendants().Where(e => e.Name.LocalName == "UnitTestResult" && (string)e.Attribute("outcome") == "Failed"))
        {
            var message = r.Descendants().FirstOrDefault(e => e.Name.LocalName == "Message")?.Value ?? "";
            var firstLine = message.Split('\n')[0].Trim();
            if (firstLine.Length > 300) firstLine = firstLine.Substring(0, 300) + "...";
            failedLines.Add($"FAILED ({trx.GetFilename()}): {(string)r.Attribute("testName")}: {firstLine}");
        }
    }
    Console.WriteLine($"Tests: {passed} passed, {failed} failed, {skipped} skipped");
    foreach (var line in failedLines) Console.WriteLine(line);

    // The packages as a new user gets them (build/packages.cake): pack from this build, then a new console app
    // references RnnFast from artifacts/packages and the rnnfast tool is installed from there.
    try
    {
        PackPackages(solution, configuration, noBuild: true);
        PackageSmoke(SmokeRequired());
    }
    catch (Exception e) { Error(e.Message); failure ??= e; }
    foreach (var line in failedLines) Console.WriteLine(line);
    if (failure != null) throw failure;
    if (passed == 0) throw new Exception("no test ran");
});

Task("Demo")
    .Description("The main job on an embedded default: rnnfast demo (generated corpus, ~1 minute of char-LSTM training, samples, loss curve)")
    .IsDependentOn("Build")
    .Does(() =>
{
    DotNetRun(cli, new ProcessArgumentBuilder().Append("demo").Append("--seconds").Append(Argument("seconds", "60")),
        new DotNetRunSettings { Configuration = configuration, NoBuild = true });
});

Task("Check")
    .Description("rnnfast info, then rnnfast check on every PyTorch reference case")
    .IsDependentOn("Build")
    .Does(() =>
{
    DotNetRun(cli, new ProcessArgumentBuilder().Append("info"), new DotNetRunSettings { Configuration = configuration, NoBuild = true });
    if (!DirectoryExists(goldens)) throw new Exception($"reference cases not found at {goldens} (set --goldens=DIR or RNNFAST_GOLDENS)");
    DotNetRun(cli, new ProcessArgumentBuilder().Append("check").AppendQuoted(goldens), new DotNetRunSettings { Configuration = configuration, NoBuild = true });
});

Task("Bench")
    .Description("BenchmarkDotNet suites (bench/RnnFast.Benchmarks) over bench/shapes, Release, short job; not part of Test")
    .Does(() =>
{
    // --shapes=NAME|FILE and --backends=a,b pass through as RNNFAST_BENCH_SHAPES / RNNFAST_BENCH_BACKENDS.
    var env = new Dictionary<string, string>();
    if (HasArgument("shapes")) env["RNNFAST_BENCH_SHAPES"] = Argument<string>("shapes");
    if (HasArgument("backends")) env["RNNFAST_BENCH_BACKENDS"] = Argument<string>("backends");
    DotNetRun("./bench/RnnFast.Benchmarks/RnnFast.Benchmarks.csproj",
        new ProcessArgumentBuilder().Append("--job").Append("short").Append("--filter").AppendQuoted(Argument("filter", "*")),
        new DotNetRunSettings { Configuration = "Release", EnvironmentVariables = env });
});

// Backends the package smoke requires available (their libraries come from the Deps target); --smoke-require= waives.
string[] SmokeRequired() => Argument("smoke-require", "onednn,opencl").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

Task("Pack")
    .Description("NuGet packages into artifacts/packages: RnnFast (+ RnnFast.Core, RnnFast.Backends.*, RnnFast.Bindings.*) and the RnnFast.Cli tool")
    .Does(() => PackPackages(solution, configuration, noBuild: false));

Task("PackageSmoke")
    .Description("The smoke check of the Test target on packages already in artifacts/packages (a new app adds RnnFast; the tool is installed)")
    .Does(() => PackageSmoke(SmokeRequired()));

Task("Publish")
    .Does(() =>
{
    DotNetPublish(cli, new DotNetPublishSettings
    {
        Configuration = configuration,
        Runtime = "linux-x64",
        SelfContained = true,
        OutputDirectory = "./publish/linux-x64",
        MSBuildSettings = new DotNetMSBuildSettings()
            .WithProperty("PublishTrimmed", "true")
            .WithProperty("InvariantGlobalization", "true"),
    });
});

RunTarget(target);
