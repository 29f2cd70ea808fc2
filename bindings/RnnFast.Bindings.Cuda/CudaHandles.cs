// SafeHandle wrappers of the CUDA driver objects RnnFast holds: the device's primary context (retained, released),
// streams, events and device memory. A handle that depends on another (a stream on its context) holds a reference to
// it, so release order is always child first; each release makes its context current first, because a release may run
// on any thread (a finalizer's included).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RnnFast.Native;

namespace RnnFast.Bindings.Cuda;

/// <summary>Base of every CUDA and cuDNN handle: owns one native object and keeps the handle it depends on alive.</summary>
public abstract class CudaHandle : DependentHandle
{
    private protected CudaHandle() { }

    /// <summary>The native object (valid while this handle is alive).</summary>
    internal nint Raw => handle;

    /// <summary>The primary context this handle (or one of its parents) lives in, or null.</summary>
    internal CudaContext? OwningContext => this as CudaContext ?? (Parent as CudaHandle)?.OwningContext;

    /// <summary>Makes the owning context current on the calling thread (best effort: used on release paths).</summary>
    private protected void TryMakeContextCurrent()
    {
        if (OwningContext is { IsClosed: false } c) DriverApiNative.cuCtxSetCurrent(c.Raw);
    }

}

/// <summary>A device's primary context (cuDevicePrimaryCtxRetain / cuDevicePrimaryCtxRelease_v2): the context the CUDA runtime and cuDNN share.</summary>
public sealed class CudaContext : CudaHandle
{
    private CudaContext(int device) => Device = device;

    /// <summary>The CUdevice this context belongs to.</summary>
    public int Device { get; }

    /// <summary>Retains device <paramref name="device"/>'s primary context (cuInit must have succeeded).</summary>
    public static unsafe CudaContext RetainPrimary(int device)
    {
        nint ctx;
        CudaException.Check(DriverApiNative.cuDevicePrimaryCtxRetain(&ctx, device), "cuDevicePrimaryCtxRetain", $"device {device}");
        var h = new CudaContext(device);
        h.Attach(ctx, null);
        return h;
    }

    /// <summary>cuCtxSetCurrent: binds this context to the calling thread (every call that touches the device needs it).</summary>
    public void MakeCurrent() => CudaException.Check(DriverApiNative.cuCtxSetCurrent(Raw), "cuCtxSetCurrent");

    /// <summary>cuCtxSynchronize: waits for every stream of this context.</summary>
    public void Synchronize()
    {
        MakeCurrent();
        CudaException.Check(DriverApiNative.cuCtxSynchronize(), "cuCtxSynchronize");
    }

    /// <summary>cuMemGetInfo_v2 in this context: free and total device memory in bytes.</summary>
    public unsafe (long Free, long Total) MemoryInfo()
    {
        MakeCurrent();
        nuint free, total;
        CudaException.Check(DriverApiNative.cuMemGetInfo_v2(&free, &total), "cuMemGetInfo_v2");
        return ((long)free, (long)total);
    }

    /// <inheritdoc/>
    protected override int Destroy(nint value) => DriverApiNative.cuDevicePrimaryCtxRelease_v2(Device);
}

/// <summary>A CUstream (cuStreamCreate / cuStreamDestroy_v2). Work on one stream runs in order.</summary>
public sealed class CudaStream : CudaHandle
{
    private CudaStream() { }

    /// <summary>cuStreamCreate in <paramref name="context"/> (made current).</summary>
    public static unsafe CudaStream Create(CudaContext context, CuStreamFlags flags = CuStreamFlags.Default)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.MakeCurrent();
        nint s;
        CudaException.Check(DriverApiNative.cuStreamCreate(&s, (uint)flags), "cuStreamCreate");
        var h = new CudaStream();
        h.Attach(s, context);
        return h;
    }

    /// <summary>The raw CUstream (for cudnnSetStream and the async copies).</summary>
    internal nint Stream => Raw;

    /// <summary>cuStreamSynchronize: blocks until everything queued on this stream has finished.</summary>
    public void Synchronize()
    {
        TryMakeContextCurrent();
        CudaException.Check(DriverApiNative.cuStreamSynchronize(Raw), "cuStreamSynchronize");
    }

    /// <inheritdoc/>
    protected override int Destroy(nint value)
    {
        TryMakeContextCurrent();
        return DriverApiNative.cuStreamDestroy_v2(value);
    }
}

/// <summary>A CUevent (cuEventCreate / cuEventDestroy_v2): marks a point in a stream; pairs of them time GPU work.</summary>
public sealed class CudaEvent : CudaHandle
{
    private CudaEvent() { }

