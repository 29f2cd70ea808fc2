// The library as a C# application embeds it: a new console app that references only the RnnFast package's project
// (samples/EmbedQuickstart) sees every backend with no registration code and honours RNNFAST_BACKEND; the engine
// assembly exports no tooling types; many streams stepped together equal each stream stepped alone, on every backend.
using System.Diagnostics;
using RnnFast.Backends;
using RnnFast.Data;
using RnnFast.Models;
using RnnFast.Training;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

public sealed class LibraryEmbeddingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] PackageBackends = ["reference", "cpu", "onednn", "opencl", "cuda"];

    private string TrainTinyModel(RnnMode mode = RnnMode.Lstm, int layers = 2)
    {
        string path = Path.Combine(_dir, $"tiny-{mode}-{layers}.safetensors");
        new CharLmTrainer().Train(ProgramCorpus.Generate(4_000, 5), "corpus", new TrainOptions
        {
            Mode = mode, Layers = layers, Hidden = 24, Embed = 8, SeqLen = 16, Batch = 4, Steps = 2, Seed = 1,
            EvalEvery = 0, CheckpointEvery = 0, SampleLength = 0, Out = path, ValFraction = 0.1, Backend = "cpu",
        });
        return path;
    }

    [Fact]
    public void Every_backend_of_the_package_is_registered_without_user_code()
    {
        var names = BackendRegistry.All.Select(b => b.Name).ToArray();
        Assert.Equal(PackageBackends, names.Take(PackageBackends.Length)); // tests may register their own after these
        foreach (var b in BackendRegistry.All)
        {
            output.WriteLine($"{b.Name}: available={b.IsAvailable} reason={b.Availability.Reason}");
            if (!b.IsAvailable) Assert.False(string.IsNullOrWhiteSpace(b.Availability.Reason));
        }
    }

    [Fact]
    public void The_engine_assembly_exports_no_bench_chart_check_or_data_types()
    {
        var engine = typeof(RnnDesc).Assembly;
        Assert.Equal("RnnFast.Core", engine.GetName().Name);
        string[] tooling = ["RnnFast.Bench", "RnnFast.Charts", "RnnFast.Checks", "RnnFast.Data"];
        var leaked = engine.GetExportedTypes()
            .Where(t => tooling.Any(ns => t.Namespace == ns || (t.Namespace?.StartsWith(ns + ".", StringComparison.Ordinal) ?? false)))
            .Select(t => t.FullName).ToArray();
        Assert.Empty(leaked);
        // and the tools really live elsewhere (this test would pass vacuously if they vanished)
        Assert.Equal("RnnFast.Tools", typeof(RnnFast.Bench.BenchRunner).Assembly.GetName().Name);
    }

    [Fact]
    public void A_console_app_referencing_only_the_package_sees_every_backend_and_honours_RNNFAST_BACKEND()
    {
        var dll = QuickstartDll();
        string model = TrainTinyModel();
        var (code, text) = RunDotnet(dll, model, backendEnv: null);
        Assert.True(code == 0, text);
        foreach (var name in PackageBackends) Assert.Contains($"backend {name} available=", text);
        Assert.Contains("model on cpu", text); // auto: cpu scores above onednn and PoCL's opencl
        Assert.Contains("step ", text);

        foreach (var name in new[] { "onednn", "opencl" })
        {
            var backend = BackendRegistry.Find(name);
            if (!backend.IsAvailable)
            {
                output.WriteLine($"RNNFAST_BACKEND={name} not run: {backend.Availability.Reason}");
                Assert.Contains($"backend {name} available=False", text);
                continue;
            }
            Assert.Contains($"backend {name} available=True", text);
            var (c2, t2) = RunDotnet(dll, model, backendEnv: name);
            Assert.True(c2 == 0, t2);
            Assert.Contains($"model on {name}", t2);
        }
        var cuda = BackendRegistry.Find("cuda");
        Assert.Contains($"backend cuda available={cuda.IsAvailable}", text);
    }

    public static IEnumerable<object[]> BackendsTimesModes() =>
        from b in BackendData.Names from m in new[] { RnnMode.Lstm, RnnMode.Gru, RnnMode.RnnTanh } select new object[] { b, m };

    [BackendTheory]
    [MemberData(nameof(BackendsTimesModes))]
    public void Many_streams_stepped_together_equal_each_stream_stepped_alone(string backend, RnnMode mode)
    {
        string path = TrainTinyModel(mode);
        using var model = RnnModel.Load(path, backend);
        Assert.Equal(backend, model.Backend.Name);
        var rng = new Random(3);
        int N = 5, steps = 6, V = model.Vocab.Count, O = model.OutputSize;
        var together = Enumerable.Range(0, N).Select(_ => model.NewState()).ToArray();
        var alone = Enumerable.Range(0, N).Select(_ => model.NewState()).ToArray();
        // each stream starts at its own position: stream n has already seen n tokens
        for (int n = 0; n < N; n++)
            for (int k = 0; k < n; k++)
            {
                int id = rng.Next(V);
                model.Step(together[n], id);
                model.Step(alone[n], id);
            }
        var outputs = new float[N * O];
        var (atol, rtol) = model.Backend.CheckTolerance;
        for (int s = 0; s < steps; s++)
        {
            var tokens = Enumerable.Range(0, N).Select(_ => rng.Next(V)).ToArray();
            model.StepMany(together, tokens, outputs);
            for (int n = 0; n < N; n++)
            {
                var expected = model.Step(alone[n], tokens[n]).ToArray();
                var got = outputs.AsSpan(n * O, O).ToArray();
                Assert.Equal(expected, got, (a, b) => Math.Abs(a - b) <= atol + rtol * Math.Abs(b));
                Assert.Equal(got, together[n].Output); // the state's own output is the same row
                Assert.Equal(alone[n].Steps, together[n].Steps);
            }
        }
        Assert.Equal(backend, together[0].ExecutedBy.Split(':')[0]);
        var e = Assert.Throws<ArgumentException>(() => model.StepMany([together[0], together[0]], [0, 1], new float[2 * O]));
        Assert.Contains("same state", e.Message);
        foreach (var s in together.Concat(alone)) s.Dispose();
    }

    [Fact]
    public void Load_without_a_backend_name_follows_RNNFAST_BACKEND()
    {
        string path = TrainTinyModel();
        // the rule itself (name, else the variable, else auto) over the real registry list
        Assert.Equal("reference", BackendRegistry.Resolve(BackendRegistry.All, null, "reference").Name);
        Assert.Equal("cpu", BackendRegistry.Resolve(BackendRegistry.All, "cpu", "reference").Name);
        // and RnnModel.Load's default really is "unset" (null), not "auto"
        var parameter = typeof(RnnModel).GetMethod(nameof(RnnModel.Load))!.GetParameters().Single(p => p.Name == "backend");
        Assert.Null(parameter.DefaultValue);
        using var m = RnnModel.Load(path, "reference");
        Assert.Equal("reference", m.Backend.Name);
    }

    private static string QuickstartDll()
    {
        string config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";
        string project = Path.Combine(TestPaths.RepoRoot, "samples", "EmbedQuickstart");
        string dll = Path.Combine(project, "bin", config, "net10.0", "EmbedQuickstart.dll");
        if (!File.Exists(dll))
        {
            var (code, text) = Run("dotnet", ["build", project, "-c", config, "--nologo", "-v", "q"], null);
            Assert.True(code == 0, "building samples/EmbedQuickstart failed: " + text);
        }
        Assert.True(File.Exists(dll), $"{dll} was not built");
        return dll;
    }

    private static (int, string) RunDotnet(string dll, string model, string? backendEnv) => Run("dotnet", [dll, model], backendEnv);

    private static (int, string) Run(string file, string[] args, string? backendEnv)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove(BackendRegistry.EnvironmentVariable);
        if (backendEnv != null) psi.Environment[BackendRegistry.EnvironmentVariable] = backendEnv;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(4))) { p.Kill(true); return (-1, "timed out"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
