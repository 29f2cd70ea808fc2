// Every CUresult and cudnnStatus_t is checked here and turned into an exception that names the call and the status
// (CUDA_ERROR_OUT_OF_MEMORY, CUDNN_STATUS_BAD_PARAM, ...). Names come from a table checked against cuda.h and
// cudnn_graph.h, so they are known even where the library is not loaded (tests); the library's own wording
// (cuGetErrorString, cudnnGetErrorString, cudnnGetLastErrorString) is added when it is loaded.
using System.Runtime.InteropServices;

namespace RnnFast.Bindings.Cuda;

/// <summary>A CUDA driver API call returned a CUresult other than CUDA_SUCCESS; the message names the call and the result.</summary>
public sealed class CudaException : Exception
{
    /// <summary>A failed CUDA runtime or driver call: <paramref name="call"/> is the function, <paramref name="result"/> its error code, <paramref name="detail"/> optional context.</summary>
    public CudaException(string call, int result, string? detail = null)
        : base(Format(call, result, detail))
    {
        Call = call;
        Result = result;
    }

    /// <summary>The driver function that failed, e.g. "cuMemAlloc_v2".</summary>
    public string Call { get; }

    /// <summary>The raw CUresult.</summary>
    public int Result { get; }

    /// <summary>The CUresult as the enum (values outside <see cref="CuResult"/> stay numeric).</summary>
    public CuResult Code => (CuResult)Result;

    /// <summary>Throws a <see cref="CudaException"/> naming <paramref name="call"/> unless <paramref name="result"/> is CUDA_SUCCESS.</summary>
    public static void Check(int result, string call, string? detail = null)
    {
        if (result != 0) throw new CudaException(call, result, detail);
    }

    /// <summary>"call failed: CUDA_ERROR_NAME (code): description[: detail]".</summary>
    public static string Format(string call, int result, string? detail)
    {
        string name = CudaErrorNames.Name(result);
        string? text = CudaErrorNames.DriverDescription(result);
        return $"{call} failed: {name} ({result})" + (text == null ? "" : $": {text}") + (detail == null ? "" : $" [{detail}]");
    }
}

/// <summary>A cuDNN call returned a status other than CUDNN_STATUS_SUCCESS; the message names the call and the status.</summary>
public sealed class CudnnException : Exception
{
    /// <summary>A failed cuDNN call: <paramref name="call"/> is the function, <paramref name="status"/> its cudnnStatus_t, <paramref name="detail"/> optional context.</summary>
    public CudnnException(string call, int status, string? detail = null)
        : base(Format(call, status, detail))
    {
        Call = call;
        Status = status;
    }

    /// <summary>The cuDNN function that failed, e.g. "cudnnRNNForward".</summary>
    public string Call { get; }

    /// <summary>The raw cudnnStatus_t.</summary>
    public int Status { get; }

    /// <summary>The status as the enum (values outside <see cref="CudnnStatus"/> stay numeric).</summary>
    public CudnnStatus Code => (CudnnStatus)Status;

    /// <summary>True for the "not supported" family (cuDNN 9's 3000..3999, cuDNN 8's 9): a configuration cuDNN declines.</summary>
    public bool IsNotSupported => Status is >= 3000 and < 4000 or 9;

    /// <summary>Throws a <see cref="CudnnException"/> naming <paramref name="call"/> unless <paramref name="status"/> is success.</summary>
    public static void Check(int status, string call, string? detail = null)
    {
        if (status != 0) throw new CudnnException(call, status, detail);
    }

    /// <summary>"call failed: CUDNN_STATUS_NAME (code): library text[: last error][ [detail]]".</summary>
    public static string Format(string call, int status, string? detail)
    {
        string name = CudnnStatusNames.Name(status);
        string? text = CudnnStatusNames.LibraryDescription(status);
        string? last = CudnnStatusNames.LastError();
        return $"{call} failed: {name} ({status})" + (text == null || text == name ? "" : $": {text}") +
               (string.IsNullOrWhiteSpace(last) ? "" : $"; {last.Trim()}") + (detail == null ? "" : $" [{detail}]");
    }
}

