// Imports an ONNX graph as torch.onnx.export writes it for an nn.LSTM / nn.GRU / nn.RNN stack into a checkpoint's contents:
//   input (T,N,I) or (N,T,I) [tokens (T,N)/(N,T) through Gather(embedding (V,E))] -> [Transpose] -> one LSTM/GRU/RNN node
//   per layer, each Y (T,D,N,H) turned back into (T,N,D*H) by Squeeze (D=1) or Transpose+Reshape (D=2) -> [Transpose]
//   -> [MatMul(W (D*H,O)) + Add(b)] -> output
// or a classifier: the top layer's final state (h_n[-1], cat(h_n[-2], h_n[-1])) or last step (out[-1], uni without
// lengths) -> Gemm or MatMul+Add -> (N,C) logits (OnnxHeadPatterns.cs reads that head)
// plus the exporter's glue: zero initial states (Constant/ConstantOfShape/Shape/Gather/Unsqueeze/Concat/Slice/Expand),
// sequence lengths (a graph input, sorted by TopK, the batch permuted by Gather and restored after the RNN).
// Gate orders are converted once (LSTM i,o,f,c -> i,f,g,o; GRU z,r,h -> r,z,n; peepholes i,o,f -> i,f,o) and B is split
// into b_ih and b_hh. Anything else is refused with one line naming the node and the op or attribute.
using System.Globalization;
using RnnFast.IO.Onnx.Proto;
using RnnFast.Models;

namespace RnnFast.IO.Onnx;

/// <summary>ONNX model files to checkpoint contents (internal; reached through Checkpoint.Read and RnnModel.Load).</summary>
internal static partial class OnnxImport
{
    /// <summary>The lowest and highest default-domain opset imported.</summary>
    public const int MinOpset = 9, MaxOpset = 21;

    /// <summary>True when <paramref name="path"/> names an ONNX file (by its extension).</summary>
    public static bool IsOnnxPath(string path) => path != null && path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

    private static readonly HashSet<string> KnownOps =
    [
        "LSTM", "GRU", "RNN", "Gather", "MatMul", "Add", "Transpose", "Squeeze", "Unsqueeze", "Concat", "Reshape", "Slice",
        "Split", "Constant", "ConstantOfShape", "Shape", "Expand", "Cast", "TopK", "ScatterElements", "Identity", "Min", "Gemm", "Sub", "Div", "Mul",
    ];

    /// <summary>Reads <paramref name="path"/> and converts it; problems are <see cref="RnnFormatException"/> naming the file.</summary>
    public static CheckpointContents Read(string path, CharVocab? vocab = null)
    {
        var model = OnnxFile.Read(path);
        return new Importer(model, Path.GetFileName(path)).Convert(vocab);
    }

    /// <summary>Converts a parsed model (<paramref name="name"/> names it in errors).</summary>
    public static CheckpointContents Convert(ModelProto model, string name, CharVocab? vocab = null) => new Importer(model, name).Convert(vocab);

    private sealed partial class Importer
    {
        private readonly ModelProto _model;
        private readonly GraphProto _g;
        private readonly string _file;
        private readonly Dictionary<string, TensorProto> _inits = new(StringComparer.Ordinal);
        private readonly Dictionary<string, NodeProto> _producer = new(StringComparer.Ordinal);
        private readonly HashSet<string> _inputs = new(StringComparer.Ordinal);

        public Importer(ModelProto model, string file)
        {
            _model = model;
            _g = model.Graph;
            _file = file;
        }

        private RnnFormatException Error(string problem) => new(_file, problem);
        private static string Node(NodeProto n) => $"node '{(n.Name.Length > 0 ? n.Name : n.Output.FirstOrDefault() ?? "?")}' ({n.OpType})";

        public CheckpointContents Convert(CharVocab? vocab)
        {
            CheckOpset();
            foreach (var t in _g.Initializer)
                if (!_inits.TryAdd(t.Name, t)) throw Error($"initializer '{t.Name}' appears twice");
            foreach (var i in _g.Input)
                if (!_inits.ContainsKey(i.Name)) _inputs.Add(i.Name);
            foreach (var n in _g.Node)
            {
                if (n.Domain.Length > 0 && n.Domain != "ai.onnx") throw Error($"{Node(n)}: domain '{n.Domain}' is not supported; only standard ONNX ops are imported");
                if (n.OpType is "Softmax" or "LogSoftmax")
                    throw Error($"{Node(n)}: op {n.OpType} is not imported: an RnnFast classifier outputs logits (RnnModel.Forward) and applies the softmax itself (Classify); export the model without it");
                if (!KnownOps.Contains(n.OpType))
                    throw Error($"{Node(n)}: op {n.OpType} is not supported (imported: LSTM/GRU/RNN, a Gather embedding, a MatMul+Add head and the exporter's glue)");
                foreach (var o in n.Output)
                    if (o.Length > 0 && (_producer.ContainsKey(o) || _inits.ContainsKey(o) || _inputs.Contains(o)))
                        throw Error($"{Node(n)}: output '{o}' is produced twice");
                    else if (o.Length > 0) _producer[o] = n;
            }
            CheckOrder();
            if (_g.Output.Count == 0) throw Error("the graph has no outputs");
            return Build(vocab);
        }

