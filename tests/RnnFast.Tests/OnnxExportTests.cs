// ONNX export and the round trip, run in ONNX Runtime: every model kind exported by ModelConverter gives RnnModel's
// outputs in ORT; a PyTorch-exported fixture converted to safetensors and back to ONNX gives the original's ORT outputs
// (within 1e-4 + 1e-3|b|), and both agree with PyTorch.
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using RnnFast.Backends;
using RnnFast.IO;
using RnnFast.Models;
using Xunit;

namespace RnnFast.Tests;

public sealed class OnnxExportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rnnfast-onnx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Runs <paramref name="path"/> in ORT on the case's input (in the model's layout) and returns the first output.</summary>
    private static float[] RunOrt(string path, OnnxImportTests.Case c, string? lengthsInput)
    {
        using var session = new InferenceSession(path);
        var inputs = new List<NamedOnnxValue>();
        int[] dims = c.BatchFirst ? [c.N, c.T] : [c.T, c.N];
        if (c.Tokens)
        {
            var ids = new long[c.T * c.N];
            for (int n = 0; n < c.N; n++)
            for (int t = 0; t < c.T; t++)
                ids[c.BatchFirst ? n * c.T + t : t * c.N + n] = t < c.Sequences[n].Length ? c.Sequences[n][t] : 0;
            inputs.Add(NamedOnnxValue.CreateFromTensor("input", new DenseTensor<long>(ids, dims)));
        }
        else
        {
            var x = new float[c.T * c.N * c.F];
            for (int t = 0; t < c.T; t++)
            for (int n = 0; n < c.N; n++)
                Array.Copy(c.Features, (t * c.N + n) * c.F, x, (c.BatchFirst ? n * c.T + t : t * c.N + n) * c.F, c.F);
            inputs.Add(NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x, [.. dims, c.F])));
        }
        if (lengthsInput != null)
            inputs.Add(NamedOnnxValue.CreateFromTensor(lengthsInput, new DenseTensor<long>(c.Lengths.Select(l => (long)l).ToArray(), [c.N])));
        using var results = session.Run(inputs);
        return results.First().AsTensor<float>().ToArray();
    }

    /// <summary>A (T,N,O) array in the case's layout, back to time-major.</summary>
    private static float[] TimeMajor(OnnxImportTests.Case c, float[] y, int O)
    {
        if (!c.BatchFirst) return y;
        var r = new float[y.Length];
        for (int t = 0; t < c.T; t++)
        for (int n = 0; n < c.N; n++) Array.Copy(y, (n * c.T + t) * O, r, (t * c.N + n) * O, O);
        return r;
    }

    [Theory]
    [MemberData(nameof(OnnxImportTests.Fixtures), MemberType = typeof(OnnxImportTests))]
    public void PyTorch_export_round_trips_through_safetensors(string name)
    {
        var c = OnnxImportTests.ReadCase(name);
        string original = Path.Combine(OnnxImportTests.FixtureDir, name + ".onnx");
        string st = Path.Combine(_dir, name + ".safetensors"), back = Path.Combine(_dir, name + ".onnx");
        ModelConverter.Convert(original, st);
        ModelConverter.Convert(st, back);
        bool hasLengths = c.Lengths.Any(l => l != c.T) || File.Exists(original) && Checkpoint.Read(original).Metadata.ContainsKey("onnx.sequence_lens");
        var fromOriginal = TimeMajor(c, RunOrt(original, c, hasLengths ? "lengths" : null), c.O);
        var fromBack = TimeMajor(c, RunOrt(back, c, hasLengths ? "sequence_lens" : null), c.O);
        OnnxImportTests.AssertClose(c, fromOriginal, c.Expected, name + " (original in ORT vs PyTorch)");
        // every position, padded ones included: both graphs give zeros (no head) or the head's bias there
        var all = c with { Lengths = Enumerable.Repeat(c.T, c.N).ToArray() };
        OnnxImportTests.AssertClose(all, fromBack, fromOriginal, name + " (onnx -> safetensors -> onnx vs original, in ORT)");
        using var model = RnnModel.Load(st, "reference");
        Assert.Equal(c.BatchFirst, model.Config.BatchFirst);
    }

    [Theory]
    [InlineData(18)]
    [InlineData(21)]
    public void A_graph_at_a_later_opset_imports_and_runs_in_OnnxRuntime(int opset)
    {
        // PyTorch 1.13 exports up to opset 17; the nodes it writes for these models mean the same at 18 to 21
        // (ORT runs the file), so the fixture is relabelled rather than re-exported.
        const string name = "lstm_lengths";
        var c = OnnxImportTests.ReadCase(name);
        var m = OnnxRefusalTests.Fixture(name);
        m.OpsetImport[0].Version = opset;
        m.IrVersion = 10;
        string path = Path.Combine(_dir, $"{name}_{opset}.onnx");
        File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(m));
        OnnxImportTests.AssertClose(c, TimeMajor(c, RunOrt(path, c, "lengths"), c.O), c.Expected, $"opset {opset} in ORT");
        using var model = RnnModel.Load(path, "reference");
        OnnxImportTests.AssertClose(c, OnnxImportTests.Run(model, c), c.Expected, $"opset {opset} imported");
    }

    public static IEnumerable<object[]> Kinds() =>
    [
        ["lm_lstm", NetworkKind.LanguageModel, RnnMode.Lstm, false, SequencePooling.Last, false],
        ["lm_lstm_peephole", NetworkKind.LanguageModel, RnnMode.Lstm, false, SequencePooling.Last, true],
        ["classifier_gru", NetworkKind.Classifier, RnnMode.Gru, false, SequencePooling.Last, false],
        ["classifier_lstm_bidir", NetworkKind.Classifier, RnnMode.Lstm, true, SequencePooling.Last, false],
        ["classifier_rnn_mean_bidir", NetworkKind.Classifier, RnnMode.RnnRelu, true, SequencePooling.Mean, false],
        ["tagger_gru_bidir", NetworkKind.Tagger, RnnMode.Gru, true, SequencePooling.Last, false],
        ["multilabel_lstm_peephole", NetworkKind.MultiLabel, RnnMode.Lstm, false, SequencePooling.Mean, true],
        ["forecaster_rnn_tanh", NetworkKind.Forecaster, RnnMode.RnnTanh, false, SequencePooling.Last, false],
        ["forecaster_lstm_peephole", NetworkKind.Forecaster, RnnMode.Lstm, false, SequencePooling.Last, true],
    ];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Exported_model_runs_in_OnnxRuntime_with_RnnModels_outputs(string name, NetworkKind kind, RnnMode mode, bool bidir, SequencePooling pooling, bool peephole)
    {
        var vocab = new CharVocab("abcdefg".Select(ch => ch.ToString()));
        bool features = kind == NetworkKind.Forecaster;
        var config = new NetworkConfig
        {
            Kind = kind, Mode = mode, Layers = 2, Hidden = 5, Embed = features ? 0 : 4, Features = features ? 3 : 0, Bidirectional = bidir,
            Peephole = peephole, Vocab = features ? CharVocab.None : vocab, Pooling = pooling,
            Labels = kind is NetworkKind.LanguageModel or NetworkKind.Forecaster ? [] : ["p", "q", "r"],
            FeatureNames = features ? ["a", "b", "c"] : [], TargetNames = features ? ["y", "z"] : [],
            Scaling = features ? new SeriesScaling { InputMean = [1, -2, 0.5f], InputStd = [2, 0.5f, 1.5f], TargetMean = [3, -1], TargetStd = [0.25f, 4] } : null,
        };
        using var network = new CharNetwork(config, BackendRegistry.Get("reference"), new Random(7));
        using var model = RnnModel.FromNetwork(network);
        string path = Path.Combine(_dir, name + ".onnx");
        ModelConverter.ExportOnnx(model, path);

        int T = 6, N = 3;
        int[] lengths = [6, 4, 1];
        var rng = new Random(3);
        var seqs = lengths.Select(l => Enumerable.Range(0, l).Select(_ => rng.Next(vocab.Count)).ToArray()).ToArray();
        var x = Enumerable.Range(0, T * N * 3).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        int O = config.OutputSize;
        var c = new OnnxImportTests.Case(!features, T, N, seqs, x, 3, lengths, [], O, false);
        var ours = OnnxImportTests.Run(model, c);
        var ort = RunOrt(path, c, "sequence_lens");
        if (config.PoolsSequences)
        {
            Assert.Equal(N * O, ort.Length);
            var one = c with { T = 1, Lengths = Enumerable.Repeat(1, N).ToArray() };
            OnnxImportTests.AssertClose(one, ort, ours, name);
        }
        else
        {
            OnnxImportTests.AssertClose(c, ort, ours, name);
            if (!features)
            {
                // and back: the exported graph imports (peepholes, gate orders) with the same outputs
                using var again = RnnModel.Load(path, "reference");
                OnnxImportTests.AssertClose(c, OnnxImportTests.Run(again, c), ours, name + " (re-imported)");
                Assert.Equal(vocab.ToJson(), again.Vocab.ToJson()); // carried in metadata_props
                Assert.Equal(config.Labels, again.Labels);
            }
        }
        // without sequence_lens the defaults (whole sequences) apply
        if (!features)
        {
            var full = c with { Sequences = seqs.Select(s => Enumerable.Range(0, T).Select(t => t < s.Length ? s[t] : 0).ToArray()).ToArray(), Lengths = Enumerable.Repeat(T, N).ToArray() };
            var oursFull = OnnxImportTests.Run(model, full);
            var ortFull = RunOrt(path, full, null);
            if (config.PoolsSequences) OnnxImportTests.AssertClose(full with { T = 1 }, ortFull, oursFull, name + " (default lengths)");
            else OnnxImportTests.AssertClose(full, ortFull, oursFull, name + " (default lengths)");
        }
    }
}
