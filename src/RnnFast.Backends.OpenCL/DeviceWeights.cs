// The parameters of an RNN stack on the device, uploaded once per parameter version: every tensor in PyTorch's layout
// and state_dict order concatenated into one buffer (the "arena", what backward multiplies by: dX = dG . W_ih), and the
// same with every matrix transposed (W_ih^T (I, G*H), W_hh^T (H_out, G*H), W_hr^T (H, P): what forward multiplies by,
// so that every SGEMM reads B row-major). The same offsets place each parameter's gradient in the gradient arena
// backward fills, so one read brings every gradient back.
using RnnFast.Bindings.OpenCL;

namespace RnnFast.Backends.OpenCL;

/// <summary>Where each parameter (or its gradient) starts in an arena of the stack's parameters, in elements.</summary>
internal sealed class ArenaLayout
{
    private const int Kinds = 6; // the members of RnnParamKind
    private readonly long[] _offsets; // [(l*D + d)*Kinds + kind], -1 when the parameter does not exist

    public ArenaLayout(RnnParameters parameters)
    {
        var desc = parameters.Desc;
        _offsets = Enumerable.Repeat(-1L, desc.NumLayers * desc.Directions * Kinds).ToArray();
        Directions = desc.Directions;
        long at = 0;
        Starts = new long[parameters.Ids.Count];
        for (int i = 0; i < parameters.Ids.Count; i++)
        {
            var id = parameters.Ids[i];
            _offsets[Slot(id.Layer, id.Direction, id.Kind)] = at;
            Starts[i] = at;
            at += parameters.Tensors[i].Length;
        }
        Total = at;
    }

    private int Directions { get; }

    /// <summary>Elements in the arena.</summary>
    public long Total { get; }

    /// <summary>The start of each parameter, in state_dict order.</summary>
    public long[] Starts { get; }

    /// <summary>The parameter's offset, or -1 when the stack has no such parameter (no bias, no projection).</summary>
    public long Of(int layer, int direction, RnnParamKind kind) => _offsets[Slot(layer, direction, kind)];

    private int Slot(int l, int d, RnnParamKind kind) => (l * Directions + d) * Kinds + (int)kind;
}

/// <summary>The parameters of one version, uploaded to the device as one arena.</summary>
internal sealed class DeviceWeights
{
    private DeviceWeights(long stamp, CLBuffer arena, CLBuffer transposed)
    {
        Stamp = stamp;
        Arena = arena;
        Transposed = transposed;
    }

    /// <summary>The parameters' VersionStamp when uploaded.</summary>
    public long Stamp { get; }

    /// <summary>The parameters as PyTorch lays them out.</summary>
    public CLBuffer Arena { get; }

    /// <summary>The same offsets, each weight matrix transposed (biases as they are).</summary>
    public CLBuffer Transposed { get; }

    /// <summary>Concatenates the parameters in state_dict order, as they are and transposed, and uploads both (blocking).</summary>
    public static DeviceWeights Upload(OpenCLDevice device, RnnParameters parameters, ArenaLayout layout, long stamp)
    {
        var host = new float[layout.Total];
        var transposed = new float[layout.Total];
        for (int i = 0; i < parameters.Tensors.Count; i++)
        {
            var t = parameters.Tensors[i];
            var data = t.IsHost ? t.HostArray : t.ToArray();
            int at = (int)layout.Starts[i];
            data.AsSpan().CopyTo(host.AsSpan(at));
            if (t.Rank == 2) Transpose(data, t.Shape[0], t.Shape[1], transposed.AsSpan(at, data.Length));
            else data.AsSpan().CopyTo(transposed.AsSpan(at));
        }
        return new DeviceWeights(stamp, device.Upload(host), device.Upload(transposed));
    }

    /// <summary>dst (cols x rows) = src (rows x cols)^T, both row-major.</summary>
    internal static void Transpose(ReadOnlySpan<float> src, int rows, int cols, Span<float> dst)
    {
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            dst[c * rows + r] = src[r * cols + c];
    }
}