/// <summary>CUresult names (cuda.h spelling) and the driver's own description when the driver is loaded.</summary>
public static class CudaErrorNames
{
    /// <summary>The cuda.h name of <paramref name="result"/>, e.g. CUDA_ERROR_NO_DEVICE; unknown values read CUresult_&lt;n&gt; (or the driver's name).</summary>
    public static string Name(int result) => (CuResult)result switch
    {
        CuResult.Success => "CUDA_SUCCESS",
        CuResult.ErrorInvalidValue => "CUDA_ERROR_INVALID_VALUE",
        CuResult.ErrorOutOfMemory => "CUDA_ERROR_OUT_OF_MEMORY",
        CuResult.ErrorNotInitialized => "CUDA_ERROR_NOT_INITIALIZED",
        CuResult.ErrorDeinitialized => "CUDA_ERROR_DEINITIALIZED",
        CuResult.ErrorStubLibrary => "CUDA_ERROR_STUB_LIBRARY",
        CuResult.ErrorInsufficientDriver => "CUDA_ERROR_INSUFFICIENT_DRIVER",
        CuResult.ErrorDeviceUnavailable => "CUDA_ERROR_DEVICE_UNAVAILABLE",
        CuResult.ErrorNoDevice => "CUDA_ERROR_NO_DEVICE",
        CuResult.ErrorInvalidDevice => "CUDA_ERROR_INVALID_DEVICE",
        CuResult.ErrorInvalidImage => "CUDA_ERROR_INVALID_IMAGE",
        CuResult.ErrorInvalidContext => "CUDA_ERROR_INVALID_CONTEXT",
        CuResult.ErrorInvalidHandle => "CUDA_ERROR_INVALID_HANDLE",
        CuResult.ErrorNotFound => "CUDA_ERROR_NOT_FOUND",
        CuResult.ErrorNotReady => "CUDA_ERROR_NOT_READY",
        CuResult.ErrorIllegalAddress => "CUDA_ERROR_ILLEGAL_ADDRESS",
        CuResult.ErrorLaunchOutOfResources => "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
        CuResult.ErrorLaunchFailed => "CUDA_ERROR_LAUNCH_FAILED",
        CuResult.ErrorSystemDriverMismatch => "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
        CuResult.ErrorUnknown => "CUDA_ERROR_UNKNOWN",
        _ => DriverName(result) ?? $"CUresult_{result}",
    };

    /// <summary>cuGetErrorName, or null when the driver is not loaded or does not know the value.</summary>
    public static unsafe string? DriverName(int result)
    {
        if (!CudaLibraries.DriverLoaded) return null;
        byte* p = null;
        return DriverApiNative.cuGetErrorName(result, &p) == 0 && p != null ? Marshal.PtrToStringUTF8((nint)p) : null;
    }

    /// <summary>cuGetErrorString, or null when the driver is not loaded or does not know the value.</summary>
    public static unsafe string? DriverDescription(int result)
    {
        if (!CudaLibraries.DriverLoaded) return null;
        byte* p = null;
        return DriverApiNative.cuGetErrorString(result, &p) == 0 && p != null ? Marshal.PtrToStringUTF8((nint)p) : null;
    }
}

