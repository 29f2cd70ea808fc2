// The raw entry points of libdnnl.so.2 (oneDNN 2.x C API, signatures from Debian's dnnl.h 2.6.3) and of libgomp
// (the OpenMP runtime Debian's oneDNN threads with). Internal: the public surface is the SafeHandle wrappers in
// DnnlHandles.cs. Enums cross as int; handles as IntPtr; descriptors by pointer.
using System.Runtime.InteropServices;

namespace RnnFast.Bindings.OneDnn;

internal static unsafe partial class DnnlNative
{
    internal const string Lib = "dnnl";

    static DnnlNative() => DnnlLibrary.RegisterResolver();

    // ---------------------------------------------------------------- version, engine, stream
    [LibraryImport(Lib)] internal static partial DnnlVersionNative* dnnl_version();
    [LibraryImport(Lib)] internal static partial int dnnl_engine_create(IntPtr* engine, int kind, nuint index);
    [LibraryImport(Lib)] internal static partial int dnnl_engine_destroy(IntPtr engine);
    [LibraryImport(Lib)] internal static partial int dnnl_stream_create(IntPtr* stream, IntPtr engine, uint flags);
    [LibraryImport(Lib)] internal static partial int dnnl_stream_wait(IntPtr stream);
    [LibraryImport(Lib)] internal static partial int dnnl_stream_destroy(IntPtr stream);

    // ---------------------------------------------------------------- memory descriptors and memory
    [LibraryImport(Lib)] internal static partial int dnnl_memory_desc_init_by_tag(DnnlMemoryDesc* md, int ndims, long* dims, int dataType, int tag);
    [LibraryImport(Lib)] internal static partial int dnnl_memory_desc_init_by_strides(DnnlMemoryDesc* md, int ndims, long* dims, int dataType, long* strides);
    [LibraryImport(Lib)] internal static partial int dnnl_memory_desc_equal(DnnlMemoryDesc* lhs, DnnlMemoryDesc* rhs);
    [LibraryImport(Lib)] internal static partial nuint dnnl_memory_desc_get_size(DnnlMemoryDesc* md);
    [LibraryImport(Lib)] internal static partial int dnnl_memory_create(IntPtr* memory, DnnlMemoryDesc* md, IntPtr engine, void* handle);
    [LibraryImport(Lib)] internal static partial int dnnl_memory_get_data_handle(IntPtr memory, void** handle);
    [LibraryImport(Lib)] internal static partial int dnnl_memory_set_data_handle(IntPtr memory, void* handle);
    [LibraryImport(Lib)] internal static partial int dnnl_memory_destroy(IntPtr memory);

    // ---------------------------------------------------------------- attributes, primitive descriptors, primitives
    [LibraryImport(Lib)] internal static partial int dnnl_primitive_attr_create(IntPtr* attr);
    [LibraryImport(Lib)] internal static partial int dnnl_primitive_attr_set_scratchpad_mode(IntPtr attr, int mode);
    [LibraryImport(Lib)] internal static partial int dnnl_primitive_attr_destroy(IntPtr attr);
    [LibraryImport(Lib)] internal static partial int dnnl_primitive_desc_create(IntPtr* pd, void* opDesc, IntPtr attr, IntPtr engine, IntPtr hintForwardPd);
    [LibraryImport(Lib)] internal static partial int dnnl_primitive_desc_destroy(IntPtr pd);
    [LibraryImport(Lib)] internal static partial int dnnl_primitive_desc_query(IntPtr pd, int what, int index, void* result);
    [LibraryImport(Lib)] internal static partial DnnlMemoryDesc* dnnl_primitive_desc_query_md(IntPtr pd, int what, int index);
    [LibraryImport(Lib)] internal static partial int dnnl_reorder_primitive_desc_create(IntPtr* pd, DnnlMemoryDesc* src, IntPtr srcEngine, DnnlMemoryDesc* dst, IntPtr dstEngine, IntPtr attr);
    [LibraryImport(Lib)] internal static partial int dnnl_primitive_create(IntPtr* primitive, IntPtr pd);
    [LibraryImport(Lib)] internal static partial int dnnl_primitive_execute(IntPtr primitive, IntPtr stream, int nargs, DnnlExecArgNative* args);
    [LibraryImport(Lib)] internal static partial int dnnl_primitive_destroy(IntPtr primitive);

    // ---------------------------------------------------------------- RNN operation descriptors (dnnl_rnn_desc_t*)
    [LibraryImport(Lib)]
    internal static partial int dnnl_vanilla_rnn_forward_desc_init(void* rnnDesc, int propKind, int activation, int direction,
        DnnlMemoryDesc* srcLayer, DnnlMemoryDesc* srcIter, DnnlMemoryDesc* weightsLayer, DnnlMemoryDesc* weightsIter,
        DnnlMemoryDesc* bias, DnnlMemoryDesc* dstLayer, DnnlMemoryDesc* dstIter, uint flags, float alpha, float beta);

    [LibraryImport(Lib)]
    internal static partial int dnnl_vanilla_rnn_backward_desc_init(void* rnnDesc, int propKind, int activation, int direction,
        DnnlMemoryDesc* srcLayer, DnnlMemoryDesc* srcIter, DnnlMemoryDesc* weightsLayer, DnnlMemoryDesc* weightsIter,
        DnnlMemoryDesc* bias, DnnlMemoryDesc* dstLayer, DnnlMemoryDesc* dstIter,
        DnnlMemoryDesc* diffSrcLayer, DnnlMemoryDesc* diffSrcIter, DnnlMemoryDesc* diffWeightsLayer, DnnlMemoryDesc* diffWeightsIter,
        DnnlMemoryDesc* diffBias, DnnlMemoryDesc* diffDstLayer, DnnlMemoryDesc* diffDstIter, uint flags, float alpha, float beta);

