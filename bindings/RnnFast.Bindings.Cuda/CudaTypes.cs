// The CUDA driver API's result codes, device attributes and flags that RnnFast uses (a subset, named like
// ManagedCuda's CUResult / CUDeviceAttribute). Every value was checked against cuda.h (CUDA 12.6, the
// `typedef enum cudaError_enum` and `CUdevice_attribute_enum` blocks); enums cross the ABI as int.
namespace RnnFast.Bindings.Cuda;

/// <summary>CUresult (cuda.h, cudaError_enum): the subset RnnFast names; any other value is reported by number and by cuGetErrorName.</summary>
public enum CuResult
{
    /// <summary>CUDA_SUCCESS.</summary>
    Success = 0,
    /// <summary>CUDA_ERROR_INVALID_VALUE.</summary>
    ErrorInvalidValue = 1,
    /// <summary>CUDA_ERROR_OUT_OF_MEMORY.</summary>
    ErrorOutOfMemory = 2,
    /// <summary>CUDA_ERROR_NOT_INITIALIZED.</summary>
    ErrorNotInitialized = 3,
    /// <summary>CUDA_ERROR_DEINITIALIZED.</summary>
    ErrorDeinitialized = 4,
    /// <summary>CUDA_ERROR_STUB_LIBRARY.</summary>
    ErrorStubLibrary = 34,
    /// <summary>CUDA_ERROR_INSUFFICIENT_DRIVER.</summary>
    ErrorInsufficientDriver = 35,
    /// <summary>CUDA_ERROR_DEVICE_UNAVAILABLE.</summary>
    ErrorDeviceUnavailable = 46,
    /// <summary>CUDA_ERROR_NO_DEVICE.</summary>
    ErrorNoDevice = 100,
    /// <summary>CUDA_ERROR_INVALID_DEVICE.</summary>
    ErrorInvalidDevice = 101,
    /// <summary>CUDA_ERROR_INVALID_IMAGE.</summary>
    ErrorInvalidImage = 200,
    /// <summary>CUDA_ERROR_INVALID_CONTEXT.</summary>
    ErrorInvalidContext = 201,
    /// <summary>CUDA_ERROR_INVALID_HANDLE.</summary>
    ErrorInvalidHandle = 400,
    /// <summary>CUDA_ERROR_NOT_FOUND.</summary>
    ErrorNotFound = 500,
    /// <summary>CUDA_ERROR_NOT_READY.</summary>
    ErrorNotReady = 600,
    /// <summary>CUDA_ERROR_ILLEGAL_ADDRESS.</summary>
    ErrorIllegalAddress = 700,
    /// <summary>CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES.</summary>
    ErrorLaunchOutOfResources = 701,
    /// <summary>CUDA_ERROR_LAUNCH_FAILED.</summary>
    ErrorLaunchFailed = 719,
    /// <summary>CUDA_ERROR_SYSTEM_DRIVER_MISMATCH.</summary>
    ErrorSystemDriverMismatch = 803,
    /// <summary>CUDA_ERROR_UNKNOWN.</summary>
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
