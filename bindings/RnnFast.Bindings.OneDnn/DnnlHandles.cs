// SafeHandle wrappers of oneDNN's objects: engine, stream, memory, primitive attributes, primitive descriptors and
// primitives, plus the RNN operation descriptor. A handle that depends on another (memory on its engine, a primitive
// on its descriptor's engine) holds a reference to it, so release order is always child first.
using System.Runtime.InteropServices;
using RnnFast.Native;

namespace RnnFast.Bindings.OneDnn;

/// <summary>Base of every oneDNN handle: owns one native object and keeps the handle it depends on alive.</summary>
public abstract class DnnlHandle : DependentHandle
{
    private protected DnnlHandle() { }

    /// <summary>The native object (valid while this handle is alive).</summary>
    internal IntPtr Raw => handle;
}

/// <summary>dnnl_engine_t.</summary>
public sealed class DnnlEngine : DnnlHandle
{
    private DnnlEngine() { }

    /// <summary>dnnl_engine_create(kind, index).</summary>
    public static unsafe DnnlEngine Create(DnnlEngineKind kind = DnnlEngineKind.Cpu, int index = 0)
    {
        IntPtr e;
        DnnlException.Check(DnnlNative.dnnl_engine_create(&e, (int)kind, (nuint)index), "dnnl_engine_create", $"{kind} engine {index}");
        var h = new DnnlEngine();
        h.Attach(e, null);
        return h;
    }

    /// <inheritdoc/>
    protected override int Destroy(IntPtr value) => DnnlNative.dnnl_engine_destroy(value);
}

/// <summary>dnnl_stream_t (in-order).</summary>
public sealed class DnnlStream : DnnlHandle
{
    private DnnlStream() { }

    /// <summary>dnnl_stream_create with the default (in-order) flags.</summary>
    public static unsafe DnnlStream Create(DnnlEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        IntPtr s;
        DnnlException.Check(DnnlNative.dnnl_stream_create(&s, engine.Raw, 1u), "dnnl_stream_create");
        var h = new DnnlStream();
        h.Attach(s, engine);
        return h;
    }

    /// <summary>dnnl_stream_wait: blocks until everything submitted to the stream has finished.</summary>
    public void Wait() => DnnlException.Check(DnnlNative.dnnl_stream_wait(Raw), "dnnl_stream_wait");

    /// <inheritdoc/>
    protected override int Destroy(IntPtr value) => DnnlNative.dnnl_stream_destroy(value);
}

/// <summary>dnnl_memory_t: a descriptor plus a buffer (the library's, or one the caller points it at).</summary>
public sealed class DnnlMemory : DnnlHandle
{
    private DnnlMemory() { }

    /// <summary>The descriptor this memory was created with.</summary>
    public DnnlMemoryDesc Desc { get; private set; }

    /// <summary>dnnl_memory_create with DNNL_MEMORY_ALLOCATE: the library owns the buffer.</summary>
    public static unsafe DnnlMemory Allocate(in DnnlMemoryDesc desc, DnnlEngine engine) => Create(desc, engine, (void*)(nint)(-1));

    /// <summary>dnnl_memory_create without a buffer (DNNL_MEMORY_NONE): set one with <see cref="SetDataHandle"/> before use.</summary>
    public static unsafe DnnlMemory CreateUnbound(in DnnlMemoryDesc desc, DnnlEngine engine) => Create(desc, engine, null);

    /// <summary>dnnl_memory_create over the caller's buffer, which must outlive every use of this memory.</summary>
    public static unsafe DnnlMemory Create(in DnnlMemoryDesc desc, DnnlEngine engine, void* buffer)
    {
        ArgumentNullException.ThrowIfNull(engine);
        IntPtr m;
        var d = desc;
        DnnlException.Check(DnnlNative.dnnl_memory_create(&m, &d, engine.Raw, buffer), "dnnl_memory_create", d.ToString());
        var h = new DnnlMemory { Desc = d };
        h.Attach(m, engine);
        return h;
    }

    /// <summary>dnnl_memory_get_data_handle: for the CPU engine, the buffer's address.</summary>
    public unsafe void* GetDataHandle()
    {
        void* p;
        DnnlException.Check(DnnlNative.dnnl_memory_get_data_handle(Raw, &p), "dnnl_memory_get_data_handle");
        return p;
    }

    /// <summary>dnnl_memory_set_data_handle: points this memory at another buffer (not thread-safe on one object).</summary>
    public unsafe void SetDataHandle(void* buffer) =>
        DnnlException.Check(DnnlNative.dnnl_memory_set_data_handle(Raw, buffer), "dnnl_memory_set_data_handle");

