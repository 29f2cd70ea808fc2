// A forecaster with scaling exported to ONNX imports again: the (x - mean) / std and y * std + mean that OnnxExport writes
// become SeriesScaling again (with the column names and differencing from metadata_props), the outputs equal the
// original's, and the re-exported graph gives the first export's ONNX Runtime outputs; other arithmetic is refused.
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using RnnFast.Backends;
using RnnFast.IO;
using RnnFast.IO.Onnx;
using RnnFast.IO.Onnx.Proto;
using RnnFast.Models;
using Xunit;

namespace RnnFast.Tests;

public sealed class OnnxScalingImportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rnnfast-onnx-scaling-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static RnnModel Forecaster(RnnMode mode, bool batchFirst, out NetworkConfig config)
    {
        config = new NetworkConfig
        {
            Kind = NetworkKind.Forecaster, Mode = mode, Layers = 2, Hidden = 6, Embed = 0, Features = 3, Vocab = CharVocab.None,
            FeatureNames = ["load", "temp", "hour"], TargetNames = ["load_next", "temp_next"], BatchFirst = batchFirst,
            Scaling = new SeriesScaling
            {
                InputMean = [10, -2, 0.5f], InputStd = [3, 0.5f, 1.5f], TargetMean = [9, -1], TargetStd = [0.25f, 4], Differenced = true, Horizon = 2,
            },
        };
        var network = new CharNetwork(config, BackendRegistry.Get("reference"), new Random(13));
        return RnnModel.FromNetwork(network);
    }

    private static float[] RunOrt(string path, float[] x, int T, int N, int F, bool batchFirst)
    {
        using var session = new InferenceSession(path);
        var data = new float[x.Length];
        for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++) Array.Copy(x, (t * N + n) * F, data, (batchFirst ? n * T + t : t * N + n) * F, F);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(data, batchFirst ? [N, T, F] : [T, N, F]))]);
        return results.First().AsTensor<float>().ToArray();
    }

    private static void AssertClose(float[] actual, float[] expected, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-4 + 1e-3 * Math.Abs(expected[i]), $"{what}: element {i}: {actual[i]} vs {expected[i]}");
    }

    [Theory]
    [InlineData(RnnMode.Lstm, false)]
    [InlineData(RnnMode.Gru, true)]
    public void A_scaled_forecaster_round_trips_through_ONNX(RnnMode mode, bool batchFirst)
    {
        using var model = Forecaster(mode, batchFirst, out var config);
        string first = Path.Combine(_dir, "f.onnx"), st = Path.Combine(_dir, "f.safetensors"), second = Path.Combine(_dir, "f2.onnx");
        ModelConverter.ExportOnnx(model, first);

        using var again = RnnModel.Load(first, "reference");
        Assert.Equal(NetworkKind.Forecaster, again.Kind);
        var sc = again.Config.Scaling!;
        Assert.Equal(config.Scaling!.InputMean, sc.InputMean);
        Assert.Equal(config.Scaling.InputStd, sc.InputStd);
        Assert.Equal(config.Scaling.TargetMean, sc.TargetMean);
        Assert.Equal(config.Scaling.TargetStd, sc.TargetStd);
        Assert.True(sc.Differenced);
        Assert.Equal(2, sc.Horizon);
        Assert.Equal(config.FeatureNames, again.Config.FeatureNames);
        Assert.Equal(config.TargetNames, again.Config.TargetNames);
        Assert.Equal(batchFirst, again.Config.BatchFirst);

        int T = 5, N = 2, F = 3;
        var rng = new Random(4);
        var x = Enumerable.Range(0, T * N * F).Select(i => (float)(rng.NextDouble() * 8 - 4 + (i % F == 0 ? 10 : 0))).ToArray();
        var input = Tensor.FromArray(x, T, N, F);
        var ours = model.Forward(input).ToArray();
        AssertClose(again.Forward(input).ToArray(), ours, "imported vs original");

        ModelConverter.Convert(first, st);
        ModelConverter.Convert(st, second);
        var ortFirst = RunOrt(first, x, T, N, F, batchFirst);
        var ortSecond = RunOrt(second, x, T, N, F, batchFirst);
        AssertClose(ortSecond, ortFirst, "onnx -> safetensors -> onnx vs the first export, in ORT");
    }

    public static IEnumerable<object[]> Refusals() =>
    [
        // Sub -> Add: an Add before the RNN
        ["Sub", (Action<NodeProto>)(n => n.OpType = "Add"), "an Add that is not a head's bias"],
        // Div -> Mul: the input scaled by a product
        ["Div", (Action<NodeProto>)(n => n.OpType = "Mul"), "a Sub not followed by the Div"],
        // the targets' Mul -> Div
        ["Mul", (Action<NodeProto>)(n => n.OpType = "Div"), "a Div outside the scaling"],
        // constant - x instead of x - constant
        ["Sub", (Action<NodeProto>)(n => (n.Input[0], n.Input[1]) = (n.Input[1], n.Input[0])), "the data is not its first input"],
    ];

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Other_arithmetic_is_refused_naming_the_node(string op, object damage, string says)
    {
        using var model = Forecaster(RnnMode.Lstm, false, out _);
        string path = Path.Combine(_dir, "f.onnx");
        ModelConverter.ExportOnnx(model, path);
        var m = OnnxFile.Read(path);
        var node = m.Graph.Node.First(n => n.OpType == op);
        ((Action<NodeProto>)damage)(node);
        var e = Assert.Throws<RnnFormatException>(() => OnnxImport.Convert(m, "f.onnx"));
        Assert.Contains(says, e.Message);
        Assert.Contains($"node '{node.Name}'", e.Message);
    }
}
