// The classifier heads of ONNX import: a linear head (Gemm, or MatMul [+ Add]) on one feature vector per sequence,
// read from the top RNN layer as PyTorch users write it and torch.onnx.export writes it:
//   fc(h_n[-1])                        Y_h (L*D rows, from a Concat over layers) -> Gather/Slice+Squeeze of one row -> (N,H)
//   fc(cat([h_n[-2], h_n[-1]], dim=1)) two such rows -> Concat(axis 1) -> (N,2H) (either order: the head's columns follow)
//   fc(out[-1]) / fc(out[:, -1])       Y (T,1,N,H) -> Squeeze -> [Transpose] -> Gather/Slice+Squeeze of the last step
//   RnnFast's own export               Y_h (D,N,H) -> Transpose(1,0,2) -> Reshape(0,-1) -> (N,D*H)
//   h_n.view(L, D, N, H)[-1]           Reshape of the rows (sizes read back through Shape/Gather/Unsqueeze/Concat) -> Gather
//   h_n[-2:].transpose(0, 1).reshape(N, -1)
// with the exporter's unsort of the batch (Gather on axis 1 by the inverse length permutation) when lengths are given.
// That is RnnFast's Classifier with Pooling = Last: the forward direction at each sequence's last valid step and the
// backward direction at step 0 (its final state), of the top layer. What computes something else is refused, naming the
// node: out[-1] of a bidirectional RNN (its backward half has seen one step), out[-1] with sequence_lens (the padded last
// step, not each sequence's own), the cell state c_n, or a mix of layers.
using RnnFast.IO.Onnx.Proto;

namespace RnnFast.IO.Onnx;

internal static partial class OnnxImport
{
    private sealed partial class Importer
    {
        /// <summary>The head found: its weights in RnnFast's order (O,D*H) and bias (O), the RNN node whose state it reads.</summary>
        private sealed record PooledHead(NodeProto Rnn, NodeProto HeadNode, float[] Weight, float[] Bias, int Classes, int Unsorts, NodeProto? LastStepNode);

        // What a value between the RNN and the head holds (N = batch):
        //   Rows: (R,N,H) state rows, each one direction of an RNN node (Y_h, Concat over layers, Slice of rows)
        //   Row: one such row kept as (1,N,H), a Squeeze away from a vector
        //   RowsBatchMajor: Rows transposed to (N,R,H) (RnnFast's export), a Reshape away from a vector
        //   Y4: an RNN node's Y (T,D,N,H); Y4T: transposed to (T,N,D,H); Seq: (T,N,D*H), batch-major when BatchMajor
        //   SeqLast: the last step of a Seq kept as (1,...), a Squeeze on Axis away from a vector
        //   Vec: (N, k*H) chunks, each one direction of a node at its final state (LastStep: read as out[-1])
        private abstract record Value;
        private sealed record StateRef(NodeProto Rnn, int Direction, NodeProto Selector, bool LastStep);
        private sealed record Rows(List<StateRef> Items, int Unsorts) : Value;
        private sealed record Row(StateRef Item, int Unsorts) : Value;
        private sealed record RowsBatchMajor(List<StateRef> Items, int Unsorts) : Value;
        private sealed record Y4(NodeProto Rnn, bool Transposed) : Value;
        private sealed record Seq(NodeProto Rnn, bool BatchMajor, int Unsorts) : Value;
        private sealed record SeqLast(NodeProto Rnn, int Axis, NodeProto Selector) : Value;
        private sealed record Vec(List<StateRef> Chunks, int Unsorts) : Value;
        private sealed record Layered(List<List<StateRef>> Groups, int Unsorts) : Value;

        /// <summary>A shape entry that is the batch size N (read from the input's Shape).</summary>
        private const long BatchDim = long.MinValue;

        private static bool In(long? v, params long[] values) => v is { } x && values.Contains(x);

        private static long Hidden(NodeProto rnn) => Attr(rnn, "hidden_size")?.I ?? -2;

