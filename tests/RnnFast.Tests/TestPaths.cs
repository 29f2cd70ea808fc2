// Where the tests find the repository and PyTorch's reference cases (../shared/goldens beside the repo, or
// RNNFAST_GOLDENS). A missing goldens folder fails the tests that need it: CI always has it.
namespace RnnFast.Tests;

internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string GoldensDir
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("RNNFAST_GOLDENS");
            var dir = !string.IsNullOrEmpty(env) ? env : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "goldens"));
            if (!Directory.Exists(dir))
                throw new DirectoryNotFoundException($"PyTorch reference cases not found at {dir} (set RNNFAST_GOLDENS)");
            return dir;
        }
    }

    public static string Golden(string name) => Path.Combine(GoldensDir, name.EndsWith(".safetensors") ? name : name + ".safetensors");

    /// <summary>Every reference file's name (without folder), sorted.</summary>
    public static IEnumerable<string> GoldenNames() =>
        Directory.GetFiles(GoldensDir, "*.safetensors").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    /// <summary>
    /// The reference files of sub-folder <paramref name="folder"/> of the goldens (e.g. "peephole-ctc") whose
    /// `kind` is one of <paramref name="kinds"/>, as "folder/name.safetensors" (what <see cref="Golden"/> takes), sorted.
    /// A folder holds cases of several kinds; each test family picks the kinds it runs.
    /// </summary>
    public static IEnumerable<string> GoldenNamesIn(string folder, params string[] kinds) =>
        Directory.GetFiles(Path.Combine(GoldensDir, folder), "*.safetensors")
            .Where(path => kinds.Contains(KindOf(path)))
            .Select(path => folder + "/" + Path.GetFileName(path))
            .Order(StringComparer.Ordinal);

    /// <summary>The peephole LSTM cases (kind rnn_layer) of the peephole/CTC folder.</summary>
    public static IEnumerable<string> PeepholeGoldenNames() => GoldenNamesIn("peephole-ctc", "rnn_layer");

    /// <summary>Every rnn_layer and train_char_lstm reference case: the top folder's and the sub-folders' that are supported.</summary>
    public static IEnumerable<string> AllGoldenNames() => GoldenNames().Concat(PeepholeGoldenNames());

    private static string KindOf(string path)
    {
        using var f = RnnFast.IO.SafeTensorsFile.Open(path);
        return f.Metadata.TryGetValue("kind", out var k) ? k : "";
    }

    public static string NewTempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "rnnfast-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "RnnFast.sln"))) return d.FullName;
        throw new DirectoryNotFoundException($"RnnFast.sln not found above {AppContext.BaseDirectory}");
    }
}