        private void CheckOpset()
        {
            var ops = _model.OpsetImport.Where(o => o.Domain.Length == 0 || o.Domain == "ai.onnx").ToArray();
            if (ops.Length == 0) throw Error("the model imports no default-domain opset");
            long v = ops[0].Version;
            if (v < MinOpset || v > MaxOpset) throw Error($"opset {v} is outside the opsets imported ({MinOpset} to {MaxOpset})");
        }

        /// <summary>Every node input exists, and the nodes form no cycle (Kahn's order over the graph).</summary>
        private void CheckOrder()
        {
            var pending = new Dictionary<NodeProto, int>(ReferenceEqualityComparer.Instance);
            var users = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
            var ready = new Queue<NodeProto>();
            foreach (var n in _g.Node)
            {
                int waits = 0;
                foreach (var i in n.Input)
                {
                    if (i.Length == 0 || _inits.ContainsKey(i) || _inputs.Contains(i)) continue;
                    if (!_producer.ContainsKey(i)) throw Error($"{Node(n)}: input '{i}' is produced by no node, initializer or graph input");
                    waits++;
                    (users.TryGetValue(i, out var l) ? l : users[i] = []).Add(n);
                }
                pending[n] = waits;
                if (waits == 0) ready.Enqueue(n);
            }
            int done = 0;
            while (ready.Count > 0)
            {
                var n = ready.Dequeue();
                done++;
                foreach (var o in n.Output)
                    if (o.Length > 0 && users.TryGetValue(o, out var l))
                        foreach (var u in l)
                            if (--pending[u] == 0) ready.Enqueue(u);
            }
            if (done != _g.Node.Count)
            {
                var stuck = pending.First(kv => kv.Value > 0).Key;
                throw Error($"the graph has a cycle ({Node(stuck)} depends on its own output)");
            }
        }

        // ---- attributes and constants ----

        private static AttributeProto? Attr(NodeProto n, string name) => n.Attribute.FirstOrDefault(a => a.Name == name);

        private long[] IntsAttrOrInput(NodeProto n, string attr, int input)
        {
            if (Attr(n, attr) is { } a) return a.Ints.ToArray();
            if (n.Input.Count > input && n.Input[input].Length > 0) return ConstInts(n.Input[input], $"{Node(n)} input '{n.Input[input]}'");
            return [];
        }

        /// <summary>The integer values of an initializer or Constant node output.</summary>
        private long[] ConstInts(string name, string what)
        {
            if (_inits.TryGetValue(name, out var t)) return OnnxFile.Int64s(t, _file, what);
            if (_producer.TryGetValue(name, out var n) && n.OpType == "Constant")
            {
                if (Attr(n, "value") is { T: { } v }) return OnnxFile.Int64s(v, _file, what);
                if (Attr(n, "value_ints") is { } vi) return vi.Ints.ToArray();
                if (Attr(n, "value_int") is { } i1) return [i1.I];
            }
            throw Error($"{what} must be a constant");
        }

        private float[] InitFloats(NodeProto n, int input, string role, out TensorProto t)
        {
            string name = n.Input[input];
            if (!_inits.TryGetValue(name, out t!))
            {
                if (_producer.TryGetValue(name, out var c) && c.OpType == "Constant" && Attr(c, "value") is { T: { } v }) t = v;
                else throw Error($"{Node(n)}: {role} '{name}' is not an initializer or constant; only weights stored in the model are imported");
            }
            return OnnxFile.Floats(t, _file, $"{Node(n)} {role} '{name}'");
        }

        private int _steps;

        /// <summary>Counts one step of the walks over the graph that branch at Concat; a graph that needs too many is refused (bounded time).</summary>
        private void Step(string name)
        {
            if (++_steps > MaxWalkSteps) throw Error($"the graph around '{Trim(name)}' branches too often to follow ({MaxWalkSteps} steps); it is not what torch.onnx.export writes");
        }

        /// <summary>The most values the branching walks (zero states, classifier heads) visit in one import.</summary>
        private const int MaxWalkSteps = 100_000;

