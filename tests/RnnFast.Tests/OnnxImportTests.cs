// ONNX import: each model of tests/fixtures/onnx (exported by torch.onnx.export from PyTorch 1.13, see
// make_onnx_fixtures.py) loads with RnnModel.Load and gives PyTorch's outputs for the fixed input stored beside it, at
// the goldens' tolerance; what RnnFast does not compute is refused with the node and the attribute or op named.
using RnnFast.IO;
using RnnFast.Models;
using Xunit;

namespace RnnFast.Tests;

public class OnnxImportTests
{
    internal static string FixtureDir => Path.Combine(TestPaths.RepoRoot, "tests", "fixtures", "onnx");

    public static IEnumerable<object[]> Fixtures() =>
        Directory.GetFiles(FixtureDir, "*.onnx").Select(p => new object[] { Path.GetFileNameWithoutExtension(p) }).Order(Comparer<object[]>.Create((a, b) => string.CompareOrdinal((string)a[0], (string)b[0])));

    /// <summary>The fixture's input as the model reads it, and PyTorch's output, both time-major; lengths (all T when absent).</summary>
    internal sealed record Case(bool Tokens, int T, int N, int[][] Sequences, float[] Features, int F, int[] Lengths, float[] Expected, int O, bool BatchFirst);

    internal static Case ReadCase(string name)
    {
        using var f = SafeTensorsFile.Open(Path.Combine(FixtureDir, name + ".expected.safetensors"));
        bool batchFirst = f.Metadata["batch_first"] == "True";
        var inInfo = f.GetInfo("input");
        bool tokens = inInfo.Shape.Length == 2;
        int T = batchFirst ? inInfo.Shape[1] : inInfo.Shape[0], N = batchFirst ? inInfo.Shape[0] : inInfo.Shape[1];
        var lengths = f.Contains("lengths") ? f.ReadInt64("lengths").Select(v => (int)v).ToArray() : Enumerable.Repeat(T, N).ToArray();
        var outInfo = f.GetInfo("output");
        int O = outInfo.Shape[2];
        var y = f.ReadTensor("output").ToArray();
        var expected = new float[T * N * O];
        for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++)
            Array.Copy(y, (batchFirst ? n * T + t : t * N + n) * O, expected, (t * N + n) * O, O);
        if (tokens)
        {
            var ids = f.ReadInt64("input");
            var seqs = Enumerable.Range(0, N).Select(n => Enumerable.Range(0, lengths[n]).Select(t => (int)ids[batchFirst ? n * T + t : t * N + n]).ToArray()).ToArray();
            return new Case(true, T, N, seqs, [], 0, lengths, expected, O, batchFirst);
        }
        int F = inInfo.Shape[2];
        var x = f.ReadTensor("input").ToArray();
        var xs = new float[T * N * F];
        for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++)
            Array.Copy(x, (batchFirst ? n * T + t : t * N + n) * F, xs, (t * N + n) * F, F);
        return new Case(false, T, N, [], xs, F, lengths, expected, O, batchFirst);
    }

    /// <summary>The model's (T,N,O) time-major outputs for the case's input.</summary>
    internal static float[] Run(RnnModel model, Case c) => c.Tokens
        ? model.Forward(c.Sequences).ToArray()
        : model.Forward(Tensor.FromArray(c.Features, c.T, c.N, c.F), c.Lengths.All(l => l == c.T) ? null : c.Lengths).ToArray();

    /// <summary>|a-b| &lt;= 1e-4 + 1e-3|b| at every valid step (t &lt; length).</summary>
    internal static void AssertClose(Case c, float[] actual, float[] expected, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int t = 0; t < c.T; t++)
        for (int n = 0; n < c.N; n++)
        {
            if (t >= c.Lengths[n]) continue;
            for (int o = 0; o < c.O; o++)
            {
                int i = (t * c.N + n) * c.O + o;
                float a = actual[i], b = expected[i];
                Assert.True(Math.Abs(a - b) <= 1e-4 + 1e-3 * Math.Abs(b), $"{what}: step {t}, sequence {n}, output {o}: {a} vs {b}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Imported_model_matches_PyTorch(string name)
    {
        var c = ReadCase(name);
        using var model = RnnModel.Load(Path.Combine(FixtureDir, name + ".onnx"), "reference");
        Assert.Equal(c.O, model.OutputSize);
        Assert.Equal(c.BatchFirst, model.Config.BatchFirst);
        AssertClose(c, Run(model, c), c.Expected, name);
    }

    [Fact]
    public void Fixtures_cover_every_cell_and_shape()
    {
        var names = Fixtures().Select(f => (string)f[0]).ToArray();
        Assert.True(names.Length >= 10, $"only {names.Length} ONNX fixtures");
        var configs = names.Select(n => Checkpoint.Read(Path.Combine(FixtureDir, n + ".onnx")).Config).ToArray();
        foreach (var mode in new[] { RnnMode.Lstm, RnnMode.Gru, RnnMode.RnnTanh, RnnMode.RnnRelu }) Assert.Contains(configs, c => c.Mode == mode);
        Assert.Contains(configs, c => c.Layers > 1 && c.Bidirectional);
        Assert.Contains(configs, c => c.BatchFirst);
        Assert.Contains(configs, c => c.Embed > 0 && !c.IdentityHead);
        Assert.Contains(configs, c => c.IdentityHead);
    }
}