    /// <inheritdoc/>
    protected override int Destroy(IntPtr value) => DnnlNative.dnnl_memory_destroy(value);
}

/// <summary>dnnl_primitive_attr_t.</summary>
public sealed class DnnlPrimitiveAttr : DnnlHandle
{
    private DnnlPrimitiveAttr() { }

    /// <summary>dnnl_primitive_attr_create.</summary>
    public static unsafe DnnlPrimitiveAttr Create()
    {
        IntPtr a;
        DnnlException.Check(DnnlNative.dnnl_primitive_attr_create(&a), "dnnl_primitive_attr_create");
        var h = new DnnlPrimitiveAttr();
        h.Attach(a, null);
        return h;
    }

    /// <summary>dnnl_primitive_attr_set_scratchpad_mode.</summary>
    public void SetScratchpadMode(DnnlScratchpadMode mode) =>
        DnnlException.Check(DnnlNative.dnnl_primitive_attr_set_scratchpad_mode(Raw, (int)mode), "dnnl_primitive_attr_set_scratchpad_mode");

    /// <inheritdoc/>
    protected override int Destroy(IntPtr value) => DnnlNative.dnnl_primitive_attr_destroy(value);
}

/// <summary>dnnl_primitive_desc_t: the implementation oneDNN chose for an operation, with its memory descriptors.</summary>
public sealed class DnnlPrimitiveDesc : DnnlHandle
{
    private DnnlPrimitiveDesc() { }

    /// <summary>dnnl_primitive_desc_create for an operation descriptor (e.g. <see cref="DnnlRnnDesc"/>).</summary>
    public static unsafe DnnlPrimitiveDesc Create(DnnlRnnDesc op, DnnlEngine engine, DnnlPrimitiveAttr? attr = null, DnnlPrimitiveDesc? hintForward = null)
    {
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(engine);
        IntPtr pd;
        int status;
        fixed (byte* o = op.Bytes)
            status = DnnlNative.dnnl_primitive_desc_create(&pd, o, attr?.Raw ?? IntPtr.Zero, engine.Raw, hintForward?.Raw ?? IntPtr.Zero);
        GC.KeepAlive(attr);
        GC.KeepAlive(hintForward);
        DnnlException.Check(status, "dnnl_primitive_desc_create", op.Describe);
        var h = new DnnlPrimitiveDesc();
        h.Attach(pd, engine);
        return h;
    }

    /// <summary>dnnl_reorder_primitive_desc_create: copies <paramref name="src"/>'s layout into <paramref name="dst"/>'s.</summary>
    public static unsafe DnnlPrimitiveDesc CreateReorder(in DnnlMemoryDesc src, in DnnlMemoryDesc dst, DnnlEngine engine, DnnlPrimitiveAttr? attr = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        IntPtr pd;
        var s = src;
        var d = dst;
        int status = DnnlNative.dnnl_reorder_primitive_desc_create(&pd, &s, engine.Raw, &d, engine.Raw, attr?.Raw ?? IntPtr.Zero);
        GC.KeepAlive(attr);
        DnnlException.Check(status, "dnnl_reorder_primitive_desc_create", $"{s} -> {d}");
        var h = new DnnlPrimitiveDesc();
        h.Attach(pd, engine);
        return h;
    }

    /// <summary>dnnl_primitive_desc_query_md(exec_arg_md, arg): the descriptor of execution argument <paramref name="arg"/> (zero when unused).</summary>
    public unsafe DnnlMemoryDesc ArgDesc(int arg) => DnnlMemoryDesc.FromPointer(DnnlNative.dnnl_primitive_desc_query_md(Raw, (int)DnnlQuery.ExecArgMd, arg));

    /// <summary>dnnl_primitive_desc_query_md for <paramref name="what"/> (e.g. workspace, scratchpad); zero when not needed.</summary>
    public unsafe DnnlMemoryDesc QueryMd(DnnlQuery what, int index = 0) => DnnlMemoryDesc.FromPointer(DnnlNative.dnnl_primitive_desc_query_md(Raw, (int)what, index));

    /// <summary>The implementation's name (dnnl_query_impl_info_str), e.g. "brgemm" or "ref".</summary>
    public unsafe string ImplInfo
    {
        get
        {
            byte* s = null;
            DnnlException.Check(DnnlNative.dnnl_primitive_desc_query(Raw, (int)DnnlQuery.ImplInfoStr, 0, &s), "dnnl_primitive_desc_query", "impl_info_str");
            return Marshal.PtrToStringUTF8((IntPtr)s) ?? "";
        }
    }

