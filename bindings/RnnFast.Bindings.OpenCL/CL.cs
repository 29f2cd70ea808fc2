// The OpenCL API over SafeHandles, named and shaped like Silk.NET.OpenCL's CL class (CL.GetApi(), GetPlatformIDs,
// GetDeviceIDs, CreateContext, CreateBuffer, EnqueueNDRangeKernel, ...) and calling through it (CLNative.Api: Silk.NET's
// CL over the library our loader found; our enums carry cl.h's values and are cast to Silk.NET's). Every status is
// checked: a failing call throws CLException naming the call and the status (clBuildProgram adds the build log).
// Span overloads of reads and writes are blocking (a span cannot outlive the call).
using System.Runtime.InteropServices;
using System.Text;
using RnnFast.Native;
using SilkDeviceInfo = Silk.NET.OpenCL.DeviceInfo;
using SilkKernelWorkGroupInfo = Silk.NET.OpenCL.KernelWorkGroupInfo;
using SilkPlatformInfo = Silk.NET.OpenCL.PlatformInfo;
using SilkProfilingInfo = Silk.NET.OpenCL.ProfilingInfo;
using SilkProgramBuildInfo = Silk.NET.OpenCL.ProgramBuildInfo;
using SilkProgramInfo = Silk.NET.OpenCL.ProgramInfo;
using SilkCommandQueueProperties = Silk.NET.OpenCL.CommandQueueProperties;
using SilkDeviceType = Silk.NET.OpenCL.DeviceType;
using SilkMemFlags = Silk.NET.OpenCL.MemFlags;
using SilkQueueProperties = Silk.NET.OpenCL.QueueProperties;

namespace RnnFast.Bindings.OpenCL;

/// <summary>The OpenCL API (platforms, devices, contexts, queues, buffers, programs, kernels, events) over SafeHandles.</summary>
public sealed unsafe class CL
{
    private static readonly Lazy<CL> Api = new(() => new CL(), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Silk.NET.OpenCL.CL _cl;

    private CL() => _cl = CLNative.Api;

    /// <summary>The API, once libOpenCL is loaded; throws <see cref="DllNotFoundException"/> (with the loader's trace) when it cannot be.</summary>
    public static CL GetApi()
    {
        CLLibrary.Load().GetHandleOrThrow(); // a failed load is not cached in Api: the message carries the trace each time
        return Api.Value;
    }

    // ------------------------------------------------------------------ platforms and devices

    /// <summary>clGetPlatformIDs: every platform the ICD loader knows (CL_PLATFORM_NOT_FOUND_KHR when it found none).</summary>
    public CLPlatform[] GetPlatformIDs()
    {
        uint count;
        CLException.Check(_cl.GetPlatformIDs(0, null, &count), "clGetPlatformIDs");
        if (count == 0) return [];
        var ids = new IntPtr[count];
        fixed (IntPtr* p = ids) CLException.Check(_cl.GetPlatformIDs(count, p, &count), "clGetPlatformIDs");
        return ids.Take((int)count).Select(id => new CLPlatform(id)).ToArray();
    }

    /// <summary>clGetPlatformInfo for a string parameter (name, vendor, version, ...).</summary>
    public string GetPlatformInfo(CLPlatform platform, PlatformInfo param)
    {
        ArgumentNullException.ThrowIfNull(platform);
        nuint size;
        CLException.Check(_cl.GetPlatformInfo(platform.Raw, (SilkPlatformInfo)(int)param, 0, null, &size), "clGetPlatformInfo", param.ToString());
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes) CLException.Check(_cl.GetPlatformInfo(platform.Raw, (SilkPlatformInfo)(int)param, size, b, null), "clGetPlatformInfo", param.ToString());
        return CString(bytes);
    }

    /// <summary>clGetDeviceIDs: the platform's devices of <paramref name="type"/>; empty when it has none (CL_DEVICE_NOT_FOUND).</summary>
    public CLDevice[] GetDeviceIDs(CLPlatform platform, DeviceType type = DeviceType.All)
    {
        ArgumentNullException.ThrowIfNull(platform);
        uint count;
        int status = _cl.GetDeviceIDs(platform.Raw, (SilkDeviceType)(ulong)type, 0, null, &count);
        if (status == (int)ErrorCodes.DeviceNotFound) return [];
        CLException.Check(status, "clGetDeviceIDs", type.ToString());
        if (count == 0) return [];
        var ids = new IntPtr[count];
        fixed (IntPtr* p = ids) CLException.Check(_cl.GetDeviceIDs(platform.Raw, (SilkDeviceType)(ulong)type, count, p, &count), "clGetDeviceIDs", type.ToString());
        return ids.Take((int)count).Select(id => new CLDevice(id, platform)).ToArray();
    }

