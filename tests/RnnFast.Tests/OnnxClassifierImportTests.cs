// ONNX import of PyTorch classifiers (tests/fixtures/onnx/classifier, made by make_onnx_fixtures.py): a linear head on
// h_n[-1], cat([h_n[-2], h_n[-1]], 1) or (one direction, no lengths) out[-1] imports as a Classifier with Pooling = Last
// and gives PyTorch's logits at the goldens' tolerance; the round trip onnx -> safetensors -> onnx gives the original's
// ONNX Runtime outputs; graphs that compute something else (classifier/refused) are refused naming the node; a wrong
// Gather index or Concat order would be caught (mutated graphs do not match PyTorch).
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using RnnFast.Backends;
using RnnFast.Cli;
using RnnFast.IO;
using RnnFast.IO.Onnx;
using RnnFast.IO.Onnx.Proto;
using RnnFast.Models;
using Xunit;

namespace RnnFast.Tests;

public sealed class OnnxClassifierImportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rnnfast-onnx-cls-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Dir => Path.Combine(OnnxImportTests.FixtureDir, "classifier");

    public static IEnumerable<object[]> Fixtures() =>
        Directory.GetFiles(Dir, "*.onnx").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).Select(n => new object[] { n! });

    /// <summary>A fixture's token ids (N,T) or (T,N) as stored, its lengths (all T when absent) and PyTorch's logits (N,C).</summary>
    private sealed record Case(long[] Ids, int T, int N, bool BatchFirst, int[] Lengths, bool HasLengths, float[] Expected, int C)
    {
        public int[][] Sequences => Enumerable.Range(0, N)
            .Select(n => Enumerable.Range(0, Lengths[n]).Select(t => (int)Ids[BatchFirst ? n * T + t : t * N + n]).ToArray()).ToArray();
    }

    private static Case Read(string name, string dir)
    {
        using var f = SafeTensorsFile.Open(Path.Combine(dir, name + ".expected.safetensors"));
        bool batchFirst = f.Metadata["batch_first"] == "True";
        var shape = f.GetInfo("input").Shape;
        int T = batchFirst ? shape[1] : shape[0], N = batchFirst ? shape[0] : shape[1];
        bool hasLengths = f.Contains("lengths");
        var lengths = hasLengths ? f.ReadInt64("lengths").Select(v => (int)v).ToArray() : Enumerable.Repeat(T, N).ToArray();
        var outShape = f.GetInfo("output").Shape;
        Assert.Equal([N, outShape[1]], outShape);
        return new Case(f.ReadInt64("input").ToArray(), T, N, batchFirst, lengths, hasLengths, f.ReadTensor("output").ToArray(), outShape[1]);
    }

    /// <summary>|a-b| &lt;= 1e-4 + 1e-3|b| everywhere (the goldens' tolerance); returns the first violation or null.</summary>
    private static string? Mismatch(float[] actual, float[] expected)
    {
        if (actual.Length != expected.Length) return $"{actual.Length} values vs {expected.Length}";
        for (int i = 0; i < actual.Length; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= 1e-4 + 1e-3 * Math.Abs(expected[i]))) return $"element {i}: {actual[i]} vs {expected[i]}";
        return null;
    }

    private static void AssertClose(float[] actual, float[] expected, string what)
    {
        if (Mismatch(actual, expected) is { } m) Assert.Fail($"{what}: {m}");
    }

    private static float[] RunOrt(string path, Case c, string? lengthsInput)
    {
        using var session = new InferenceSession(path);
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input", new DenseTensor<long>(c.Ids.ToArray(), c.BatchFirst ? [c.N, c.T] : [c.T, c.N])),
        };
        if (lengthsInput != null)
            inputs.Add(NamedOnnxValue.CreateFromTensor(lengthsInput, new DenseTensor<long>(c.Lengths.Select(l => (long)l).ToArray(), [c.N])));
        using var results = session.Run(inputs);
        return results.First().AsTensor<float>().ToArray();
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Imported_classifier_matches_PyTorch(string name)
    {
        var c = Read(name, Dir);
        using var model = RnnModel.Load(Path.Combine(Dir, name + ".onnx"), "reference");
        Assert.Equal(c.C == 1 ? NetworkKind.MultiLabel : NetworkKind.Classifier, model.Kind);
        Assert.Equal(SequencePooling.Last, model.Config.Pooling);
        Assert.Equal(c.BatchFirst, model.Config.BatchFirst);
        // placeholder labels: "0".."C-1"; one logit (a binary head): "1", the positive class
        Assert.Equal(c.C == 1 ? ["1"] : Enumerable.Range(0, c.C).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), model.Labels);
        AssertClose(model.Forward(c.Sequences).ToArray(), c.Expected, name);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Classifier_round_trips_through_safetensors_in_OnnxRuntime(string name)
    {
        var c = Read(name, Dir);
        string original = Path.Combine(Dir, name + ".onnx"), st = Path.Combine(_dir, name + ".safetensors"), back = Path.Combine(_dir, name + ".onnx");
        ModelConverter.Convert(original, st);
        ModelConverter.Convert(st, back);
        var fromOriginal = RunOrt(original, c, c.HasLengths ? "lengths" : null);
        var fromBack = RunOrt(back, c, c.HasLengths ? "sequence_lens" : null);
        AssertClose(fromOriginal, c.Expected, name + " (original in ORT vs PyTorch)");
        AssertClose(fromBack, fromOriginal, name + " (onnx -> safetensors -> onnx vs original, in ORT)");
        // the re-exported graph imports again as the same classifier (RnnFast's own export pattern: Y_h -> Transpose -> Reshape)
        using var again = RnnModel.Load(back, "reference");
        Assert.Equal(c.C == 1 ? NetworkKind.MultiLabel : NetworkKind.Classifier, again.Kind);
        AssertClose(again.Forward(c.Sequences).ToArray(), c.Expected, name + " (re-imported)");
    }

    [Fact]
    public void Fixtures_cover_the_head_patterns()
    {
        var names = Fixtures().Select(f => (string)f[0]).ToHashSet();
        foreach (var n in new[] { "lstm_hn_stacked", "gru_hn_bidir_batch_first", "lstm_hn_bidir_stacked_swapped", "rnn_hn_bidir_lengths",
                     "lstm_hn_lengths_batch_first_matmul", "gru_out_last", "lstm_out_last_batch_first_stacked", "gru_hn_binary",
                     "lstm_hn_view_bidir_stacked", "gru_hn_transpose_bidir" })
            Assert.Contains(n, names);
    }

    private static ModelProto Load(string name) => OnnxFile.Read(Path.Combine(Dir, name + ".onnx"));

    private static float[] ImportAndRun(ModelProto m, Case c)
    {
        var contents = OnnxImport.Convert(m, "m.onnx");
        using var network = Checkpoint.ToNetwork(contents, BackendRegistry.Get("reference"));
        using var model = RnnModel.FromNetwork(network);
        return model.Forward(c.Sequences).ToArray();
    }

    private static void SetScalar(ModelProto m, NodeProto n, long value)
    {
        string name = "test_index_" + value.ToString(System.Globalization.CultureInfo.InvariantCulture).Replace('-', 'm');
        m.Graph.Initializer.Add(OnnxFile.Int64Tensor(name, [], [value]));
        n.Input[1] = name;
    }

    [Fact]
    public void A_wrong_state_index_or_concat_order_would_not_match_PyTorch()
    {
        // h_n[-2] instead of h_n[-1] of a 2-layer stack: the first layer's state, another function
        var c = Read("lstm_hn_stacked", Dir);
        var m = Load("lstm_hn_stacked");
        Assert.Null(Mismatch(ImportAndRun(m, c), c.Expected));
        SetScalar(m, m.Graph.Node.Single(n => n.OpType == "Gather" && n.Input[0].Contains("Concat")), -2);
        Assert.NotNull(Mismatch(ImportAndRun(m, c), c.Expected));

        // cat([h_n[-1], h_n[-2]]) where PyTorch had cat([h_n[-2], h_n[-1]]): the head's columns are taken in the graph's order
        var b = Read("gru_hn_bidir_batch_first", Dir);
        var mb = Load("gru_hn_bidir_batch_first");
        var concat = mb.Graph.Node.Single(n => n.OpType == "Concat" && n.Attribute.Any(a => a.Name == "axis" && a.I == 1));
        (concat.Input[0], concat.Input[1]) = (concat.Input[1], concat.Input[0]);
        Assert.NotNull(Mismatch(ImportAndRun(mb, b), b.Expected));
        // ...and the swapped graph is the function whose head is swapped: swapping the head's columns restores PyTorch's logits
        var fc = mb.Graph.Initializer.Single(t => t.Name == "fc.weight");
        int C = (int)fc.Dims[0], F = (int)fc.Dims[1], H = F / 2;
        var w = OnnxFile.Floats(fc, "m.onnx", "fc.weight");
        var swapped = new float[w.Length];
        for (int o = 0; o < C; o++)
        {
            Array.Copy(w, o * F, swapped, o * F + H, H);
            Array.Copy(w, o * F + H, swapped, o * F, H);
        }
        mb.Graph.Initializer.Remove(fc);
        mb.Graph.Initializer.Add(OnnxFile.FloatTensor("fc.weight", [C, F], swapped));
        Assert.Null(Mismatch(ImportAndRun(mb, b), b.Expected));
    }

    public static IEnumerable<object[]> Refusals() =>
    [
        ["bidir_out_last", "Gather", "out[-1] of a bidirectional"],
        ["out_last_lengths", "Gather", "out[-1] with sequence_lens"],
        ["softmax_after_head", "Softmax", "outputs logits"],
        ["relu_before_head", "Relu", "op Relu is not supported"],
    ];

    [Theory]
    [MemberData(nameof(Refusals))]
    public void A_graph_that_is_not_RnnFasts_classifier_is_refused_naming_the_node(string name, string op, string says)
    {
        string refused = Path.Combine(Dir, "refused");
        var m = OnnxFile.Read(Path.Combine(refused, name + ".onnx"));
        var e = Assert.Throws<RnnFormatException>(() => OnnxImport.Convert(m, name + ".onnx"));
        Assert.Contains(says, e.Message);
        // the node named is one of the graph's nodes of that op (the selecting Gather, the Softmax, the Relu)
        var named = m.Graph.Node.Where(n => n.OpType == op).Select(n => $"node '{n.Name}' ({op})").ToArray();
        Assert.Contains(named, s => e.Message.Contains(s, StringComparison.Ordinal));
        Assert.DoesNotContain('\n', e.Message);

        var err = new StringWriter();
        string outPath = Path.Combine(_dir, name + ".safetensors");
        Assert.Equal(2, CliApp.Run(["convert", Path.Combine(refused, name + ".onnx"), outPath], new StringWriter(), err));
        var lines = err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(says, lines[0]);
        Assert.False(File.Exists(outPath));
    }

    [Fact]
    public void Other_head_readings_are_refused_naming_the_node()
    {
        // the cell state c_n
        var m = Load("lstm_hn_stacked");
        var lstm = m.Graph.Node.Last(n => n.OpType == "LSTM");
        var concat = m.Graph.Node.Single(n => n.OpType == "Concat" && n.Input.Contains(lstm.Output[1]));
        concat.Input[1] = lstm.Output[2];
        var e = Assert.Throws<RnnFormatException>(() => OnnxImport.Convert(m, "m.onnx"));
        Assert.Contains("cell state c_n", e.Message);
        Assert.Contains($"node '{concat.Name}'", e.Message);

        // only the forward half of a bidirectional state: h_n[-2] alone
        var b = Load("gru_hn_bidir_batch_first");
        var cat = b.Graph.Node.Single(n => n.OpType == "Concat" && n.Attribute.Any(a => a.Name == "axis" && a.I == 1));
        var gemm = b.Graph.Node.Single(n => n.OpType == "Gemm");
        gemm.Input[0] = cat.Input[0];
        e = Assert.Throws<RnnFormatException>(() => OnnxImport.Convert(b, "m.onnx"));
        Assert.Contains("direction(s) [forward]", e.Message);
        Assert.Contains("node '/Gather", e.Message);

        // the states of two layers: h_n[0] (layer 0, forward) beside h_n[-2] (top layer, backward)
        var sw = Load("lstm_hn_bidir_stacked_swapped");
        var pick = sw.Graph.Node.First(n => n.OpType == "Gather" && n.Input[0].Contains("Concat"));
        SetScalar(sw, pick, 0);
        e = Assert.Throws<RnnFormatException>(() => OnnxImport.Convert(sw, "m.onnx"));
        Assert.Contains("reads the states of", e.Message);
        Assert.Contains("one layer, the top one", e.Message);

        // a head on the final state of real-valued inputs: the embedding replaced by a FLOAT (T,N,E) input
        var fx = Load("gru_out_last");
        var emb = fx.Graph.Node.Single(n => n.OpType == "Gather" && n.Input[0] == "embedding.weight");
        fx.Graph.Node.Remove(emb);
        foreach (var n in fx.Graph.Node)
            for (int i = 0; i < n.Input.Count; i++)
                if (n.Input[i] == emb.Output[0]) n.Input[i] = "input";
        var type = fx.Graph.Input.Single(i => i.Name == "input").Type.TensorType;
        type.ElemType = (int)TensorProto.Types.DataType.Float;
        type.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 5 });
        e = Assert.Throws<RnnFormatException>(() => OnnxImport.Convert(fx, "m.onnx"));
        Assert.Contains("real-valued input 'input'", e.Message);
        Assert.Contains("(Gemm)", e.Message);

        // a hostile head: 25 levels of Concat(x, x) on axis 0 of h_n (2^25 paths) is refused at once, in one line
        var deep = Load("lstm_hn_stacked");
        var gather = deep.Graph.Node.Single(n => n.OpType == "Gather" && n.Input[0].Contains("Concat"));
        string prev = gather.Input[0];
        for (int i = 0; i < 25; i++)
        {
            var cc = new NodeProto { OpType = "Concat", Name = $"deep_{i}" };
            cc.Input.Add(prev);
            cc.Input.Add(prev);
            cc.Output.Add(prev = $"deep_{i}_out");
            cc.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
            deep.Graph.Node.Insert(deep.Graph.Node.IndexOf(gather), cc);
        }
        gather.Input[0] = prev;
        e = Assert.Throws<RnnFormatException>(() => OnnxImport.Convert(deep, "m.onnx"));
        Assert.Contains("branches too often", e.Message);
        Assert.DoesNotContain('\n', e.Message);

        // a Gemm with alpha != 1
        var g = Load("gru_out_last");
        g.Graph.Node.Single(n => n.OpType == "Gemm").Attribute.Single(a => a.Name == "alpha").F = 2;
        e = Assert.Throws<RnnFormatException>(() => OnnxImport.Convert(g, "m.onnx"));
        Assert.Contains("attribute alpha = 2", e.Message);
        Assert.Contains("(Gemm)", e.Message);
    }

    [Fact]
    public void RnnFasts_own_classifier_export_imports_again()
    {
        var vocab = new CharVocab("abcdef".Select(ch => ch.ToString()));
        var config = new NetworkConfig
        {
            Kind = NetworkKind.Classifier, Mode = RnnMode.Lstm, Layers = 2, Hidden = 5, Embed = 4, Bidirectional = true, Vocab = vocab,
            Labels = ["neg", "neu", "pos"], BatchFirst = true,
        };
        using var network = new CharNetwork(config, BackendRegistry.Get("reference"), new Random(11));
        using var model = RnnModel.FromNetwork(network);
        string path = Path.Combine(_dir, "own.onnx");
        ModelConverter.ExportOnnx(model, path);
        using var again = RnnModel.Load(path, "reference");
        Assert.Equal(NetworkKind.Classifier, again.Kind);
        Assert.Equal(config.Labels, again.Labels);
        Assert.Equal(vocab.ToJson(), again.Vocab.ToJson());
        Assert.True(again.Config.BatchFirst);
        var rng = new Random(5);
        var seqs = new[] { 6, 3, 1 }.Select(l => Enumerable.Range(0, l).Select(_ => rng.Next(vocab.Count)).ToArray()).ToArray();
        AssertClose(again.Forward(seqs).ToArray(), model.Forward(seqs).ToArray(), "re-imported");
    }

    [Fact]
    public void An_initial_state_is_imported_only_when_it_is_zero_by_default()
    {
        var c = Read("gru_hn_binary", Dir);
        TensorProto Zero(string name, float v) => OnnxFile.FloatTensor(name, [1, 1, 8], Enumerable.Repeat(v, 8).ToArray());
        ModelProto WithH0(Action<ModelProto, NodeProto> wire)
        {
            var m = Load("gru_hn_binary");
            wire(m, m.Graph.Node.Single(n => n.OpType == "GRU"));
            return m;
        }
        // an optional graph input backed by a zero initializer (as RnnFast's export writes it): the zero state, imported
        var optional = WithH0((m, gru) =>
        {
            m.Graph.Input.Add(new ValueInfoProto { Name = "h0", Type = m.Graph.Input[0].Type });
            m.Graph.Initializer.Add(Zero("h0", 0));
            gru.Input[5] = "h0";
        });
        Assert.Null(Mismatch(ImportAndRun(optional, c), c.Expected));
        // the same input with a non-zero default: refused
        var nonZero = WithH0((m, gru) =>
        {
            m.Graph.Input.Add(new ValueInfoProto { Name = "h0", Type = m.Graph.Input[0].Type });
            m.Graph.Initializer.Add(Zero("h0", 0.5f));
            gru.Input[5] = "h0";
        });
        var e = Assert.Throws<RnnFormatException>(() => OnnxImport.Convert(nonZero, "m.onnx"));
        Assert.Contains("initial_h 'h0' is not a zero state", e.Message);
        // a required input (no initializer), through the exporter's Expand: refused, naming the input the caller would give
        var required = WithH0((m, gru) =>
        {
            m.Graph.Input.Add(new ValueInfoProto { Name = "h0", Type = m.Graph.Input[0].Type });
            var expand = new NodeProto { OpType = "Expand", Name = "expand_h0" };
            expand.Input.Add("h0");
            expand.Input.Add(gru.Input[5]);
            expand.Output.Add("h0_expanded");
            m.Graph.Node.Insert(m.Graph.Node.IndexOf(gru), expand);
            gru.Input[5] = "h0_expanded";
        });
        e = Assert.Throws<RnnFormatException>(() => OnnxImport.Convert(required, "m.onnx"));
        Assert.Contains($"node '{required.Graph.Node.Single(n => n.OpType == "GRU").Name}' (GRU)", e.Message);
        Assert.Contains("initial_h 'h0_expanded' comes from graph input 'h0', a state the caller gives", e.Message);
    }
}
