// Where a tensor's float32 elements live. Host storage is a managed array; device backends
// (OpenCL, CUDA) derive their own storage and implement the explicit host<->device copies.
using RnnFast.Backends;

namespace RnnFast;

/// <summary>The elements of a tensor, owned by one backend.</summary>
public abstract class TensorStorage : IDisposable
{
    /// <summary>The backend that owns this memory.</summary>
    public abstract Backend Owner { get; }

    /// <summary>Number of float32 elements.</summary>
    public abstract int Length { get; }

    /// <summary>True when the elements are addressable from managed code without a copy.</summary>
    public virtual bool IsHost => false;

    /// <summary>Copies <paramref name="source"/> (host memory) into this storage.</summary>
    public abstract void CopyFromHost(ReadOnlySpan<float> source);

    /// <summary>Copies this storage into <paramref name="destination"/> (host memory).</summary>
    public abstract void CopyToHost(Span<float> destination);

    /// <summary>Frees the storage (device memory for GPU backends; nothing for host arrays).</summary>
    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>Storage in a managed float array: used by the reference and managed CPU backends.</summary>
public sealed class HostStorage : TensorStorage
{
    private readonly Backend _owner;

    /// <summary>Storage over <paramref name="array"/> (not copied), owned by <paramref name="owner"/> (default: the reference backend).</summary>
    public HostStorage(float[] array, Backend? owner = null)
    {
        Array = array ?? throw new ArgumentNullException(nameof(array));
        _owner = owner ?? Backends.Reference.ReferenceBackend.Instance;
    }

    /// <summary>The managed array holding the elements.</summary>
    public float[] Array { get; }
    /// <inheritdoc/>
    public override Backend Owner => _owner;
    /// <inheritdoc/>
    public override int Length => Array.Length;
    /// <inheritdoc/>
    public override bool IsHost => true;

    /// <inheritdoc/>
    public override void CopyFromHost(ReadOnlySpan<float> source)
    {
        if (source.Length != Array.Length)
            throw new ArgumentException($"source has {source.Length} elements, storage has {Array.Length}", nameof(source));
        source.CopyTo(Array);
    }

    /// <inheritdoc/>
    public override void CopyToHost(Span<float> destination)
    {
        if (destination.Length != Array.Length)
            throw new ArgumentException($"destination has {destination.Length} elements, storage has {Array.Length}", nameof(destination));
        Array.CopyTo(destination);
    }
}
