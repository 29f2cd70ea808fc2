// The oneDNN 2.x C API's value types, with the numbers from Debian's dnnl_types.h (2.6.3): status, data type, format
// tags, propagation kinds, RNN cells and directions, queries, execution-argument ids, and the memory descriptor
// (a 696-byte struct in the 2.x ABI, kept opaque here except for ndims, dims and format_kind).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnFast.Bindings.OneDnn;

/// <summary>dnnl_status_t.</summary>
public enum DnnlStatus
{
    /// <summary>dnnl_success.</summary>
    Success = 0,
    /// <summary>dnnl_out_of_memory.</summary>
    OutOfMemory = 1,
    /// <summary>dnnl_invalid_arguments.</summary>
    InvalidArguments = 2,
    /// <summary>dnnl_unimplemented.</summary>
    Unimplemented = 3,
    /// <summary>dnnl_iterator_ends.</summary>
    IteratorEnds = 4,
    /// <summary>dnnl_runtime_error.</summary>
    RuntimeError = 5,
    /// <summary>dnnl_not_required.</summary>
    NotRequired = 6,
}

/// <summary>dnnl_data_type_t (only f32 is used by RnnFast).</summary>
public enum DnnlDataType
{
    /// <summary>dnnl_data_type_undef.</summary>
    Undef = 0,
    /// <summary>dnnl_f16.</summary>
    F16 = 1,
    /// <summary>dnnl_bf16.</summary>
    BF16 = 2,
    /// <summary>dnnl_f32.</summary>
    F32 = 3,
    /// <summary>dnnl_s32.</summary>
    S32 = 4,
    /// <summary>dnnl_s8.</summary>
    S8 = 5,
    /// <summary>dnnl_u8.</summary>
    U8 = 6,
}

/// <summary>dnnl_format_kind_t.</summary>
public enum DnnlFormatKind
{
    /// <summary>dnnl_format_kind_undef.</summary>
    Undef = 0,
    /// <summary>dnnl_format_kind_any.</summary>
    Any = 1,
    /// <summary>dnnl_blocked.</summary>
    Blocked = 2,
    /// <summary>dnnl_format_kind_wino.</summary>
    Wino = 3,
    /// <summary>dnnl_format_kind_rnn_packed.</summary>
    RnnPacked = 4,
}

/// <summary>dnnl_format_tag_t: the plain tags RNN primitives use (aliases share the value of their abc... tag).</summary>
public enum DnnlFormatTag
{
    /// <summary>dnnl_format_tag_undef.</summary>
    Undef = 0,
    /// <summary>dnnl_format_tag_any: the primitive chooses the layout.</summary>
    Any = 1,
    /// <summary>abc: (T,N,C) time-major RNN data.</summary>
    Tnc = 4,
    /// <summary>abcd: (L,D,N,C) RNN states.</summary>
    Ldnc = 5,
    /// <summary>abcd: (L,D,G,O) RNN bias.</summary>
    Ldgo = 5,
    /// <summary>abcd: (L,D,I,O) projection weights, O innermost.</summary>
    Ldio = 5,
    /// <summary>abdc: (L,D,I,O) projection weights stored O-major (PyTorch's weight_hr).</summary>
    Ldoi = 15,
    /// <summary>abcde: (L,D,I,G,O) RNN weights, O innermost.</summary>
    Ldigo = 7,
    /// <summary>abdec: (L,D,I,G,O) RNN weights stored (G,O,I) per layer and direction (PyTorch's weight_ih).</summary>
    Ldgoi = 16,
    /// <summary>acb: (T,N,C) stored batch-major.</summary>
    Ntc = 23,
}

/// <summary>dnnl_prop_kind_t.</summary>
public enum DnnlPropKind
{
    /// <summary>dnnl_prop_kind_undef.</summary>
    Undef = 0,
    /// <summary>dnnl_forward_training.</summary>
    ForwardTraining = 64,
    /// <summary>dnnl_forward_inference.</summary>
    ForwardInference = 96,
    /// <summary>dnnl_backward.</summary>
    Backward = 128,
    /// <summary>dnnl_backward_data.</summary>
    BackwardData = 160,
    /// <summary>dnnl_backward_weights.</summary>
    BackwardWeights = 192,
}

/// <summary>dnnl_alg_kind_t values used by the RNN primitives (cell kinds and vanilla RNN activations).</summary>
public enum DnnlAlgKind
{
    /// <summary>dnnl_alg_kind_undef.</summary>
    Undef = 0,
    /// <summary>dnnl_eltwise_relu.</summary>
    EltwiseRelu = 0x1f,
    /// <summary>dnnl_eltwise_tanh.</summary>
    EltwiseTanh = 0x2f,
    /// <summary>dnnl_vanilla_rnn.</summary>
    VanillaRnn = 0x1fff,
    /// <summary>dnnl_vanilla_lstm.</summary>
    VanillaLstm = 0x2fff,
    /// <summary>dnnl_vanilla_gru.</summary>
    VanillaGru = 0x3fff,
    /// <summary>dnnl_lbr_gru.</summary>
    LbrGru = 0x4fff,
}

