// Every OpenCL status other than CL_SUCCESS becomes a CLException naming the call and the status by its cl.h name,
// e.g. "clBuildProgram failed: CL_BUILD_PROGRAM_FAILURE (-11); build log: ...".
namespace RnnFast.Bindings.OpenCL;

/// <summary>An OpenCL call returned an error status; the message names the call, the status and any detail.</summary>
public sealed class CLException : Exception
{
    /// <summary>A failed OpenCL call: <paramref name="call"/> is the function, <paramref name="status"/> its cl_int error code, <paramref name="detail"/> optional context (e.g. the build log).</summary>
    public CLException(string call, int status, string? detail = null)
        : base($"{call} failed: {StatusName(status)} ({status})" + (string.IsNullOrEmpty(detail) ? "" : "; " + detail))
    {
        Call = call;
        Status = status;
    }

    /// <summary>The C function that failed, e.g. "clBuildProgram".</summary>
    public string Call { get; }

    /// <summary>The raw cl_int status.</summary>
    public int Status { get; }

    /// <summary>The status as the enum (values outside it keep their number).</summary>
    public ErrorCodes Code => (ErrorCodes)Status;

    /// <summary>Throws a <see cref="CLException"/> naming <paramref name="call"/> unless <paramref name="status"/> is CL_SUCCESS.</summary>
    public static void Check(int status, string call, string? detail = null)
    {
        if (status != 0) throw new CLException(call, status, detail);
    }