    /// <inheritdoc/>
    protected override int Destroy(IntPtr value) => DnnlNative.dnnl_primitive_desc_destroy(value);
}

/// <summary>dnnl_primitive_t: an executable operation.</summary>
public sealed class DnnlPrimitive : DnnlHandle
{
    private DnnlPrimitive() { }

    /// <summary>dnnl_primitive_create.</summary>
    public static unsafe DnnlPrimitive Create(DnnlPrimitiveDesc pd)
    {
        ArgumentNullException.ThrowIfNull(pd);
        IntPtr p;
        DnnlException.Check(DnnlNative.dnnl_primitive_create(&p, pd.Raw), "dnnl_primitive_create");
        var h = new DnnlPrimitive();
        h.Attach(p, pd);
        return h;
    }

    /// <summary>dnnl_primitive_execute with the given arguments (CPU streams run it synchronously).</summary>
    public unsafe void Execute(DnnlStream stream, ReadOnlySpan<DnnlExecArg> args)
    {
        ArgumentNullException.ThrowIfNull(stream);
        const int MaxArgs = 32;
        if (args.Length > MaxArgs) throw new ArgumentException($"args: at most {MaxArgs}, got {args.Length}", nameof(args));
        var native = stackalloc DnnlExecArgNative[args.Length];
        for (int i = 0; i < args.Length; i++)
        {
            native[i].Arg = args[i].Arg;
            native[i].Memory = args[i].Memory.Raw;
        }
        int status = DnnlNative.dnnl_primitive_execute(Raw, stream.Raw, args.Length, native);
        for (int i = 0; i < args.Length; i++) GC.KeepAlive(args[i].Memory);
        GC.KeepAlive(stream);
        DnnlException.Check(status, "dnnl_primitive_execute");
    }

    /// <inheritdoc/>
    protected override int Destroy(IntPtr value) => DnnlNative.dnnl_primitive_destroy(value);
}

/// <summary>
/// dnnl_rnn_desc_t (15344 bytes in the 2.x ABI): an RNN operation described by cell, propagation kind, direction and
/// memory descriptors. Absent (zero) descriptors are passed as NULL, which oneDNN reads as "not used" (zeros).
/// </summary>
public sealed unsafe class DnnlRnnDesc
{
    /// <summary>sizeof(dnnl_rnn_desc_t) in oneDNN 2.x.</summary>
    public const int NativeSize = 15344;

    private DnnlRnnDesc(string describe) => Describe = describe;

    internal byte[] Bytes { get; } = new byte[NativeSize];

    /// <summary>What this descriptor is, for error messages.</summary>
    public string Describe { get; }

    private static DnnlMemoryDesc* P(DnnlMemoryDesc* p) => p->IsZero ? null : p;

    /// <summary>dnnl_vanilla_rnn_forward_desc_init.</summary>
    public static DnnlRnnDesc VanillaForward(DnnlPropKind prop, DnnlAlgKind activation, DnnlRnnDirection dir,
        DnnlMemoryDesc srcLayer, DnnlMemoryDesc srcIter, DnnlMemoryDesc weightsLayer, DnnlMemoryDesc weightsIter,
        DnnlMemoryDesc bias, DnnlMemoryDesc dstLayer, DnnlMemoryDesc dstIter, float alpha = 0)
    {
        var r = new DnnlRnnDesc($"vanilla RNN {prop} {activation} {dir} src {srcLayer} dst {dstLayer}");
        fixed (byte* o = r.Bytes)
            DnnlException.Check(DnnlNative.dnnl_vanilla_rnn_forward_desc_init(o, (int)prop, (int)activation, (int)dir,
                P(&srcLayer), P(&srcIter), P(&weightsLayer), P(&weightsIter), P(&bias), P(&dstLayer), P(&dstIter), 0, alpha, 0),
                "dnnl_vanilla_rnn_forward_desc_init", r.Describe);
        return r;
    }

