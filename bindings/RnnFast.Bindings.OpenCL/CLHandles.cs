// SafeHandle wrappers of OpenCL's objects: platform and device ids (not reference-counted: nothing to release),
// context, command queue, buffer, program, kernel and event (released with their clRelease* call). A handle that
// depends on another (a queue on its context, a kernel on its program) holds a reference to it, so release order is
// always child first; each release goes through Silk.NET's CL (CLNative.Api). Handles are made by the CL class only.
using System.Runtime.InteropServices;
using RnnFast.Native;

namespace RnnFast.Bindings.OpenCL;

/// <summary>Base of every OpenCL handle: owns one native object and keeps the handle it depends on alive.</summary>
public abstract class CLHandle : DependentHandle
{
    private protected CLHandle() { }

    /// <summary>The native object (valid while this handle is alive).</summary>
    internal IntPtr Raw => IsClosed ? throw new ObjectDisposedException(GetType().Name) : handle;

    /// <summary>The clRelease* call for this object (0 = CL_SUCCESS); objects that are not reference-counted return 0.</summary>
    private protected abstract int Release(IntPtr value);

    /// <inheritdoc/>
    protected sealed override int Destroy(nint value) => Release(value);
}

/// <summary>cl_platform_id (not reference-counted).</summary>
public sealed class CLPlatform : CLHandle
{
    internal CLPlatform(IntPtr id) => Attach(id, null);

    private protected override int Release(IntPtr value) => 0;
}

/// <summary>cl_device_id of a root device (not reference-counted).</summary>
public sealed class CLDevice : CLHandle
{
    internal CLDevice(IntPtr id, CLPlatform platform)
    {
        Platform = platform;
        Attach(id, platform);
    }

    /// <summary>The platform the device belongs to.</summary>
    public CLPlatform Platform { get; }

    /// <summary>True when both handles name the same device.</summary>
    public bool SameDevice(CLDevice other) => other != null && other.handle == handle;

    private protected override int Release(IntPtr value) => 0;
}

/// <summary>cl_context (clReleaseContext).</summary>
public sealed class CLContext : CLHandle
{
    internal CLContext(IntPtr value) => Attach(value, null);

    private protected override int Release(IntPtr value) => CLNative.Api.ReleaseContext(value);
}

/// <summary>cl_command_queue (clReleaseCommandQueue).</summary>
public sealed class CLCommandQueue : CLHandle
{
    internal CLCommandQueue(IntPtr value, CLContext context, bool profiling)
    {
        Profiling = profiling;
        Attach(value, context);
    }

    /// <summary>True when the queue was created with CL_QUEUE_PROFILING_ENABLE (events carry timestamps).</summary>
    public bool Profiling { get; }

    private protected override int Release(IntPtr value) => CLNative.Api.ReleaseCommandQueue(value);
}

/// <summary>cl_mem of a buffer (clReleaseMemObject). Its size is reported to the GC as memory pressure.</summary>
public sealed class CLBuffer : CLHandle
{
    private readonly long _pressure;

    internal CLBuffer(IntPtr value, CLContext context, long sizeInBytes)
    {
        SizeInBytes = sizeInBytes;
        _pressure = Math.Max(sizeInBytes, 1);
        Attach(value, context);
        GC.AddMemoryPressure(_pressure);
    }

    /// <summary>The buffer's size in bytes.</summary>
    public long SizeInBytes { get; }

    private protected override int Release(IntPtr value)
    {
        GC.RemoveMemoryPressure(_pressure);
        return CLNative.Api.ReleaseMemObject(value);
    }
}

/// <summary>cl_program (clReleaseProgram).</summary>
public sealed class CLProgram : CLHandle
{
    internal CLProgram(IntPtr value, CLContext context) => Attach(value, context);

    private protected override int Release(IntPtr value) => CLNative.Api.ReleaseProgram(value);
}

/// <summary>cl_kernel (clReleaseKernel). Setting arguments is not thread-safe on one kernel object.</summary>
public sealed class CLKernel : CLHandle
{
    internal CLKernel(IntPtr value, CLProgram program, string name)
    {
        Name = name;
        Attach(value, program);
    }

    /// <summary>The kernel function's name.</summary>
    public string Name { get; }

    private protected override int Release(IntPtr value) => CLNative.Api.ReleaseKernel(value);
}

/// <summary>cl_event (clReleaseEvent): one enqueued command, to wait on or to read profiling timestamps from.</summary>
public sealed class CLEvent : CLHandle
{
    internal CLEvent(IntPtr value) => Attach(value, null);

    private protected override int Release(IntPtr value) => CLNative.Api.ReleaseEvent(value);
}