        /// <summary>True when <paramref name="name"/> is zero everywhere by construction (the exporter's zero initial states).</summary>
        private bool IsZero(string name, int depth = 0)
        {
            if (depth > 64) return false;
            Step(name);
            if (_inits.TryGetValue(name, out var t)) return OnnxFile.AllZero(t, _file, $"initializer '{name}'");
            if (!_producer.TryGetValue(name, out var n)) return false;
            switch (n.OpType)
            {
                case "Constant":
                    return Attr(n, "value") is { T: { } v } && OnnxFile.AllZero(v, _file, $"{Node(n)} value");
                case "ConstantOfShape":
                    return Attr(n, "value") is not { T: { } cv } || OnnxFile.AllZero(cv, _file, $"{Node(n)} value");
                case "Expand" or "Slice" or "Squeeze" or "Unsqueeze" or "Reshape" or "Transpose" or "Cast" or "Identity" or "Split":
                    return IsZero(n.Input[0], depth + 1);
                case "Gather":
                    return IsZero(n.Input[0], depth + 1);
                case "Concat":
                    return n.Input.All(i => IsZero(i, depth + 1));
                default:
                    return false;
            }
        }

        /// <summary>The graph input without an initializer (a value the caller must give) that <paramref name="name"/> is computed from, or null.</summary>
        private string? CallerState(string name, int depth = 0)
        {
            if (depth > 64) return null;
            Step(name);
            if (_inputs.Contains(name)) return name;
            if (!_producer.TryGetValue(name, out var n)) return null;
            return n.OpType switch
            {
                "Expand" or "Slice" or "Squeeze" or "Unsqueeze" or "Reshape" or "Transpose" or "Cast" or "Identity" or "Split" or "Gather" => CallerState(n.Input[0], depth + 1),
                "Concat" => n.Input.Select(i => CallerState(i, depth + 1)).FirstOrDefault(g => g != null),
                _ => null,
            };
        }

        /// <summary>The graph input that a sequence_lens value comes from (through Cast and TopK's sorted values).</summary>
        private string LengthsSource(NodeProto rnn, string name)
        {
            for (int depth = 0; depth < 16; depth++)
            {
                // a graph input, also one backed by an initializer (RnnFast's export: sequence_lens defaults to whole sequences)
                if (_inputs.Contains(name) || _g.Input.Any(i => i.Name == name)) return name;
                if (!_producer.TryGetValue(name, out var n)) break;
                // Cast, TopK's sorted values (PyTorch), Expand to the batch and Min with T (RnnFast's export)
                if (n.OpType is "Cast" or "Identity" or "Expand" or "Min" || (n.OpType == "TopK" && n.Output[0] == name)) { name = n.Input[0]; continue; }
                break;
            }
            throw Error($"{Node(rnn)}: sequence_lens '{rnn.Input[4]}' does not come from a graph input; only lengths given with the input are imported");
        }

        /// <summary>True when a Gather's indices are the exporter's sort permutation of the lengths (TopK) or its inverse (ScatterElements).</summary>
        private bool IsLengthPermutation(string name)
        {
            for (int depth = 0; depth < 16; depth++)
            {
                if (!_producer.TryGetValue(name, out var n)) return false;
                if (n.OpType == "TopK" && n.Output.Count > 1 && n.Output[1] == name) return true;
                if (n.OpType == "ScatterElements") return n.Input.Count > 1 && IsLengthPermutation(n.Input[1]);
                if (n.OpType is "Cast" or "Identity") { name = n.Input[0]; continue; }
                return false;
            }
            return false;
        }

        // ---- the data path ----

        private sealed record Layer(NodeProto Node, RnnMode Mode, int Directions, int Hidden, int Input, float[] W, float[] R, float[]? B, float[]? P);