/// <summary>dnnl_rnn_direction_t.</summary>
public enum DnnlRnnDirection
{
    /// <summary>dnnl_unidirectional_left2right.</summary>
    UnidirectionalLeft2Right = 0,
    /// <summary>dnnl_unidirectional_right2left.</summary>
    UnidirectionalRight2Left = 1,
    /// <summary>dnnl_bidirectional_concat.</summary>
    BidirectionalConcat = 2,
    /// <summary>dnnl_bidirectional_sum.</summary>
    BidirectionalSum = 3,
}

/// <summary>dnnl_engine_kind_t.</summary>
public enum DnnlEngineKind
{
    /// <summary>dnnl_any_engine.</summary>
    Any = 0,
    /// <summary>dnnl_cpu.</summary>
    Cpu = 1,
    /// <summary>dnnl_gpu.</summary>
    Gpu = 2,
}

/// <summary>dnnl_scratchpad_mode_t.</summary>
public enum DnnlScratchpadMode
{
    /// <summary>The library owns the scratchpad (primitives then must not migrate between threads).</summary>
    Library = 0,
    /// <summary>The caller passes DNNL_ARG_SCRATCHPAD (primitives may run concurrently with separate scratchpads).</summary>
    User = 1,
}

/// <summary>dnnl_query_t values used here.</summary>
public enum DnnlQuery
{
    /// <summary>dnnl_query_impl_info_str.</summary>
    ImplInfoStr = 8,
    /// <summary>dnnl_query_workspace_md.</summary>
    WorkspaceMd = 135,
    /// <summary>dnnl_query_scratchpad_md.</summary>
    ScratchpadMd = 136,
    /// <summary>dnnl_query_exec_arg_md.</summary>
    ExecArgMd = 255,
}

/// <summary>DNNL_ARG_* execution-argument ids.</summary>
public static class DnnlArg
{
    /// <summary>DNNL_ARG_SRC (= DNNL_ARG_SRC_LAYER: x), DNNL_ARG_SRC_ITER (h0), DNNL_ARG_SRC_ITER_C (c0).</summary>
    public const int Src = 1, SrcLayer = 1, SrcIter = 2, SrcIterC = 3;
    /// <summary>DNNL_ARG_DST (= DNNL_ARG_DST_LAYER: y), DNNL_ARG_DST_ITER (h_n), DNNL_ARG_DST_ITER_C (c_n).</summary>
    public const int Dst = 17, DstLayer = 17, DstIter = 18, DstIterC = 19;
    /// <summary>DNNL_ARG_FROM and DNNL_ARG_TO: the source and destination of a reorder.</summary>
    public const int From = 1, To = 17;
    /// <summary>DNNL_ARG_WEIGHTS_LAYER (W_ih), _ITER (W_hh), _PEEPHOLE, _PROJECTION (W_hr) and DNNL_ARG_BIAS.</summary>
    public const int WeightsLayer = 33, WeightsIter = 34, WeightsPeephole = 35, WeightsProjection = 36, Bias = 41;
    /// <summary>DNNL_ARG_WORKSPACE (what a training forward keeps for backward) and DNNL_ARG_SCRATCHPAD.</summary>
    public const int Workspace = 64, Scratchpad = 80;
    /// <summary>DNNL_ARG_DIFF_SRC_LAYER (dX), DNNL_ARG_DIFF_SRC_ITER (dh0), DNNL_ARG_DIFF_SRC_ITER_C (dc0).</summary>
    public const int DiffSrcLayer = 129, DiffSrcIter = 130, DiffSrcIterC = 131;
    /// <summary>DNNL_ARG_DIFF_DST_LAYER (dY), DNNL_ARG_DIFF_DST_ITER (dh_n), DNNL_ARG_DIFF_DST_ITER_C (dc_n).</summary>
    public const int DiffDstLayer = 145, DiffDstIter = 146, DiffDstIterC = 147;
    /// <summary>DNNL_ARG_DIFF_WEIGHTS_LAYER, _ITER, _PEEPHOLE, _PROJECTION: the weight gradients.</summary>
    public const int DiffWeightsLayer = 161, DiffWeightsIter = 162, DiffWeightsPeephole = 163, DiffWeightsProjection = 164;
    /// <summary>DNNL_ARG_DIFF_BIAS: the bias gradient.</summary>
    public const int DiffBias = 169;
}

/// <summary>
/// dnnl_memory_desc_t of the oneDNN 2.x ABI: 696 bytes, copied by value. Build one with <see cref="ByTag"/> or get one
/// from a primitive descriptor; the default value is the zero descriptor ("not used").
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = NativeSize)]
public unsafe struct DnnlMemoryDesc : IEquatable<DnnlMemoryDesc>
{
    /// <summary>sizeof(dnnl_memory_desc_t) in oneDNN 2.x.</summary>
    public const int NativeSize = 696;
    private const int DimsOffset = 8, FormatKindOffset = 312, MaxDims = 12;

    private fixed byte _bytes[NativeSize];