    /// <summary>cuEventCreate in <paramref name="context"/> (made current).</summary>
    public static unsafe CudaEvent Create(CudaContext context, CuEventFlags flags = CuEventFlags.Default)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.MakeCurrent();
        nint e;
        CudaException.Check(DriverApiNative.cuEventCreate(&e, (uint)flags), "cuEventCreate");
        var h = new CudaEvent();
        h.Attach(e, context);
        return h;
    }

    /// <summary>cuEventRecord on <paramref name="stream"/>.</summary>
    public void Record(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        TryMakeContextCurrent();
        CudaException.Check(DriverApiNative.cuEventRecord(Raw, stream.Stream), "cuEventRecord");
    }

    /// <summary>cuEventSynchronize: blocks until the event's work has finished.</summary>
    public void Synchronize() => CudaException.Check(DriverApiNative.cuEventSynchronize(Raw), "cuEventSynchronize");

    /// <summary>cuEventElapsedTime between two recorded (and completed) events, in milliseconds.</summary>
    public static unsafe float ElapsedMilliseconds(CudaEvent start, CudaEvent end)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        float ms;
        CudaException.Check(DriverApiNative.cuEventElapsedTime(&ms, start.Raw, end.Raw), "cuEventElapsedTime");
        return ms;
    }

    /// <inheritdoc/>
    protected override int Destroy(nint value)
    {
        TryMakeContextCurrent();
        return DriverApiNative.cuEventDestroy_v2(value);
    }
}

/// <summary>
/// Device memory (a CUdeviceptr from cuMemAlloc_v2), like ManagedCuda's CudaDeviceVariable. Released with cuMemFree_v2,
/// or handed back to the <see cref="CudaMemoryPool"/> it was rented from. A zero-byte buffer has the null pointer.
/// Copies and fills are queued on a stream; copies to the host wait for it.
/// </summary>
public sealed class CudaDeviceMemory : CudaHandle
{
    private CudaMemoryPool? _pool;

    private CudaDeviceMemory(long bytes) => SizeInBytes = bytes;

    /// <summary>The CUdeviceptr (0 for a zero-byte buffer).</summary>
    public ulong DevicePointer => (ulong)(long)handle;

    /// <summary>The pointer as cuDNN's void* arguments take it.</summary>
    public nint Pointer => handle;

    /// <summary>Bytes this buffer holds (at least what was asked for).</summary>
    public long SizeInBytes { get; }

