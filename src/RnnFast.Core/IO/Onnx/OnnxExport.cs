// Writes a model (checkpoint contents) as an ONNX graph, opset 14, that ONNX Runtime runs with RnnModel's outputs:
//   input (T,N[,F]) or (N,T[,F]) when BatchFirst, INT64 token ids or FLOAT features   (the only required input)
//   sequence_lens (N) INT64, initial_h (L*D,N,H), initial_c (LSTM): optional inputs backed by initializers (all T, zeros),
//     broadcast to the batch with Expand so the defaults serve any N
//   [Gather(embedding)] [Transpose] [(x-mean)/std] -> per layer LSTM/GRU/RNN + Transpose/Reshape of Y to (T,N,D*H)
//   -> per-step head (language model, tagger, forecaster [*std+mean], bare RNN: none)
//   or pooled head (classifier, multi-label: the last valid step from Y_h, or the mean over valid steps)
//   outputs: output (the head's), h_n (L*D,N,H), c_n (LSTM)
// Gate orders are converted once (ours LSTM i,f,g,o -> ONNX i,o,f,c; GRU r,z,n -> z,r,h; peepholes i,f,o -> i,o,f).
using Google.Protobuf;
using RnnFast.IO.Onnx.Proto;
using RnnFast.Models;

namespace RnnFast.IO.Onnx;

/// <summary>Checkpoint contents to an ONNX model file (internal; reached through <see cref="ModelConverter"/>).</summary>
internal static class OnnxExport
{
    /// <summary>The opset written.</summary>
    public const int Opset = 14;

    /// <summary>Writes <paramref name="contents"/> to <paramref name="path"/> (temporary file renamed over it).</summary>
    public static void Write(string path, CheckpointContents contents) => OnnxFile.Write(path, Build(contents));

