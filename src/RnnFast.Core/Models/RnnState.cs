// The state of one streaming sequence: h (and c for LSTM) of every layer, plus the scratch the step needs, so a
// step allocates nothing. Each thread or sequence owns its own state; the model it came from is shared.
namespace RnnFast.Models;

/// <summary>A streaming sequence's recurrent state. Create with <see cref="RnnModel.NewState"/>.</summary>
public sealed class RnnState
{
    internal RnnState(RnnModel owner, NetworkConfig config)
    {
        Owner = owner;
        int L = config.Layers, H = config.Hidden, G = RnnDesc.GateCountOf(config.Mode);
        Hs = new float[L][];
        Cs = new float[L][];
        for (int l = 0; l < L; l++)
        {
            Hs[l] = new float[H];
            Cs[l] = new float[config.Mode == RnnMode.Lstm ? H : 0];
        }
        Gates = new float[G * H];
        HhN = new float[H];
        Output = new float[config.OutputSize];
    }

    internal RnnModel Owner { get; }
    internal float[][] Hs { get; }
    internal float[][] Cs { get; }
    internal float[] Gates { get; }
    internal float[] HhN { get; }
    internal float[] Output { get; }

    /// <summary>How many tokens this state has consumed since it was created or reset.</summary>
    public int Steps { get; internal set; }

    /// <summary>The top layer's hidden vector after the last step (H).</summary>
    public ReadOnlySpan<float> Hidden => Hs[^1];

    /// <summary>Number of floats <see cref="CopyTo"/> writes.</summary>
    public int Size => Hs.Sum(h => h.Length) + Cs.Sum(c => c.Length);

    /// <summary>Back to the initial (zero) state.</summary>
    public void Reset()
    {
        foreach (var h in Hs) Array.Clear(h);
        foreach (var c in Cs) Array.Clear(c);
        Array.Clear(Output);
        Steps = 0;
    }

    /// <summary>Writes h and c of every layer into <paramref name="destination"/> (length <see cref="Size"/>), to save the state.</summary>
    public void CopyTo(Span<float> destination)
    {
        if (destination.Length != Size) throw new ArgumentException($"destination: expected {Size} floats, found {destination.Length}", nameof(destination));
        int o = 0;
        foreach (var h in Hs) { h.CopyTo(destination[o..]); o += h.Length; }
        foreach (var c in Cs) { c.CopyTo(destination[o..]); o += c.Length; }
    }

    /// <summary>Restores a state saved by <see cref="CopyTo"/>.</summary>
    public void CopyFrom(ReadOnlySpan<float> source)
    {
        if (source.Length != Size) throw new ArgumentException($"source: expected {Size} floats, found {source.Length}", nameof(source));
        int o = 0;
        foreach (var h in Hs) { source.Slice(o, h.Length).CopyTo(h); o += h.Length; }
        foreach (var c in Cs) { source.Slice(o, c.Length).CopyTo(c); o += c.Length; }
    }

    /// <summary>An independent copy (e.g. to branch a generation).</summary>
    public RnnState Clone()
    {
        var s = Owner.NewState();
        var buf = new float[Size];
        CopyTo(buf);
        s.CopyFrom(buf);
        s.Steps = Steps;
        return s;
    }
}