    [LibraryImport(Lib)]
    internal static partial int dnnl_lstm_forward_desc_init(void* rnnDesc, int propKind, int direction,
        DnnlMemoryDesc* srcLayer, DnnlMemoryDesc* srcIter, DnnlMemoryDesc* srcIterC, DnnlMemoryDesc* weightsLayer,
        DnnlMemoryDesc* weightsIter, DnnlMemoryDesc* bias, DnnlMemoryDesc* dstLayer, DnnlMemoryDesc* dstIter,
        DnnlMemoryDesc* dstIterC, uint flags);

    [LibraryImport(Lib)]
    internal static partial int dnnl_lstm_forward_desc_init_v3(void* rnnDesc, int propKind, int direction,
        DnnlMemoryDesc* srcLayer, DnnlMemoryDesc* srcIter, DnnlMemoryDesc* srcIterC, DnnlMemoryDesc* weightsLayer,
        DnnlMemoryDesc* weightsIter, DnnlMemoryDesc* weightsPeephole, DnnlMemoryDesc* weightsProjection, DnnlMemoryDesc* bias,
        DnnlMemoryDesc* dstLayer, DnnlMemoryDesc* dstIter, DnnlMemoryDesc* dstIterC, uint flags);

    [LibraryImport(Lib)]
    internal static partial int dnnl_lstm_backward_desc_init(void* rnnDesc, int propKind, int direction,
        DnnlMemoryDesc* srcLayer, DnnlMemoryDesc* srcIter, DnnlMemoryDesc* srcIterC, DnnlMemoryDesc* weightsLayer,
        DnnlMemoryDesc* weightsIter, DnnlMemoryDesc* bias, DnnlMemoryDesc* dstLayer, DnnlMemoryDesc* dstIter, DnnlMemoryDesc* dstIterC,
        DnnlMemoryDesc* diffSrcLayer, DnnlMemoryDesc* diffSrcIter, DnnlMemoryDesc* diffSrcIterC, DnnlMemoryDesc* diffWeightsLayer,
        DnnlMemoryDesc* diffWeightsIter, DnnlMemoryDesc* diffBias, DnnlMemoryDesc* diffDstLayer, DnnlMemoryDesc* diffDstIter,
        DnnlMemoryDesc* diffDstIterC, uint flags);

    [LibraryImport(Lib)]
    internal static partial int dnnl_lstm_backward_desc_init_v3(void* rnnDesc, int propKind, int direction,
        DnnlMemoryDesc* srcLayer, DnnlMemoryDesc* srcIter, DnnlMemoryDesc* srcIterC, DnnlMemoryDesc* weightsLayer,
        DnnlMemoryDesc* weightsIter, DnnlMemoryDesc* weightsPeephole, DnnlMemoryDesc* weightsProjection, DnnlMemoryDesc* bias,
        DnnlMemoryDesc* dstLayer, DnnlMemoryDesc* dstIter, DnnlMemoryDesc* dstIterC,
        DnnlMemoryDesc* diffSrcLayer, DnnlMemoryDesc* diffSrcIter, DnnlMemoryDesc* diffSrcIterC, DnnlMemoryDesc* diffWeightsLayer,
        DnnlMemoryDesc* diffWeightsIter, DnnlMemoryDesc* diffWeightsPeephole, DnnlMemoryDesc* diffWeightsProjection,
        DnnlMemoryDesc* diffBias, DnnlMemoryDesc* diffDstLayer, DnnlMemoryDesc* diffDstIter, DnnlMemoryDesc* diffDstIterC, uint flags);

    [LibraryImport(Lib)]
    internal static partial int dnnl_lbr_gru_forward_desc_init(void* rnnDesc, int propKind, int direction,
        DnnlMemoryDesc* srcLayer, DnnlMemoryDesc* srcIter, DnnlMemoryDesc* weightsLayer, DnnlMemoryDesc* weightsIter,
        DnnlMemoryDesc* bias, DnnlMemoryDesc* dstLayer, DnnlMemoryDesc* dstIter, uint flags);

    [LibraryImport(Lib)]
    internal static partial int dnnl_lbr_gru_backward_desc_init(void* rnnDesc, int propKind, int direction,
        DnnlMemoryDesc* srcLayer, DnnlMemoryDesc* srcIter, DnnlMemoryDesc* weightsLayer, DnnlMemoryDesc* weightsIter,
        DnnlMemoryDesc* bias, DnnlMemoryDesc* dstLayer, DnnlMemoryDesc* dstIter,
        DnnlMemoryDesc* diffSrcLayer, DnnlMemoryDesc* diffSrcIter, DnnlMemoryDesc* diffWeightsLayer, DnnlMemoryDesc* diffWeightsIter,
        DnnlMemoryDesc* diffBias, DnnlMemoryDesc* diffDstLayer, DnnlMemoryDesc* diffDstIter, uint flags);
}

/// <summary>The OpenMP runtime's thread-count calls (Debian's oneDNN uses libgomp).</summary>
internal static partial class GompNative
{
    internal const string Lib = "gomp";

    static GompNative() => DnnlLibrary.RegisterResolver();

    [LibraryImport(Lib)] internal static partial void omp_set_num_threads(int n);
    [LibraryImport(Lib)] internal static partial int omp_get_max_threads();
}