    /// <summary>clGetDeviceInfo for a fixed-size parameter (cl_uint, cl_ulong, size_t, cl_bool as uint, cl_device_type as ulong).</summary>
    public T GetDeviceInfo<T>(CLDevice device, DeviceInfo param) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(device);
        T value = default;
        nuint size;
        CLException.Check(_cl.GetDeviceInfo(device.Raw, (SilkDeviceInfo)(int)param, (nuint)sizeof(T), &value, &size), "clGetDeviceInfo", param.ToString());
        if (size != (nuint)sizeof(T))
            throw new CLException("clGetDeviceInfo", (int)ErrorCodes.InvalidValue, $"{param} is {size} bytes, asked as {typeof(T).Name} ({sizeof(T)} bytes)");
        return value;
    }

    /// <summary>clGetDeviceInfo for a string parameter (name, vendor, version, extensions, ...).</summary>
    public string GetDeviceInfoString(CLDevice device, DeviceInfo param)
    {
        ArgumentNullException.ThrowIfNull(device);
        nuint size;
        CLException.Check(_cl.GetDeviceInfo(device.Raw, (SilkDeviceInfo)(int)param, 0, null, &size), "clGetDeviceInfo", param.ToString());
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes) CLException.Check(_cl.GetDeviceInfo(device.Raw, (SilkDeviceInfo)(int)param, size, b, null), "clGetDeviceInfo", param.ToString());
        return CString(bytes);
    }

    /// <summary>clGetDeviceInfo for a size_t[] parameter (CL_DEVICE_MAX_WORK_ITEM_SIZES).</summary>
    public nuint[] GetDeviceInfoSizes(CLDevice device, DeviceInfo param)
    {
        ArgumentNullException.ThrowIfNull(device);
        nuint size;
        CLException.Check(_cl.GetDeviceInfo(device.Raw, (SilkDeviceInfo)(int)param, 0, null, &size), "clGetDeviceInfo", param.ToString());
        var values = new nuint[(int)size / sizeof(nuint)];
        fixed (nuint* v = values) CLException.Check(_cl.GetDeviceInfo(device.Raw, (SilkDeviceInfo)(int)param, size, v, null), "clGetDeviceInfo", param.ToString());
        return values;
    }

    // ------------------------------------------------------------------ contexts and queues

    /// <summary>clCreateContext for one device, on that device's platform.</summary>
    public CLContext CreateContext(CLDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        nint* props = stackalloc nint[3];
        props[0] = (nint)ContextProperties.Platform;
        props[1] = device.Platform.Raw;
        props[2] = 0;
        IntPtr d = device.Raw;
        int err;
        IntPtr ctx = _cl.CreateContext(props, 1, &d, null, null, &err);
        CLException.Check(err, "clCreateContext");
        GC.KeepAlive(device);
        return new CLContext(ctx);
    }

    /// <summary>clCreateCommandQueue (the OpenCL 1.x call every platform has): an in-order queue unless asked otherwise.</summary>
    public CLCommandQueue CreateCommandQueue(CLContext context, CLDevice device, CommandQueueProperties properties = CommandQueueProperties.None)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(device);
        int err;
        IntPtr q = _cl.CreateCommandQueue(context.Raw, device.Raw, (SilkCommandQueueProperties)(ulong)properties, &err);
        CLException.Check(err, "clCreateCommandQueue", properties.ToString());
        GC.KeepAlive(device);
        return new CLCommandQueue(q, context, properties.HasFlag(CommandQueueProperties.ProfilingEnable));
    }

    /// <summary>clCreateCommandQueueWithProperties (OpenCL 2.0+ platforms): the same queue through the property list.</summary>
    public CLCommandQueue CreateCommandQueueWithProperties(CLContext context, CLDevice device, CommandQueueProperties properties = CommandQueueProperties.None)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(device);
        ulong* props = stackalloc ulong[3];
        props[0] = (ulong)QueueProperties.Properties;
        props[1] = (ulong)properties;
        props[2] = 0;
        int err;
        IntPtr q = _cl.CreateCommandQueueWithProperties(context.Raw, device.Raw, (SilkQueueProperties*)props, &err);
        CLException.Check(err, "clCreateCommandQueueWithProperties", properties.ToString());
        GC.KeepAlive(device);
        return new CLCommandQueue(q, context, properties.HasFlag(CommandQueueProperties.ProfilingEnable));
    }

    /// <summary>clFlush: submits everything enqueued so far.</summary>
    public void Flush(CLCommandQueue queue) => CLException.Check(_cl.Flush(Raw(queue)), "clFlush");

    /// <summary>clFinish: blocks until everything enqueued on <paramref name="queue"/> has completed.</summary>
    public void Finish(CLCommandQueue queue) => CLException.Check(_cl.Finish(Raw(queue)), "clFinish");

    // ------------------------------------------------------------------ buffers

    /// <summary>clCreateBuffer of <paramref name="sizeInBytes"/> bytes (uninitialised).</summary>
    public CLBuffer CreateBuffer(CLContext context, MemFlags flags, long sizeInBytes)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (sizeInBytes <= 0) throw new ArgumentOutOfRangeException(nameof(sizeInBytes), $"a buffer needs a positive size, got {sizeInBytes}");
        int err;
        IntPtr m = _cl.CreateBuffer(context.Raw, (SilkMemFlags)(ulong)flags, (nuint)sizeInBytes, null, &err);
        CLException.Check(err, "clCreateBuffer", $"{sizeInBytes} bytes");
        return new CLBuffer(m, context, sizeInBytes);
    }

    /// <summary>clEnqueueWriteBuffer from a host pointer: with <paramref name="blocking"/> false the memory must stay valid until the command completes.</summary>
    public CLEvent? EnqueueWriteBuffer(CLCommandQueue queue, CLBuffer buffer, bool blocking, long offsetInBytes, long sizeInBytes, void* source, bool returnEvent = false)
    {
        CheckRange(buffer, offsetInBytes, sizeInBytes, "clEnqueueWriteBuffer");
        IntPtr e = IntPtr.Zero;
        CLException.Check(_cl.EnqueueWriteBuffer(Raw(queue), buffer.Raw, blocking, (nuint)offsetInBytes, (nuint)sizeInBytes, source,
            0, null, returnEvent ? &e : null), "clEnqueueWriteBuffer", $"{sizeInBytes} bytes at {offsetInBytes}");
        GC.KeepAlive(buffer);
        return returnEvent ? new CLEvent(e) : null;
    }

    /// <summary>clEnqueueWriteBuffer, blocking, of <paramref name="source"/> at element <paramref name="offset"/>.</summary>
    public void EnqueueWriteBuffer<T>(CLCommandQueue queue, CLBuffer buffer, long offset, ReadOnlySpan<T> source) where T : unmanaged
    {
        if (source.IsEmpty) return;
        fixed (T* p = source) EnqueueWriteBuffer(queue, buffer, true, offset * sizeof(T), (long)source.Length * sizeof(T), p);
    }

    /// <summary>clEnqueueReadBuffer into a host pointer: with <paramref name="blocking"/> false the memory must stay valid until the command completes.</summary>
    public CLEvent? EnqueueReadBuffer(CLCommandQueue queue, CLBuffer buffer, bool blocking, long offsetInBytes, long sizeInBytes, void* destination, bool returnEvent = false)
    {
        CheckRange(buffer, offsetInBytes, sizeInBytes, "clEnqueueReadBuffer");
        IntPtr e = IntPtr.Zero;
        CLException.Check(_cl.EnqueueReadBuffer(Raw(queue), buffer.Raw, blocking, (nuint)offsetInBytes, (nuint)sizeInBytes, destination,
            0, null, returnEvent ? &e : null), "clEnqueueReadBuffer", $"{sizeInBytes} bytes at {offsetInBytes}");
        GC.KeepAlive(buffer);
        return returnEvent ? new CLEvent(e) : null;
    }

    /// <summary>clEnqueueReadBuffer, blocking, into <paramref name="destination"/> from element <paramref name="offset"/>.</summary>
    public void EnqueueReadBuffer<T>(CLCommandQueue queue, CLBuffer buffer, long offset, Span<T> destination) where T : unmanaged
    {
        if (destination.IsEmpty) return;
        fixed (T* p = destination) EnqueueReadBuffer(queue, buffer, true, offset * sizeof(T), (long)destination.Length * sizeof(T), p);
    }

    /// <summary>clEnqueueCopyBuffer (device to device; byte offsets and size).</summary>
    public CLEvent? EnqueueCopyBuffer(CLCommandQueue queue, CLBuffer source, CLBuffer destination, long sourceOffset, long destinationOffset, long sizeInBytes,
        bool returnEvent = false)
    {
        CheckRange(source, sourceOffset, sizeInBytes, "clEnqueueCopyBuffer");
        CheckRange(destination, destinationOffset, sizeInBytes, "clEnqueueCopyBuffer");
        IntPtr e = IntPtr.Zero;
        CLException.Check(_cl.EnqueueCopyBuffer(Raw(queue), source.Raw, destination.Raw, (nuint)sourceOffset, (nuint)destinationOffset, (nuint)sizeInBytes,
            0, null, returnEvent ? &e : null), "clEnqueueCopyBuffer", $"{sizeInBytes} bytes");
        GC.KeepAlive(source);
        GC.KeepAlive(destination);
        return returnEvent ? new CLEvent(e) : null;
    }

    /// <summary>clEnqueueFillBuffer: repeats <paramref name="pattern"/> over <paramref name="sizeInBytes"/> bytes from <paramref name="offsetInBytes"/>.</summary>
    public CLEvent? EnqueueFillBuffer<T>(CLCommandQueue queue, CLBuffer buffer, T pattern, long offsetInBytes, long sizeInBytes, bool returnEvent = false)
        where T : unmanaged
    {
        CheckRange(buffer, offsetInBytes, sizeInBytes, "clEnqueueFillBuffer");
        IntPtr e = IntPtr.Zero;
        CLException.Check(_cl.EnqueueFillBuffer(Raw(queue), buffer.Raw, &pattern, (nuint)sizeof(T), (nuint)offsetInBytes, (nuint)sizeInBytes,
            0, null, returnEvent ? &e : null), "clEnqueueFillBuffer", $"{sizeInBytes} bytes at {offsetInBytes}");
        GC.KeepAlive(buffer);
        return returnEvent ? new CLEvent(e) : null;
    }

    // ------------------------------------------------------------------ programs and kernels

    /// <summary>clCreateProgramWithSource from one source string.</summary>
    public CLProgram CreateProgramWithSource(CLContext context, string source)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(source);
        var bytes = Encoding.UTF8.GetBytes(source);
        int err;
        IntPtr prog;
        fixed (byte* s = bytes)
        {
            byte* strings = s;
            nuint length = (nuint)bytes.Length;
            prog = _cl.CreateProgramWithSource(context.Raw, 1, &strings, &length, &err);
        }
        CLException.Check(err, "clCreateProgramWithSource");
        return new CLProgram(prog, context);
    }

    /// <summary>clCreateProgramWithBinary for one device (a binary from <see cref="GetProgramBinary"/>); build it before use.</summary>
    public CLProgram CreateProgramWithBinary(CLContext context, CLDevice device, byte[] binary)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(binary);
        if (binary.Length == 0) throw new ArgumentException("binary: empty program binary", nameof(binary));
        int err, binaryStatus;
        IntPtr prog;
        IntPtr d = device.Raw;
        fixed (byte* b = binary)
        {
            byte* bin = b;
            nuint length = (nuint)binary.Length;
            prog = _cl.CreateProgramWithBinary(context.Raw, 1, &d, &length, &bin, &binaryStatus, &err);
        }
        GC.KeepAlive(device);
        CLException.Check(err, "clCreateProgramWithBinary", err == (int)ErrorCodes.InvalidBinary ? $"binary status {CLException.StatusName(binaryStatus)}" : null);
        return new CLProgram(prog, context);
    }

    /// <summary>clBuildProgram for one device; on failure the exception carries the build log.</summary>
    public void BuildProgram(CLProgram program, CLDevice device, string options)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(device);
        var opts = Encoding.UTF8.GetBytes((options ?? "") + "\0");
        IntPtr d = device.Raw;
        int status;
        fixed (byte* o = opts) status = _cl.BuildProgram(program.Raw, 1, &d, o, null, null);
        if (status != 0)
        {
            string log;
            try { log = GetProgramBuildInfo(program, device, ProgramBuildInfo.BuildLog).Trim(); }
            catch (CLException e) { log = $"(no build log: {e.Message})"; }
            throw new CLException("clBuildProgram", status, "build log: " + (log.Length == 0 ? "(empty)" : log));
        }
        GC.KeepAlive(device);
    }

    /// <summary>clGetProgramBuildInfo for a string parameter (the build log or options).</summary>
    public string GetProgramBuildInfo(CLProgram program, CLDevice device, ProgramBuildInfo param)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(device);
        nuint size;
        CLException.Check(_cl.GetProgramBuildInfo(program.Raw, device.Raw, (SilkProgramBuildInfo)(int)param, 0, null, &size), "clGetProgramBuildInfo", param.ToString());
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes)
            CLException.Check(_cl.GetProgramBuildInfo(program.Raw, device.Raw, (SilkProgramBuildInfo)(int)param, size, b, null), "clGetProgramBuildInfo", param.ToString());
        return CString(bytes);
    }

    /// <summary>clGetProgramInfo(CL_PROGRAM_BINARIES) of a program built for exactly one device.</summary>
    public byte[] GetProgramBinary(CLProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        uint devices;
        CLException.Check(_cl.GetProgramInfo(program.Raw, (SilkProgramInfo)(int)ProgramInfo.NumDevices, sizeof(uint), &devices, null), "clGetProgramInfo", "NumDevices");
        if (devices != 1) throw new CLException("clGetProgramInfo", (int)ErrorCodes.InvalidProgram, $"expected a program for 1 device, it has {devices}");
        nuint size;
        CLException.Check(_cl.GetProgramInfo(program.Raw, (SilkProgramInfo)(int)ProgramInfo.BinarySizes, (nuint)sizeof(nuint), &size, null), "clGetProgramInfo", "BinarySizes");
        var binary = new byte[(int)size];
        if (size == 0) return binary;
        fixed (byte* b = binary)
        {
            byte* p = b;
            CLException.Check(_cl.GetProgramInfo(program.Raw, (SilkProgramInfo)(int)ProgramInfo.Binaries, (nuint)sizeof(byte*), &p, null), "clGetProgramInfo", "Binaries");
        }
        return binary;
    }

    /// <summary>clCreateKernel by function name.</summary>
    public CLKernel CreateKernel(CLProgram program, string name)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var n = Encoding.UTF8.GetBytes(name + "\0");
        int err;
        IntPtr k;
        fixed (byte* p = n) k = _cl.CreateKernel(program.Raw, p, &err);
        CLException.Check(err, "clCreateKernel", name);
        return new CLKernel(k, program, name);
    }

    /// <summary>clSetKernelArg with a buffer (a __global pointer argument).</summary>
    public void SetKernelArg(CLKernel kernel, uint index, CLBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(buffer);
        IntPtr m = buffer.Raw;
        CLException.Check(_cl.SetKernelArg(kernel.Raw, index, (nuint)sizeof(IntPtr), &m), "clSetKernelArg", $"{kernel.Name} argument {index} (buffer)");
        GC.KeepAlive(buffer);
    }

    /// <summary>clSetKernelArg with a value (int, float, ...).</summary>
    public void SetKernelArg<T>(CLKernel kernel, uint index, T value) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(kernel);
        CLException.Check(_cl.SetKernelArg(kernel.Raw, index, (nuint)sizeof(T), &value), "clSetKernelArg", $"{kernel.Name} argument {index} ({typeof(T).Name})");
    }

    /// <summary>clGetKernelWorkGroupInfo for a size_t parameter (CL_KERNEL_WORK_GROUP_SIZE, ...).</summary>
    public nuint GetKernelWorkGroupInfo(CLKernel kernel, CLDevice device, KernelWorkGroupInfo param)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(device);
        nuint value;
        CLException.Check(_cl.GetKernelWorkGroupInfo(kernel.Raw, device.Raw, (SilkKernelWorkGroupInfo)(int)param, (nuint)sizeof(nuint), &value, null),
            "clGetKernelWorkGroupInfo", $"{kernel.Name} {param}");
        return value;
    }

    /// <summary>clEnqueueNDRangeKernel over <paramref name="globalSize"/> (1-3 dimensions), in work-groups of <paramref name="localSize"/> (empty: the implementation's choice).</summary>
    public CLEvent? EnqueueNDRangeKernel(CLCommandQueue queue, CLKernel kernel, ReadOnlySpan<nuint> globalSize, ReadOnlySpan<nuint> localSize,
        bool returnEvent = false)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (globalSize.Length is < 1 or > 3) throw new ArgumentException($"globalSize: 1 to 3 dimensions, got {globalSize.Length}", nameof(globalSize));
        if (!localSize.IsEmpty && localSize.Length != globalSize.Length)
            throw new ArgumentException($"localSize: {localSize.Length} dimensions, globalSize has {globalSize.Length}", nameof(localSize));
        IntPtr e = IntPtr.Zero;
        int status;
        fixed (nuint* g = globalSize)
        fixed (nuint* l = localSize)
            status = _cl.EnqueueNdrangeKernel(Raw(queue), kernel.Raw, (uint)globalSize.Length, null, g, localSize.IsEmpty ? null : l,
                0, null, returnEvent ? &e : null);
        if (status != 0)
            throw new CLException("clEnqueueNDRangeKernel", status,
                $"{kernel.Name} global ({string.Join(",", globalSize.ToArray())}) local ({(localSize.IsEmpty ? "auto" : string.Join(",", localSize.ToArray()))})");
        GC.KeepAlive(kernel);
        return returnEvent ? new CLEvent(e) : null;
    }

    // ------------------------------------------------------------------ events

    /// <summary>clWaitForEvents: blocks until every event's command has completed.</summary>
    public void WaitForEvents(params CLEvent[] events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Length == 0) return;
        var raw = events.Select(e => e.Raw).ToArray();
        fixed (IntPtr* p = raw) CLException.Check(_cl.WaitForEvents((uint)raw.Length, p), "clWaitForEvents");
        GC.KeepAlive(events);
    }

    /// <summary>clGetEventProfilingInfo: a device timestamp in nanoseconds (the queue must profile; the command must be complete).</summary>
    public ulong GetEventProfilingInfo(CLEvent evt, ProfilingInfo param)
    {
        ArgumentNullException.ThrowIfNull(evt);
        ulong value;
        CLException.Check(_cl.GetEventProfilingInfo(evt.Raw, (SilkProfilingInfo)(int)param, sizeof(ulong), &value, null), "clGetEventProfilingInfo", param.ToString());
        return value;
    }

    // ------------------------------------------------------------------ release (Silk-style names; the same as Dispose)

    /// <summary>clReleaseContext.</summary>
    public void ReleaseContext(CLContext context) => context?.Dispose();

    /// <summary>clReleaseCommandQueue.</summary>
    public void ReleaseCommandQueue(CLCommandQueue queue) => queue?.Dispose();

    /// <summary>clReleaseMemObject.</summary>
    public void ReleaseMemObject(CLBuffer buffer) => buffer?.Dispose();

    /// <summary>clReleaseProgram.</summary>
    public void ReleaseProgram(CLProgram program) => program?.Dispose();

    /// <summary>clReleaseKernel.</summary>
    public void ReleaseKernel(CLKernel kernel) => kernel?.Dispose();

    /// <summary>clReleaseEvent.</summary>
    public void ReleaseEvent(CLEvent evt) => evt?.Dispose();

    // ------------------------------------------------------------------ helpers

    private static IntPtr Raw(CLCommandQueue queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        return queue.Raw;
    }

    private static void CheckRange(CLBuffer buffer, long offset, long size, string call)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (offset < 0 || size < 0 || offset + size > buffer.SizeInBytes)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{call}: bytes [{offset}, {offset + size}) are outside the buffer of {buffer.SizeInBytes} bytes");
    }

    private static string CString(byte[] bytes)
    {
        int n = Array.IndexOf(bytes, (byte)0);
        return Encoding.UTF8.GetString(bytes, 0, n < 0 ? bytes.Length : n);
    }
}
