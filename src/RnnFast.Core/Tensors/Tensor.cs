// A dense, row-major float32 tensor. Its storage belongs to a backend; host tensors expose a Span,
// device tensors are reached through explicit copies (ToHost / To(backend)).
using System.Text;
using RnnFast.Backends;

namespace RnnFast;

/// <summary>A dense row-major float32 tensor whose storage belongs to a backend, with explicit host/device copies.</summary>
public sealed class Tensor
{
    private int _version;

    public Tensor(TensorStorage storage, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(storage);
        Shape = CheckShape(shape);
        Length = ElementCount(Shape);
        if (storage.Length != Length)
            throw new ArgumentException($"storage holds {storage.Length} elements but shape {FormatShape(Shape)} needs {Length}", nameof(storage));
        Storage = storage;
    }

    /// <summary>Dimensions, outermost first.</summary>
    public int[] Shape { get; }

    /// <summary>Number of elements (product of <see cref="Shape"/>).</summary>
    public int Length { get; }

    public int Rank => Shape.Length;
    public TensorStorage Storage { get; }
    public Backend Backend => Storage.Owner;
    public bool IsHost => Storage.IsHost;

    /// <summary>Bumped by every in-place change made through <see cref="MarkChanged"/> (optimizers do),
    /// so that backends which convert weights once know when to convert again.</summary>
    public int Version => Volatile.Read(ref _version);

    public void MarkChanged() => Interlocked.Increment(ref _version);

    /// <summary>The elements of a host tensor. Device tensors must be copied with <see cref="ToHost"/> first.</summary>
    public Span<float> Span => HostArray.AsSpan();

    /// <summary>The managed array behind a host tensor.</summary>
    public float[] HostArray => Storage is HostStorage h
        ? h.Array
        : throw new InvalidOperationException($"tensor {FormatShape(Shape)} lives on backend '{Backend.Name}'; copy it with ToHost() first");

    public int Dim(int axis) => Shape[axis < 0 ? Shape.Length + axis : axis];

    public static Tensor Zeros(params int[] shape) => new(new HostStorage(new float[ElementCount(CheckShape(shape))]), shape);

    /// <summary>Wraps <paramref name="data"/> (no copy) as a host tensor of the given shape.</summary>
    public static Tensor FromArray(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        long need = ElementCount(CheckShape(shape));
        if (need != data.Length)
            throw new ArgumentException($"shape {FormatShape(shape)} needs {need} elements, data has {data.Length}", nameof(data));
        return new Tensor(new HostStorage(data), shape);
    }

    public static Tensor Full(float value, params int[] shape)
    {
        var t = Zeros(shape);
        t.Span.Fill(value);
        return t;
    }

    /// <summary>A host copy of this tensor (a new tensor even when it already is on the host).</summary>
    public Tensor ToHost()
    {
        var data = new float[Length];
        Storage.CopyToHost(data);
        return FromArray(data, (int[])Shape.Clone());
    }

    /// <summary>A copy of this tensor in memory owned by <paramref name="backend"/>.</summary>
    public Tensor To(Backend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var storage = backend.Allocate(Length);
        if (IsHost) storage.CopyFromHost(Span);
        else storage.CopyFromHost(ToHost().Span);
        return new Tensor(storage, (int[])Shape.Clone());
    }

    public Tensor Clone() => ToHost();

    /// <summary>Same elements, another shape (host tensors share the array).</summary>
    public Tensor Reshape(params int[] shape)
    {
        if (ElementCount(CheckShape(shape)) != Length)
            throw new ArgumentException($"cannot reshape {FormatShape(Shape)} ({Length} elements) to {FormatShape(shape)}", nameof(shape));
        return new Tensor(Storage, shape);
    }

    public float[] ToArray()
    {
        var data = new float[Length];
        Storage.CopyToHost(data);
        return data;
    }

    public bool SameShape(Tensor other) => Shape.AsSpan().SequenceEqual(other.Shape);

    public bool HasShape(params int[] shape) => Shape.AsSpan().SequenceEqual(shape);

    public override string ToString() => $"Tensor{FormatShape(Shape)} on {Backend.Name}";

    public static string FormatShape(ReadOnlySpan<int> shape)
    {
        var sb = new StringBuilder("(");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(shape[i]);
        }
        if (shape.Length == 1) sb.Append(',');
        return sb.Append(')').ToString();
    }

    private static int[] CheckShape(int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        foreach (var d in shape)
            if (d < 0) throw new ArgumentException($"shape {FormatShape(shape)} has a negative dimension", nameof(shape));
        return shape;
    }

    private static int ElementCount(int[] shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            n *= d;
            if (n > Array.MaxLength)
                throw new ArgumentException($"shape {FormatShape(shape)} has more elements than one array can hold", nameof(shape));
        }
        return (int)n;
    }
}
