// The OpenCL constants these bindings use, as enums named like Silk.NET.OpenCL's (values from Khronos' cl.h).
namespace RnnFast.Bindings.OpenCL;

/// <summary>cl_int status codes (CL_SUCCESS, CL_BUILD_PROGRAM_FAILURE, ...).</summary>
public enum ErrorCodes
{
    /// <summary>CL_SUCCESS.</summary>
    Success = 0,
    /// <summary>CL_DEVICE_NOT_FOUND.</summary>
    DeviceNotFound = -1,
    /// <summary>CL_DEVICE_NOT_AVAILABLE.</summary>
    DeviceNotAvailable = -2,
    /// <summary>CL_COMPILER_NOT_AVAILABLE.</summary>
    CompilerNotAvailable = -3,
    /// <summary>CL_MEM_OBJECT_ALLOCATION_FAILURE.</summary>
    MemObjectAllocationFailure = -4,
    /// <summary>CL_OUT_OF_RESOURCES.</summary>
    OutOfResources = -5,
    /// <summary>CL_OUT_OF_HOST_MEMORY.</summary>
    OutOfHostMemory = -6,
    /// <summary>CL_PROFILING_INFO_NOT_AVAILABLE.</summary>
    ProfilingInfoNotAvailable = -7,
    /// <summary>CL_MEM_COPY_OVERLAP.</summary>
    MemCopyOverlap = -8,
    /// <summary>CL_IMAGE_FORMAT_MISMATCH.</summary>
    ImageFormatMismatch = -9,
    /// <summary>CL_IMAGE_FORMAT_NOT_SUPPORTED.</summary>
    ImageFormatNotSupported = -10,
    /// <summary>CL_BUILD_PROGRAM_FAILURE.</summary>
    BuildProgramFailure = -11,
    /// <summary>CL_MAP_FAILURE.</summary>
    MapFailure = -12,
    /// <summary>CL_MISALIGNED_SUB_BUFFER_OFFSET.</summary>
    MisalignedSubBufferOffset = -13,
    /// <summary>CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST.</summary>
    ExecStatusErrorForEventsInWaitList = -14,
    /// <summary>CL_COMPILE_PROGRAM_FAILURE.</summary>
    CompileProgramFailure = -15,
    /// <summary>CL_LINKER_NOT_AVAILABLE.</summary>
    LinkerNotAvailable = -16,
    /// <summary>CL_LINK_PROGRAM_FAILURE.</summary>
    LinkProgramFailure = -17,
    /// <summary>CL_DEVICE_PARTITION_FAILED.</summary>
    DevicePartitionFailed = -18,
    /// <summary>CL_KERNEL_ARG_INFO_NOT_AVAILABLE.</summary>
    KernelArgInfoNotAvailable = -19,
    /// <summary>CL_INVALID_VALUE.</summary>
    InvalidValue = -30,
    /// <summary>CL_INVALID_DEVICE_TYPE.</summary>
    InvalidDeviceType = -31,
    /// <summary>CL_INVALID_PLATFORM.</summary>
    InvalidPlatform = -32,
    /// <summary>CL_INVALID_DEVICE.</summary>
    InvalidDevice = -33,
    /// <summary>CL_INVALID_CONTEXT.</summary>
    InvalidContext = -34,
    /// <summary>CL_INVALID_QUEUE_PROPERTIES.</summary>
    InvalidQueueProperties = -35,
    /// <summary>CL_INVALID_COMMAND_QUEUE.</summary>
    InvalidCommandQueue = -36,
    /// <summary>CL_INVALID_HOST_PTR.</summary>
    InvalidHostPtr = -37,
    /// <summary>CL_INVALID_MEM_OBJECT.</summary>
    InvalidMemObject = -38,
    /// <summary>CL_INVALID_IMAGE_FORMAT_DESCRIPTOR.</summary>
    InvalidImageFormatDescriptor = -39,
    /// <summary>CL_INVALID_IMAGE_SIZE.</summary>
    InvalidImageSize = -40,
    /// <summary>CL_INVALID_SAMPLER.</summary>
    InvalidSampler = -41,
    /// <summary>CL_INVALID_BINARY.</summary>
    InvalidBinary = -42,
    /// <summary>CL_INVALID_BUILD_OPTIONS.</summary>
    InvalidBuildOptions = -43,
    /// <summary>CL_INVALID_PROGRAM.</summary>
    InvalidProgram = -44,
    /// <summary>CL_INVALID_PROGRAM_EXECUTABLE.</summary>
    InvalidProgramExecutable = -45,
    /// <summary>CL_INVALID_KERNEL_NAME.</summary>
    InvalidKernelName = -46,
    /// <summary>CL_INVALID_KERNEL_DEFINITION.</summary>
    InvalidKernelDefinition = -47,
    /// <summary>CL_INVALID_KERNEL.</summary>
    InvalidKernel = -48,
    /// <summary>CL_INVALID_ARG_INDEX.</summary>
    InvalidArgIndex = -49,
    /// <summary>CL_INVALID_ARG_VALUE.</summary>
    InvalidArgValue = -50,
    /// <summary>CL_INVALID_ARG_SIZE.</summary>
    InvalidArgSize = -51,
    /// <summary>CL_INVALID_KERNEL_ARGS.</summary>
    InvalidKernelArgs = -52,
    /// <summary>CL_INVALID_WORK_DIMENSION.</summary>
    InvalidWorkDimension = -53,
    /// <summary>CL_INVALID_WORK_GROUP_SIZE.</summary>
    InvalidWorkGroupSize = -54,
    /// <summary>CL_INVALID_WORK_ITEM_SIZE.</summary>
    InvalidWorkItemSize = -55,
    /// <summary>CL_INVALID_GLOBAL_OFFSET.</summary>
    InvalidGlobalOffset = -56,
    /// <summary>CL_INVALID_EVENT_WAIT_LIST.</summary>
    InvalidEventWaitList = -57,
    /// <summary>CL_INVALID_EVENT.</summary>
    InvalidEvent = -58,
    /// <summary>CL_INVALID_OPERATION.</summary>
    InvalidOperation = -59,
    /// <summary>CL_INVALID_GL_OBJECT.</summary>
    InvalidGLObject = -60,
    /// <summary>CL_INVALID_BUFFER_SIZE.</summary>
    InvalidBufferSize = -61,
    /// <summary>CL_INVALID_MIP_LEVEL.</summary>
    InvalidMipLevel = -62,
    /// <summary>CL_INVALID_GLOBAL_WORK_SIZE.</summary>
    InvalidGlobalWorkSize = -63,
    /// <summary>CL_INVALID_PROPERTY.</summary>
    InvalidProperty = -64,
    /// <summary>CL_INVALID_IMAGE_DESCRIPTOR.</summary>
    InvalidImageDescriptor = -65,
    /// <summary>CL_INVALID_COMPILER_OPTIONS.</summary>
    InvalidCompilerOptions = -66,
    /// <summary>CL_INVALID_LINKER_OPTIONS.</summary>
    InvalidLinkerOptions = -67,
    /// <summary>CL_INVALID_DEVICE_PARTITION_COUNT.</summary>
    InvalidDevicePartitionCount = -68,
    /// <summary>CL_INVALID_PIPE_SIZE.</summary>
    InvalidPipeSize = -69,
    /// <summary>CL_INVALID_DEVICE_QUEUE.</summary>
    InvalidDeviceQueue = -70,
    /// <summary>CL_INVALID_SPEC_ID.</summary>
    InvalidSpecID = -71,
    /// <summary>CL_MAX_SIZE_RESTRICTION_EXCEEDED.</summary>
    MaxSizeRestrictionExceeded = -72,
    /// <summary>cl_khr_icd: the ICD loader found no platform (no vendor .icd file).</summary>
    PlatformNotFoundKhr = -1001,
}