    /// <summary>The ONNX model of <paramref name="contents"/>.</summary>
    public static ModelProto Build(CheckpointContents contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        var b = new GraphBuilder();
        var cfg = contents.Config;
        var desc = cfg.RnnDesc;
        Tensor T(string name) => contents.Tensors.TryGetValue(name, out var t) ? t : throw new ArgumentException($"contents: tensor '{name}' is missing", nameof(contents));
        int L = desc.NumLayers, D = desc.Directions, H = desc.HiddenSize, G = desc.GateCount, LD = L * D;
        bool tokens = !cfg.HasFeatureInput;
        string seqDim0 = cfg.BatchFirst ? "batch" : "time", seqDim1 = cfg.BatchFirst ? "time" : "batch";

        // inputs
        if (tokens) b.Input("input", TensorProto.Types.DataType.Int64, [seqDim0, seqDim1]);
        else b.Input("input", TensorProto.Types.DataType.Float, [seqDim0, seqDim1, cfg.Features]);
        b.Input("sequence_lens", TensorProto.Types.DataType.Int64, [null]);
        b.Init(OnnxFile.Int64Tensor("sequence_lens", [1], [int.MaxValue]));
        b.Input("initial_h", TensorProto.Types.DataType.Float, [LD, "batch", H]);
        b.Init(OnnxFile.FloatTensor("initial_h", [LD, 1, H], new float[LD * H]));
        if (desc.HasCellState)
        {
            b.Input("initial_c", TensorProto.Types.DataType.Float, [LD, "batch", H]);
            b.Init(OnnxFile.FloatTensor("initial_c", [LD, 1, H], new float[LD * H]));
        }

        string x = "input";
        if (tokens)
        {
            var emb = T("embedding.weight");
            b.Init(OnnxFile.FloatTensor("embedding.weight", emb.Shape, emb.Span));
            x = b.Node("Gather", ["embedding.weight", x]);
        }
        if (cfg.BatchFirst) x = b.Node("Transpose", [x], a => a.Add(Ints("perm", [1, 0, 2])));
        if (cfg.Scaling is { } sc)
        {
            x = b.Node("Sub", [x, b.Const("scaling.input_mean", [cfg.Features], sc.InputMean)]);
            x = b.Node("Div", [x, b.Const("scaling.input_std", [cfg.Features], sc.InputStd)]);
        }
        // (T,N,I) time-major from here. Lengths: min(sequence_lens broadcast to N, T) as INT32.
        string shape = b.Node("Shape", [x]);
        string nDim = b.Node("Slice", [shape, b.I64([1]), b.I64([2]), b.I64([0])]);   // [N]
        string tDim = b.Node("Slice", [shape, b.I64([0]), b.I64([1]), b.I64([0])]);   // [T]
        string lens64 = b.Node("Min", [b.Node("Expand", ["sequence_lens", nDim]), tDim]);
        string lens = b.Node("Cast", [lens64], a => a.Add(Int("to", (long)TensorProto.Types.DataType.Int32)));
        string stateShape = b.Node("Concat", [b.I64([LD]), nDim, b.I64([H])], a => a.Add(Int("axis", 0)));
        string h0 = b.Node("Expand", ["initial_h", stateShape]);
        string? c0 = desc.HasCellState ? b.Node("Expand", ["initial_c", stateShape]) : null;

        int[] map = desc.Mode switch { RnnMode.Lstm => [0, 3, 1, 2], RnnMode.Gru => [1, 0, 2], _ => [0] }; // ONNX block j = ours block map[j]
        string op = desc.Mode switch { RnnMode.Lstm => "LSTM", RnnMode.Gru => "GRU", _ => "RNN" };
        var hs = new List<string>();
        var cs = new List<string>();
        string y = x;
        string lastYh = "";
        for (int l = 0; l < L; l++)
        {
            int In = desc.LayerInputSize(l), GH = G * H;
            var W = new float[D * GH * In];
            var R = new float[D * GH * H];
            var B = new float[D * 2 * GH];
            float[]? P = desc.Peephole ? new float[D * 3 * H] : null;
            for (int d = 0; d < D; d++)
            {
                string sfx = $"_l{l}" + (d == 1 ? "_reverse" : "");
                var wih = T("rnn.weight_ih" + sfx).Span;
                var whh = T("rnn.weight_hh" + sfx).Span;
                var bih = T("rnn.bias_ih" + sfx).Span;
                var bhh = T("rnn.bias_hh" + sfx).Span;
                for (int j = 0; j < G; j++)
                {
                    int k = map[j];
                    wih.Slice(k * H * In, H * In).CopyTo(W.AsSpan((d * GH + j * H) * In));
                    whh.Slice(k * H * H, H * H).CopyTo(R.AsSpan((d * GH + j * H) * H));
                    bih.Slice(k * H, H).CopyTo(B.AsSpan(d * 2 * GH + j * H));
                    bhh.Slice(k * H, H).CopyTo(B.AsSpan(d * 2 * GH + GH + j * H));
                }
                if (P != null)
                {
                    var ph = T("rnn.weight_ph" + sfx).Span;
                    int[] pmap = [0, 2, 1]; // ONNX i,o,f from ours i,f,o
                    for (int j = 0; j < 3; j++) ph.Slice(pmap[j] * H, H).CopyTo(P.AsSpan(d * 3 * H + j * H));
                }
            }
            string w = b.Const($"rnn.W_l{l}", [D, GH, In], W), r = b.Const($"rnn.R_l{l}", [D, GH, H], R), bias = b.Const($"rnn.B_l{l}", [D, 2 * GH], B);
            string h0l = b.Node("Slice", [h0, b.I64([l * D]), b.I64([(l + 1) * D]), b.I64([0])]);
            var ins = new List<string> { y, w, r, bias, lens, h0l };
            if (desc.HasCellState) ins.Add(b.Node("Slice", [c0!, b.I64([l * D]), b.I64([(l + 1) * D]), b.I64([0])]));
            if (P != null) ins.Add(b.Const($"rnn.P_l{l}", [D, 3 * H], P));
            var outs = b.NodeOutputs(op, ins, desc.HasCellState ? 3 : 2, a =>
            {
                a.Add(Int("hidden_size", H));
                if (D == 2) a.Add(Str("direction", "bidirectional"));
                if (desc.Mode == RnnMode.Gru) a.Add(Int("linear_before_reset", 1));
                if (desc.Mode is RnnMode.RnnTanh or RnnMode.RnnRelu)
                {
                    var act = new AttributeProto { Name = "activations", Type = AttributeProto.Types.AttributeType.Strings };
                    for (int d = 0; d < D; d++) act.Strings.Add(ByteString.CopyFromUtf8(desc.Mode == RnnMode.RnnRelu ? "Relu" : "Tanh"));
                    a.Add(act);
                }
            });
            hs.Add(outs[1]);
            if (desc.HasCellState) cs.Add(outs[2]);
            lastYh = outs[1];
            y = b.Node("Reshape", [b.Node("Transpose", [outs[0]], a => a.Add(Ints("perm", [0, 2, 1, 3]))), b.I64([0, 0, -1])]); // (T,N,D*H)
        }

        string feature = y;
        bool perStep = !cfg.PoolsSequences;
        if (!perStep)
        {
            if (cfg.Pooling == SequencePooling.Mean)
            {
                string sum = b.Node("ReduceSum", [y, b.I64([0])], a => a.Add(Int("keepdims", 0)));                      // (N,D*H)
                string count = b.Node("Unsqueeze", [b.Node("Cast", [lens], a => a.Add(Int("to", (long)TensorProto.Types.DataType.Float))), b.I64([1])]);
                feature = b.Node("Div", [sum, count]);
            }
            else // the last valid step: Y_h (D,N,H) of the top layer, [forward | reverse] per sequence
                feature = b.Node("Reshape", [b.Node("Transpose", [lastYh], a => a.Add(Ints("perm", [1, 0, 2]))), b.I64([0, -1])]);
        }
        string output = feature;
        if (!cfg.IdentityHead)
        {
            var hw = T("head.weight");
            int O = hw.Shape[0], F = hw.Shape[1];
            var wt = new float[F * O];
            var src = hw.Span;
            for (int o = 0; o < O; o++)
            for (int f = 0; f < F; f++) wt[f * O + o] = src[o * F + f];
            output = b.Node("Add", [b.Node("MatMul", [feature, b.Const("head.weight_t", [F, O], wt)]), b.Const("head.bias", [O], T("head.bias").Span)]);
            if (cfg.Scaling is { } s2)
                output = b.Node("Add", [b.Node("Mul", [output, b.Const("scaling.target_std", [O], s2.TargetStd)]), b.Const("scaling.target_mean", [O], s2.TargetMean)]);
        }
        if (perStep && cfg.BatchFirst) output = b.Node("Transpose", [output], a => a.Add(Ints("perm", [1, 0, 2])));
        b.Rename(output, "output");
        b.Rename(L == 1 ? hs[0] : b.Node("Concat", hs, a => a.Add(Int("axis", 0))), "h_n");
        if (desc.HasCellState) b.Rename(L == 1 ? cs[0] : b.Node("Concat", cs, a => a.Add(Int("axis", 0))), "c_n");
        int outW = cfg.IdentityHead ? desc.OutputSize : cfg.OutputSize;
        b.Output("output", perStep ? [seqDim0, seqDim1, outW] : ["batch", outW]);
        b.Output("h_n", [LD, "batch", H]);
        if (desc.HasCellState) b.Output("c_n", [LD, "batch", H]);

        var model = new ModelProto { IrVersion = 8, ProducerName = "RnnFast", ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "", Graph = b.Graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (k, v) in cfg.ToMetadata())
            if (k is not ("vocab" or "labels" or "features" or "targets") || v.Length < 1 << 16)
                model.MetadataProps.Add(new StringStringEntryProto { Key = "rnnfast." + k, Value = v });
        return model;
    }