        private CheckpointContents Build(CharVocab? vocab)
        {
            string output = _g.Output[0].Name;
            // A classifier's head on the final state: the walk below starts at its RNN's per-step output Y instead.
            var head = ReadPooledHead(output);
            // Walk back from the first output to a graph input along each node's data input.
            var path = new List<NodeProto>();
            string cur = head?.Rnn.Output[0] ?? output;
            while (!_inputs.Contains(cur))
            {
                if (!_producer.TryGetValue(cur, out var n))
                    throw Error(_inits.ContainsKey(cur) ? $"output '{cur}' is an initializer, not computed from the input" : $"value '{cur}' is produced by nothing");
                if (path.Count > _g.Node.Count) throw Error("the path from the output back to the input does not end");
                path.Add(n);
                cur = n.OpType switch
                {
                    "LSTM" or "GRU" or "RNN" => n.Output[0] == cur ? n.Input[0]
                        : throw Error($"{Node(n)}: the output '{output}' comes from its final state ({cur}); only the per-step output Y is imported (a head on the last state, as a classifier has, is not)"),
                    "Gather" => _inits.ContainsKey(n.Input[0]) || _producer.TryGetValue(n.Input[0], out var c) && c.OpType == "Constant" ? n.Input[1] : n.Input[0],
                    "Add" => n.Input.Count == 2 && _inits.ContainsKey(n.Input[0]) ? n.Input[1] : n.Input[0],
                    "Squeeze" or "Transpose" or "Reshape" or "MatMul" or "Identity" => n.Input[0],
                    "Sub" or "Div" or "Mul" => ScalingData(n),
                    _ => throw Error($"{Node(n)}: op {n.OpType} is not expected between the input and the output (imported: Gather, Transpose, LSTM/GRU/RNN, Squeeze, Reshape, MatMul, Add)"),
                };
            }
            path.Reverse();
            _pathView = path;
            string input = cur;
            var inputInfo = _g.Input.First(i => i.Name == input);
            int elem = inputInfo.Type?.TensorType?.ElemType ?? 0;
            bool tokens = elem is (int)TensorProto.Types.DataType.Int64 or (int)TensorProto.Types.DataType.Int32;
            if (!tokens && elem != (int)TensorProto.Types.DataType.Float)
                throw Error($"input '{input}' has element type {OnnxFile.DataTypeName(elem)}; expected FLOAT (features) or INT64 (token ids)");

            int pos = 0;
            float[]? embedding = null;
            int V = 0, E = 0;
            if (tokens)
            {
                if (pos >= path.Count || path[pos].OpType != "Gather" || path[pos].Input[1] != input)
                    throw Error($"input '{input}' holds token ids but no Gather (embedding) reads them");
                var g = path[pos++];
                if ((Attr(g, "axis")?.I ?? 0) != 0) throw Error($"{Node(g)}: attribute axis = {Attr(g, "axis")!.I}; an embedding gathers rows (axis 0)");
                embedding = InitFloats(g, 0, "embedding", out var et);
                if (et.Dims.Count != 2 || et.Dims[0] <= 0 || et.Dims[1] <= 0) throw Error($"{Node(g)}: embedding has dims {OnnxFile.FormatDims(et)}, expected (V,E)");
                V = (int)et.Dims[0];
                E = (int)et.Dims[1];
            }

            int transposes = 0, permutations = 0;
            bool? inputBatchFirst = null;
            var layers = new List<Layer>();
            float[]? headW = null, headB = null;
            var scaling = new ScalingParts();
            int O = 0;
            string? lengths = null;
            for (; pos < path.Count; pos++)
            {
                var n = path[pos];
                switch (n.OpType)
                {
                    case "Identity":
                        break;
                    case "Transpose":
                    {
                        var perm = Attr(n, "perm")?.Ints.ToArray() ?? [];
                        if (!perm.SequenceEqual([1L, 0, 2])) throw Error($"{Node(n)}: perm [{string.Join(",", perm)}] is not a swap of the time and batch axes [1,0,2]");
                        transposes++;
                        break;
                    }
                    case "Gather":
                        if (!IsLengthPermutation(n.Input[1]))
                            throw Error($"{Node(n)}: a Gather on the sequence that is neither the embedding nor the exporter's reordering by length");
                        permutations++;
                        break;
                    case "LSTM" or "GRU" or "RNN":
                    {
                        if (headW != null) throw Error($"{Node(n)}: an RNN after the head is not supported");
                        if (layers.Count == 0)
                        {
                            inputBatchFirst = transposes % 2 == 1;
                            transposes = 0; // from here: swaps after the first layer (between layers: none; after the last: the input's layout again)
                        }
                        else if (transposes % 2 == 1) throw Error($"{Node(n)}: its input is batch-major; an RNN node reads (T,N,I)");
                        var layer = ReadLayer(n, layers.Count == 0 ? (tokens ? E : InputWidth(inputInfo, n)) : layers[^1].Directions * layers[^1].Hidden);
                        if (layers.Count > 0 && (layer.Mode != layers[0].Mode || layer.Hidden != layers[0].Hidden || layer.Directions != layers[0].Directions))
                            throw Error($"{Node(n)}: a layer of another cell, size or direction than the first ({Node(layers[0].Node)}); a stack has one of each");
                        if (layers.Count > 0 && (layer.P != null) != (layers[0].P != null))
                            throw Error($"{Node(n)}: peepholes (input P) on some layers only");
                        string? l = n.Input.Count > 4 && n.Input[4].Length > 0 ? LengthsSource(n, n.Input[4]) : null;
                        if (layers.Count > 0 && l != lengths) throw Error($"{Node(n)}: its sequence_lens differ from the first layer's");
                        lengths = l;
                        for (int s = 5; s <= 6; s++)
                            if (n.Input.Count > s && n.Input[s].Length > 0 && !IsZero(n.Input[s]))
                                throw Error(CallerState(n.Input[s]) is { } given
                                    ? $"{Node(n)}: {(s == 5 ? "initial_h" : "initial_c")} '{n.Input[s]}' comes from graph input '{given}', a state the caller gives; RnnFast's models start every sequence from zeros, so only zero initial states are imported (constants, or an optional input backed by a zero initializer)"
                                    : $"{Node(n)}: {(s == 5 ? "initial_h" : "initial_c")} '{n.Input[s]}' is not a zero state; RnnFast's models start every sequence from zeros, so only zero initial states are imported");
                        layers.Add(layer);
                        // a classifier's top layer: its Y is read by nothing on the path (the head reads its final state)
                        if (head == null || pos != path.Count - 1) pos = SkipYToSequence(n, layer.Directions, pos);
                        break;
                    }
                    case "MatMul":
                    {
                        if (layers.Count == 0) throw Error($"{Node(n)}: a MatMul before the RNN is not supported");
                        if (headW != null) throw Error($"{Node(n)}: a second MatMul; one linear head is imported");
                        var w = InitFloats(n, 1, "weight", out var wt);
                        int F = layers[^1].Directions * layers[^1].Hidden;
                        if (wt.Dims.Count != 2 || wt.Dims[0] != F || wt.Dims[1] <= 0) throw Error($"{Node(n)}: weight has dims {OnnxFile.FormatDims(wt)}, expected ({F},O)");
                        O = (int)wt.Dims[1];
                        headW = new float[O * F]; // (O,F) = transpose of (F,O)
                        for (int f = 0; f < F; f++)
                        for (int o = 0; o < O; o++) headW[o * F + f] = w[f * O + o];
                        break;
                    }
                    case "Add":
                    {
                        if (headW == null || headB != null) throw Error($"{Node(n)}: an Add that is not a head's bias (after its MatMul) or the targets' scaling (after a Mul)");
                        int bi = _inits.ContainsKey(n.Input[0]) ? 0 : 1;
                        var b = InitFloats(n, bi, "bias", out var bt);
                        if (b.Length != O || bt.Dims.Count != 1) throw Error($"{Node(n)}: bias has dims {OnnxFile.FormatDims(bt)}, expected ({O})");
                        headB = b;
                        break;
                    }
                    case "Sub" or "Div" or "Mul":
                        pos = ReadScaling(path, pos, scaling, layers.Count, headB != null, tokens);
                        break;
                    default:
                        throw Error($"{Node(n)}: op {n.OpType} is not expected here");
                }
            }
            if (layers.Count == 0) throw Error("the graph has no LSTM, GRU or RNN node between its input and its first output");
            if (head == null && transposes % 2 == 1 != (inputBatchFirst ?? false))
                throw Error($"the output '{output}' is in another layout (batch-major or time-major) than the input '{input}'");
            if (head != null)
            {
                CheckPooledHead(head, layers[^1], lengths, tokens, input);
                permutations += head.Unsorts;
                (headW, headB, O) = (head.Weight, head.Bias, head.Classes);
            }
            if (permutations != 0 && (permutations != 2 || lengths == null))
                throw Error("the sequences are reordered by length but not restored (expected the exporter's sort and unsort around the RNN)");
            if (headW != null) headB ??= new float[O];
            if (scaling.Any && head != null) throw Error("a classifier with a forecaster's scaling is not imported");
            return Assemble(layers, tokens, embedding, V, E, headW, headB, O, inputBatchFirst ?? false, vocab, lengths, inputInfo, head != null, scaling);
        }

