// The raw entry points of cuDNN (libcudnn.so.9, or .8) that RnnFast's RNN plans call, named like ManagedCuda's
// CudaDNNNativeMethods. Signatures from the cuDNN 9.6 headers: cudnnGetVersion, cudnnGetErrorString,
// cudnnGetLastErrorString, cudnnCreate, cudnnDestroy, cudnnSetStream (cudnn_graph.h); tensor and dropout descriptors
// (cudnn_ops.h); the RNN API (cudnn_adv.h). Argument order is exactly the headers'. ABI: cudnnStatus_t and every enum
// are int; handles and descriptors are pointers (nint); device buffers are void* (nint); size_t is nuint;
// int32_t/int are int; uint32_t is uint. Internal: the public surface is the SafeHandles in CudnnHandles.cs.
using System.Runtime.InteropServices;

namespace RnnFast.Bindings.Cuda;

internal static unsafe partial class CudnnNative
{
    internal const string Lib = "cudnn";

    static CudnnNative() => CudaLibraries.RegisterResolver();

    // ---------------------------------------------------------------- library, errors, handle, stream
    [LibraryImport(Lib)] internal static partial nuint cudnnGetVersion();
    [LibraryImport(Lib)] internal static partial byte* cudnnGetErrorString(int status);
    /// <summary>cuDNN 9 only (check the export first): the last error's detail message of the calling thread.</summary>
    [LibraryImport(Lib)] internal static partial void cudnnGetLastErrorString(byte* message, nuint maxSize);
    [LibraryImport(Lib)] internal static partial int cudnnCreate(nint* handle);
    [LibraryImport(Lib)] internal static partial int cudnnDestroy(nint handle);
    [LibraryImport(Lib)] internal static partial int cudnnSetStream(nint handle, nint streamId);

    // ---------------------------------------------------------------- tensor descriptors (cudnn_ops.h)
    [LibraryImport(Lib)] internal static partial int cudnnCreateTensorDescriptor(nint* tensorDesc);
    [LibraryImport(Lib)] internal static partial int cudnnDestroyTensorDescriptor(nint tensorDesc);
    [LibraryImport(Lib)] internal static partial int cudnnSetTensorNdDescriptor(nint tensorDesc, int dataType, int nbDims, int* dimA, int* strideA);
    [LibraryImport(Lib)] internal static partial int cudnnGetTensorNdDescriptor(nint tensorDesc, int nbDimsRequested, int* dataType, int* nbDims, int* dimA, int* strideA);

    // ---------------------------------------------------------------- dropout descriptor (cudnn_ops.h)
    [LibraryImport(Lib)] internal static partial int cudnnCreateDropoutDescriptor(nint* dropoutDesc);
    [LibraryImport(Lib)] internal static partial int cudnnDestroyDropoutDescriptor(nint dropoutDesc);
    [LibraryImport(Lib)] internal static partial int cudnnSetDropoutDescriptor(nint dropoutDesc, nint handle, float dropout, void* states, nuint stateSizeInBytes, ulong seed);

    // ---------------------------------------------------------------- RNN descriptors (cudnn_adv.h)
    [LibraryImport(Lib)] internal static partial int cudnnCreateRNNDescriptor(nint* rnnDesc);
    [LibraryImport(Lib)] internal static partial int cudnnDestroyRNNDescriptor(nint rnnDesc);

    [LibraryImport(Lib)]
    internal static partial int cudnnSetRNNDescriptor_v8(nint rnnDesc, int algo, int cellMode, int biasMode, int dirMode, int inputMode,
        int dataType, int mathPrec, int mathType, int inputSize, int hiddenSize, int projSize, int numLayers, nint dropoutDesc, uint auxFlags);

    [LibraryImport(Lib)] internal static partial int cudnnCreateRNNDataDescriptor(nint* rnnDataDesc);
    [LibraryImport(Lib)] internal static partial int cudnnDestroyRNNDataDescriptor(nint rnnDataDesc);

    [LibraryImport(Lib)]
    internal static partial int cudnnSetRNNDataDescriptor(nint rnnDataDesc, int dataType, int layout, int maxSeqLength, int batchSize,
        int vectorSize, int* seqLengthArray, void* paddingFill);

    // ---------------------------------------------------------------- RNN sizes and weight space (cudnn_adv.h)
    [LibraryImport(Lib)] internal static partial int cudnnGetRNNWeightSpaceSize(nint handle, nint rnnDesc, nuint* weightSpaceSize);

    [LibraryImport(Lib)]
    internal static partial int cudnnGetRNNTempSpaceSizes(nint handle, nint rnnDesc, int fwdMode, nint xDesc, nuint* workSpaceSize, nuint* reserveSpaceSize);

    [LibraryImport(Lib)]
    internal static partial int cudnnGetRNNWeightParams(nint handle, nint rnnDesc, int pseudoLayer, nuint weightSpaceSize, nint weightSpace,
        int linLayerID, nint mDesc, nint* mAddr, nint bDesc, nint* bAddr);

    // ---------------------------------------------------------------- RNN compute (cudnn_adv.h)
    [LibraryImport(Lib)]
    internal static partial int cudnnRNNForward(nint handle, nint rnnDesc, int fwdMode, nint devSeqLengths,
        nint xDesc, nint x, nint yDesc, nint y, nint hDesc, nint hx, nint hy, nint cDesc, nint cx, nint cy,
        nuint weightSpaceSize, nint weightSpace, nuint workSpaceSize, nint workSpace, nuint reserveSpaceSize, nint reserveSpace);

    [LibraryImport(Lib)]
    internal static partial int cudnnRNNBackwardData_v8(nint handle, nint rnnDesc, nint devSeqLengths,
        nint yDesc, nint y, nint dy, nint xDesc, nint dx, nint hDesc, nint hx, nint dhy, nint dhx, nint cDesc, nint cx, nint dcy, nint dcx,
        nuint weightSpaceSize, nint weightSpace, nuint workSpaceSize, nint workSpace, nuint reserveSpaceSize, nint reserveSpace);

    [LibraryImport(Lib)]
    internal static partial int cudnnRNNBackwardWeights_v8(nint handle, nint rnnDesc, int addGrad, nint devSeqLengths,
        nint xDesc, nint x, nint hDesc, nint hx, nint yDesc, nint y,
        nuint weightSpaceSize, nint dweightSpace, nuint workSpaceSize, nint workSpace, nuint reserveSpaceSize, nint reserveSpace);
}
