// The checks RnnOutputBuffers and RnnInputGradientBuffers share: three caller-owned host tensors in separate storages,
// the third (LSTM's cell-state one) present exactly when the stack has a cell state, each of an expected (d0,d1,d2)
// shape, and none of them also a tensor the call reads. Every message names Owner.Property.
namespace RnnFast;

internal static class BufferSetChecks
{
    /// <summary>The constructors' checks: non-null, host tensors, three separate storages (the third may be null).</summary>
    public static void Wrap(string owner, Tensor a, Tensor b, Tensor? c, string[] names, string[] parameters)
    {
        ArgumentNullException.ThrowIfNull(a, parameters[0]);
        ArgumentNullException.ThrowIfNull(b, parameters[1]);
        RequireHost(owner, a, names[0], parameters[0]);
        RequireHost(owner, b, names[1], parameters[1]);
        if (c != null) RequireHost(owner, c, names[2], parameters[2]);
        if (Same(a, b) || Same(c, a) || Same(c, b))
            throw new ArgumentException($"{owner}: {names[0]}, {names[1]} and {names[2]} must be separate tensors", parameters[0]);
    }

    /// <summary>Throws (naming owner.name) unless <paramref name="t"/> has shape (d0, d1, d2).</summary>
    public static void Expect(string owner, Tensor t, string name, int d0, int d1, int d2)
    {
        if (!t.HasShape(d0, d1, d2))
            throw new ArgumentException($"{owner}.{name}: expected shape {Tensor.FormatShape([d0, d1, d2])}, found {Tensor.FormatShape(t.Shape)}", "into");
    }

    /// <summary>The cell-state buffer: required with shape (d0, d1, d2) for LSTM (<paramref name="what"/> names it), null otherwise.</summary>
    public static void ExpectCell(string owner, RnnDesc desc, Tensor? t, string name, string what, int d0, int d1, int d2)
    {
        if (desc.HasCellState)
        {
            if (t == null) throw new ArgumentException($"{owner}.{name}: is null; an LSTM needs {what} of shape {Tensor.FormatShape([d0, d1, d2])}", "into");
            Expect(owner, t, name, d0, d1, d2);
        }
        else if (t != null)
            throw new ArgumentException($"{owner}.{name}: must be null for {desc.Mode} (no cell state), found {Tensor.FormatShape(t.Shape)}", "into");
    }

    /// <summary>Whether <paramref name="t"/> shares its storage with one of the set's tensors.</summary>
    public static bool Aliases(Tensor? t, Tensor a, Tensor b, Tensor? c) => t != null && (Same(t, a) || Same(t, b) || Same(t, c));

    private static bool Same(Tensor? a, Tensor? b) => a != null && b != null && ReferenceEquals(a.Storage, b.Storage);

    private static void RequireHost(string owner, Tensor t, string name, string parameter)
    {
        if (!t.IsHost) throw new ArgumentException($"{owner}.{name}: must be a host tensor, found one on {t.Backend.Name}", parameter);
    }
}