/// <summary>cudnnStatus_t names (cuDNN header spelling) and cuDNN's own wording when the library is loaded.</summary>
public static class CudnnStatusNames
{
    /// <summary>The header name of <paramref name="status"/> (cuDNN 9 values, and cuDNN 8's 1..14); unknown values read cudnnStatus_&lt;n&gt;.</summary>
    public static string Name(int status) => (CudnnStatus)status switch
    {
        CudnnStatus.Success => "CUDNN_STATUS_SUCCESS",
        CudnnStatus.NotInitialized or CudnnStatus.V8NotInitialized => "CUDNN_STATUS_NOT_INITIALIZED",
        CudnnStatus.SublibraryVersionMismatch => "CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH",
        CudnnStatus.SerializationVersionMismatch => "CUDNN_STATUS_SERIALIZATION_VERSION_MISMATCH",
        CudnnStatus.Deprecated => "CUDNN_STATUS_DEPRECATED",
        CudnnStatus.LicenseError or CudnnStatus.V8LicenseError => "CUDNN_STATUS_LICENSE_ERROR",
        CudnnStatus.RuntimeInProgress or CudnnStatus.V8RuntimeInProgress => "CUDNN_STATUS_RUNTIME_IN_PROGRESS",
        CudnnStatus.RuntimeFpOverflow or CudnnStatus.V8RuntimeFpOverflow => "CUDNN_STATUS_RUNTIME_FP_OVERFLOW",
        CudnnStatus.SublibraryLoadingFailed => "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED",
        CudnnStatus.BadParam or CudnnStatus.V8BadParam => "CUDNN_STATUS_BAD_PARAM",
        CudnnStatus.InvalidValue or CudnnStatus.V8InvalidValue => "CUDNN_STATUS_INVALID_VALUE",
        CudnnStatus.BadParamNullPointer => "CUDNN_STATUS_BAD_PARAM_NULL_POINTER",
        CudnnStatus.BadParamMisalignedPointer => "CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER",
        CudnnStatus.BadParamNotFinalized => "CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED",
        CudnnStatus.BadParamOutOfBound => "CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND",
        CudnnStatus.BadParamSizeInsufficient => "CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT",
        CudnnStatus.BadParamStreamMismatch => "CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH",
        CudnnStatus.BadParamShapeMismatch => "CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH",
        CudnnStatus.NotSupported or CudnnStatus.V8NotSupported => "CUDNN_STATUS_NOT_SUPPORTED",
        CudnnStatus.NotSupportedGraphPattern => "CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN",
        CudnnStatus.NotSupportedShape => "CUDNN_STATUS_NOT_SUPPORTED_SHAPE",
        CudnnStatus.NotSupportedDataType => "CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE",
        CudnnStatus.NotSupportedLayout => "CUDNN_STATUS_NOT_SUPPORTED_LAYOUT",
        CudnnStatus.NotSupportedIncompatibleCudaDriver => "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER",
        CudnnStatus.NotSupportedIncompatibleCudart => "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART",
        CudnnStatus.NotSupportedArchMismatch or CudnnStatus.V8ArchMismatch => "CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH",
        CudnnStatus.NotSupportedRuntimePrerequisiteMissing or CudnnStatus.V8RuntimePrerequisiteMissing => "CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING",
        CudnnStatus.NotSupportedSublibraryUnavailable => "CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE",
        CudnnStatus.NotSupportedSharedMemoryInsufficient => "CUDNN_STATUS_NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT",
        CudnnStatus.NotSupportedPadding => "CUDNN_STATUS_NOT_SUPPORTED_PADDING",
        CudnnStatus.NotSupportedBadLaunchParam => "CUDNN_STATUS_NOT_SUPPORTED_BAD_LAUNCH_PARAM",
        CudnnStatus.InternalError or CudnnStatus.V8InternalError => "CUDNN_STATUS_INTERNAL_ERROR",
        CudnnStatus.InternalErrorCompilationFailed => "CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED",
        CudnnStatus.InternalErrorUnexpectedValue => "CUDNN_STATUS_INTERNAL_ERROR_UNEXPECTED_VALUE",
        CudnnStatus.InternalErrorHostAllocationFailed or CudnnStatus.V8AllocFailed => "CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED",
        CudnnStatus.InternalErrorDeviceAllocationFailed => "CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED",
        CudnnStatus.InternalErrorBadLaunchParam => "CUDNN_STATUS_INTERNAL_ERROR_BAD_LAUNCH_PARAM",
        CudnnStatus.InternalErrorTextureCreationFailed or CudnnStatus.V8MappingError => "CUDNN_STATUS_INTERNAL_ERROR_TEXTURE_CREATION_FAILED",
        CudnnStatus.ExecutionFailed or CudnnStatus.V8ExecutionFailed => "CUDNN_STATUS_EXECUTION_FAILED",
        CudnnStatus.ExecutionFailedCudaDriver => "CUDNN_STATUS_EXECUTION_FAILED_CUDA_DRIVER",
        CudnnStatus.ExecutionFailedCublas => "CUDNN_STATUS_EXECUTION_FAILED_CUBLAS",
        CudnnStatus.ExecutionFailedCudart => "CUDNN_STATUS_EXECUTION_FAILED_CUDART",
        CudnnStatus.ExecutionFailedCurand => "CUDNN_STATUS_EXECUTION_FAILED_CURAND",
        CudnnStatus.V8VersionMismatch => "CUDNN_STATUS_VERSION_MISMATCH",
        _ => $"cudnnStatus_{status}",
    };

    /// <summary>cudnnGetErrorString, or null when cuDNN is not loaded.</summary>
    public static unsafe string? LibraryDescription(int status)
    {
        if (!CudaLibraries.CudnnLoaded) return null;
        byte* p = CudnnNative.cudnnGetErrorString(status);
        return p == null ? null : Marshal.PtrToStringUTF8((nint)p);
    }

    /// <summary>cudnnGetLastErrorString (cuDNN 9): the calling thread's last error detail, or null.</summary>
    public static unsafe string? LastError()
    {
        if (!CudaLibraries.CudnnLoaded || !CudaLibraries.CudnnHasExport("cudnnGetLastErrorString")) return null;
        const int size = 1024;
        byte* buffer = stackalloc byte[size];
        buffer[0] = 0;
        CudnnNative.cudnnGetLastErrorString(buffer, size);
        buffer[size - 1] = 0;
        var s = Marshal.PtrToStringUTF8((nint)buffer);
        return string.IsNullOrWhiteSpace(s) ? null : s.ReplaceLineEndings(" ");
    }
}
