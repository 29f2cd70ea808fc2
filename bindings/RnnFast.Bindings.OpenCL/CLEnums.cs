// The OpenCL constants these bindings use, as enums named like Silk.NET.OpenCL's (values from Khronos' cl.h).
namespace RnnFast.Bindings.OpenCL;

/// <summary>cl_int status codes (CL_SUCCESS, CL_BUILD_PROGRAM_FAILURE, ...).</summary>
public enum ErrorCodes
{
    Success = 0,
    DeviceNotFound = -1,
    DeviceNotAvailable = -2,
    CompilerNotAvailable = -3,
    MemObjectAllocationFailure = -4,
    OutOfResources = -5,
    OutOfHostMemory = -6,
    ProfilingInfoNotAvailable = -7,
    MemCopyOverlap = -8,
    ImageFormatMismatch = -9,
    ImageFormatNotSupported = -10,
    BuildProgramFailure = -11,
    MapFailure = -12,
    MisalignedSubBufferOffset = -13,
    ExecStatusErrorForEventsInWaitList = -14,
    CompileProgramFailure = -15,
    LinkerNotAvailable = -16,
    LinkProgramFailure = -17,
    DevicePartitionFailed = -18,
    KernelArgInfoNotAvailable = -19,
    InvalidValue = -30,
    InvalidDeviceType = -31,
    InvalidPlatform = -32,
    InvalidDevice = -33,
    InvalidContext = -34,
    InvalidQueueProperties = -35,
    InvalidCommandQueue = -36,
    InvalidHostPtr = -37,
    InvalidMemObject = -38,
    InvalidImageFormatDescriptor = -39,
    InvalidImageSize = -40,
    InvalidSampler = -41,
    InvalidBinary = -42,
    InvalidBuildOptions = -43,
    InvalidProgram = -44,
    InvalidProgramExecutable = -45,
    InvalidKernelName = -46,
    InvalidKernelDefinition = -47,
    InvalidKernel = -48,
    InvalidArgIndex = -49,
    InvalidArgValue = -50,
    InvalidArgSize = -51,
    InvalidKernelArgs = -52,
    InvalidWorkDimension = -53,
    InvalidWorkGroupSize = -54,
    InvalidWorkItemSize = -55,
    InvalidGlobalOffset = -56,
    InvalidEventWaitList = -57,
    InvalidEvent = -58,
    InvalidOperation = -59,
    InvalidGLObject = -60,
    InvalidBufferSize = -61,
    InvalidMipLevel = -62,
    InvalidGlobalWorkSize = -63,
    InvalidProperty = -64,
    InvalidImageDescriptor = -65,
    InvalidCompilerOptions = -66,
    InvalidLinkerOptions = -67,
    InvalidDevicePartitionCount = -68,
    InvalidPipeSize = -69,
    InvalidDeviceQueue = -70,
    InvalidSpecID = -71,
    MaxSizeRestrictionExceeded = -72,
    /// <summary>cl_khr_icd: the ICD loader found no platform (no vendor .icd file).</summary>
    PlatformNotFoundKhr = -1001,
}

/// <summary>cl_device_type (a bit field).</summary>
[Flags]
public enum DeviceType : ulong
{
    Default = 1 << 0,
    Cpu = 1 << 1,
    Gpu = 1 << 2,
    Accelerator = 1 << 3,
    Custom = 1 << 4,
    All = 0xFFFFFFFF,
}

/// <summary>cl_platform_info.</summary>
public enum PlatformInfo : uint
{
    Profile = 0x0900,
    Version = 0x0901,
    Name = 0x0902,
    Vendor = 0x0903,
    Extensions = 0x0904,
}

/// <summary>cl_device_info (the ones RnnFast reads).</summary>
public enum DeviceInfo : uint
{
    Type = 0x1000,
    VendorID = 0x1001,
    MaxComputeUnits = 0x1002,
    MaxWorkItemDimensions = 0x1003,
    MaxWorkGroupSize = 0x1004,
    MaxWorkItemSizes = 0x1005,
    PreferredVectorWidthFloat = 0x100A,
    MaxClockFrequency = 0x100C,
    MaxMemAllocSize = 0x1010,
    GlobalMemSize = 0x101F,
    LocalMemType = 0x1022,
    LocalMemSize = 0x1023,
    Available = 0x1027,
    CompilerAvailable = 0x1028,
    Name = 0x102B,
    Vendor = 0x102C,
    DriverVersion = 0x102D,
    Profile = 0x102E,
    Version = 0x102F,
    Extensions = 0x1030,
    Platform = 0x1031,
    OpenCLCVersion = 0x103D,
}

/// <summary>cl_mem_flags (a bit field).</summary>
[Flags]
public enum MemFlags : ulong
{
    None = 0,
    ReadWrite = 1 << 0,
    WriteOnly = 1 << 1,
    ReadOnly = 1 << 2,
    UseHostPtr = 1 << 3,
    AllocHostPtr = 1 << 4,
    CopyHostPtr = 1 << 5,
}

/// <summary>cl_command_queue_properties (a bit field).</summary>
[Flags]
public enum CommandQueueProperties : ulong
{
    None = 0,
    OutOfOrderExecModeEnable = 1 << 0,
    ProfilingEnable = 1 << 1,
}

/// <summary>cl_queue_properties keys for clCreateCommandQueueWithProperties.</summary>
public enum QueueProperties : ulong
{
    Properties = 0x1093,
}

/// <summary>cl_program_info.</summary>
public enum ProgramInfo : uint
{
    NumDevices = 0x1162,
    Devices = 0x1163,
    BinarySizes = 0x1165,
    Binaries = 0x1166,
}

/// <summary>cl_program_build_info.</summary>
public enum ProgramBuildInfo : uint
{
    BuildStatus = 0x1181,
    BuildOptions = 0x1182,
    BuildLog = 0x1183,
}

/// <summary>cl_kernel_work_group_info.</summary>
public enum KernelWorkGroupInfo : uint
{
    WorkGroupSize = 0x11B0,
    CompileWorkGroupSize = 0x11B1,
    LocalMemSize = 0x11B2,
    PreferredWorkGroupSizeMultiple = 0x11B3,
    PrivateMemSize = 0x11B4,
}

/// <summary>cl_profiling_info: device timestamps (ns) of a command, when its queue profiles.</summary>
public enum ProfilingInfo : uint
{
    Queued = 0x1280,
    Submit = 0x1281,
    Start = 0x1282,
    End = 0x1283,
}

/// <summary>cl_context_properties keys.</summary>
public enum ContextProperties : long
{
    Platform = 0x1084,
}