/// <summary>cl_device_type (a bit field).</summary>
[Flags]
public enum DeviceType : ulong
{
    /// <summary>CL_DEVICE_TYPE_DEFAULT.</summary>
    Default = 1 << 0,
    /// <summary>CL_DEVICE_TYPE_CPU.</summary>
    Cpu = 1 << 1,
    /// <summary>CL_DEVICE_TYPE_GPU.</summary>
    Gpu = 1 << 2,
    /// <summary>CL_DEVICE_TYPE_ACCELERATOR.</summary>
    Accelerator = 1 << 3,
    /// <summary>CL_DEVICE_TYPE_CUSTOM.</summary>
    Custom = 1 << 4,
    /// <summary>CL_DEVICE_TYPE_ALL.</summary>
    All = 0xFFFFFFFF,
}

/// <summary>cl_platform_info.</summary>
public enum PlatformInfo : uint
{
    /// <summary>CL_PLATFORM_PROFILE.</summary>
    Profile = 0x0900,
    /// <summary>CL_PLATFORM_VERSION.</summary>
    Version = 0x0901,
    /// <summary>CL_PLATFORM_NAME.</summary>
    Name = 0x0902,
    /// <summary>CL_PLATFORM_VENDOR.</summary>
    Vendor = 0x0903,
    /// <summary>CL_PLATFORM_EXTENSIONS.</summary>
    Extensions = 0x0904,
}

