// Tensor memory on an OpenCL device: a buffer of the backend's device, with blocking host copies. Plans read such
// tensors in place and return their results in them when their inputs lived on the device.
using RnnFast.Bindings.OpenCL;

namespace RnnFast.Backends.OpenCL;

/// <summary>A tensor's float32 elements in an OpenCL buffer of one device.</summary>
public sealed class OpenCLStorage : TensorStorage
{
    private readonly OpenCLBackend _owner;

    internal OpenCLStorage(OpenCLBackend owner, OpenCLDevice device, CLBuffer buffer, int length)
    {
        _owner = owner;
        Device = device;
        Buffer = buffer;
        Length = length;
    }

    internal OpenCLDevice Device { get; }

    internal CLBuffer Buffer { get; }

    /// <inheritdoc/>
    public override Backend Owner => _owner;
    /// <inheritdoc/>
    public override int Length { get; }

    /// <inheritdoc/>
    public override void CopyFromHost(ReadOnlySpan<float> source)
    {
        if (source.Length != Length)
            throw new ArgumentException($"source has {source.Length} elements, storage has {Length}", nameof(source));
        Device.Cl.EnqueueWriteBuffer(Device.Queue, Buffer, 0, source);
    }

    /// <inheritdoc/>
    public override void CopyToHost(Span<float> destination)
    {
        if (destination.Length != Length)
            throw new ArgumentException($"destination has {destination.Length} elements, storage has {Length}", nameof(destination));
        Device.Download(Buffer, 0, destination);
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        Buffer.Dispose();
        base.Dispose();
    }
}
