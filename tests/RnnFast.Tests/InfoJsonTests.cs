// Issue 19: `rnnfast info --format json` carries the listing's facts (version, machine and SIMD, every backend with
// available, reason, score, devices, and the selection) as one JSON object; a bad --format exits 2 naming it.
using System.Text.Json;
using RnnFast.Backends;
using RnnFast.Cli;
using Xunit;

namespace RnnFast.Tests;

public sealed class InfoJsonTests
{
    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Info_json_is_one_object_with_the_listings_facts()
    {
        var (code, o, err) = Cli("info", "--format", "json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(o);
        var root = doc.RootElement;
        Assert.Equal(InfoCommand.Version(), root.GetProperty("version").GetString());
        Assert.Equal(InfoCommand.IsaSummary(), root.GetProperty("machine").GetProperty("isa").GetString());
        Assert.Equal(Environment.ProcessorCount, root.GetProperty("machine").GetProperty("logicalCores").GetInt32());
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx2.IsSupported, root.GetProperty("machine").GetProperty("simd").GetProperty("avx2").GetBoolean());
        var backends = root.GetProperty("backends").EnumerateArray().ToList();
        Assert.Equal(BackendRegistry.All.Select(b => b.Name), backends.Select(b => b.GetProperty("name").GetString()));
        foreach (var (b, j) in BackendRegistry.All.Zip(backends))
        {
            var a = b.Availability;
            Assert.Equal(a.IsAvailable, j.GetProperty("available").GetBoolean());
            if (a.IsAvailable)
            {
                Assert.Equal(JsonValueKind.Null, j.GetProperty("reason").ValueKind);
                Assert.Equal(b.Score, j.GetProperty("score").GetInt32());
            }
            else
            {
                Assert.Equal(a.Reason, j.GetProperty("reason").GetString());
                Assert.Equal(JsonValueKind.Null, j.GetProperty("score").ValueKind);
            }
            Assert.Equal(JsonValueKind.Array, j.GetProperty("devices").ValueKind);
            if (b is IBackendDevices d) Assert.Equal(d.DescribeDevices(), j.GetProperty("devices").EnumerateArray().Select(x => x.GetString()));
        }
        Assert.Contains(backends, j => j.GetProperty("name").GetString() == "reference" && j.GetProperty("available").GetBoolean());
        // The text listing names the same selected backend.
        var (_, text, _) = Cli("info");
        string? selected = root.GetProperty("selection").GetProperty("backend").GetString();
        Assert.Contains($"selection: {selected} (", text);
        Assert.Single(backends, j => j.GetProperty("selected").GetBoolean());
    }

    [Fact]
    public void A_bad_format_exits_2_naming_the_flag()
    {
        var (code, o, err) = Cli("info", "--format", "yaml");
        Assert.Equal(2, code);
        Assert.Equal("", o);
        Assert.Equal("error: --format: must be text or json, got 'yaml'", err.Trim());
    }
}