    /// <summary>Number of dimensions (0 for the zero descriptor).</summary>
    public readonly int NDims
    {
        get
        {
            fixed (byte* p = _bytes) return *(int*)p;
        }
    }

    /// <summary>True for the zero descriptor (an absent argument).</summary>
    public readonly bool IsZero => NDims == 0;

    /// <summary>The logical dimensions.</summary>
    public readonly long[] Dims
    {
        get
        {
            fixed (byte* p = _bytes)
            {
                int n = Math.Min(*(int*)p, MaxDims);
                var dims = new long[n];
                for (int i = 0; i < n; i++) dims[i] = ((long*)(p + DimsOffset))[i];
                return dims;
            }
        }
    }

    /// <summary>How the memory is laid out (blocked, RNN-packed, ...).</summary>
    public readonly DnnlFormatKind FormatKind
    {
        get
        {
            fixed (byte* p = _bytes) return (DnnlFormatKind)(*(int*)(p + FormatKindOffset));
        }
    }

    /// <summary>Bytes of memory this descriptor needs (dnnl_memory_desc_get_size).</summary>
    public readonly long ByteSize
    {
        get
        {
            fixed (byte* p = _bytes) return (long)DnnlNative.dnnl_memory_desc_get_size((DnnlMemoryDesc*)p);
        }
    }

    /// <summary>dnnl_memory_desc_init_by_tag: a descriptor of <paramref name="dims"/> in layout <paramref name="tag"/>.</summary>
    public static DnnlMemoryDesc ByTag(ReadOnlySpan<long> dims, DnnlFormatTag tag, DnnlDataType dataType = DnnlDataType.F32)
    {
        if (dims.Length is 0 or > MaxDims) throw new ArgumentException($"dims: 1..{MaxDims} dimensions, got {dims.Length}", nameof(dims));
        var md = default(DnnlMemoryDesc);
        long* d = stackalloc long[MaxDims];
        for (int i = 0; i < dims.Length; i++) d[i] = dims[i];
        DnnlException.Check(DnnlNative.dnnl_memory_desc_init_by_tag(&md, dims.Length, d, (int)dataType, (int)tag),
            "dnnl_memory_desc_init_by_tag");
        return md;
    }

    /// <summary>dnnl_memory_desc_init_by_strides: a descriptor of <paramref name="dims"/> with element strides.</summary>
    public static DnnlMemoryDesc ByStrides(ReadOnlySpan<long> dims, ReadOnlySpan<long> strides, DnnlDataType dataType = DnnlDataType.F32)
    {
        if (dims.Length is 0 or > MaxDims || strides.Length != dims.Length)
            throw new ArgumentException($"dims/strides: 1..{MaxDims} dimensions with one stride each, got {dims.Length} and {strides.Length}", nameof(strides));
        var md = default(DnnlMemoryDesc);
        long* d = stackalloc long[MaxDims];
        long* s = stackalloc long[MaxDims];
        for (int i = 0; i < dims.Length; i++)
        {
            d[i] = dims[i];
            s[i] = strides[i];
        }
        DnnlException.Check(DnnlNative.dnnl_memory_desc_init_by_strides(&md, dims.Length, d, (int)dataType, s),
            "dnnl_memory_desc_init_by_strides");
        return md;
    }

    /// <summary>dnnl_memory_desc_equal.</summary>
    public readonly bool Equals(DnnlMemoryDesc other)
    {
        fixed (byte* a = _bytes)
            return DnnlNative.dnnl_memory_desc_equal((DnnlMemoryDesc*)a, &other) != 0;
    }

    /// <inheritdoc/>
    public override readonly bool Equals(object? obj) => obj is DnnlMemoryDesc d && Equals(d);

    /// <inheritdoc/>
    public override readonly int GetHashCode() => HashCode.Combine(NDims, FormatKind, ByteSize);

    /// <summary>True when both describe the same memory (dnnl_memory_desc_equal).</summary>
    public static bool operator ==(DnnlMemoryDesc a, DnnlMemoryDesc b) => a.Equals(b);

    /// <summary>True when the descriptors differ (dnnl_memory_desc_equal).</summary>
    public static bool operator !=(DnnlMemoryDesc a, DnnlMemoryDesc b) => !a.Equals(b);

    /// <inheritdoc/>
    public override readonly string ToString() =>
        IsZero ? "md(zero)" : $"md({string.Join('x', Dims)}, {FormatKind}, {ByteSize} B)";

    internal static DnnlMemoryDesc FromPointer(DnnlMemoryDesc* p) => p == null ? default : Unsafe.Read<DnnlMemoryDesc>(p);
}

/// <summary>dnnl_version_t.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DnnlVersionNative
{
    public int Major, Minor, Patch;
    public IntPtr Hash;
    public uint CpuRuntime, GpuRuntime;
}

/// <summary>dnnl_exec_arg_t.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DnnlExecArgNative
{
    public int Arg;
    public IntPtr Memory;
}

/// <summary>One execution argument: an argument id (<see cref="DnnlArg"/>) and the memory bound to it.</summary>
public readonly record struct DnnlExecArg(int Arg, DnnlMemory Memory);
