// Tensor memory on the GPU: a rented device buffer of the cuda backend. Host copies go through the backend's stream
// under its lock (the context is made current first: any thread may call).
using RnnFast.Bindings.Cuda;

namespace RnnFast.Backends.Cuda;

/// <summary>float32 tensor elements in device memory owned by a <see cref="CudaBackend"/>.</summary>
public sealed class CudaStorage : TensorStorage
{
    private readonly CudaBackend _owner;

    internal CudaStorage(CudaBackend owner, CudaDeviceMemory memory, int length)
    {
        _owner = owner;
        Memory = memory;
        Length = length;
        if ((long)length * sizeof(float) > memory.SizeInBytes)
            throw new ArgumentException($"a {memory.SizeInBytes}-byte buffer cannot hold {length} floats");
    }

    /// <summary>The device buffer (at least Length * 4 bytes).</summary>
    internal CudaDeviceMemory Memory { get; }

    /// <inheritdoc/>
    public override Backend Owner => _owner;
    /// <inheritdoc/>
    public override int Length { get; }

    /// <inheritdoc/>
    public override void CopyFromHost(ReadOnlySpan<float> source)
    {
        if (source.Length != Length)
            throw new ArgumentException($"source has {source.Length} elements, storage has {Length}", nameof(source));
        lock (_owner.Gate)
        {
            _owner.Context.MakeCurrent();
            Memory.CopyFromHost(source, _owner.Stream);
        }
    }

    /// <inheritdoc/>
    public override void CopyToHost(Span<float> destination)
    {
        if (destination.Length != Length)
            throw new ArgumentException($"destination has {destination.Length} elements, storage has {Length}", nameof(destination));
        lock (_owner.Gate)
        {
            _owner.Context.MakeCurrent();
            Memory.CopyToHost(destination, _owner.Stream);
        }
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        Memory.Dispose();
        base.Dispose();
    }
}