        /// <summary>
        /// The entries of a Reshape's shape: constants, or <see cref="BatchDim"/> / a constant where the exporter reads a size
        /// of a value back (Shape -> Gather -> Unsqueeze -> Concat); null where it is something else.
        /// </summary>
        private long?[] ShapeValues(string name, NodeProto user, int depth)
        {
            Step(name);
            if (ConstTensor(name) is { } t) return OnnxFile.Int64s(t, _file, $"{Node(user)} shape '{name}'").Select(v => (long?)v).ToArray();
            if (depth > 32 || !_producer.TryGetValue(name, out var n)) return [null];
            switch (n.OpType)
            {
                case "Concat" when Axis(n) == 0:
                    return n.Input.SelectMany(i => ShapeValues(i, user, depth + 1)).ToArray();
                case "Cast" or "Identity":
                    return ShapeValues(n.Input[0], user, depth + 1);
                case "Unsqueeze" when IntsAttrOrInput(n, "axes", 1).SequenceEqual([0L]):
                    return [ScalarDim(n.Input[0], user, depth + 1)];
                default:
                    return [null];
            }
        }

        /// <summary>Gather(Shape(v), k) as a size: N or a constant for a value of state rows; null otherwise.</summary>
        private long? ScalarDim(string name, NodeProto user, int depth)
        {
            if (ConstTensor(name) is { } t && OnnxFile.Int64s(t, _file, $"{Node(user)} shape '{name}'") is [var c]) return c;
            if (!_producer.TryGetValue(name, out var g) || g.OpType != "Gather" || Axis(g) != 0 || !_producer.TryGetValue(g.Input[0], out var sh) || sh.OpType != "Shape")
                return null;
            if (sh.Attribute.Count > 0) return null; // Shape's start/end (opset 15)
            long k = GatherIndex(g).Index;
            Value v;
            try { v = Resolve(sh.Input[0], sh, depth + 1); }
            catch (RnnFormatException) { return null; }
            return v switch
            {
                Rows r => k switch { 0 or -3 => r.Items.Count, 1 or -2 => BatchDim, 2 or -1 => Hidden(r.Items[0].Rnn), _ => null },
                RowsBatchMajor b => k switch { 0 or -3 => BatchDim, 1 or -2 => b.Items.Count, 2 or -1 => Hidden(b.Items[0].Rnn), _ => null },
                _ => null,
            };
        }

        private static int Directions(NodeProto rnn) => Attr(rnn, "direction")?.S.ToStringUtf8() == "bidirectional" ? 2 : 1;

        private static long Axis(NodeProto n, long fallback = 0) => Attr(n, "axis")?.I ?? fallback;

        /// <summary>The tensor of an initializer or a Constant node's value, or null.</summary>
        private TensorProto? ConstTensor(string name) =>
            _inits.TryGetValue(name, out var t) ? t
            : _producer.TryGetValue(name, out var c) && c.OpType == "Constant" && Attr(c, "value") is { T: { } v } ? v : null;

        /// <summary>A Gather's index: one constant value, and whether it is a scalar (the axis is removed) or a 1-element list (kept).</summary>
        private (long Index, bool Scalar) GatherIndex(NodeProto n)
        {
            string what = $"{Node(n)} indices '{n.Input[1]}'";
            var t = ConstTensor(n.Input[1]);
            long[] v = t != null ? OnnxFile.Int64s(t, _file, what) : ConstInts(n.Input[1], what);
            if (v.Length != 1) throw Error($"{what}: {v.Length} indices; a classifier head reads one state or step");
            return (v[0], t != null && t.Dims.Count == 0);
        }

        /// <summary>A one-axis, step-1 Slice's (axis, start, end), from its attributes (opset &lt; 10) or inputs.</summary>
        private (long Axis, long Start, long End) SliceRange(NodeProto n)
        {
            long[] starts = IntsAttrOrInput(n, "starts", 1), ends = IntsAttrOrInput(n, "ends", 2), axes = IntsAttrOrInput(n, "axes", 3);
            long[] steps = n.Input.Count > 4 && n.Input[4].Length > 0 ? ConstInts(n.Input[4], $"{Node(n)} steps") : [1];
            if (starts.Length != 1 || ends.Length != 1 || axes.Length > 1 || steps.Length != 1 || steps[0] != 1)
                throw Error($"{Node(n)}: a Slice over several axes or with a step; a classifier head reads one state or step");
            return (axes.Length == 0 ? 0 : axes[0], starts[0], ends[0]);
        }

        private static (int Start, int End) Clamp(long start, long end, int count)
        {
            long s = start < 0 ? start + count : start, e = end < 0 ? end + count : end;
            s = Math.Clamp(s, 0, count);
            e = Math.Clamp(e, 0, count);
            return ((int)s, (int)e);
        }

        private RnnFormatException NotHead(NodeProto n, string why) =>
            Error($"{Node(n)}: {why}; a classifier head reads h_n[-1], cat([h_n[-2], h_n[-1]], 1) or (one direction, no lengths) out[-1]");