    /// <summary>cuMemAlloc_v2 of <paramref name="bytes"/> in <paramref name="context"/> (made current); zero bytes give the null pointer.</summary>
    public static unsafe CudaDeviceMemory Allocate(CudaContext context, long bytes)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        var h = new CudaDeviceMemory(bytes);
        if (bytes == 0) return h;
        context.MakeCurrent();
        ulong p;
        CudaException.Check(DriverApiNative.cuMemAlloc_v2(&p, (nuint)bytes), "cuMemAlloc_v2", $"{bytes} bytes");
        h.Attach((nint)(long)p, context);
        return h;
    }

    /// <summary>Wraps a block the pool owns; releasing the handle returns the block to the pool.</summary>
    internal static CudaDeviceMemory FromPool(CudaMemoryPool pool, ulong pointer, long bytes)
    {
        var h = new CudaDeviceMemory(bytes) { _pool = pool };
        h.Attach((nint)(long)pointer, pool.Context);
        return h;
    }

    /// <summary>Queues a copy of <paramref name="source"/> into this buffer at <paramref name="byteOffset"/> (cuMemcpyHtoDAsync_v2).</summary>
    public unsafe void CopyFromHost<T>(ReadOnlySpan<T> source, CudaStream stream, long byteOffset = 0) where T : unmanaged
    {
        long bytes = (long)source.Length * sizeof(T);
        CheckRange(byteOffset, bytes, "CopyFromHost");
        if (bytes == 0) return;
        TryMakeContextCurrent();
        fixed (T* p = source)
            CudaException.Check(DriverApiNative.cuMemcpyHtoDAsync_v2(DevicePointer + (ulong)byteOffset, p, (nuint)bytes, stream.Stream),
                "cuMemcpyHtoDAsync_v2", $"{bytes} bytes");
    }

    /// <summary>Copies this buffer's bytes from <paramref name="byteOffset"/> into <paramref name="destination"/> and waits for it (cuMemcpyDtoHAsync_v2 + cuStreamSynchronize).</summary>
    public unsafe void CopyToHost<T>(Span<T> destination, CudaStream stream, long byteOffset = 0) where T : unmanaged
    {
        long bytes = (long)destination.Length * sizeof(T);
        CheckRange(byteOffset, bytes, "CopyToHost");
        if (bytes == 0) return;
        TryMakeContextCurrent();
        fixed (T* p = destination)
        {
            CudaException.Check(DriverApiNative.cuMemcpyDtoHAsync_v2(p, DevicePointer + (ulong)byteOffset, (nuint)bytes, stream.Stream),
                "cuMemcpyDtoHAsync_v2", $"{bytes} bytes");
            stream.Synchronize();
        }
    }

    /// <summary>Queues a device-to-device copy of <paramref name="bytes"/> from <paramref name="source"/> (cuMemcpyDtoDAsync_v2).</summary>
    public void CopyFromDevice(CudaDeviceMemory source, long bytes, CudaStream stream, long sourceOffset = 0, long byteOffset = 0)
    {
        ArgumentNullException.ThrowIfNull(source);
        CheckRange(byteOffset, bytes, "CopyFromDevice");
        source.CheckRange(sourceOffset, bytes, "CopyFromDevice (source)");
        if (bytes == 0) return;
        TryMakeContextCurrent();
        CudaException.Check(DriverApiNative.cuMemcpyDtoDAsync_v2(DevicePointer + (ulong)byteOffset, source.DevicePointer + (ulong)sourceOffset,
            (nuint)bytes, stream.Stream), "cuMemcpyDtoDAsync_v2", $"{bytes} bytes");
    }

    /// <summary>Queues zeroing <paramref name="bytes"/> bytes from <paramref name="byteOffset"/> (-1: to the end): cuMemsetD32Async when 4-aligned, else cuMemsetD8Async.</summary>
    public void ZeroAsync(CudaStream stream, long byteOffset = 0, long bytes = -1)
    {
        if (bytes < 0) bytes = SizeInBytes - byteOffset;
        CheckRange(byteOffset, bytes, "ZeroAsync");
        if (bytes == 0) return;
        TryMakeContextCurrent();
        if (byteOffset % 4 == 0 && bytes % 4 == 0)
            CudaException.Check(DriverApiNative.cuMemsetD32Async(DevicePointer + (ulong)byteOffset, 0u, (nuint)(bytes / 4), stream.Stream),
                "cuMemsetD32Async", $"{bytes / 4} words");
        else
            CudaException.Check(DriverApiNative.cuMemsetD8Async(DevicePointer + (ulong)byteOffset, 0, (nuint)bytes, stream.Stream),
                "cuMemsetD8Async", $"{bytes} bytes");
    }

    private void CheckRange(long offset, long bytes, string what)
    {
        if (offset < 0 || bytes < 0 || offset + bytes > SizeInBytes)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{what}: bytes [{offset}, {offset + bytes}) outside the {SizeInBytes}-byte device buffer");
        ObjectDisposedException.ThrowIf(IsClosed, this);
    }

    /// <inheritdoc/>
    protected override int Destroy(nint value)
    {
        if (_pool != null)
        {
            _pool.Return((ulong)(long)value, SizeInBytes);
            return 0;
        }
        TryMakeContextCurrent();
        return DriverApiNative.cuMemFree_v2((ulong)(long)value);
    }
}

/// <summary>
/// A host array of floats the device copies to and from at full speed: allocated on the pinned object heap (never moved
/// by the GC) and page-locked with cuMemHostRegister_v2, like ManagedCuda's registered host memory. Released with
/// cuMemHostUnregister; the array itself stays a plain managed array.
/// </summary>
public sealed class CudaPinnedFloats : CudaHandle
{
    private CudaPinnedFloats(float[] array) => Array = array;

    /// <summary>The registered array (valid for copies while this handle is alive).</summary>
    public float[] Array { get; }

    /// <summary>A zeroed array of <paramref name="length"/> floats, registered in <paramref name="context"/> (made current).</summary>
    public static unsafe CudaPinnedFloats Allocate(CudaContext context, int length)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var array = GC.AllocateArray<float>(length, pinned: true);
        var h = new CudaPinnedFloats(array);
        context.MakeCurrent();
        void* p = Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        CudaException.Check(DriverApiNative.cuMemHostRegister_v2(p, (nuint)((long)length * sizeof(float)), 0), "cuMemHostRegister_v2",
            $"{(long)length * sizeof(float)} bytes");
        h.Attach((nint)p, context);
        return h;
    }

    /// <inheritdoc/>
    protected override unsafe int Destroy(nint value)
    {
        TryMakeContextCurrent();
        return DriverApiNative.cuMemHostUnregister((void*)value);
    }
}