        private int InputWidth(ValueInfoProto input, NodeProto rnn)
        {
            var dims = input.Type?.TensorType?.Shape?.Dim;
            if (dims is { Count: 3 } && dims[2].HasDimValue && dims[2].DimValue > 0) return (int)dims[2].DimValue;
            return -1; // taken from W
        }

        /// <summary>After an RNN node: Squeeze(axis 1) for one direction, Transpose(0,2,1,3) + Reshape(0,0,-1) for two. Returns the last node's index.</summary>
        private int SkipYToSequence(NodeProto rnn, int directions, int pos)
        {
            var path = _pathView!;
            NodeProto? Next(int at) => at < path.Count ? path[at] : null;
            if (directions == 1 && Next(pos + 1)?.OpType != "Transpose")
            {
                var s = Next(pos + 1);
                if (s?.OpType != "Squeeze" || !IntsAttrOrInput(s, "axes", 1).SequenceEqual([1L]))
                    throw Error($"{Node(rnn)}: its output Y (T,1,N,H) must be squeezed on axis 1 (found {(s == null ? "nothing" : Node(s))})");
                return pos + 1;
            }
            var t = Next(pos + 1);
            var r = Next(pos + 2);
            if (t?.OpType != "Transpose" || !(Attr(t, "perm")?.Ints.ToArray() ?? []).SequenceEqual([0L, 2, 1, 3]))
                throw Error($"{Node(rnn)}: its output Y (T,D,N,H) must be transposed to (T,N,D,H) (perm 0,2,1,3) (found {(t == null ? "nothing" : Node(t))})");
            if (r?.OpType != "Reshape") throw Error($"{Node(rnn)}: its output Y must be reshaped to (T,N,D*H) after the Transpose (found {(r == null ? "nothing" : Node(r))})");
            var shape = ConstInts(r.Input[1], $"{Node(r)} shape");
            if (shape.Length != 3 || shape[0] != 0 || shape[1] != 0 || shape[2] is not (-1 or > 0)) throw Error($"{Node(r)}: shape [{string.Join(",", shape)}] is not (0,0,-1): (T,N,D*H)");
            return pos + 2;
        }