        /// <summary>What <paramref name="name"/> holds, followed back from the head to the RNN (depth-bounded).</summary>
        private Value Resolve(string name, NodeProto user, int depth = 0)
        {
            if (depth > 32 || !_producer.TryGetValue(name, out var n))
                throw Error($"{Node(user)}: its input '{name}' is not computed from an RNN's output; a classifier head reads the RNN's final state");
            Step(name);
            switch (n.OpType)
            {
                case "LSTM" or "GRU" or "RNN":
                {
                    int D = Directions(n);
                    if (name == n.Output[0]) return new Y4(n, false);
                    if (name == n.Output[1]) return new Rows(Enumerable.Range(0, D).Select(d => new StateRef(n, d, n, false)).ToList(), 0);
                    throw Error($"{Node(user)}: reads the cell state c_n of {Node(n)}; RnnFast's classifier reads the hidden state h_n");
                }
                case "Identity":
                    return Resolve(n.Input[0], n, depth + 1);
                case "Concat":
                {
                    var parts = n.Input.Select(i => Resolve(i, n, depth + 1)).ToArray();
                    long axis = Axis(n);
                    if (parts.All(p => p is Rows) && axis == 0)
                        return new Rows(parts.SelectMany(p => ((Rows)p).Items).ToList(), Unsorts(parts));
                    if (parts.All(p => p is Vec) && axis is 1 or -1)
                        return new Vec(parts.SelectMany(p => ((Vec)p).Chunks).ToList(), Unsorts(parts));
                    throw NotHead(n, $"a Concat on axis {axis} of {string.Join(", ", parts.Select(Describe))}");
                }
                case "Gather":
                {
                    var src = Resolve(n.Input[0], n, depth + 1);
                    long axis = Axis(n);
                    if (axis == 1 && src is Rows unsort && IsLengthPermutation(n.Input[1]))
                        return unsort with { Unsorts = unsort.Unsorts + 1 };
                    if (axis == 1 && src is Seq { BatchMajor: false } s1 && IsLengthPermutation(n.Input[1]))
                        return s1 with { Unsorts = s1.Unsorts + 1 };
                    if (axis == 0 && src is Seq { BatchMajor: true } s0 && IsLengthPermutation(n.Input[1]))
                        return s0 with { Unsorts = s0.Unsorts + 1 };
                    var (index, scalar) = GatherIndex(n);
                    if (src is Layered layered && axis == 0)
                    {
                        var (la, le) = Clamp(index, index + 1 == 0 ? layered.Groups.Count : index + 1, layered.Groups.Count);
                        if (le - la != 1 || !scalar) throw NotHead(n, $"index {index} does not pick one of the {layered.Groups.Count} layers");
                        return new Rows(layered.Groups[la], layered.Unsorts);
                    }
                    if (src is Rows rows && axis == 0)
                    {
                        var (at, end) = Clamp(index, index + 1 == 0 ? rows.Items.Count : index + 1, rows.Items.Count);
                        if (end - at != 1) throw NotHead(n, $"index {index} is outside the {rows.Items.Count} state rows");
                        var item = rows.Items[at] with { Selector = n };
                        return scalar ? new Vec([item], rows.Unsorts) : new Row(item, rows.Unsorts);
                    }
                    if (src is Seq seq && axis == (seq.BatchMajor ? 1 : 0))
                    {
                        if (index != -1) throw NotHead(n, $"index {index} on the time axis is not the last step (-1)");
                        var last = new SeqLast(seq.Rnn, (int)axis, n);
                        return scalar ? LastStep(last, seq.Unsorts) : last;
                    }
                    throw NotHead(n, $"a Gather on axis {axis} of {Describe(src)}");
                }
                case "Slice":
                {
                    var src = Resolve(n.Input[0], n, depth + 1);
                    var (axis, start, end) = SliceRange(n);
                    if (src is Rows rows && axis == 0)
                    {
                        var (s, e) = Clamp(start, end, rows.Items.Count);
                        if (e <= s) throw NotHead(n, $"rows [{start},{end}) of the {rows.Items.Count} state rows are empty");
                        var items = rows.Items.GetRange(s, e - s).Select(i => i with { Selector = n }).ToList();
                        return items.Count == 1 ? new Row(items[0], rows.Unsorts) : new Rows(items, rows.Unsorts);
                    }
                    if (src is Seq seq && axis == (seq.BatchMajor ? 1 : 0))
                    {
                        if (start != -1 || end < int.MaxValue) throw NotHead(n, $"steps [{start},{end}) are not the last step [-1,end)");
                        return new SeqLast(seq.Rnn, (int)axis, n);
                    }
                    throw NotHead(n, $"a Slice on axis {axis} of {Describe(src)}");
                }
                case "Squeeze":
                {
                    var src = Resolve(n.Input[0], n, depth + 1);
                    var axes = IntsAttrOrInput(n, "axes", 1);
                    if (src is Y4 { Transposed: false } y && axes.SequenceEqual([1L]))
                    {
                        if (Directions(y.Rnn) != 1) throw NotHead(n, $"squeezes axis 1 (directions) of a bidirectional {Node(y.Rnn)}");
                        return new Seq(y.Rnn, false, 0);
                    }
                    if (src is Row row && axes.SequenceEqual([0L])) return new Vec([row.Item], row.Unsorts);
                    if (src is SeqLast last && axes.SequenceEqual([(long)last.Axis])) return LastStep(last, 0);
                    throw NotHead(n, $"a Squeeze of axes [{string.Join(",", axes)}] of {Describe(src)}");
                }
                case "Transpose":
                {
                    var src = Resolve(n.Input[0], n, depth + 1);
                    var perm = Attr(n, "perm")?.Ints.ToArray() ?? [];
                    if (src is Y4 { Transposed: false } y && perm.SequenceEqual([0L, 2, 1, 3])) return y with { Transposed = true };
                    if (src is Seq seq && perm.SequenceEqual([1L, 0, 2])) return seq with { BatchMajor = !seq.BatchMajor };
                    if (src is Rows rows && perm.SequenceEqual([1L, 0, 2])) return new RowsBatchMajor(rows.Items, rows.Unsorts);
                    throw NotHead(n, $"a Transpose [{string.Join(",", perm)}] of {Describe(src)}");
                }
                case "Reshape":
                {
                    var src = Resolve(n.Input[0], n, depth + 1);
                    var shape = ShapeValues(n.Input[1], n, depth + 1);
                    string Shown() => "[" + string.Join(",", shape.Select(d => d == BatchDim ? "N" : d?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?")) + "]";
                    if (src is Y4 { Transposed: true } y && shape.Length == 3 && shape[0] == 0 && shape[1] == 0 && shape[2] is -1 or > 0)
                        return new Seq(y.Rnn, false, 0);
                    // (N,R,H) -> (N, R*H): RnnFast's export (0,-1), PyTorch's reshape(N, -1) / view(-1, R*H)
                    if (src is RowsBatchMajor bm && shape.Length == 2)
                    {
                        long width = (long)bm.Items.Count * Hidden(bm.Items[0].Rnn);
                        if (In(shape[0], 0, BatchDim) && shape[1] == -1 || In(shape[0], 0, BatchDim, -1) && shape[1] == width)
                            return new Vec(bm.Items.Select(i => i with { Selector = n }).ToList(), bm.Unsorts);
                    }
                    // (L*D,N,H) -> (L,D,N,H): h_n.view(num_layers, num_directions, batch, hidden)
                    if (src is Rows rows && shape.Length == 4 && shape[0] > 0 && shape[1] > 0 && shape[0] * shape[1] == rows.Items.Count
                        && (shape[2] == BatchDim && shape[3] == -1 || In(shape[2], BatchDim, -1) && shape[3] == Hidden(rows.Items[0].Rnn)))
                    {
                        int per = (int)shape[1]!;
                        return new Layered(Enumerable.Range(0, (int)shape[0]!).Select(l => rows.Items.GetRange(l * per, per)).ToList(), rows.Unsorts);
                    }
                    throw NotHead(n, $"a Reshape to {Shown()} of {Describe(src)}");
                }
                default:
                    throw NotHead(n, $"op {n.OpType} between the RNN and the head is not imported");
            }
        }

        private static int Unsorts(IEnumerable<Value> parts) => parts.Max(p => p switch
        {
            Rows r => r.Unsorts, Vec v => v.Unsorts, _ => 0,
        });

        /// <summary>out[-1]: the last step of every direction of the node, each marked as read there (checked by <see cref="CheckPooledHead"/>).</summary>
        private static Vec LastStep(SeqLast last, int unsorts) =>
            new(Enumerable.Range(0, Directions(last.Rnn)).Select(d => new StateRef(last.Rnn, d, last.Selector, true)).ToList(), unsorts);

        private static string Describe(Value v) => v switch
        {
            Rows r => $"{r.Items.Count} state rows (h_n)",
            Row => "one state row kept as (1,N,H)",
            RowsBatchMajor => "state rows transposed to (N,R,H)",
            Y4 y => $"the per-step output Y of {Node(y.Rnn)}{(y.Transposed ? " transposed" : "")}",
            Seq s => $"the output sequence of {Node(s.Rnn)} ({(s.BatchMajor ? "N,T" : "T,N")},D*H)",
            SeqLast => "the last step kept as a length-1 axis",
            Vec c => $"a ({c.Chunks.Count}*H)-wide feature",
            Layered l => $"state rows viewed as ({l.Groups.Count},{l.Groups[0].Count},N,H)",
            _ => "a value",
        };

        /// <summary>
        /// The head that makes the graph's first output, when it is a linear head on a pooled feature (a classifier); null when
        /// the output is per-step (the per-step import applies). Gemm (alpha = beta = 1, transA = 0) or MatMul [+ Add].
        /// </summary>
        private PooledHead? ReadPooledHead(string output)
        {
            if (!_producer.TryGetValue(output, out var top)) return null;
            NodeProto? matmul = null, gemm = null, add = null;
            if (top.OpType == "Gemm") gemm = top;
            else if (top.OpType == "Add" && top.Input.Count == 2)
            {
                int m = _producer.TryGetValue(top.Input[0], out var a0) && a0.OpType == "MatMul" ? 0
                    : _producer.TryGetValue(top.Input[1], out var a1) && a1.OpType == "MatMul" ? 1 : -1;
                if (m < 0) return null;
                add = top;
                matmul = _producer[top.Input[m]];
            }
            else if (top.OpType == "MatMul") matmul = top;
            else return null;
            var headNode = gemm ?? matmul!;
            // Only a head whose input is pooled (not the per-step sequence) is read here.
            if (!IsPooled(headNode.Input[0])) return null;

            float[] w;
            int O, F;
            if (gemm != null)
            {
                foreach (var a in gemm.Attribute)
                    if (a.Name is "alpha" or "beta" ? a.F != 1f : a.Name == "transA" ? a.I != 0 : a.Name != "transB")
                        throw Error($"{Node(gemm)}: attribute {a.Name} = {(a.Name is "alpha" or "beta" ? a.F : a.I)} is not supported; a linear head is Gemm(x, W, b) with alpha = beta = 1, transA = 0");
                bool transB = (Attr(gemm, "transB")?.I ?? 0) != 0;
                var wv = InitFloats(gemm, 1, "weight", out var wt);
                if (wt.Dims.Count != 2 || wt.Dims[0] <= 0 || wt.Dims[1] <= 0) throw Error($"{Node(gemm)}: weight has dims {OnnxFile.FormatDims(wt)}, expected 2 dims");
                (O, F) = transB ? ((int)wt.Dims[0], (int)wt.Dims[1]) : ((int)wt.Dims[1], (int)wt.Dims[0]);
                w = transB ? wv : Transpose(wv, F, O);
            }
            else
            {
                var wv = InitFloats(matmul!, 1, "weight", out var wt);
                if (wt.Dims.Count != 2 || wt.Dims[0] <= 0 || wt.Dims[1] <= 0) throw Error($"{Node(matmul!)}: weight has dims {OnnxFile.FormatDims(wt)}, expected (F,O)");
                (F, O) = ((int)wt.Dims[0], (int)wt.Dims[1]);
                w = Transpose(wv, F, O);
            }
            var bias = new float[O];
            var biasNode = gemm ?? add;
            int bi = gemm != null ? 2 : add != null && add.Input[0] == matmul!.Output[0] ? 1 : 0;
            if (biasNode != null && biasNode.Input.Count > bi && biasNode.Input[bi].Length > 0)
            {
                var b = InitFloats(biasNode, bi, "bias", out var bt);
                if (b.Length != O || bt.Dims.Count is not (1 or 2) || bt.Dims[^1] != O)
                    throw Error($"{Node(biasNode)}: bias has dims {OnnxFile.FormatDims(bt)}, expected ({O})");
                bias = b;
            }

            var feature = Resolve(headNode.Input[0], headNode);
            if (feature is not Vec vec) throw Error($"{Node(headNode)}: its input is {Describe(feature)}, not one feature vector per sequence");
            var rnn = vec.Chunks[0].Rnn;
            foreach (var c in vec.Chunks)
                if (!ReferenceEquals(c.Rnn, rnn))
                    throw Error($"{Node(c.Selector)}: the head reads the states of {Node(rnn)} and {Node(c.Rnn)}; RnnFast's classifier reads one layer, the top one");
            int D = Directions(rnn);
            var dirs = vec.Chunks.Select(c => c.Direction).ToArray();
            if (dirs.Length != D || dirs.Distinct().Count() != D)
            {
                var sel = vec.Chunks[^1].Selector;
                throw Error($"{Node(sel)}: the head reads direction(s) [{string.Join(",", dirs.Select(d => d == 0 ? "forward" : "backward"))}] of {Node(rnn)}; " +
                    $"RnnFast's classifier reads {(D == 2 ? "both directions once each, cat([h_n[-2], h_n[-1]], 1)" : "its one direction, h_n[-1]")}");
            }
            if (F % D != 0) throw Error($"{Node(headNode)}: weight has {F} inputs, not {D} directions of one hidden size");
            // Columns of chunk j (direction dirs[j]) go to RnnFast's block dirs[j]: [forward | backward].
            int Hc = F / D;
            var weight = new float[O * F];
            for (int o = 0; o < O; o++)
            for (int j = 0; j < D; j++)
                Array.Copy(w, o * F + j * Hc, weight, o * F + dirs[j] * Hc, Hc);
            var lastStep = vec.Chunks.FirstOrDefault(c => c.LastStep)?.Selector;
            return new PooledHead(rnn, headNode, weight, bias, O, vec.Unsorts, lastStep);
        }

        /// <summary>True when <paramref name="name"/> is computed from an RNN's final state or from a selected step (not a per-step sequence).</summary>
        private bool IsPooled(string name)
        {
            for (int depth = 0; depth < 32 && _producer.TryGetValue(name, out var n); depth++)
            {
                if (n.OpType is "LSTM" or "GRU" or "RNN") return name != n.Output[0];
                if (n.OpType == "Gather" && Axis(n) is 0 or 1 && !IsLengthPermutation(n.Input[1]) && !(_inits.ContainsKey(n.Input[0]) || ConstTensor(n.Input[0]) != null)) return true;
                if (n.OpType is "Slice" or "Concat" && _producer.ContainsKey(n.Input[0]) && SelectsStep(n)) return true;
                name = n.Input[0];
            }
            return false;
        }

        /// <summary>A Slice of one index (start -1, or a length-1 range) or a Concat along axis 1 of 2-D values: pooling glue.</summary>
        private bool SelectsStep(NodeProto n)
        {
            if (n.OpType == "Concat") return Axis(n) is 1 or -1 && n.Input.Count > 1 && n.Input.All(i => _producer.TryGetValue(i, out var p) && p.OpType is "Gather" or "Squeeze");
            try
            {
                var (_, start, end) = SliceRange(n);
                return start == -1 || end - start == 1;
            }
            catch (RnnFormatException) { return false; }
        }

        private static float[] Transpose(float[] a, int rows, int cols)
        {
            var t = new float[a.Length];
            for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
            return t;
        }

        /// <summary>Checks the head against the stack read below it: the top layer's node, token inputs, and out[-1] only where it equals h_n.</summary>
        private void CheckPooledHead(PooledHead head, Layer top, string? lengths, bool tokens, string input)
        {
            if (!ReferenceEquals(top.Node, head.Rnn)) throw Error($"{Node(head.HeadNode)}: reads {Node(head.Rnn)}, which is not the stack's top layer");
            if (!tokens)
                throw Error($"{Node(head.HeadNode)}: a head on the final state of real-valued input '{input}' is not imported; RnnFast's classifier reads token ids through an embedding (per-step models of real-valued inputs import as forecasters)");
            if (head.Weight.Length != head.Classes * top.Directions * top.Hidden)
                throw Error($"{Node(head.HeadNode)}: weight has {head.Weight.Length / head.Classes} inputs, expected {top.Directions}*{top.Hidden} (directions * hidden size of {Node(top.Node)})");
            if (head.LastStepNode is { } sel && top.Directions == 2)
                throw Error($"{Node(sel)}: out[-1] of a bidirectional {Node(top.Node)} holds the backward direction after one step; RnnFast's classifier (Pooling = Last) reads its final state at step 0, so the graph is a different function (export fc(cat([h_n[-2], h_n[-1]], 1)) instead)");
            if (head.LastStepNode is { } sel2 && lengths != null)
                throw Error($"{Node(sel2)}: out[-1] with sequence_lens reads the padded last step, not each sequence's last valid step (RnnFast's classifier, Pooling = Last); export fc(h_n[-1]) instead");
        }
    }
}
