// `rnnfast check` and `rnnfast info` from the outside: exit codes 0/1/2, the PASS/FAIL last line, and one-line
// errors that name the file and the problem for unusable files.
using RnnFast.Cli;
using RnnFast.IO;
using Xunit;

namespace RnnFast.Tests;

public sealed class CliCheckTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Check(params string[] args) => Check(args, "reference");

    private static (int Code, string Out, string Err) Check(string[] files, string? backend)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CheckCommand.Run(files, backend, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static string LastLine(string s) => s.TrimEnd().Split('\n')[^1].Trim();

    [Fact]
    public void A_golden_passes_with_exit_code_0()
    {
        var (code, o, e) = Check(TestPaths.Golden("gru_basic"));
        Assert.Equal("", e);
        Assert.Equal(0, code);
        Assert.Matches(@"^PASS (\d+)/\1$", LastLine(o));
        Assert.Contains("grad.weight_hh_l0: max_abs=", o);
    }

    [Fact]
    public void A_wrong_expected_value_fails_with_exit_code_1()
    {
        var path = Path.Combine(_dir, "wrong.safetensors");
        RewriteGolden("rnn_tanh_2layer", path, (name, data) => { if (name == "h_n") data[0] += 0.01f; });
        var (code, o, _) = Check(path);
        Assert.Equal(1, code);
        Assert.Matches(@"^FAIL \d+/\d+$", LastLine(o));
        Assert.Contains("h_n: max_abs=1.00E-002", o);
    }

    [Fact]
    public void A_missing_tensor_is_exit_2_naming_it()
    {
        var path = Path.Combine(_dir, "missing.safetensors");
        RewriteGolden("lstm_basic", path, null, drop: "weight_hh_l0");
        var (code, _, e) = Check(path);
        Assert.Equal(2, code);
        Assert.Equal("error: missing.safetensors: tensor 'weight_hh_l0' is missing (needed by LSTM(I=8, H=16, L=1, D=1))", e.Trim());
    }

    [Fact]
    public void A_wrong_shape_is_exit_2_with_expected_and_found()
    {
        var path = Path.Combine(_dir, "shape.safetensors");
        RewriteGolden("lstm_basic", path, null, reshape: ("h0", [3, 16]));
        var (code, _, e) = Check(path);
        Assert.Equal(2, code);
        Assert.Contains("shape.safetensors: tensor 'h0' has shape (3,16), expected (1,3,16)", e);
        Assert.Single(e.Trim().Split('\n'));
    }

    [Fact]
    public void A_truncated_file_is_exit_2_in_one_line()
    {
        var path = Path.Combine(_dir, "truncated.safetensors");
        var bytes = File.ReadAllBytes(TestPaths.Golden("gru_basic"));
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var (code, o, e) = Check(path);
        Assert.Equal(2, code);
        Assert.Single(e.Trim().Split('\n'));
        Assert.Contains("truncated.safetensors", e);
        Assert.DoesNotContain("   at ", e);
        Assert.StartsWith("FAIL", LastLine(o));
    }

    [Fact]
    public void A_header_length_past_the_end_is_exit_2()
    {
        var path = Path.Combine(_dir, "header.safetensors");
        var bytes = File.ReadAllBytes(TestPaths.Golden("gru_basic"));
        BitConverter.GetBytes((ulong)bytes.Length * 4).CopyTo(bytes, 0);
        File.WriteAllBytes(path, bytes);
        var (code, _, e) = Check(path);
        Assert.Equal(2, code);
        Assert.Contains("header.safetensors", e);
    }

    [Fact]
    public void Unknown_kind_and_missing_file_are_exit_2()
    {
        var path = Path.Combine(_dir, "kind.safetensors");
        SafeTensorsWriter.Write(path, [SafeTensorEntry.F32("x", [1], new float[] { 1 })], new Dictionary<string, string> { ["kind"] = "mystery" });
        var (code, _, e) = Check(path);
        Assert.Equal(2, code);
        Assert.Contains("kind.safetensors: unknown kind 'mystery'", e);

        (code, _, e) = Check(Path.Combine(_dir, "nope.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("nope.safetensors", e);
    }

    [Fact]
    public void Unknown_backend_is_exit_2()
    {
        var (code, _, e) = Check([TestPaths.Golden("gru_basic")], "warp-drive");
        Assert.Equal(2, code);
        Assert.Contains("unknown backend 'warp-drive'", e);
    }

    [Fact]
    public void Info_lists_the_isa_and_every_backend()
    {
        var o = new StringWriter();
        Assert.Equal(0, InfoCommand.Run(o));
        var text = o.ToString();
        Assert.Contains("isa:", text);
        Assert.Contains("reference", text);
        Assert.Contains("selection:", text);
    }

    /// <summary>Copies a golden, letting the test edit a tensor's data, drop a tensor or change a shape.</summary>
    private static void RewriteGolden(string golden, string path, Action<string, float[]>? edit, string? drop = null, (string Name, int[] Shape)? reshape = null)
    {
        using var src = SafeTensorsFile.Open(TestPaths.Golden(golden));
        var entries = new List<SafeTensorEntry>();
        foreach (var info in src.Tensors)
        {
            if (info.Name == drop) continue;
            if (info.DType == SafeTensorDType.I64)
            {
                entries.Add(SafeTensorEntry.I64(info.Name, info.Shape, src.ReadInt64(info.Name)));
                continue;
            }
            var data = src.ReadFloat32(info.Name);
            edit?.Invoke(info.Name, data);
            var shape = reshape is { } r && r.Name == info.Name ? r.Shape : info.Shape;
            entries.Add(SafeTensorEntry.F32(info.Name, shape, data));
        }
        SafeTensorsWriter.Write(path, entries, src.Metadata.ToDictionary());
    }
}