/// <summary>cl_device_info (the ones RnnFast reads).</summary>
public enum DeviceInfo : uint
{
    /// <summary>CL_DEVICE_TYPE.</summary>
    Type = 0x1000,
    /// <summary>CL_DEVICE_VENDOR_ID.</summary>
    VendorID = 0x1001,
    /// <summary>CL_DEVICE_MAX_COMPUTE_UNITS.</summary>
    MaxComputeUnits = 0x1002,
    /// <summary>CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS.</summary>
    MaxWorkItemDimensions = 0x1003,
    /// <summary>CL_DEVICE_MAX_WORK_GROUP_SIZE.</summary>
    MaxWorkGroupSize = 0x1004,
    /// <summary>CL_DEVICE_MAX_WORK_ITEM_SIZES.</summary>
    MaxWorkItemSizes = 0x1005,
    /// <summary>CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT.</summary>
    PreferredVectorWidthFloat = 0x100A,
    /// <summary>CL_DEVICE_MAX_CLOCK_FREQUENCY.</summary>
    MaxClockFrequency = 0x100C,
    /// <summary>CL_DEVICE_MAX_MEM_ALLOC_SIZE.</summary>
    MaxMemAllocSize = 0x1010,
    /// <summary>CL_DEVICE_GLOBAL_MEM_SIZE.</summary>
    GlobalMemSize = 0x101F,
    /// <summary>CL_DEVICE_LOCAL_MEM_TYPE.</summary>
    LocalMemType = 0x1022,
    /// <summary>CL_DEVICE_LOCAL_MEM_SIZE.</summary>
    LocalMemSize = 0x1023,
    /// <summary>CL_DEVICE_AVAILABLE.</summary>
    Available = 0x1027,
    /// <summary>CL_DEVICE_COMPILER_AVAILABLE.</summary>
    CompilerAvailable = 0x1028,
    /// <summary>CL_DEVICE_NAME.</summary>
    Name = 0x102B,
    /// <summary>CL_DEVICE_VENDOR.</summary>
    Vendor = 0x102C,
    /// <summary>CL_DEVICE_DRIVER_VERSION.</summary>
    DriverVersion = 0x102D,
    /// <summary>CL_DEVICE_PROFILE.</summary>
    Profile = 0x102E,
    /// <summary>CL_DEVICE_VERSION.</summary>
    Version = 0x102F,
    /// <summary>CL_DEVICE_EXTENSIONS.</summary>
    Extensions = 0x1030,
    /// <summary>CL_DEVICE_PLATFORM.</summary>
    Platform = 0x1031,
    /// <summary>CL_DEVICE_OPENCL_C_VERSION.</summary>
    OpenCLCVersion = 0x103D,
}

