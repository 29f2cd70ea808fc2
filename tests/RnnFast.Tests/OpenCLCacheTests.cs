// The OpenCL program binary cache against damaged entries: each entry carries a header (magic, format version, payload
// length, SHA-256) that is checked before any byte reaches the driver, so an empty, truncated, altered or old-format
// entry is deleted, the kernels compiled from source and the entry rewritten, and the plan that follows is correct.
// The device rows are [BackendTheory] rows for "opencl" (PoCL in CI), skipped where no OpenCL device exists.
using RnnFast.Backends;
using RnnFast.Backends.OpenCL;
using Xunit;
using static RnnFast.Tests.RnnTestProblems;

namespace RnnFast.Tests;

public sealed class OpenCLCacheTests
{
    [Fact]
    public void An_entry_round_trips_and_any_damage_is_refused_before_the_driver()
    {
        var payload = Enumerable.Range(0, 300).Select(i => (byte)(i * 7)).ToArray();
        var entry = KernelProgram.EncodeEntry(payload);
        Assert.Equal(KernelProgram.EntryHeaderSize + payload.Length, entry.Length);
        Assert.Equal(payload, KernelProgram.ReadEntry(entry, out var none));
        Assert.Null(none);

        foreach (var (bad, why) in Damaged(entry, payload))
        {
            Assert.Null(KernelProgram.ReadEntry(bad, out var problem));
            Assert.False(string.IsNullOrEmpty(problem), why);
        }

        var version = (byte[])entry.Clone();
        version[8] = KernelProgram.EntryVersion + 1;
        Assert.Null(KernelProgram.ReadEntry(version, out var p));
        Assert.Contains("format version", p);
    }

    [BackendTheory]
    [InlineData("opencl", "empty")]
    [InlineData("opencl", "100 bytes")]
    [InlineData("opencl", "half")]
    [InlineData("opencl", "one byte flipped")]
    [InlineData("opencl", "old format")]
    public void A_bad_cache_entry_is_replaced_and_the_next_plan_is_correct(string backend, string damage)
    {
        var shared = ((OpenCLBackend)BackendRegistry.Get(backend)).Device;
        var dir = Path.Combine(Path.GetTempPath(), "rnnfast-clcache-" + Guid.NewGuid().ToString("N"));
        try
        {
            string options = shared.Tiles.BuildOptions;
            var good = KernelProgram.Build(shared.Cl, shared.Context, shared.Entry, options, dir);
            good.Program.Dispose();
            var path = KernelProgram.CachePath(dir, shared.Entry, options);
            var entry = File.ReadAllBytes(path);
            var payload = KernelProgram.ReadEntry(entry, out _);
            Assert.NotNull(payload);

            var bad = Damaged(entry, payload).Single(d => d.Why == damage).Bytes;
            File.WriteAllBytes(path, bad);

            // a fresh runtime of the device, whose kernels are built through the cache in dir
            KernelProgram.DirectoryOverride.Value = dir;
            var device = OpenCLDevice.CreateUncached(shared.Entry, shared.Tiles);
            var kernels = device.Kernels;
            Assert.StartsWith("compiled from source, binary cached at ", kernels.Origin);
            Assert.Contains("replaced a bad cache entry", kernels.Origin);

            var (desc, inputs) = MakeProblem("lstm:I5:H7:L1:D1:P0:varlen", seed: 4);
            var parameters = RnnParameters.Create(desc, new Random(5));
            using var plan = new OpenCLBackend(device).CreateRnnPlan(parameters);
            using var oracle = BackendRegistry.Get("reference").CreateRnnPlan(parameters);
            var want = oracle.Forward(inputs, training: false);
            var got = plan.Forward(inputs, training: false);
            AssertClose(want.Output, got.Output, "output");
            AssertClose(want.HN, got.HN, "h_n");

            // the bad file was replaced by a valid entry, which the next build uses
            var rewritten = File.ReadAllBytes(path);
            Assert.NotNull(KernelProgram.ReadEntry(rewritten, out var problem));
            Assert.Null(problem);
            var again = KernelProgram.Build(shared.Cl, shared.Context, shared.Entry, options, dir);
            using (again.Program)
                Assert.Equal($"binary cache {path}", again.Origin);
            Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        }
        finally
        {
            KernelProgram.DirectoryOverride.Value = null;
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    private static IEnumerable<(byte[] Bytes, string Why)> Damaged(byte[] entry, byte[] payload)
    {
        yield return ([], "empty");
        yield return (entry[..100], "100 bytes");
        yield return (entry[..(entry.Length / 2)], "half");
        var flipped = (byte[])entry.Clone();
        flipped[KernelProgram.EntryHeaderSize + payload.Length / 2] ^= 0x40;
        yield return (flipped, "one byte flipped");
        yield return (payload, "old format");
    }
}
