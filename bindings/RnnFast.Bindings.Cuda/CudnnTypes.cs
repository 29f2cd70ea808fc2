// cuDNN's enums used by the RNN API, named like ManagedCuda.CudaDNN's. Every value was checked against the cuDNN 9.6
// headers: cudnnStatus_t, cudnnDataType_t, cudnnMathType_t from cudnn_graph.h; cudnnRNNAlgo_t, cudnnForwardMode_t,
// cudnnRNNMode_t, cudnnRNNBiasMode_t, cudnnDirectionMode_t, cudnnRNNInputMode_t, cudnnRNNDataLayout_t,
// cudnnWgradMode_t and the CUDNN_RNN_PADDED_IO_* auxFlags from cudnn_adv.h. The RNN enums have the same values in
// cuDNN 8 (cudnn_adv_infer.h); cudnnStatus_t does not (8.x: 0..14, 9.x: 0 and 1001..5004), so both are named.
namespace RnnFast.Bindings.Cuda;

/// <summary>cudnnStatus_t. cuDNN 9 values (categories of 1000), plus the cuDNN 8 values 1..14 (which do not overlap).</summary>
public enum CudnnStatus
{
    /// <summary>CUDNN_STATUS_SUCCESS.</summary>
    Success = 0,

    // ---- cuDNN 9 (cudnn_graph.h)
    /// <summary>CUDNN_STATUS_NOT_INITIALIZED.</summary>
    NotInitialized = 1001,
    /// <summary>CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH.</summary>
    SublibraryVersionMismatch = 1002,
    /// <summary>CUDNN_STATUS_SERIALIZATION_VERSION_MISMATCH.</summary>
    SerializationVersionMismatch = 1003,
    /// <summary>CUDNN_STATUS_DEPRECATED.</summary>
    Deprecated = 1004,
    /// <summary>CUDNN_STATUS_LICENSE_ERROR.</summary>
    LicenseError = 1005,
    /// <summary>CUDNN_STATUS_RUNTIME_IN_PROGRESS.</summary>
    RuntimeInProgress = 1006,
    /// <summary>CUDNN_STATUS_RUNTIME_FP_OVERFLOW.</summary>
    RuntimeFpOverflow = 1007,
    /// <summary>CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED.</summary>
    SublibraryLoadingFailed = 1008,
    /// <summary>CUDNN_STATUS_BAD_PARAM.</summary>
    BadParam = 2000,
    /// <summary>CUDNN_STATUS_INVALID_VALUE.</summary>
    InvalidValue = 2001,
    /// <summary>CUDNN_STATUS_BAD_PARAM_NULL_POINTER.</summary>
    BadParamNullPointer = 2002,
    /// <summary>CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER.</summary>
    BadParamMisalignedPointer = 2003,
    /// <summary>CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED.</summary>
    BadParamNotFinalized = 2004,
    /// <summary>CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND.</summary>
    BadParamOutOfBound = 2005,
    /// <summary>CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT.</summary>
    BadParamSizeInsufficient = 2006,
    /// <summary>CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH.</summary>
    BadParamStreamMismatch = 2007,
    /// <summary>CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH.</summary>
    BadParamShapeMismatch = 2008,
    /// <summary>CUDNN_STATUS_NOT_SUPPORTED.</summary>
    NotSupported = 3000,
    /// <summary>CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN.</summary>
    NotSupportedGraphPattern = 3001,
    /// <summary>CUDNN_STATUS_NOT_SUPPORTED_SHAPE.</summary>
    NotSupportedShape = 3002,
    /// <summary>CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE.</summary>
    NotSupportedDataType = 3003,
    /// <summary>CUDNN_STATUS_NOT_SUPPORTED_LAYOUT.</summary>
    NotSupportedLayout = 3004,
    /// <summary>CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER.</summary>
    NotSupportedIncompatibleCudaDriver = 3005,
    /// <summary>CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART.</summary>
    NotSupportedIncompatibleCudart = 3006,
    /// <summary>CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH.</summary>
    NotSupportedArchMismatch = 3007,
    /// <summary>CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING.</summary>
    NotSupportedRuntimePrerequisiteMissing = 3008,
    /// <summary>CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE.</summary>
    NotSupportedSublibraryUnavailable = 3009,
    /// <summary>CUDNN_STATUS_NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT.</summary>
    NotSupportedSharedMemoryInsufficient = 3010,
    /// <summary>CUDNN_STATUS_NOT_SUPPORTED_PADDING.</summary>
    NotSupportedPadding = 3011,
    /// <summary>CUDNN_STATUS_NOT_SUPPORTED_BAD_LAUNCH_PARAM.</summary>
    NotSupportedBadLaunchParam = 3012,
    /// <summary>CUDNN_STATUS_INTERNAL_ERROR.</summary>
    InternalError = 4000,
    /// <summary>CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED.</summary>
    InternalErrorCompilationFailed = 4001,
    /// <summary>CUDNN_STATUS_INTERNAL_ERROR_UNEXPECTED_VALUE.</summary>
    InternalErrorUnexpectedValue = 4002,
    /// <summary>CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED.</summary>
    InternalErrorHostAllocationFailed = 4003,
    /// <summary>CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED.</summary>
    InternalErrorDeviceAllocationFailed = 4004,
    /// <summary>CUDNN_STATUS_INTERNAL_ERROR_BAD_LAUNCH_PARAM.</summary>
    InternalErrorBadLaunchParam = 4005,
    /// <summary>CUDNN_STATUS_INTERNAL_ERROR_TEXTURE_CREATION_FAILED.</summary>
    InternalErrorTextureCreationFailed = 4006,
    /// <summary>CUDNN_STATUS_EXECUTION_FAILED.</summary>
    ExecutionFailed = 5000,
    /// <summary>CUDNN_STATUS_EXECUTION_FAILED_CUDA_DRIVER.</summary>
    ExecutionFailedCudaDriver = 5001,
    /// <summary>CUDNN_STATUS_EXECUTION_FAILED_CUBLAS.</summary>
    ExecutionFailedCublas = 5002,
    /// <summary>CUDNN_STATUS_EXECUTION_FAILED_CUDART.</summary>
    ExecutionFailedCudart = 5003,
    /// <summary>CUDNN_STATUS_EXECUTION_FAILED_CURAND.</summary>
    ExecutionFailedCurand = 5004,

