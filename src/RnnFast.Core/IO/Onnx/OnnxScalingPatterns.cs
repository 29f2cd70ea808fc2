// A forecaster's scaling in an ONNX graph, as OnnxExport writes it: (x - input_mean) / input_std before the first RNN
// layer (Sub then Div, each by an (F) initializer), y * target_std + target_mean after the head (Mul then Add, each by an
// (O) initializer). Read back into SeriesScaling (differencing and horizon from RnnFast's metadata_props). Any other
// Sub, Div or Mul on the data path is refused, naming the node.
using RnnFast.IO.Onnx.Proto;
using RnnFast.Models;

namespace RnnFast.IO.Onnx;

internal static partial class OnnxImport
{
    private sealed partial class Importer
    {
        /// <summary>The scaling vectors found on the path, in the order the export writes them.</summary>
        private sealed class ScalingParts
        {
            public float[]? InputMean, InputStd, TargetStd, TargetMean;
            public bool Any => InputMean != null || TargetStd != null;
        }

        private RnnFormatException NotScaling(NodeProto n, string why) =>
            Error($"{Node(n)}: {why}; the only arithmetic imported is a forecaster's scaling as RnnFast exports it, (x - mean) / std before the RNN and y * std + mean after the head");

        /// <summary>The data input of a Sub, Div or Mul on the path (the first; the second is the constant).</summary>
        private string ScalingData(NodeProto n)
        {
            if (n.Input.Count != 2 || _inits.ContainsKey(n.Input[0]) || _producer.TryGetValue(n.Input[0], out var c) && c.OpType == "Constant")
                throw NotScaling(n, $"the data is not its first input (x {n.OpType} constant)");
            return n.Input[0];
        }

        /// <summary>One (k) float vector, the operand of <paramref name="n"/> that is not the data path value <paramref name="data"/>.</summary>
        private float[] ScalingVector(NodeProto n, string data, string role)
        {
            if (n.Input.Count != 2 || n.Input[0] != data) throw NotScaling(n, $"the data is not its first input (x {n.OpType} constant)");
            var v = InitFloats(n, 1, role, out var t);
            if (t.Dims.Count != 1) throw NotScaling(n, $"{role} has dims {OnnxFile.FormatDims(t)}, expected one value per column");
            return v;
        }

        /// <summary>
        /// Reads a Sub, Div or Mul of the path at <paramref name="pos"/> (and, for Mul, the Add after it) into
        /// <paramref name="s"/>. Returns the index of the last node read.
        /// </summary>
        private int ReadScaling(List<NodeProto> path, int pos, ScalingParts s, int layersSoFar, bool headDone, bool tokens)
        {
            var n = path[pos];
            string data = pos == 0 ? "" : path[pos - 1].Output[0];
            if (pos == 0) data = n.Input[0]; // the graph input itself
            NodeProto? next = pos + 1 < path.Count ? path[pos + 1] : null;
            switch (n.OpType)
            {
                case "Sub":
                    if (tokens || layersSoFar > 0 || s.InputMean != null) throw NotScaling(n, "a Sub that is not the input's centring before the first RNN layer");
                    if (next?.OpType != "Div") throw NotScaling(n, $"a Sub not followed by the Div of the input's scaling (found {(next == null ? "nothing" : Node(next))})");
                    s.InputMean = ScalingVector(n, data, "input mean");
                    s.InputStd = ScalingVector(next, n.Output[0], "input std");
                    return pos + 1;
                case "Mul":
                    if (!headDone || s.TargetStd != null) throw NotScaling(n, "a Mul that is not the targets' scaling after the head");
                    if (next?.OpType != "Add") throw NotScaling(n, $"a Mul not followed by the Add of the targets' scaling (found {(next == null ? "nothing" : Node(next))})");
                    s.TargetStd = ScalingVector(n, data, "target std");
                    s.TargetMean = ScalingVector(next, n.Output[0], "target mean");
                    return pos + 1;
                default:
                    throw NotScaling(n, $"a {n.OpType} outside the scaling");
            }
        }

        /// <summary>The SeriesScaling of the parts read (null when none); a missing side is the identity (mean 0, std 1).</summary>
        private SeriesScaling? Scaling(ScalingParts s, int features, int targets, Func<string, string?> meta)
        {
            if (!s.Any) return null;
            if (s.InputMean is { } m && m.Length != features) throw Error($"the input scaling has {m.Length} values, but the input has {features} columns");
            if (s.TargetStd is { } t && t.Length != targets) throw Error($"the target scaling has {t.Length} values, but the head has {targets} outputs");
            int horizon = 1;
            if (meta("scaling.horizon") is { } h && (!int.TryParse(h, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out horizon) || horizon < 1))
                throw Error($"metadata_props 'rnnfast.scaling.horizon' = '{Trim(h)}' is not a positive integer");
            return new SeriesScaling
            {
                InputMean = s.InputMean ?? new float[features], InputStd = s.InputStd ?? Enumerable.Repeat(1f, features).ToArray(),
                TargetMean = s.TargetMean ?? new float[targets], TargetStd = s.TargetStd ?? Enumerable.Repeat(1f, targets).ToArray(),
                Differenced = meta("scaling.differenced") == "true", Horizon = horizon,
            };
        }
    }
}
