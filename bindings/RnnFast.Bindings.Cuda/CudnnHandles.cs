// SafeHandle wrappers of cuDNN's objects, named like ManagedCuda.CudaDNN's: the library context (cudnnHandle_t), tensor
// descriptors, the dropout descriptor, RNN descriptors and RNN data descriptors, with the RNN API's calls as methods.
// Every status is checked (CudnnException names the call and the status). Descriptors hold a reference to the handle
// they were made for, so the context outlives them; releases make that context current first.
namespace RnnFast.Bindings.Cuda;

/// <summary>cudnnHandle_t (cudnnCreate / cudnnDestroy), created in a context and bound to a stream.</summary>
public sealed class CudnnContext : CudaHandle
{
    private CudnnContext() { }

    /// <summary>cudnnCreate with <paramref name="context"/> current (the handle belongs to that context's device).</summary>
    public static unsafe CudnnContext Create(CudaContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.MakeCurrent();
        nint h;
        CudnnException.Check(CudnnNative.cudnnCreate(&h), "cudnnCreate");
        var c = new CudnnContext();
        c.Attach(h, context);
        return c;
    }

    /// <summary>cudnnGetVersion: e.g. 91000 for 9.10.0 (8xxx for cuDNN 8: major*1000 + minor*100 + patch).</summary>
    public static long Version() => (long)CudnnNative.cudnnGetVersion();

    /// <summary>cudnnSetStream: every later call on this handle is queued on <paramref name="stream"/>.</summary>
    public void SetStream(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        CudnnException.Check(CudnnNative.cudnnSetStream(Raw, stream.Stream), "cudnnSetStream");
    }

    /// <inheritdoc/>
    protected override int Destroy(nint value)
    {
        TryMakeContextCurrent();
        return CudnnNative.cudnnDestroy(value);
    }
}

/// <summary>cudnnTensorDescriptor_t: an N-d float tensor's dims and strides (RNN hidden/cell states, weight-matrix queries).</summary>
public sealed class TensorDescriptor : CudaHandle
{
    private TensorDescriptor() { }

    /// <summary>cudnnCreateTensorDescriptor.</summary>
    public static unsafe TensorDescriptor Create(CudnnContext owner)
    {
        nint d;
        CudnnException.Check(CudnnNative.cudnnCreateTensorDescriptor(&d), "cudnnCreateTensorDescriptor");
        var t = new TensorDescriptor();
        t.Attach(d, owner);
        return t;
    }

    /// <summary>cudnnSetTensorNdDescriptor.</summary>
    public unsafe void SetNd(CudnnDataType type, ReadOnlySpan<int> dims, ReadOnlySpan<int> strides)
    {
        if (dims.Length != strides.Length) throw new ArgumentException($"dims ({dims.Length}) and strides ({strides.Length}) differ in rank");
        fixed (int* d = dims, s = strides)
            CudnnException.Check(CudnnNative.cudnnSetTensorNdDescriptor(Raw, (int)type, dims.Length, d, s), "cudnnSetTensorNdDescriptor",
                $"dims ({string.Join(",", dims.ToArray())}) strides ({string.Join(",", strides.ToArray())})");
    }

    /// <summary>cudnnGetTensorNdDescriptor (up to 8 dims). A descriptor cuDNN left empty reports rank 0.</summary>
    public unsafe (CudnnDataType Type, int[] Dims, int[] Strides) GetNd()
    {
        const int max = 8;
        int type, nb;
        int* d = stackalloc int[max];
        int* s = stackalloc int[max];
        CudnnException.Check(CudnnNative.cudnnGetTensorNdDescriptor(Raw, max, &type, &nb, d, s), "cudnnGetTensorNdDescriptor");
        nb = Math.Clamp(nb, 0, max);
        return ((CudnnDataType)type, new ReadOnlySpan<int>(d, nb).ToArray(), new ReadOnlySpan<int>(s, nb).ToArray());
    }

    /// <inheritdoc/>
    protected override int Destroy(nint value)
    {
        TryMakeContextCurrent();
        return CudnnNative.cudnnDestroyTensorDescriptor(value);
    }
}

/// <summary>cudnnDropoutDescriptor_t. RnnFast's RNN plans use no dropout inside the stack (dropout 0, no RNG states).</summary>
public sealed class DropoutDescriptor : CudaHandle
{
    private DropoutDescriptor() { }

    /// <summary>cudnnCreateDropoutDescriptor + cudnnSetDropoutDescriptor(handle, 0, NULL, 0, 0): no dropout, so no RNG state is needed.</summary>
    public static unsafe DropoutDescriptor CreateNoDropout(CudnnContext owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        nint d;
        CudnnException.Check(CudnnNative.cudnnCreateDropoutDescriptor(&d), "cudnnCreateDropoutDescriptor");
        var h = new DropoutDescriptor();
        h.Attach(d, owner);
        CudnnException.Check(CudnnNative.cudnnSetDropoutDescriptor(d, owner.Raw, 0f, null, 0, 0), "cudnnSetDropoutDescriptor", "dropout 0");
        return h;
    }