        private List<NodeProto>? _pathView;

        private Layer ReadLayer(NodeProto n, int expectedInput)
        {
            var mode = n.OpType switch { "LSTM" => RnnMode.Lstm, "GRU" => RnnMode.Gru, _ => RnnMode.RnnTanh };
            int G = RnnDesc.GateCountOf(mode);
            int D = 1;
            foreach (var a in n.Attribute)
            {
                switch (a.Name)
                {
                    case "hidden_size":
                        break;
                    case "direction":
                        string dir = a.S.ToStringUtf8();
                        D = dir switch
                        {
                            "forward" => 1,
                            "bidirectional" => 2,
                            "reverse" => throw Error($"{Node(n)}: attribute direction = 'reverse' (a layer that reads only backwards) is not supported; forward and bidirectional are"),
                            _ => throw Error($"{Node(n)}: attribute direction = '{Trim(dir)}' is not forward, reverse or bidirectional"),
                        };
                        break;
                    case "activations":
                    {
                        var acts = a.Strings.Select(s => s.ToStringUtf8()).ToArray();
                        string[] std = mode switch { RnnMode.Lstm => ["Sigmoid", "Tanh", "Tanh"], RnnMode.Gru => ["Sigmoid", "Tanh"], _ => ["Tanh"] };
                        if (mode == RnnMode.RnnTanh && acts.Length > 0 && acts.All(x => x == "Relu")) { mode = RnnMode.RnnRelu; break; }
                        if (acts.Length % std.Length != 0 || !acts.Select((x, i) => x == std[i % std.Length]).All(ok => ok))
                            throw Error($"{Node(n)}: attribute activations = [{Trim(string.Join(",", acts))}] is not supported (custom activations); {n.OpType} computes [{string.Join(",", std)}]{(n.OpType == "RNN" ? " or [Relu]" : "")}");
                        break;
                    }
                    case "linear_before_reset" when mode == RnnMode.Gru:
                        if (a.I != 1)
                            throw Error($"{Node(n)}: attribute linear_before_reset = {a.I} (the reset gate applied before the recurrent matmul) is not supported; RnnFast computes PyTorch's GRU, linear_before_reset = 1");
                        break;
                    case "clip":
                        throw Error($"{Node(n)}: attribute clip = {a.F.ToString(CultureInfo.InvariantCulture)} is not supported (RnnFast does not clip cell inputs)");
                    case "input_forget" when mode == RnnMode.Lstm:
                        if (a.I != 0) throw Error($"{Node(n)}: attribute input_forget = {a.I} (coupled input and forget gates) is not supported");
                        break;
                    case "layout":
                        if (a.I != 0) throw Error($"{Node(n)}: attribute layout = {a.I} (batch-major X and Y) is not supported; the exporter's Transpose around layout 0 is");
                        break;
                    case "activation_alpha" or "activation_beta":
                        throw Error($"{Node(n)}: attribute {a.Name} is not supported (custom activations)");
                    default:
                        throw Error($"{Node(n)}: attribute {Trim(a.Name)} is not supported");
                }
            }
            if (mode == RnnMode.Gru && Attr(n, "linear_before_reset") == null)
                throw Error($"{Node(n)}: attribute linear_before_reset is absent (0: the reset gate applied before the recurrent matmul), which is not supported; RnnFast computes PyTorch's GRU, linear_before_reset = 1");
            int H = (int)(Attr(n, "hidden_size")?.I ?? 0);
            var W = InitFloats(n, 1, "W", out var wt);
            var R = InitFloats(n, 2, "R", out var rt);
            if (rt.Dims.Count != 3 || rt.Dims[0] != D || rt.Dims[2] <= 0 || rt.Dims[1] != G * rt.Dims[2])
                throw Error($"{Node(n)}: R has dims {OnnxFile.FormatDims(rt)}, expected ({D},{G}*H,H)");
            if (H == 0) H = (int)rt.Dims[2];
            if (H != rt.Dims[2]) throw Error($"{Node(n)}: attribute hidden_size = {H} but R has dims {OnnxFile.FormatDims(rt)}");
            if (wt.Dims.Count != 3 || wt.Dims[0] != D || wt.Dims[1] != G * H || wt.Dims[2] <= 0 || expectedInput > 0 && wt.Dims[2] != expectedInput)
                throw Error($"{Node(n)}: W has dims {OnnxFile.FormatDims(wt)}, expected ({D},{G * H},{(expectedInput > 0 ? expectedInput : "I")})");
            float[]? B = null, P = null;
            if (n.Input.Count > 3 && n.Input[3].Length > 0)
            {
                B = InitFloats(n, 3, "B", out var bt);
                if (bt.Dims.Count != 2 || bt.Dims[0] != D || bt.Dims[1] != 2 * G * H) throw Error($"{Node(n)}: B has dims {OnnxFile.FormatDims(bt)}, expected ({D},{2 * G * H})");
            }
            if (n.Input.Count > 7 && n.Input[7].Length > 0)
            {
                if (mode != RnnMode.Lstm) throw Error($"{Node(n)}: input 8 is only LSTM's P");
                P = InitFloats(n, 7, "P", out var pt);
                if (pt.Dims.Count != 2 || pt.Dims[0] != D || pt.Dims[1] != 3 * H) throw Error($"{Node(n)}: P has dims {OnnxFile.FormatDims(pt)}, expected ({D},{3 * H})");
            }
            if (n.Input.Count > 8) throw Error($"{Node(n)}: {n.Input.Count} inputs; {n.OpType} has at most 8");
            return new Layer(n, mode, D, H, (int)wt.Dims[2], W, R, B, P);
        }

