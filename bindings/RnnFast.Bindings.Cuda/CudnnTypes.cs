// cuDNN's enums used by the RNN API, named like ManagedCuda.CudaDNN's. Every value was checked against the cuDNN 9.6
// headers: cudnnStatus_t, cudnnDataType_t, cudnnMathType_t from cudnn_graph.h; cudnnRNNAlgo_t, cudnnForwardMode_t,
// cudnnRNNMode_t, cudnnRNNBiasMode_t, cudnnDirectionMode_t, cudnnRNNInputMode_t, cudnnRNNDataLayout_t,
// cudnnWgradMode_t and the CUDNN_RNN_PADDED_IO_* auxFlags from cudnn_adv.h. The RNN enums have the same values in
// cuDNN 8 (cudnn_adv_infer.h); cudnnStatus_t does not (8.x: 0..14, 9.x: 0 and 1001..5004), so both are named.
namespace RnnFast.Bindings.Cuda;

/// <summary>cudnnStatus_t. cuDNN 9 values (categories of 1000), plus the cuDNN 8 values 1..14 (which do not overlap).</summary>
public enum CudnnStatus
{
    Success = 0,

    // ---- cuDNN 9 (cudnn_graph.h)
    NotInitialized = 1001,
    SublibraryVersionMismatch = 1002,
    SerializationVersionMismatch = 1003,
    Deprecated = 1004,
    LicenseError = 1005,
    RuntimeInProgress = 1006,
    RuntimeFpOverflow = 1007,
    SublibraryLoadingFailed = 1008,
    BadParam = 2000,
    InvalidValue = 2001,
    BadParamNullPointer = 2002,
    BadParamMisalignedPointer = 2003,
    BadParamNotFinalized = 2004,
    BadParamOutOfBound = 2005,
    BadParamSizeInsufficient = 2006,
    BadParamStreamMismatch = 2007,
    BadParamShapeMismatch = 2008,
    NotSupported = 3000,
    NotSupportedGraphPattern = 3001,
    NotSupportedShape = 3002,
    NotSupportedDataType = 3003,
    NotSupportedLayout = 3004,
    NotSupportedIncompatibleCudaDriver = 3005,
    NotSupportedIncompatibleCudart = 3006,
    NotSupportedArchMismatch = 3007,
    NotSupportedRuntimePrerequisiteMissing = 3008,
    NotSupportedSublibraryUnavailable = 3009,
    NotSupportedSharedMemoryInsufficient = 3010,
    NotSupportedPadding = 3011,
    NotSupportedBadLaunchParam = 3012,
    InternalError = 4000,
    InternalErrorCompilationFailed = 4001,
    InternalErrorUnexpectedValue = 4002,
    InternalErrorHostAllocationFailed = 4003,
    InternalErrorDeviceAllocationFailed = 4004,
    InternalErrorBadLaunchParam = 4005,
    InternalErrorTextureCreationFailed = 4006,
    ExecutionFailed = 5000,
    ExecutionFailedCudaDriver = 5001,
    ExecutionFailedCublas = 5002,
    ExecutionFailedCudart = 5003,
    ExecutionFailedCurand = 5004,

    // ---- cuDNN 8 (cudnn_ops_infer.h)
    V8NotInitialized = 1,
    V8AllocFailed = 2,
    V8BadParam = 3,
    V8InternalError = 4,
    V8InvalidValue = 5,
    V8ArchMismatch = 6,
    V8MappingError = 7,
    V8ExecutionFailed = 8,
    V8NotSupported = 9,
    V8LicenseError = 10,
    V8RuntimePrerequisiteMissing = 11,
    V8RuntimeInProgress = 12,
    V8RuntimeFpOverflow = 13,
    V8VersionMismatch = 14,
}

/// <summary>cudnnDataType_t (subset).</summary>
public enum CudnnDataType
{
    Float = 0,
    Double = 1,
    Half = 2,
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
    Standard = 0,
    PersistStatic = 1,
    PersistDynamic = 2,
    PersistStaticSmallH = 3,
}

/// <summary>cudnnForwardMode_t.</summary>
public enum CudnnForwardMode
{
    Inference = 0,
    Training = 1,
}

/// <summary>cudnnRNNMode_t (the cell).</summary>
public enum CudnnRnnMode
{
    Relu = 0,
    Tanh = 1,
    Lstm = 2,
    Gru = 3,
}

/// <summary>cudnnRNNBiasMode_t.</summary>
public enum CudnnRnnBiasMode
{
    NoBias = 0,
    SingleInputBias = 1,
    DoubleBias = 2,
    SingleRecurrentBias = 3,
}

/// <summary>cudnnDirectionMode_t.</summary>
public enum CudnnDirectionMode
{
    Unidirectional = 0,
    Bidirectional = 1,
}

/// <summary>cudnnRNNInputMode_t.</summary>
public enum CudnnRnnInputMode
{
    LinearInput = 0,
    SkipInput = 1,
}

/// <summary>cudnnRNNDataLayout_t.</summary>
public enum CudnnRnnDataLayout
{
    /// <summary>CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_UNPACKED: (T, N, C), padded; our time-major layout.</summary>
    SeqMajorUnpacked = 0,
    SeqMajorPacked = 1,
    BatchMajorUnpacked = 2,
}

/// <summary>cudnnWgradMode_t.</summary>
public enum CudnnWgradMode
{
    /// <summary>CUDNN_WGRAD_MODE_ADD: adds the weight gradients into dweightSpace (which must be zeroed first).</summary>
    Add = 0,
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
