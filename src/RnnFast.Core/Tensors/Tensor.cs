// A dense, row-major float32 tensor. Its storage belongs to a backend; host tensors expose a Span,
// device tensors are reached through explicit copies (ToHost / To(backend)).
using System.Text;
using RnnFast.Backends;

namespace RnnFast;

/// <summary>A dense row-major float32 tensor whose storage belongs to a backend, with explicit host/device copies.</summary>
public sealed class Tensor
{
    private int _version;

    /// <summary>A tensor of <paramref name="shape"/> over <paramref name="storage"/> (not copied); the storage length must equal the element count.</summary>
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

    /// <summary>The number of dimensions.</summary>
    public int Rank => Shape.Length;
    /// <summary>Where the elements live (owned by <see cref="Backend"/>).</summary>
    public TensorStorage Storage { get; }
    /// <summary>The backend that owns the storage.</summary>
    public Backend Backend => Storage.Owner;
    /// <summary>True when <see cref="Span"/> can read the elements directly (host memory).</summary>
    public bool IsHost => Storage.IsHost;

    /// <summary>Bumped by every in-place change made through <see cref="MarkChanged"/> (optimizers do),
    /// so that backends which convert weights once know when to convert again.</summary>
    public int Version => Volatile.Read(ref _version);

    /// <summary>Records an in-place change of the elements (bumps <see cref="Version"/>) so converting backends re-pack weights.</summary>
    public void MarkChanged() => Interlocked.Increment(ref _version);

    /// <summary>The elements of a host tensor. Device tensors must be copied with <see cref="ToHost"/> first.</summary>
    public Span<float> Span => HostArray.AsSpan();

    /// <summary>The managed array behind a host tensor.</summary>
    public float[] HostArray => Storage is HostStorage h
        ? h.Array
        : throw new InvalidOperationException($"tensor {FormatShape(Shape)} lives on backend '{Backend.Name}'; copy it with ToHost() first");

    /// <summary>The size of dimension <paramref name="axis"/>; a negative axis counts from the end (-1 is the last).</summary>
    public int Dim(int axis) => Shape[axis < 0 ? Shape.Length + axis : axis];

    /// <summary>A new host tensor of <paramref name="shape"/> filled with zeros.</summary>
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

    /// <summary>A new host tensor of <paramref name="shape"/> filled with <paramref name="value"/>.</summary>
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

    /// <summary>A host copy of this tensor (device tensors are copied down).</summary>
    public Tensor Clone() => ToHost();

    /// <summary>Same elements, another shape (host tensors share the array).</summary>
    public Tensor Reshape(params int[] shape)
    {
        if (ElementCount(CheckShape(shape)) != Length)
            throw new ArgumentException($"cannot reshape {FormatShape(Shape)} ({Length} elements) to {FormatShape(shape)}", nameof(shape));
        return new Tensor(Storage, shape);
    }

    /// <summary>The elements as a new array, row-major (copied from the device when needed).</summary>
    public float[] ToArray()
    {
        var data = new float[Length];
        Storage.CopyToHost(data);
        return data;
    }

    /// <summary>True when <paramref name="other"/> has exactly this shape.</summary>
    public bool SameShape(Tensor other) => Shape.AsSpan().SequenceEqual(other.Shape);

    /// <summary>True when this tensor's shape is exactly <paramref name="shape"/>.</summary>
    public bool HasShape(params int[] shape) => Shape.AsSpan().SequenceEqual(shape);

    /// <inheritdoc/>
    public override string ToString() => $"Tensor{FormatShape(Shape)} on {Backend.Name}";

    /// <summary>"(2,3,4)" style text for messages.</summary>
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