        private static string Trim(string s) => s.Length <= 60 ? s : s[..60] + "...";

        /// <summary>ONNX gate block of each of our gates: LSTM ours i,f,g,o from i,o,f,c; GRU ours r,z,n from z,r,h.</summary>
        private static int[] GateMap(RnnMode mode) => mode switch
        {
            RnnMode.Lstm => [0, 2, 3, 1],
            RnnMode.Gru => [1, 0, 2],
            _ => [0],
        };

        private CheckpointContents Assemble(List<Layer> layers, bool tokens, float[]? embedding, int V, int E, float[]? headW, float[]? headB, int O,
            bool batchFirst, CharVocab? vocab, string? lengths, ValueInfoProto inputInfo, bool pooled, ScalingParts scaling)
        {
            var first = layers[0];
            int D = first.Directions, H = first.Hidden, G = RnnDesc.GateCountOf(first.Mode), I = first.Input;
            bool identity = headW == null;
            int F = D * H;
            if (identity)
            {
                O = F;
                headW = new float[F * F];
                for (int i = 0; i < F; i++) headW[i * F + i] = 1;
                headB = new float[F];
            }
            string[] Numbered(string prefix, int count) => Enumerable.Range(0, count).Select(i => prefix + i.ToString(CultureInfo.InvariantCulture)).ToArray();
            // RnnFast's own exports carry the vocabulary and labels as metadata_props (rnnfast.vocab, rnnfast.labels)
            string? Meta(string key) => _model.MetadataProps.FirstOrDefault(p => p.Key == "rnnfast." + key)?.Value;
            if (vocab == null && tokens && Meta("vocab") is { } vjson)
            {
                try { vocab = CharVocab.FromJson(vjson); }
                catch (ArgumentException e) { throw Error($"metadata_props 'rnnfast.vocab': {e.Message}"); }
                if (vocab.Count != V) throw Error($"metadata_props 'rnnfast.vocab' has {vocab.Count} symbols but the embedding has {V} rows");
            }
            string[]? savedLabels = null;
            if (Meta("labels") is { } ljson)
            {
                try { savedLabels = ModelJson.ParseStrings(ljson); }
                catch (System.Text.Json.JsonException e) { throw Error($"metadata_props 'rnnfast.labels' is not a JSON list of strings ({e.Message})"); }
                if (savedLabels is { } sl && (sl.Length != O || sl.Any(x => x == null))) savedLabels = null; // labels of another head: numbered instead
            }
            // RnnFast's own forecaster exports carry the column names (rnnfast.features, rnnfast.targets); others are numbered
            string[]? SavedNames(string key, int count)
            {
                if (Meta(key) is not { } json) return null;
                try { return ModelJson.ParseStrings(json) is { } names && names.Length == count && names.All(x => x != null) ? names : null; }
                catch (System.Text.Json.JsonException) { return null; }
            }
            NetworkConfig config;
            if (pooled)
            {
                CharVocab v = vocab is { } given && given.Count == V ? given
                    : V <= Checkpoint.MaxPlaceholderSymbols ? Checkpoint.PlaceholderVocab(V) : throw Error($"the embedding has {V} rows, more than {Checkpoint.MaxPlaceholderSymbols} symbols can be numbered");
                // C >= 2 logits: a classifier (softmax over classes); one logit (a binary sigmoid head) or RnnFast's own
                // multi-label export: independent sigmoids. Labels: the file's own (RnnFast's exports), else "0".."C-1", and for
                // one logit "1" (the positive class of a binary head: sigmoid(logit) > 0.5 prints it).
                bool multi = O == 1 || Meta("kind") == "char_multilabel";
                config = new NetworkConfig
                {
                    Kind = multi ? NetworkKind.MultiLabel : NetworkKind.Classifier, Mode = first.Mode, Layers = layers.Count, Hidden = H, Embed = E,
                    Bidirectional = D == 2, Peephole = first.P != null, Vocab = v, Labels = savedLabels ?? (O == 1 ? ["1"] : Numbered("", O)),
                    Pooling = SequencePooling.Last, BatchFirst = batchFirst,
                };
            }
            else if (tokens)
            {
                CharVocab v = vocab is { } given && given.Count == V ? given
                    : V <= Checkpoint.MaxPlaceholderSymbols ? Checkpoint.PlaceholderVocab(V) : throw Error($"the embedding has {V} rows, more than {Checkpoint.MaxPlaceholderSymbols} symbols can be numbered");
                bool lm = !identity && D == 1 && O == V;
                config = new NetworkConfig
                {
                    Kind = lm ? NetworkKind.LanguageModel : NetworkKind.Tagger, Mode = first.Mode, Layers = layers.Count, Hidden = H, Embed = E,
                    Bidirectional = D == 2, Peephole = first.P != null, Vocab = v, Labels = lm ? [] : savedLabels ?? Numbered("", O),
                    BatchFirst = batchFirst, IdentityHead = identity,
                };
            }
            else
            {
                config = new NetworkConfig
                {
                    Kind = NetworkKind.Forecaster, Mode = first.Mode, Layers = layers.Count, Hidden = H, Embed = 0, Features = I,
                    FeatureNames = SavedNames("features", I) ?? Numbered("x", I), TargetNames = SavedNames("targets", O) ?? Numbered("y", O),
                    Bidirectional = D == 2, Peephole = first.P != null, Vocab = CharVocab.None, BatchFirst = batchFirst, IdentityHead = identity,
                    Scaling = Scaling(scaling, I, O, Meta),
                };
            }
            try { config.Validate(); }
            catch (ArgumentException e) { throw Error($"describes no model RnnFast runs: {e.Message}"); }

            var desc = config.RnnDesc;
            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            if (embedding != null) tensors["embedding.weight"] = Tensor.FromArray(embedding, V, E);
            tensors["head.weight"] = Tensor.FromArray(headW!, O, F);
            tensors["head.bias"] = Tensor.FromArray(headB!, O);
            var map = GateMap(first.Mode);
            foreach (var id in RnnParameters.Layout(desc))
            {
                var layer = layers[id.Layer];
                int d = id.Direction, In = layer.Input, GH = G * H;
                var shape = RnnParameters.ShapeOf(desc, id);
                var data = new float[shape.Aggregate(1, (a, b) => a * b)];
                switch (id.Kind)
                {
                    case RnnParamKind.WeightIh:
                        for (int k = 0; k < G; k++) Array.Copy(layer.W, (d * GH + map[k] * H) * In, data, k * H * In, H * In);
                        break;
                    case RnnParamKind.WeightHh:
                        for (int k = 0; k < G; k++) Array.Copy(layer.R, (d * GH + map[k] * H) * H, data, k * H * H, H * H);
                        break;
                    case RnnParamKind.BiasIh:
                        if (layer.B != null) for (int k = 0; k < G; k++) Array.Copy(layer.B, d * 2 * GH + map[k] * H, data, k * H, H);
                        break;
                    case RnnParamKind.BiasHh:
                        if (layer.B != null) for (int k = 0; k < G; k++) Array.Copy(layer.B, d * 2 * GH + GH + map[k] * H, data, k * H, H);
                        break;
                    case RnnParamKind.WeightPh:
                        int[] pmap = [0, 2, 1]; // ours i,f,o from ONNX i,o,f
                        for (int k = 0; k < 3; k++) Array.Copy(layer.P!, d * 3 * H + pmap[k] * H, data, k * H, H);
                        break;
                    default:
                        throw Error($"{Node(layer.Node)}: parameter {id.TorchName} has no ONNX counterpart");
                }
                tensors["rnn." + id.TorchName] = Tensor.FromArray(data, shape);
            }
            foreach (var (tn, t) in tensors)
                if (Checkpoint.FirstNonFinite(t.Span) is int at)
                    throw Error($"tensor '{tn}' holds a non-finite value ({t.Span[at]} at element {at}); a model with NaN or infinite weights cannot be used");
            var meta = config.ToMetadata();
            meta["format"] = Checkpoint.Format;
            meta["onnx.input"] = inputInfo.Name;
            if (lengths != null) meta["onnx.sequence_lens"] = lengths;
            if (_model.ProducerName.Length > 0) meta["onnx.producer"] = Trim(_model.ProducerName + " " + _model.ProducerVersion).Trim();
            return new CheckpointContents(config, tensors, null, meta);
        }
    }
}
