// The parameters of an RNN stack on the device: every tensor in PyTorch's layout and state_dict order, concatenated
// into one buffer (the "arena"), uploaded once per parameter version. The same offsets place each parameter's
// gradient in the gradient arena backward fills, so one read brings every gradient back.
using RnnFast.Bindings.OpenCL;

namespace RnnFast.Backends.OpenCL;

/// <summary>Where each parameter (or its gradient) starts in an arena of the stack's parameters, in elements.</summary>
internal sealed class ArenaLayout
{
    private readonly long[] _offsets; // [(l*D + d)*5 + kind], -1 when the parameter does not exist

    public ArenaLayout(RnnParameters parameters)
    {
        var desc = parameters.Desc;
        _offsets = Enumerable.Repeat(-1L, desc.NumLayers * desc.Directions * 5).ToArray();
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

    private int Slot(int l, int d, RnnParamKind kind) => (l * Directions + d) * 5 + (int)kind;
}

/// <summary>The parameters of one version, uploaded to the device as one arena.</summary>
internal sealed class DeviceWeights
{
    private DeviceWeights(long stamp, CLBuffer arena)
    {
        Stamp = stamp;
        Arena = arena;
    }

    /// <summary>The parameters' VersionStamp when uploaded.</summary>
    public long Stamp { get; }

    public CLBuffer Arena { get; }

    /// <summary>Concatenates the parameters in state_dict order and uploads them (blocking).</summary>
    public static DeviceWeights Upload(OpenCLDevice device, RnnParameters parameters, ArenaLayout layout, long stamp)
    {
        var host = new float[layout.Total];
        for (int i = 0; i < parameters.Tensors.Count; i++)
        {
            var t = parameters.Tensors[i];
            (t.IsHost ? t.HostArray : t.ToArray()).AsSpan().CopyTo(host.AsSpan((int)layout.Starts[i]));
        }
        return new DeviceWeights(stamp, device.Upload(host));
    }
}
