// Issue 15 items 5 and 7: a FIFO (or another non-regular file) given as --data, --model, --resume or found in a
// `check` folder is refused at once (exit 2, one line naming the path) instead of blocking forever; a directory
// "is a directory"; and --out naming the --data file (by the same path, ./path, a symlink or a hard link) is refused
// before anything is written, leaving the data unchanged.
using System.Diagnostics;
using RnnFast.Cli;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

public sealed class NonRegularFileTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Runs the CLI on a worker thread; a run that does not finish within the timeout fails the test.</summary>
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var task = Task.Run(() => CliApp.Run(args, o, e));
        Assert.True(task.Wait(TimeSpan.FromSeconds(20)), $"rnnfast {string.Join(' ', args)} did not finish (blocked on a non-regular file?)");
        return (task.Result, o.ToString(), e.ToString());
    }

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

    /// <summary>A new FIFO named <paramref name="name"/>, or null (the reason printed) where mkfifo is unavailable.</summary>
    private string? Fifo(string name = "fifo")
    {
        string path = Path.Combine(_dir, name);
        if (OperatingSystem.IsWindows() || !Tool("mkfifo", path))
        {
            output.WriteLine("skipped: mkfifo is not available here, so no FIFO can be made");
            return null;
        }
        return path;
    }

    private string Text(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static void AssertOneLineError(string err, string path, string what)
    {
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line, got: {err}");
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(path, lines[0]);
        Assert.Contains(what, lines[0]);
    }

    private const string Corpus = "the quick brown fox jumps over the lazy dog. the quick brown fox jumps over the lazy dog.\n";

    public static TheoryData<string> FifoDataCommands => new() { "train", "train-tag", "train-forecast", "classify", "predict", "eval" };

    [Theory]
    [MemberData(nameof(FifoDataCommands))]
    public void FifoAsData_IsRefusedAtOnce(string command)
    {
        if (Fifo() is not { } fifo) return;
        string model = Text("model.safetensors", "not really a model");
        string outPath = Path.Combine(_dir, "out.safetensors");
        string[] args = command switch
        {
            "train" => ["train", "--data", fifo, "--out", outPath, "--steps", "1"],
            "train-tag" => ["train", "--task", "tag", "--data", fifo, "--out", outPath, "--steps", "1"],
            "train-forecast" => ["train", "--task", "forecast", "--target", "value", "--data", fifo, "--steps", "1"],
            "classify" => ["classify", "--data", fifo, "--steps", "1"],
            "predict" => ["predict", "--model", model, "--data", fifo],
            _ => ["eval", "--model", model, "--data", fifo],
        };
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        AssertOneLineError(err, fifo, "--data: " + fifo + " is not a regular file (a FIFO)");
    }

    [Theory]
    [InlineData("sample")]
    [InlineData("predict")]
    [InlineData("eval")]
    public void FifoAsModel_IsRefusedAtOnce(string command)
    {
        if (Fifo() is not { } fifo) return;
        string data = Text("data.txt", "hello\n");
        string[] args = command == "sample" ? ["sample", "--model", fifo, "--length", "5"] : [command, "--model", fifo, "--data", data];
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        AssertOneLineError(err, fifo, "--model: " + fifo + " is not a regular file (a FIFO)");
    }

    [Fact]
    public void FifoAsResume_IsRefusedAtOnce()
    {
        if (Fifo() is not { } fifo) return;
        string data = Text("corpus.txt", Corpus);
        var (code, _, err) = Run("train", "--data", data, "--resume", fifo, "--out", Path.Combine(_dir, "m.safetensors"), "--steps", "1");
        Assert.Equal(2, code);
        AssertOneLineError(err, fifo, "--resume: " + fifo + " is not a regular file (a FIFO)");
    }

    [Fact]
    public void FifoInCheckFolder_IsRefusedAtOnce()
    {
        if (Fifo("case.safetensors") is not { } fifo) return;
        var (code, _, err) = Run("check", _dir);
        Assert.Equal(2, code);
        AssertOneLineError(err, fifo, "is not a regular file (a FIFO)");
    }

    [Fact]
    public void CharacterDeviceAsData_IsRefused()
    {
        if (!File.Exists("/dev/null") || !OperatingSystem.IsLinux()) return;
        var (code, _, err) = Run("eval", "--model", Text("m.safetensors", "x"), "--data", "/dev/null");
        Assert.Equal(2, code);
        AssertOneLineError(err, "/dev/null", "is not a regular file (a character device)");
    }

    [Theory]
    [InlineData("train")]
    [InlineData("classify")]
    [InlineData("predict")]
    public void DirectoryAsData_SaysIsADirectory(string command)
    {
        string sub = Path.Combine(_dir, "folder");
        Directory.CreateDirectory(sub);
        string[] args = command switch
        {
            "train" => ["train", "--data", sub, "--out", Path.Combine(_dir, "m.safetensors"), "--steps", "1"],
            "classify" => ["classify", "--data", sub, "--steps", "1"],
            _ => ["predict", "--model", Text("m.safetensors", "x"), "--data", sub],
        };
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        AssertOneLineError(err, sub, "is a directory");
    }

    [Fact]
    public void MissingData_KeepsNotFound()
    {
        string missing = Path.Combine(_dir, "missing.txt");
        var (code, _, err) = Run("train", "--data", missing, "--out", Path.Combine(_dir, "m.safetensors"), "--steps", "1");
        Assert.Equal(2, code);
        AssertOneLineError(err, missing, "not found");
    }

    public static TheoryData<string, string> OutAliases => new()
    {
        { "train", "same" }, { "train", "dot" }, { "train", "symlink" }, { "train", "hardlink" },
        { "train-tag", "same" }, { "train-tag", "hardlink" }, { "train-forecast", "same" }, { "train-forecast", "symlink" },
        { "classify", "same" }, { "classify", "dot" }, { "classify", "symlink" }, { "classify", "hardlink" },
    };

    [Theory]
    [MemberData(nameof(OutAliases))]
    public void OutNamingTheData_IsRefusedAndTheDataIsUnchanged(string command, string alias)
    {
        string content = command switch
        {
            "classify" => string.Concat(Enumerable.Range(0, 40).Select(i => $"{(i % 2 == 0 ? "a" : "b")}\t{(i % 2 == 0 ? "apple pie" : "banana split")} {i}\n")),
            "train-tag" => string.Concat(Enumerable.Range(0, 40).Select(i => "A A B\tabc\n")),
            "train-forecast" => "time,value\n" + string.Concat(Enumerable.Range(0, 200).Select(i => $"{i},{Math.Sin(i * 0.3):F4}\n")),
            _ => Corpus,
        };
        string data = Text("data.txt", content);
        string outPath;
        switch (alias)
        {
            case "same": outPath = data; break;
            case "dot":
                outPath = Path.Combine(_dir, ".", "sub", "..", "data.txt");
                Directory.CreateDirectory(Path.Combine(_dir, "sub"));
                break;
            case "symlink":
                outPath = Path.Combine(_dir, "link.safetensors");
                try { File.CreateSymbolicLink(outPath, data); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    output.WriteLine($"skipped: no symlink can be made here ({e.Message})");
                    return;
                }
                break;
            default:
                outPath = Path.Combine(_dir, "hard.safetensors");
                if (OperatingSystem.IsWindows() || !Tool("ln", data, outPath))
                {
                    output.WriteLine("skipped: ln is not available here, so no hard link can be made");
                    return;
                }
                break;
        }
        string[] args = command switch
        {
            "classify" => ["classify", "--data", data, "--out", outPath, "--steps", "2", "--hidden", "8"],
            "train-tag" => ["train", "--task", "tag", "--data", data, "--out", outPath, "--steps", "2", "--hidden", "8"],
            "train-forecast" => ["train", "--task", "forecast", "--target", "value", "--data", data, "--out", outPath, "--steps", "2", "--hidden", "8"],
            _ => ["train", "--data", data, "--out", outPath, "--steps", "2", "--hidden", "8"],
        };
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: --out: ", line);
        Assert.Contains("--data", line);
        Assert.Equal(content, File.ReadAllText(data));
    }

    [Fact]
    public void OutBesideTheData_IsStillAllowed()
    {
        string text = string.Concat(Enumerable.Repeat(Corpus, 10));
        string data = Text("corpus.txt", text);
        string outPath = Path.Combine(_dir, "corpus.txt.safetensors");
        var (code, _, err) = Run("train", "--data", data, "--out", outPath, "--steps", "2", "--hidden", "8", "--seq-len", "8", "--batch", "2");
        Assert.True(code == 0, err);
        Assert.True(File.Exists(outPath));
        Assert.Equal(text, File.ReadAllText(data));
    }
}
