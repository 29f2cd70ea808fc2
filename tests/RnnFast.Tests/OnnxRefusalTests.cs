// What ONNX import refuses, each with one line naming the node and the attribute or op: clip, input_forget, layout=1,
// custom activations, GRU linear_before_reset=0, reverse-only layers, other ops, non-zero initial states, a head on the
// final state; and `rnnfast convert` (exit 0 on a good model, exit 2 with one line on a refused one or a bad argument).
using Google.Protobuf;
using RnnFast.Cli;
using RnnFast.IO.Onnx;
using RnnFast.IO.Onnx.Proto;
using RnnFast.Models;
using Xunit;

namespace RnnFast.Tests;

public sealed class OnnxRefusalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rnnfast-onnx-refuse-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static ModelProto Fixture(string name) => OnnxFile.Read(Path.Combine(OnnxImportTests.FixtureDir, name + ".onnx"));

    internal static NodeProto Op(ModelProto m, string op) => m.Graph.Node.First(n => n.OpType == op);

    private static AttributeProto IntAttr(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };

    private static AttributeProto Strings(string name, params string[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings };
        foreach (var s in v) a.Strings.Add(ByteString.CopyFromUtf8(s));
        return a;
    }

    public static IEnumerable<object[]> Refusals() =>
    [
        ["lstm_basic", "clip", (Action<ModelProto>)(m => Op(m, "LSTM").Attribute.Add(new AttributeProto { Name = "clip", Type = AttributeProto.Types.AttributeType.Float, F = 3 }))],
        ["lstm_basic", "input_forget", (Action<ModelProto>)(m => Op(m, "LSTM").Attribute.Add(IntAttr("input_forget", 1)))],
        ["lstm_basic", "layout = 1", (Action<ModelProto>)(m => Op(m, "LSTM").Attribute.Add(IntAttr("layout", 1)))],
        ["lstm_basic", "activations", (Action<ModelProto>)(m => Op(m, "LSTM").Attribute.Add(Strings("activations", "HardSigmoid", "Tanh", "Tanh")))],
        ["rnn_tanh", "activations", (Action<ModelProto>)(m => Op(m, "RNN").Attribute.Add(Strings("activations", "Sigmoid")))],
        ["lstm_basic", "activation_alpha", (Action<ModelProto>)(m => Op(m, "LSTM").Attribute.Add(new AttributeProto { Name = "activation_alpha", Type = AttributeProto.Types.AttributeType.Floats }))],
        ["gru_basic", "linear_before_reset = 0", (Action<ModelProto>)(m => Op(m, "GRU").Attribute.First(a => a.Name == "linear_before_reset").I = 0)],
        ["lstm_basic", "direction = 'reverse'", (Action<ModelProto>)(m => Op(m, "LSTM").Attribute.Add(new AttributeProto { Name = "direction", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("reverse") }))],
        ["lstm_basic", "op Softmax", (Action<ModelProto>)(m => Op(m, "Squeeze").OpType = "Softmax")],
        ["lstm_basic", "initial_h", (Action<ModelProto>)(m =>
        {
            m.Graph.Input.Add(new ValueInfoProto { Name = "h0", Type = m.Graph.Input[0].Type });
            Op(m, "LSTM").Input[5] = "h0";
        })],
        ["lstm_basic", "final state", (Action<ModelProto>)(m =>
        {
            var lstm = Op(m, "LSTM");
            m.Graph.Output[0].Name = lstm.Output[1];
        })],
    ];

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Unsupported_attribute_or_op_is_refused_naming_the_node(string fixture, string says, object damage)
    {
        var m = Fixture(fixture);
        ((Action<ModelProto>)damage)(m);
        var nodeName = m.Graph.Node.First(n => n.OpType is "LSTM" or "GRU" or "RNN" or "Softmax" && (says != "op Softmax" || n.OpType == "Softmax")).Name;
        var e = Assert.Throws<RnnFormatException>(() => OnnxImport.Convert(m, "m.onnx"));
        Assert.Contains(says, e.Message);
        Assert.Contains($"node '{nodeName}'", e.Message);
        Assert.DoesNotContain('\n', e.Message);

        // the CLI: exit 2, one line, no output file
        string path = Path.Combine(_dir, fixture + ".onnx"), outPath = Path.Combine(_dir, "out.safetensors");
        File.WriteAllBytes(path, m.ToByteArray());
        var o = new StringWriter();
        var err = new StringWriter();
        Assert.Equal(2, CliApp.Run(["convert", path, outPath], o, err));
        var lines = err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: " + fixture + ".onnx: ", lines[0]);
        Assert.Contains(says, lines[0]);
        Assert.False(File.Exists(outPath));
    }

    [Fact]
    public void Convert_writes_the_other_format_and_refuses_bad_arguments()
    {
        string src = Path.Combine(OnnxImportTests.FixtureDir, "lstm_embed_head.onnx"), st = Path.Combine(_dir, "m.safetensors");
        var o = new StringWriter();
        var e = new StringWriter();
        Assert.Equal(0, CliApp.Run(["convert", src, st], o, e));
        Assert.Equal("", e.ToString());
        Assert.Equal("wrote " + st, o.ToString().Trim());
        var (a, b) = (Checkpoint.Read(src), Checkpoint.Read(st));
        Assert.Equal(a.Config.ToMetadata(), b.Config.ToMetadata());
        foreach (var (name, t) in a.Tensors) Assert.Equal(t.ToArray(), b.Tensors[name].ToArray());

        (string[] Args, string Says)[] bad =
        [
            (["convert", src, Path.Combine(_dir, "m.txt")], "OUT: 'm.txt' is neither .onnx nor .safetensors"),
            (["convert", Path.Combine(_dir, "m.bin"), st], "IN: 'm.bin' is neither .onnx nor .safetensors"),
            (["convert", Path.Combine(_dir, "missing.onnx"), st], "missing.onnx"),
            (["convert", st, st], "OUT: "),
            (["convert", src], "out"),
        ];
        foreach (var (args, says) in bad)
        {
            var err = new StringWriter();
            Assert.Equal(2, CliApp.Run(args, new StringWriter(), err));
            var lines = err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines);
            Assert.Contains(says, lines[0]);
        }
    }
}