    /// <summary>The cl.h name of a status, e.g. -11 is "CL_BUILD_PROGRAM_FAILURE"; unknown values are "unknown OpenCL status".</summary>
    public static string StatusName(int status) => (ErrorCodes)status switch
    {
        ErrorCodes.Success => "CL_SUCCESS",
        ErrorCodes.DeviceNotFound => "CL_DEVICE_NOT_FOUND",
        ErrorCodes.DeviceNotAvailable => "CL_DEVICE_NOT_AVAILABLE",
        ErrorCodes.CompilerNotAvailable => "CL_COMPILER_NOT_AVAILABLE",
        ErrorCodes.MemObjectAllocationFailure => "CL_MEM_OBJECT_ALLOCATION_FAILURE",
        ErrorCodes.OutOfResources => "CL_OUT_OF_RESOURCES",
        ErrorCodes.OutOfHostMemory => "CL_OUT_OF_HOST_MEMORY",
        ErrorCodes.ProfilingInfoNotAvailable => "CL_PROFILING_INFO_NOT_AVAILABLE",
        ErrorCodes.MemCopyOverlap => "CL_MEM_COPY_OVERLAP",
        ErrorCodes.ImageFormatMismatch => "CL_IMAGE_FORMAT_MISMATCH",
        ErrorCodes.ImageFormatNotSupported => "CL_IMAGE_FORMAT_NOT_SUPPORTED",
        ErrorCodes.BuildProgramFailure => "CL_BUILD_PROGRAM_FAILURE",
        ErrorCodes.MapFailure => "CL_MAP_FAILURE",
        ErrorCodes.MisalignedSubBufferOffset => "CL_MISALIGNED_SUB_BUFFER_OFFSET",
        ErrorCodes.ExecStatusErrorForEventsInWaitList => "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST",
        ErrorCodes.CompileProgramFailure => "CL_COMPILE_PROGRAM_FAILURE",
        ErrorCodes.LinkerNotAvailable => "CL_LINKER_NOT_AVAILABLE",
        ErrorCodes.LinkProgramFailure => "CL_LINK_PROGRAM_FAILURE",
        ErrorCodes.DevicePartitionFailed => "CL_DEVICE_PARTITION_FAILED",
        ErrorCodes.KernelArgInfoNotAvailable => "CL_KERNEL_ARG_INFO_NOT_AVAILABLE",
        ErrorCodes.InvalidValue => "CL_INVALID_VALUE",
        ErrorCodes.InvalidDeviceType => "CL_INVALID_DEVICE_TYPE",
        ErrorCodes.InvalidPlatform => "CL_INVALID_PLATFORM",
        ErrorCodes.InvalidDevice => "CL_INVALID_DEVICE",
        ErrorCodes.InvalidContext => "CL_INVALID_CONTEXT",
        ErrorCodes.InvalidQueueProperties => "CL_INVALID_QUEUE_PROPERTIES",
        ErrorCodes.InvalidCommandQueue => "CL_INVALID_COMMAND_QUEUE",
        ErrorCodes.InvalidHostPtr => "CL_INVALID_HOST_PTR",
        ErrorCodes.InvalidMemObject => "CL_INVALID_MEM_OBJECT",
        ErrorCodes.InvalidImageFormatDescriptor => "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR",
        ErrorCodes.InvalidImageSize => "CL_INVALID_IMAGE_SIZE",
        ErrorCodes.InvalidSampler => "CL_INVALID_SAMPLER",
        ErrorCodes.InvalidBinary => "CL_INVALID_BINARY",
        ErrorCodes.InvalidBuildOptions => "CL_INVALID_BUILD_OPTIONS",
        ErrorCodes.InvalidProgram => "CL_INVALID_PROGRAM",
        ErrorCodes.InvalidProgramExecutable => "CL_INVALID_PROGRAM_EXECUTABLE",
        ErrorCodes.InvalidKernelName => "CL_INVALID_KERNEL_NAME",
        ErrorCodes.InvalidKernelDefinition => "CL_INVALID_KERNEL_DEFINITION",
        ErrorCodes.InvalidKernel => "CL_INVALID_KERNEL",
        ErrorCodes.InvalidArgIndex => "CL_INVALID_ARG_INDEX",
        ErrorCodes.InvalidArgValue => "CL_INVALID_ARG_VALUE",
        ErrorCodes.InvalidArgSize => "CL_INVALID_ARG_SIZE",
        ErrorCodes.InvalidKernelArgs => "CL_INVALID_KERNEL_ARGS",
        ErrorCodes.InvalidWorkDimension => "CL_INVALID_WORK_DIMENSION",
        ErrorCodes.InvalidWorkGroupSize => "CL_INVALID_WORK_GROUP_SIZE",
        ErrorCodes.InvalidWorkItemSize => "CL_INVALID_WORK_ITEM_SIZE",
        ErrorCodes.InvalidGlobalOffset => "CL_INVALID_GLOBAL_OFFSET",
        ErrorCodes.InvalidEventWaitList => "CL_INVALID_EVENT_WAIT_LIST",
        ErrorCodes.InvalidEvent => "CL_INVALID_EVENT",
        ErrorCodes.InvalidOperation => "CL_INVALID_OPERATION",
        ErrorCodes.InvalidGLObject => "CL_INVALID_GL_OBJECT",
        ErrorCodes.InvalidBufferSize => "CL_INVALID_BUFFER_SIZE",
        ErrorCodes.InvalidMipLevel => "CL_INVALID_MIP_LEVEL",
        ErrorCodes.InvalidGlobalWorkSize => "CL_INVALID_GLOBAL_WORK_SIZE",
        ErrorCodes.InvalidProperty => "CL_INVALID_PROPERTY",
        ErrorCodes.InvalidImageDescriptor => "CL_INVALID_IMAGE_DESCRIPTOR",
        ErrorCodes.InvalidCompilerOptions => "CL_INVALID_COMPILER_OPTIONS",
        ErrorCodes.InvalidLinkerOptions => "CL_INVALID_LINKER_OPTIONS",
        ErrorCodes.InvalidDevicePartitionCount => "CL_INVALID_DEVICE_PARTITION_COUNT",
        ErrorCodes.InvalidPipeSize => "CL_INVALID_PIPE_SIZE",
        ErrorCodes.InvalidDeviceQueue => "CL_INVALID_DEVICE_QUEUE",
        ErrorCodes.InvalidSpecID => "CL_INVALID_SPEC_ID",
        ErrorCodes.MaxSizeRestrictionExceeded => "CL_MAX_SIZE_RESTRICTION_EXCEEDED",
        ErrorCodes.PlatformNotFoundKhr => "CL_PLATFORM_NOT_FOUND_KHR",
        _ => "unknown OpenCL status",
    };
}