    // ---- cuDNN 8 (cudnn_ops_infer.h)
    /// <summary>cuDNN 8: CUDNN_STATUS_NOT_INITIALIZED.</summary>
    V8NotInitialized = 1,
    /// <summary>cuDNN 8: CUDNN_STATUS_ALLOC_FAILED.</summary>
    V8AllocFailed = 2,
    /// <summary>cuDNN 8: CUDNN_STATUS_BAD_PARAM.</summary>
    V8BadParam = 3,
    /// <summary>cuDNN 8: CUDNN_STATUS_INTERNAL_ERROR.</summary>
    V8InternalError = 4,
    /// <summary>cuDNN 8: CUDNN_STATUS_INVALID_VALUE.</summary>
    V8InvalidValue = 5,
    /// <summary>cuDNN 8: CUDNN_STATUS_ARCH_MISMATCH.</summary>
    V8ArchMismatch = 6,
    /// <summary>cuDNN 8: CUDNN_STATUS_MAPPING_ERROR.</summary>
    V8MappingError = 7,
    /// <summary>cuDNN 8: CUDNN_STATUS_EXECUTION_FAILED.</summary>
    V8ExecutionFailed = 8,
    /// <summary>cuDNN 8: CUDNN_STATUS_NOT_SUPPORTED.</summary>
    V8NotSupported = 9,
    /// <summary>cuDNN 8: CUDNN_STATUS_LICENSE_ERROR.</summary>
    V8LicenseError = 10,
    /// <summary>cuDNN 8: CUDNN_STATUS_RUNTIME_PREREQUISITE_MISSING.</summary>
    V8RuntimePrerequisiteMissing = 11,
    /// <summary>cuDNN 8: CUDNN_STATUS_RUNTIME_IN_PROGRESS.</summary>
    V8RuntimeInProgress = 12,
    /// <summary>cuDNN 8: CUDNN_STATUS_RUNTIME_FP_OVERFLOW.</summary>
    V8RuntimeFpOverflow = 13,
    /// <summary>cuDNN 8: CUDNN_STATUS_VERSION_MISMATCH.</summary>
    V8VersionMismatch = 14,
}

/// <summary>cudnnDataType_t (subset).</summary>
public enum CudnnDataType
{
    /// <summary>CUDNN_DATA_FLOAT.</summary>
    Float = 0,
    /// <summary>CUDNN_DATA_DOUBLE.</summary>
    Double = 1,
    /// <summary>CUDNN_DATA_HALF.</summary>
    Half = 2,
    /// <summary>CUDNN_DATA_INT32.</summary>
    Int32 = 4,
}

