// The CUDA driver API's result codes, device attributes and flags that RnnFast uses (a subset, named like
// ManagedCuda's CUResult / CUDeviceAttribute). Every value was checked against cuda.h (CUDA 12.6, the
// `typedef enum cudaError_enum` and `CUdevice_attribute_enum` blocks); enums cross the ABI as int.
namespace RnnFast.Bindings.Cuda;

/// <summary>CUresult (cuda.h, cudaError_enum): the subset RnnFast names; any other value is reported by number and by cuGetErrorName.</summary>
public enum CuResult
{
    Success = 0,
    ErrorInvalidValue = 1,
    ErrorOutOfMemory = 2,
    ErrorNotInitialized = 3,
    ErrorDeinitialized = 4,
    ErrorStubLibrary = 34,
    ErrorInsufficientDriver = 35,
    ErrorDeviceUnavailable = 46,
    ErrorNoDevice = 100,
    ErrorInvalidDevice = 101,
    ErrorInvalidImage = 200,
    ErrorInvalidContext = 201,
    ErrorInvalidHandle = 400,
    ErrorNotFound = 500,
    ErrorNotReady = 600,
    ErrorIllegalAddress = 700,
    ErrorLaunchOutOfResources = 701,
    ErrorLaunchFailed = 719,
    ErrorSystemDriverMismatch = 803,
    ErrorUnknown = 999,
}

/// <summary>CUdevice_attribute (cuda.h, CUdevice_attribute_enum): the attributes RnnFast reads.</summary>
public enum CuDeviceAttribute
{
    /// <summary>CU_DEVICE_ATTRIBUTE_CLOCK_RATE: peak SM clock in kHz.</summary>
    ClockRate = 13,
    /// <summary>CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT.</summary>
    MultiprocessorCount = 16,
    /// <summary>CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR.</summary>
    ComputeCapabilityMajor = 75,
    /// <summary>CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR.</summary>
    ComputeCapabilityMinor = 76,
}

/// <summary>Flags of cuStreamCreate (cuda.h, CUstream_flags_enum).</summary>
[Flags]
public enum CuStreamFlags : uint
{
    /// <summary>CU_STREAM_DEFAULT: synchronizes with the legacy default stream.</summary>
    Default = 0x0,
    /// <summary>CU_STREAM_NON_BLOCKING.</summary>
    NonBlocking = 0x1,
}

/// <summary>Flags of cuEventCreate (cuda.h, CUevent_flags_enum).</summary>
[Flags]
public enum CuEventFlags : uint
{
    /// <summary>CU_EVENT_DEFAULT.</summary>
    Default = 0x0,
    /// <summary>CU_EVENT_BLOCKING_SYNC.</summary>
    BlockingSync = 0x1,
    /// <summary>CU_EVENT_DISABLE_TIMING.</summary>
    DisableTiming = 0x2,
}
