// Issue 15 item 3: a model file truncated or rewritten while it is being loaded must give a model or a clear error,
// never a signal. SafeTensorsFile used to memory-map the file, and touching a page past a truncated end is SIGBUS;
// it now reads the file with bounded reads. Run in a child process, since a SIGBUS would end the test host.
using RnnFast.IO;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

[Collection(ReliabilityCollection.Name)]
public sealed class TruncatedWhileLoadingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteModelFile()
    {
        // 3 tensors of 1 MiB: pages well past the header, which truncation removes.
        string path = Path.Combine(_dir, "big.safetensors");
        var rng = new Random(3);
        float[] Values() => Enumerable.Range(0, 1 << 18).Select(_ => (float)rng.NextDouble()).ToArray();
        SafeTensorsWriter.Write(path, [SafeTensorEntry.F32("a", [512, 512], Values()), SafeTensorEntry.F32("b", [1 << 18], Values()), SafeTensorEntry.F32("c", [1024, 256], Values())],
            new Dictionary<string, string>());
        return path;
    }

    [Fact]
    public void A_file_truncated_after_Open_is_still_read_whole_in_a_child_process()
    {
        string path = WriteModelFile();
        var r = ChildScenarios.Run(["open-truncate-read", path], timeout: TimeSpan.FromSeconds(30));
        output.WriteLine($"exit {r.Code}: {r.Out.Trim()} {r.Err.Trim()}");
        Assert.True(r.Code == 0, $"child exit {r.Code} (a signal shows as 128+n, SIGBUS 135): {r.Err}");
        Assert.Contains("read 3 tensors after truncation", r.Out);
    }

    [Fact]
    public void Open_refuses_a_file_larger_than_the_available_memory()
    {
        string path = WriteModelFile();
        var r = ChildScenarios.Run(["cli", "check", path], new Dictionary<string, string?> { [RnnFast.Training.MemoryEstimate.LimitVariable] = "1M" }, TimeSpan.FromSeconds(30));
        output.WriteLine($"exit {r.Code}: {r.Err.Trim()}");
        Assert.Equal(2, r.Code);
        Assert.Contains("more than the 1048576 bytes of memory available", r.Err);
    }
}