/// <summary>cudnnMathType_t.</summary>
public enum CudnnMathType
{
    /// <summary>CUDNN_DEFAULT_MATH: on Ampere and later, cuDNN may use TF32 tensor cores for FP32 data.</summary>
    Default = 0,
    /// <summary>CUDNN_TENSOR_OP_MATH.</summary>
    TensorOp = 1,
    /// <summary>CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION.</summary>
    TensorOpAllowConversion = 2,
    /// <summary>CUDNN_FMA_MATH: FMA (CUDA core) kernels only, no TF32: full FP32 products.</summary>
    Fma = 3,
}

/// <summary>cudnnRNNAlgo_t.</summary>
public enum CudnnRnnAlgo
{
    /// <summary>CUDNN_RNN_ALGO_STANDARD.</summary>
    Standard = 0,
    /// <summary>CUDNN_RNN_ALGO_PERSIST_STATIC.</summary>
    PersistStatic = 1,
    /// <summary>CUDNN_RNN_ALGO_PERSIST_DYNAMIC.</summary>
    PersistDynamic = 2,
    /// <summary>CUDNN_RNN_ALGO_PERSIST_STATIC_SMALL_H.</summary>
    PersistStaticSmallH = 3,
}

/// <summary>cudnnForwardMode_t.</summary>
public enum CudnnForwardMode
{
    /// <summary>CUDNN_FWD_MODE_INFERENCE.</summary>
    Inference = 0,
    /// <summary>CUDNN_FWD_MODE_TRAINING.</summary>
    Training = 1,
}

/// <summary>cudnnRNNMode_t (the cell).</summary>
public enum CudnnRnnMode
{
    /// <summary>CUDNN_RNN_RELU.</summary>
    Relu = 0,
    /// <summary>CUDNN_RNN_TANH.</summary>
    Tanh = 1,
    /// <summary>CUDNN_LSTM.</summary>
    Lstm = 2,
    /// <summary>CUDNN_GRU.</summary>
    Gru = 3,
}

/// <summary>cudnnRNNBiasMode_t.</summary>
public enum CudnnRnnBiasMode
{
    /// <summary>CUDNN_RNN_NO_BIAS.</summary>
    NoBias = 0,
    /// <summary>CUDNN_RNN_SINGLE_INP_BIAS.</summary>
    SingleInputBias = 1,
    /// <summary>CUDNN_RNN_DOUBLE_BIAS (PyTorch's b_ih and b_hh).</summary>
    DoubleBias = 2,
    /// <summary>CUDNN_RNN_SINGLE_REC_BIAS.</summary>
    SingleRecurrentBias = 3,
}

/// <summary>cudnnDirectionMode_t.</summary>
public enum CudnnDirectionMode
{
    /// <summary>CUDNN_UNIDIRECTIONAL.</summary>
    Unidirectional = 0,
    /// <summary>CUDNN_BIDIRECTIONAL.</summary>
    Bidirectional = 1,
}

/// <summary>cudnnRNNInputMode_t.</summary>
public enum CudnnRnnInputMode
{
    /// <summary>CUDNN_LINEAR_INPUT.</summary>
    LinearInput = 0,
    /// <summary>CUDNN_SKIP_INPUT.</summary>
    SkipInput = 1,
}

/// <summary>cudnnRNNDataLayout_t.</summary>
public enum CudnnRnnDataLayout
{
    /// <summary>CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_UNPACKED: (T, N, C), padded; our time-major layout.</summary>
    SeqMajorUnpacked = 0,
    /// <summary>CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_PACKED.</summary>
    SeqMajorPacked = 1,
    /// <summary>CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED.</summary>
    BatchMajorUnpacked = 2,
}

/// <summary>cudnnWgradMode_t.</summary>
public enum CudnnWgradMode
{
    /// <summary>CUDNN_WGRAD_MODE_ADD: adds the weight gradients into dweightSpace (which must be zeroed first).</summary>
    Add = 0,
    /// <summary>CUDNN_WGRAD_MODE_SET.</summary>
    Set = 1,
}

/// <summary>The auxFlags bits of cudnnSetRNNDescriptor_v8.</summary>
[Flags]
public enum CudnnRnnAuxFlags : uint
{
    /// <summary>CUDNN_RNN_PADDED_IO_DISABLED.</summary>
    PaddedIoDisabled = 0,
    /// <summary>CUDNN_RNN_PADDED_IO_ENABLED (1U &lt;&lt; 0): unpacked layouts with per-sequence lengths.</summary>
    PaddedIoEnabled = 1,
}