    /// <summary>dnnl_vanilla_rnn_backward_desc_init.</summary>
    public static DnnlRnnDesc VanillaBackward(DnnlAlgKind activation, DnnlRnnDirection dir,
        DnnlMemoryDesc srcLayer, DnnlMemoryDesc srcIter, DnnlMemoryDesc weightsLayer, DnnlMemoryDesc weightsIter,
        DnnlMemoryDesc bias, DnnlMemoryDesc dstLayer, DnnlMemoryDesc dstIter,
        DnnlMemoryDesc diffSrcLayer, DnnlMemoryDesc diffSrcIter, DnnlMemoryDesc diffWeightsLayer, DnnlMemoryDesc diffWeightsIter,
        DnnlMemoryDesc diffBias, DnnlMemoryDesc diffDstLayer, DnnlMemoryDesc diffDstIter, float alpha = 0)
    {
        var r = new DnnlRnnDesc($"vanilla RNN backward {activation} {dir} src {srcLayer} dst {dstLayer}");
        fixed (byte* o = r.Bytes)
            DnnlException.Check(DnnlNative.dnnl_vanilla_rnn_backward_desc_init(o, (int)DnnlPropKind.Backward, (int)activation, (int)dir,
                P(&srcLayer), P(&srcIter), P(&weightsLayer), P(&weightsIter), P(&bias), P(&dstLayer), P(&dstIter),
                P(&diffSrcLayer), P(&diffSrcIter), P(&diffWeightsLayer), P(&diffWeightsIter), P(&diffBias), P(&diffDstLayer), P(&diffDstIter),
                0, alpha, 0), "dnnl_vanilla_rnn_backward_desc_init", r.Describe);
        return r;
    }

    /// <summary>
    /// dnnl_lstm_forward_desc_init, or dnnl_lstm_forward_desc_init_v3 when a peephole or projection descriptor is given
    /// (projection weights (L,D,H,P): h = h_raw . W_p).
    /// </summary>
    public static DnnlRnnDesc LstmForward(DnnlPropKind prop, DnnlRnnDirection dir,
        DnnlMemoryDesc srcLayer, DnnlMemoryDesc srcIter, DnnlMemoryDesc srcIterC, DnnlMemoryDesc weightsLayer,
        DnnlMemoryDesc weightsIter, DnnlMemoryDesc bias, DnnlMemoryDesc dstLayer, DnnlMemoryDesc dstIter, DnnlMemoryDesc dstIterC,
        DnnlMemoryDesc weightsPeephole = default, DnnlMemoryDesc weightsProjection = default)
    {
        bool v3 = !weightsPeephole.IsZero || !weightsProjection.IsZero;
        var r = new DnnlRnnDesc($"LSTM {prop} {dir} src {srcLayer} dst {dstLayer}" + (weightsProjection.IsZero ? "" : $" projection {weightsProjection}"));
        fixed (byte* o = r.Bytes)
        {
            if (v3)
                DnnlException.Check(DnnlNative.dnnl_lstm_forward_desc_init_v3(o, (int)prop, (int)dir, P(&srcLayer), P(&srcIter), P(&srcIterC),
                    P(&weightsLayer), P(&weightsIter), P(&weightsPeephole), P(&weightsProjection), P(&bias), P(&dstLayer), P(&dstIter), P(&dstIterC), 0),
                    "dnnl_lstm_forward_desc_init_v3", r.Describe);
            else
                DnnlException.Check(DnnlNative.dnnl_lstm_forward_desc_init(o, (int)prop, (int)dir, P(&srcLayer), P(&srcIter), P(&srcIterC),
                    P(&weightsLayer), P(&weightsIter), P(&bias), P(&dstLayer), P(&dstIter), P(&dstIterC), 0),
                    "dnnl_lstm_forward_desc_init", r.Describe);
        }
        return r;
    }