    /// <inheritdoc/>
    protected override int Destroy(nint value)
    {
        TryMakeContextCurrent();
        return CudnnNative.cudnnDestroyDropoutDescriptor(value);
    }
}

/// <summary>The arguments of cudnnSetRNNDescriptor_v8, in the header's order.</summary>
public readonly record struct RnnDescriptorSettings(
    CudnnRnnAlgo Algo,
    CudnnRnnMode CellMode,
    CudnnRnnBiasMode BiasMode,
    CudnnDirectionMode DirMode,
    CudnnRnnInputMode InputMode,
    CudnnDataType DataType,
    CudnnDataType MathPrec,
    CudnnMathType MathType,
    int InputSize,
    int HiddenSize,
    int ProjSize,
    int NumLayers,
    CudnnRnnAuxFlags AuxFlags);

/// <summary>cudnnRNNDescriptor_t with the v8 RNN API's calls (sizes, weight parameters, forward, backward data and weights).</summary>
public sealed class RnnDescriptor : CudaHandle
{
    private CudnnContext _owner = null!;

    private RnnDescriptor() { }

    /// <summary>cudnnCreateRNNDescriptor, then cudnnSetRNNDescriptor_v8 with <paramref name="s"/> and <paramref name="dropout"/>.</summary>
    public static unsafe RnnDescriptor Create(CudnnContext owner, in RnnDescriptorSettings s, DropoutDescriptor dropout)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(dropout);
        nint d;
        CudnnException.Check(CudnnNative.cudnnCreateRNNDescriptor(&d), "cudnnCreateRNNDescriptor");
        var h = new RnnDescriptor { _owner = owner };
        h.Attach(d, dropout); // the descriptor keeps the dropout descriptor's pointer: keep it (and through it the handle) alive
        CudnnException.Check(CudnnNative.cudnnSetRNNDescriptor_v8(d, (int)s.Algo, (int)s.CellMode, (int)s.BiasMode, (int)s.DirMode,
            (int)s.InputMode, (int)s.DataType, (int)s.MathPrec, (int)s.MathType, s.InputSize, s.HiddenSize, s.ProjSize, s.NumLayers,
            dropout.Raw, (uint)s.AuxFlags), "cudnnSetRNNDescriptor_v8", s.ToString());
        return h;
    }

    /// <summary>cudnnGetRNNWeightSpaceSize, in bytes.</summary>
    public unsafe long WeightSpaceSize()
    {
        nuint size;
        CudnnException.Check(CudnnNative.cudnnGetRNNWeightSpaceSize(_owner.Raw, Raw, &size), "cudnnGetRNNWeightSpaceSize");
        return (long)size;
    }

    /// <summary>cudnnGetRNNTempSpaceSizes for <paramref name="x"/>'s shape: workspace and reserve-space bytes.</summary>
    public unsafe (long WorkSpace, long ReserveSpace) TempSpaceSizes(CudnnForwardMode mode, RnnDataDescriptor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        nuint work, reserve;
        CudnnException.Check(CudnnNative.cudnnGetRNNTempSpaceSizes(_owner.Raw, Raw, (int)mode, x.Raw, &work, &reserve),
            "cudnnGetRNNTempSpaceSizes", mode.ToString());
        return ((long)work, (long)reserve);
    }

    /// <summary>
    /// cudnnGetRNNWeightParams: where matrix/bias <paramref name="linLayerId"/> of <paramref name="pseudoLayer"/> lives in a
    /// weight space at <paramref name="weightSpace"/> (addresses are computed, nothing is read), with its shape written
    /// into <paramref name="matrixDesc"/> and <paramref name="biasDesc"/>. A pointer is 0 where that part does not exist.
    /// </summary>
    public unsafe (nint Matrix, nint Bias) WeightParams(int pseudoLayer, nint weightSpace, long weightSpaceSize, int linLayerId,
        TensorDescriptor matrixDesc, TensorDescriptor biasDesc)
    {
        ArgumentNullException.ThrowIfNull(matrixDesc);
        ArgumentNullException.ThrowIfNull(biasDesc);
        nint m = 0, b = 0;
        CudnnException.Check(CudnnNative.cudnnGetRNNWeightParams(_owner.Raw, Raw, pseudoLayer, (nuint)weightSpaceSize, weightSpace, linLayerId,
            matrixDesc.Raw, &m, biasDesc.Raw, &b), "cudnnGetRNNWeightParams", $"pseudoLayer {pseudoLayer}, linLayerID {linLayerId}");
        return (m, b);
    }

    /// <summary>cudnnRNNForward (device pointers; hx/cx/cy/reserve may be 0 where the header allows NULL).</summary>
    public void Forward(CudnnForwardMode mode, nint devSeqLengths, RnnDataDescriptor xDesc, nint x, RnnDataDescriptor yDesc, nint y,
        TensorDescriptor hDesc, nint hx, nint hy, TensorDescriptor cDesc, nint cx, nint cy,
        long weightSpaceSize, nint weightSpace, long workSpaceSize, nint workSpace, long reserveSpaceSize, nint reserveSpace)
    {
        CudnnException.Check(CudnnNative.cudnnRNNForward(_owner.Raw, Raw, (int)mode, devSeqLengths, xDesc.Raw, x, yDesc.Raw, y,
            hDesc.Raw, hx, hy, cDesc.Raw, cx, cy, (nuint)weightSpaceSize, weightSpace, (nuint)workSpaceSize, workSpace,
            (nuint)reserveSpaceSize, reserveSpace), "cudnnRNNForward", mode.ToString());
    }

    /// <summary>cudnnRNNBackwardData_v8.</summary>
    public void BackwardData(nint devSeqLengths, RnnDataDescriptor yDesc, nint y, nint dy, RnnDataDescriptor xDesc, nint dx,
        TensorDescriptor hDesc, nint hx, nint dhy, nint dhx, TensorDescriptor cDesc, nint cx, nint dcy, nint dcx,
        long weightSpaceSize, nint weightSpace, long workSpaceSize, nint workSpace, long reserveSpaceSize, nint reserveSpace)
    {
        CudnnException.Check(CudnnNative.cudnnRNNBackwardData_v8(_owner.Raw, Raw, devSeqLengths, yDesc.Raw, y, dy, xDesc.Raw, dx,
            hDesc.Raw, hx, dhy, dhx, cDesc.Raw, cx, dcy, dcx, (nuint)weightSpaceSize, weightSpace, (nuint)workSpaceSize, workSpace,
            (nuint)reserveSpaceSize, reserveSpace), "cudnnRNNBackwardData_v8");
    }

    /// <summary>cudnnRNNBackwardWeights_v8: with <see cref="CudnnWgradMode.Add"/> the gradients are added into <paramref name="dweightSpace"/>.</summary>
    public void BackwardWeights(CudnnWgradMode mode, nint devSeqLengths, RnnDataDescriptor xDesc, nint x, TensorDescriptor hDesc, nint hx,
        RnnDataDescriptor yDesc, nint y, long weightSpaceSize, nint dweightSpace, long workSpaceSize, nint workSpace,
        long reserveSpaceSize, nint reserveSpace)
    {
        CudnnException.Check(CudnnNative.cudnnRNNBackwardWeights_v8(_owner.Raw, Raw, (int)mode, devSeqLengths, xDesc.Raw, x, hDesc.Raw, hx,
            yDesc.Raw, y, (nuint)weightSpaceSize, dweightSpace, (nuint)workSpaceSize, workSpace, (nuint)reserveSpaceSize, reserveSpace),
            "cudnnRNNBackwardWeights_v8", mode.ToString());
    }

    /// <inheritdoc/>
    protected override int Destroy(nint value)
    {
        TryMakeContextCurrent();
        return CudnnNative.cudnnDestroyRNNDescriptor(value);
    }
}

