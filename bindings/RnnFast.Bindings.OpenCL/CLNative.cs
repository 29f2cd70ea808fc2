// The raw entry points of the OpenCL 1.2 C API (plus clCreateCommandQueueWithProperties from 2.0) as exported by the
// ICD loader. Internal: the public surface is the CL class over SafeHandles. Handles cross as IntPtr, enums as their
// C widths (cl_uint / cl_ulong), strings as UTF-8 byte pointers; callbacks are never passed.
using System.Runtime.InteropServices;

namespace RnnFast.Bindings.OpenCL;

internal static unsafe partial class CLNative
{
    internal const string Lib = "OpenCL";

    static CLNative() => CLLibrary.RegisterResolver();

    // ---------------------------------------------------------------- platforms and devices
    [LibraryImport(Lib)] internal static partial int clGetPlatformIDs(uint numEntries, IntPtr* platforms, uint* numPlatforms);
    [LibraryImport(Lib)] internal static partial int clGetPlatformInfo(IntPtr platform, uint param, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Lib)] internal static partial int clGetDeviceIDs(IntPtr platform, ulong type, uint numEntries, IntPtr* devices, uint* numDevices);
    [LibraryImport(Lib)] internal static partial int clGetDeviceInfo(IntPtr device, uint param, nuint size, void* value, nuint* sizeRet);

    // ---------------------------------------------------------------- contexts and queues
    [LibraryImport(Lib)] internal static partial IntPtr clCreateContext(nint* properties, uint numDevices, IntPtr* devices, IntPtr notify, IntPtr userData, int* errcode);
    [LibraryImport(Lib)] internal static partial int clReleaseContext(IntPtr context);
    [LibraryImport(Lib)] internal static partial IntPtr clCreateCommandQueue(IntPtr context, IntPtr device, ulong properties, int* errcode);
    [LibraryImport(Lib)] internal static partial IntPtr clCreateCommandQueueWithProperties(IntPtr context, IntPtr device, ulong* properties, int* errcode);
    [LibraryImport(Lib)] internal static partial int clReleaseCommandQueue(IntPtr queue);
    [LibraryImport(Lib)] internal static partial int clFlush(IntPtr queue);
    [LibraryImport(Lib)] internal static partial int clFinish(IntPtr queue);

    // ---------------------------------------------------------------- buffers
    [LibraryImport(Lib)] internal static partial IntPtr clCreateBuffer(IntPtr context, ulong flags, nuint size, void* hostPtr, int* errcode);
    [LibraryImport(Lib)] internal static partial int clReleaseMemObject(IntPtr mem);

    [LibraryImport(Lib)]
    internal static partial int clEnqueueWriteBuffer(IntPtr queue, IntPtr buffer, uint blocking, nuint offset, nuint size, void* ptr,
        uint numEvents, IntPtr* waitList, IntPtr* evt);

    [LibraryImport(Lib)]
    internal static partial int clEnqueueReadBuffer(IntPtr queue, IntPtr buffer, uint blocking, nuint offset, nuint size, void* ptr,
        uint numEvents, IntPtr* waitList, IntPtr* evt);

    [LibraryImport(Lib)]
    internal static partial int clEnqueueCopyBuffer(IntPtr queue, IntPtr src, IntPtr dst, nuint srcOffset, nuint dstOffset, nuint size,
        uint numEvents, IntPtr* waitList, IntPtr* evt);

    [LibraryImport(Lib)]
    internal static partial int clEnqueueFillBuffer(IntPtr queue, IntPtr buffer, void* pattern, nuint patternSize, nuint offset, nuint size,
        uint numEvents, IntPtr* waitList, IntPtr* evt);

    // ---------------------------------------------------------------- programs and kernels
    [LibraryImport(Lib)] internal static partial IntPtr clCreateProgramWithSource(IntPtr context, uint count, byte** strings, nuint* lengths, int* errcode);

    [LibraryImport(Lib)]
    internal static partial IntPtr clCreateProgramWithBinary(IntPtr context, uint numDevices, IntPtr* devices, nuint* lengths, byte** binaries,
        int* binaryStatus, int* errcode);

    [LibraryImport(Lib)] internal static partial int clBuildProgram(IntPtr program, uint numDevices, IntPtr* devices, byte* options, IntPtr notify, IntPtr userData);
    [LibraryImport(Lib)] internal static partial int clGetProgramBuildInfo(IntPtr program, IntPtr device, uint param, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Lib)] internal static partial int clGetProgramInfo(IntPtr program, uint param, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Lib)] internal static partial int clReleaseProgram(IntPtr program);
    [LibraryImport(Lib)] internal static partial IntPtr clCreateKernel(IntPtr program, byte* name, int* errcode);
    [LibraryImport(Lib)] internal static partial int clReleaseKernel(IntPtr kernel);
    [LibraryImport(Lib)] internal static partial int clSetKernelArg(IntPtr kernel, uint index, nuint size, void* value);
    [LibraryImport(Lib)] internal static partial int clGetKernelWorkGroupInfo(IntPtr kernel, IntPtr device, uint param, nuint size, void* value, nuint* sizeRet);

    [LibraryImport(Lib)]
    internal static partial int clEnqueueNDRangeKernel(IntPtr queue, IntPtr kernel, uint workDim, nuint* globalOffset, nuint* globalSize,
        nuint* localSize, uint numEvents, IntPtr* waitList, IntPtr* evt);

    // ---------------------------------------------------------------- events
    [LibraryImport(Lib)] internal static partial int clWaitForEvents(uint numEvents, IntPtr* events);
    [LibraryImport(Lib)] internal static partial int clGetEventProfilingInfo(IntPtr evt, uint param, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Lib)] internal static partial int clReleaseEvent(IntPtr evt);
}