    /// <summary>dnnl_lstm_backward_desc_init, or its _v3 when a peephole or projection descriptor is given.</summary>
    public static DnnlRnnDesc LstmBackward(DnnlRnnDirection dir,
        DnnlMemoryDesc srcLayer, DnnlMemoryDesc srcIter, DnnlMemoryDesc srcIterC, DnnlMemoryDesc weightsLayer,
        DnnlMemoryDesc weightsIter, DnnlMemoryDesc bias, DnnlMemoryDesc dstLayer, DnnlMemoryDesc dstIter, DnnlMemoryDesc dstIterC,
        DnnlMemoryDesc diffSrcLayer, DnnlMemoryDesc diffSrcIter, DnnlMemoryDesc diffSrcIterC, DnnlMemoryDesc diffWeightsLayer,
        DnnlMemoryDesc diffWeightsIter, DnnlMemoryDesc diffBias, DnnlMemoryDesc diffDstLayer, DnnlMemoryDesc diffDstIter,
        DnnlMemoryDesc diffDstIterC, DnnlMemoryDesc weightsPeephole = default, DnnlMemoryDesc weightsProjection = default,
        DnnlMemoryDesc diffWeightsPeephole = default, DnnlMemoryDesc diffWeightsProjection = default)
    {
        bool v3 = !weightsPeephole.IsZero || !weightsProjection.IsZero;
        var r = new DnnlRnnDesc($"LSTM backward {dir} src {srcLayer} dst {dstLayer}" + (weightsProjection.IsZero ? "" : $" projection {weightsProjection}"));
        fixed (byte* o = r.Bytes)
        {
            if (v3)
                DnnlException.Check(DnnlNative.dnnl_lstm_backward_desc_init_v3(o, (int)DnnlPropKind.Backward, (int)dir,
                    P(&srcLayer), P(&srcIter), P(&srcIterC), P(&weightsLayer), P(&weightsIter), P(&weightsPeephole), P(&weightsProjection),
                    P(&bias), P(&dstLayer), P(&dstIter), P(&dstIterC), P(&diffSrcLayer), P(&diffSrcIter), P(&diffSrcIterC),
                    P(&diffWeightsLayer), P(&diffWeightsIter), P(&diffWeightsPeephole), P(&diffWeightsProjection), P(&diffBias),
                    P(&diffDstLayer), P(&diffDstIter), P(&diffDstIterC), 0), "dnnl_lstm_backward_desc_init_v3", r.Describe);
            else
                DnnlException.Check(DnnlNative.dnnl_lstm_backward_desc_init(o, (int)DnnlPropKind.Backward, (int)dir,
                    P(&srcLayer), P(&srcIter), P(&srcIterC), P(&weightsLayer), P(&weightsIter), P(&bias), P(&dstLayer), P(&dstIter),
                    P(&dstIterC), P(&diffSrcLayer), P(&diffSrcIter), P(&diffSrcIterC), P(&diffWeightsLayer), P(&diffWeightsIter),
                    P(&diffBias), P(&diffDstLayer), P(&diffDstIter), P(&diffDstIterC), 0), "dnnl_lstm_backward_desc_init", r.Describe);
        }
        return r;
    }

    /// <summary>dnnl_lbr_gru_forward_desc_init (bias (L,D,4,H): b_u, b_r, b_c from x, b_c from h).</summary>
    public static DnnlRnnDesc LbrGruForward(DnnlPropKind prop, DnnlRnnDirection dir,
        DnnlMemoryDesc srcLayer, DnnlMemoryDesc srcIter, DnnlMemoryDesc weightsLayer, DnnlMemoryDesc weightsIter,
        DnnlMemoryDesc bias, DnnlMemoryDesc dstLayer, DnnlMemoryDesc dstIter)
    {
        var r = new DnnlRnnDesc($"LBR GRU {prop} {dir} src {srcLayer} dst {dstLayer}");
        fixed (byte* o = r.Bytes)
            DnnlException.Check(DnnlNative.dnnl_lbr_gru_forward_desc_init(o, (int)prop, (int)dir, P(&srcLayer), P(&srcIter),
                P(&weightsLayer), P(&weightsIter), P(&bias), P(&dstLayer), P(&dstIter), 0), "dnnl_lbr_gru_forward_desc_init", r.Describe);
        return r;
    }

    /// <summary>dnnl_lbr_gru_backward_desc_init.</summary>
    public static DnnlRnnDesc LbrGruBackward(DnnlRnnDirection dir,
        DnnlMemoryDesc srcLayer, DnnlMemoryDesc srcIter, DnnlMemoryDesc weightsLayer, DnnlMemoryDesc weightsIter,
        DnnlMemoryDesc bias, DnnlMemoryDesc dstLayer, DnnlMemoryDesc dstIter,
        DnnlMemoryDesc diffSrcLayer, DnnlMemoryDesc diffSrcIter, DnnlMemoryDesc diffWeightsLayer, DnnlMemoryDesc diffWeightsIter,
        DnnlMemoryDesc diffBias, DnnlMemoryDesc diffDstLayer, DnnlMemoryDesc diffDstIter)
    {
        var r = new DnnlRnnDesc($"LBR GRU backward {dir} src {srcLayer} dst {dstLayer}");
        fixed (byte* o = r.Bytes)
            DnnlException.Check(DnnlNative.dnnl_lbr_gru_backward_desc_init(o, (int)DnnlPropKind.Backward, (int)dir,
                P(&srcLayer), P(&srcIter), P(&weightsLayer), P(&weightsIter), P(&bias), P(&dstLayer), P(&dstIter),
                P(&diffSrcLayer), P(&diffSrcIter), P(&diffWeightsLayer), P(&diffWeightsIter), P(&diffBias), P(&diffDstLayer), P(&diffDstIter),
                0), "dnnl_lbr_gru_backward_desc_init", r.Describe);
        return r;
    }
}