    private static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
    private static AttributeProto Str(string name, string v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(v) };
    private static AttributeProto Ints(string name, long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(v);
        return a;
    }

    /// <summary>Nodes with generated value names, initializers, inputs and outputs of one graph.</summary>
    private sealed class GraphBuilder
    {
        public GraphProto Graph { get; } = new() { Name = "rnnfast" };
        private int _next;
        private readonly Dictionary<string, NodeProto> _producer = new(StringComparer.Ordinal);

        public void Input(string name, TensorProto.Types.DataType type, object?[] dims) => Graph.Input.Add(Info(name, type, dims));
        public void Output(string name, object?[] dims) => Graph.Output.Add(Info(name, TensorProto.Types.DataType.Float, dims));
        public void Init(TensorProto t) => Graph.Initializer.Add(t);

        private static ValueInfoProto Info(string name, TensorProto.Types.DataType type, object?[] dims)
        {
            var shape = new TensorShapeProto();
            foreach (var d in dims)
                shape.Dim.Add(d switch
                {
                    int v => new TensorShapeProto.Types.Dimension { DimValue = v },
                    string p => new TensorShapeProto.Types.Dimension { DimParam = p },
                    _ => new TensorShapeProto.Types.Dimension(),
                });
            return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
        }

        public string Const(string name, int[] dims, ReadOnlySpan<float> values)
        {
            Init(OnnxFile.FloatTensor(name, dims, values));
            return name;
        }

        public string I64(long[] values)
        {
            string name = $"const_{_next++}";
            Init(OnnxFile.Int64Tensor(name, [values.Length], values));
            return name;
        }

        public string Node(string op, IReadOnlyList<string> inputs, Action<Google.Protobuf.Collections.RepeatedField<AttributeProto>>? attrs = null) =>
            NodeOutputs(op, inputs, 1, attrs)[0];

        public string[] NodeOutputs(string op, IReadOnlyList<string> inputs, int outputs, Action<Google.Protobuf.Collections.RepeatedField<AttributeProto>>? attrs = null)
        {
            int id = _next++;
            var n = new NodeProto { OpType = op, Name = $"{op}_{id}" };
            n.Input.AddRange(inputs);
            for (int i = 0; i < outputs; i++)
            {
                string o = $"{op}_{id}_out{i}";
                n.Output.Add(o);
                _producer[o] = n;
            }
            attrs?.Invoke(n.Attribute);
            Graph.Node.Add(n);
            return n.Output.ToArray();
        }

        /// <summary>Gives a node's output a fixed name (a graph output).</summary>
        public void Rename(string value, string name)
        {
            var n = _producer[value];
            for (int i = 0; i < n.Output.Count; i++) if (n.Output[i] == value) n.Output[i] = name;
            foreach (var other in Graph.Node)
                for (int i = 0; i < other.Input.Count; i++) if (other.Input[i] == value) other.Input[i] = name;
            _producer.Remove(value);
            _producer[name] = n;
        }
    }
}