/// <summary>cudnnRNNDataDescriptor_t: a (T, N, C) sequence batch with per-sequence lengths.</summary>
public sealed class RnnDataDescriptor : CudaHandle
{
    private RnnDataDescriptor() { }

    /// <summary>cudnnCreateRNNDataDescriptor + cudnnSetRNNDataDescriptor (float data; <paramref name="paddingFill"/> is read from host memory).</summary>
    public static unsafe RnnDataDescriptor Create(CudnnContext owner, CudnnRnnDataLayout layout, int maxSeqLength, int batchSize, int vectorSize,
        ReadOnlySpan<int> seqLengths, float paddingFill)
    {
        if (seqLengths.Length != batchSize)
            throw new ArgumentException($"seqLengths: {seqLengths.Length} entries for a batch of {batchSize}", nameof(seqLengths));
        nint d;
        CudnnException.Check(CudnnNative.cudnnCreateRNNDataDescriptor(&d), "cudnnCreateRNNDataDescriptor");
        var h = new RnnDataDescriptor();
        h.Attach(d, owner);
        float fill = paddingFill;
        fixed (int* lengths = seqLengths)
            CudnnException.Check(CudnnNative.cudnnSetRNNDataDescriptor(d, (int)CudnnDataType.Float, (int)layout, maxSeqLength, batchSize, vectorSize,
                lengths, &fill), "cudnnSetRNNDataDescriptor", $"{layout} T={maxSeqLength} N={batchSize} C={vectorSize}");
        return h;
    }

    /// <inheritdoc/>
    protected override int Destroy(nint value)
    {
        TryMakeContextCurrent();
        return CudnnNative.cudnnDestroyRNNDataDescriptor(value);
    }
}