/// <summary>cl_mem_flags (a bit field).</summary>
[Flags]
public enum MemFlags : ulong
{
    /// <summary>0: no flags.</summary>
    None = 0,
    /// <summary>CL_MEM_READ_WRITE.</summary>
    ReadWrite = 1 << 0,
    /// <summary>CL_MEM_WRITE_ONLY.</summary>
    WriteOnly = 1 << 1,
    /// <summary>CL_MEM_READ_ONLY.</summary>
    ReadOnly = 1 << 2,
    /// <summary>CL_MEM_USE_HOST_PTR.</summary>
    UseHostPtr = 1 << 3,
    /// <summary>CL_MEM_ALLOC_HOST_PTR.</summary>
    AllocHostPtr = 1 << 4,
    /// <summary>CL_MEM_COPY_HOST_PTR.</summary>
    CopyHostPtr = 1 << 5,
}

/// <summary>cl_command_queue_properties (a bit field).</summary>
[Flags]
public enum CommandQueueProperties : ulong
{
    /// <summary>0: an in-order queue without profiling.</summary>
    None = 0,
    /// <summary>CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE.</summary>
    OutOfOrderExecModeEnable = 1 << 0,
    /// <summary>CL_QUEUE_PROFILING_ENABLE.</summary>
    ProfilingEnable = 1 << 1,
}

/// <summary>cl_queue_properties keys for clCreateCommandQueueWithProperties.</summary>
public enum QueueProperties : ulong
{
    /// <summary>CL_QUEUE_PROPERTIES.</summary>
    Properties = 0x1093,
}

/// <summary>cl_program_info.</summary>
public enum ProgramInfo : uint
{
    /// <summary>CL_PROGRAM_NUM_DEVICES.</summary>
    NumDevices = 0x1162,
    /// <summary>CL_PROGRAM_DEVICES.</summary>
    Devices = 0x1163,
    /// <summary>CL_PROGRAM_BINARY_SIZES.</summary>
    BinarySizes = 0x1165,
    /// <summary>CL_PROGRAM_BINARIES.</summary>
    Binaries = 0x1166,
}

/// <summary>cl_program_build_info.</summary>
public enum ProgramBuildInfo : uint
{
    /// <summary>CL_PROGRAM_BUILD_STATUS.</summary>
    BuildStatus = 0x1181,
    /// <summary>CL_PROGRAM_BUILD_OPTIONS.</summary>
    BuildOptions = 0x1182,
    /// <summary>CL_PROGRAM_BUILD_LOG.</summary>
    BuildLog = 0x1183,
}

/// <summary>cl_kernel_work_group_info.</summary>
public enum KernelWorkGroupInfo : uint
{
    /// <summary>CL_KERNEL_WORK_GROUP_SIZE.</summary>
    WorkGroupSize = 0x11B0,
    /// <summary>CL_KERNEL_COMPILE_WORK_GROUP_SIZE.</summary>
    CompileWorkGroupSize = 0x11B1,
    /// <summary>CL_KERNEL_LOCAL_MEM_SIZE.</summary>
    LocalMemSize = 0x11B2,
    /// <summary>CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE.</summary>
    PreferredWorkGroupSizeMultiple = 0x11B3,
    /// <summary>CL_KERNEL_PRIVATE_MEM_SIZE.</summary>
    PrivateMemSize = 0x11B4,
}

/// <summary>cl_profiling_info: device timestamps (ns) of a command, when its queue profiles.</summary>
public enum ProfilingInfo : uint
{
    /// <summary>CL_PROFILING_COMMAND_QUEUED.</summary>
    Queued = 0x1280,
    /// <summary>CL_PROFILING_COMMAND_SUBMIT.</summary>
    Submit = 0x1281,
    /// <summary>CL_PROFILING_COMMAND_START.</summary>
    Start = 0x1282,
    /// <summary>CL_PROFILING_COMMAND_END.</summary>
    End = 0x1283,
}

/// <summary>cl_context_properties keys.</summary>
public enum ContextProperties : long
{
    /// <summary>CL_CONTEXT_PLATFORM.</summary>
    Platform = 0x1084,
}
