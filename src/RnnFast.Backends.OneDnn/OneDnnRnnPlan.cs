// The oneDNN backend's RNN plan. One oneDNN RNN primitive per layer (both directions in one, bidirectional_concat),
// built per shape (T, N, phase) and cached with its weights reordered into the format the primitive chose:
//   src_layer (T,N,I_l) tnc, src_iter/dst_iter (1,D,N,H_out) ldnc, src_iter_c/dst_iter_c (1,D,N,H) ldnc,
//   weights_layer (1,D,I_l,G,H), weights_iter (1,D,H_out,G,H) (ours: ldigo, converted once per parameter version
//   by OneDnnLayout; the primitive's: `any`, reached by a reorder once per shape and version), bias (1,D,Gb,H) ldgo,
//   weights_projection (1,D,H,P) (LSTM v3), weights_peephole (1,D,3,H) ldgo (LSTM v3, gates i, f, o: weight_ph as it
//   is), dst_layer (T,N,D*H_out) tnc.
// Time-major tensors map onto tnc/ldnc as they are, so inference reads the caller's input and writes the returned
// output directly: no copies, no per-call reorders, no per-call primitive creation (memory objects are pooled per
// shape and re-pointed per call). Thread safety: each call rents its own context (stream, memory objects, scratchpad;
// primitives use scratchpad_mode user), so Forward may run on many threads at once.
// Variable lengths (no primitive in oneDNN 2.6): sequences are grouped by equal length and each group runs as its own
// (T_g, N_g) problem, then scattered back with zero padding; so the reverse direction starts at each sequence's last
// step and h_n is each sequence's final state. Training keeps, per group and layer, the inputs, outputs and the
// primitive's workspace; backward runs the backward primitives top layer first and maps gradients back to PyTorch's
// layout. A configuration oneDNN reports unimplemented (operation descriptor or primitive descriptor) is refused with
// a NotSupportedException naming the problem, the phase and the call: this plan never hands work to another backend.
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RnnFast.Bindings.OneDnn;

namespace RnnFast.Backends.OneDnn;

internal sealed unsafe class OneDnnRnnPlan : IRnnPlan
{
    private const int MaxCachedShapes = 64;
    private readonly OneDnnBackend _backend;
    private readonly DnnlEngine _engine;
    private readonly object _gate = new();
    private readonly Dictionary<(int T, int N, bool Training), ShapeEntry> _entries = [];
    private readonly int L, D, H, Ho, G, Gb, P;
    private readonly bool _peephole;
    private readonly int[] _perm;
    private UserWeights _weights;
    private ShapeEntry? _last; // the most recent entry: steady-state calls skip the lock and the dictionary
    private bool _disposed;

    public OneDnnRnnPlan(OneDnnBackend backend, RnnParameters parameters)
    {
        _backend = backend;
        _engine = backend.Engine;
        Parameters = parameters;
        Desc = parameters.Desc;
        L = Desc.NumLayers;
        D = Desc.Directions;
        H = Desc.HiddenSize;
        Ho = Desc.OutputHiddenSize;
        G = Desc.GateCount;
        Gb = OneDnnLayout.BiasGates(Desc.Mode);
        P = Desc.ProjSize;
        _peephole = Desc.Peephole;
        _perm = OneDnnLayout.GatePermutation(Desc.Mode);
        _weights = new UserWeights(this, parameters.VersionStamp);
    }

    public RnnDesc Desc { get; }
    public RnnParameters Parameters { get; }

    public void Dispose()
    {
        lock (_gate)
        {
            Volatile.Write(ref _disposed, true);
            Volatile.Write(ref _last, null);
            _entries.Clear();
        }
    }

    /// <summary>Throws ObjectDisposedException (naming this plan) once Dispose ran: Forward, Backward and CreateStepper (so its steppers' Step) refuse.</summary>
    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);

    // ------------------------------------------------------------------ weights in our layout, per parameter version

    /// <summary>PyTorch parameters converted to ldigo / ldgo / ldio, in pinned arrays wrapped as oneDNN memory.</summary>
    private sealed class UserWeights
    {
        public UserWeights(OneDnnRnnPlan p, long stamp)
        {
            Stamp = stamp;
            var desc = p.Desc;
            Layers = new LayerWeights[p.L];
            for (int l = 0; l < p.L; l++)
            {
                int I = desc.LayerInputSize(l);
                var lw = new LayerWeights
                {
                    Wl = GC.AllocateArray<float>(p.D * I * p.G * p.H, pinned: true),
                    Wi = GC.AllocateArray<float>(p.D * p.Ho * p.G * p.H, pinned: true),
                    B = GC.AllocateArray<float>(p.D * p.Gb * p.H, pinned: true),
                    Wp = p.P > 0 ? GC.AllocateArray<float>(p.D * p.H * p.P, pinned: true) : null,
                    Wph = p._peephole ? GC.AllocateArray<float>(p.D * 3 * p.H, pinned: true) : null,
                };
                for (int d = 0; d < p.D; d++)
                {
                    var prm = p.Parameters;
                    OneDnnLayout.ToLdigo(prm.Get(l, d, RnnParamKind.WeightIh).Span, lw.Wl.AsSpan(d * I * p.G * p.H), p.G, p.H, I, p._perm);
                    OneDnnLayout.ToLdigo(prm.Get(l, d, RnnParamKind.WeightHh).Span, lw.Wi.AsSpan(d * p.Ho * p.G * p.H), p.G, p.H, p.Ho, p._perm);
                    var bih = prm.TryGet(l, d, RnnParamKind.BiasIh);
                    var bhh = prm.TryGet(l, d, RnnParamKind.BiasHh);
                    OneDnnLayout.ToBias(desc.Mode, bih == null ? default : bih.Span, bhh == null ? default : bhh.Span,
                        lw.B.AsSpan(d * p.Gb * p.H), p.H);
                    if (lw.Wp != null)
                        OneDnnLayout.ToLdio(prm.Get(l, d, RnnParamKind.WeightHr).Span, lw.Wp.AsSpan(d * p.H * p.P), p.P, p.H);
                    if (lw.Wph != null) // weight_ph (3*H; i, f, o) is ldgo's (3, H) for one direction already
                        prm.Get(l, d, RnnParamKind.WeightPh).Span.CopyTo(lw.Wph.AsSpan(d * 3 * p.H, 3 * p.H));
                }
                lw.WlMem = Wrap(p, lw.Wl, DnnlMemoryDesc.ByTag([1, p.D, I, p.G, p.H], DnnlFormatTag.Ldigo));
                lw.WiMem = Wrap(p, lw.Wi, DnnlMemoryDesc.ByTag([1, p.D, p.Ho, p.G, p.H], DnnlFormatTag.Ldigo));
                lw.BMem = Wrap(p, lw.B, DnnlMemoryDesc.ByTag([1, p.D, p.Gb, p.H], DnnlFormatTag.Ldgo));
                if (lw.Wp != null) lw.WpMem = Wrap(p, lw.Wp, DnnlMemoryDesc.ByTag([1, p.D, p.H, p.P], DnnlFormatTag.Ldio));
                if (lw.Wph != null) lw.WphMem = Wrap(p, lw.Wph, DnnlMemoryDesc.ByTag([1, p.D, 3, p.H], DnnlFormatTag.Ldgo));
                Layers[l] = lw;
            }
        }

        public long Stamp { get; }
        public LayerWeights[] Layers { get; }

        private static DnnlMemory Wrap(OneDnnRnnPlan p, float[] pinned, DnnlMemoryDesc md)
        {
            fixed (float* ptr = pinned) return DnnlMemory.Create(md, p._engine, ptr); // pinned (POH): the address is stable
        }
    }

    private sealed class LayerWeights
    {
        public required float[] Wl, Wi, B;
        public required float[]? Wp;
        public required float[]? Wph;
        public DnnlMemory WlMem = null!, WiMem = null!, BMem = null!;
        public DnnlMemory? WpMem, WphMem;
    }

    private UserWeights CurrentWeights()
    {
        long stamp = Parameters.VersionStamp;
        var w = Volatile.Read(ref _weights);
        if (w.Stamp == stamp) return w;
        lock (_gate)
        {
            if (_weights.Stamp != stamp) Volatile.Write(ref _weights, new UserWeights(this, stamp));
            return _weights;
        }
    }

    // ------------------------------------------------------------------ primitives per shape

    /// <summary>The weights one primitive reads, in its chosen format (reordered from <see cref="UserWeights"/>).</summary>
    private sealed class PrimWeights
    {
        public required UserWeights Source;
        public required DnnlMemory[] Wl, Wi, B;
        public required DnnlMemory?[] Wp;
        public required DnnlMemory?[] Wph;
    }

    private sealed class LayerPrims
    {
        public required DnnlPrimitiveDesc FwdPd;
        public required DnnlPrimitive Fwd;
        public DnnlPrimitiveDesc? BwdPd;
        public DnnlPrimitive? Bwd;
    }

    private static readonly int[] FwdDataArgs =
        [DnnlArg.SrcLayer, DnnlArg.SrcIter, DnnlArg.SrcIterC, DnnlArg.DstLayer, DnnlArg.DstIter, DnnlArg.DstIterC];

    private static readonly int[] BwdDataArgs =
    [
        DnnlArg.SrcLayer, DnnlArg.SrcIter, DnnlArg.SrcIterC, DnnlArg.DstLayer, DnnlArg.DstIter, DnnlArg.DstIterC,
        DnnlArg.DiffDstLayer, DnnlArg.DiffDstIter, DnnlArg.DiffDstIterC, DnnlArg.DiffSrcLayer, DnnlArg.DiffSrcIter, DnnlArg.DiffSrcIterC,
        DnnlArg.DiffWeightsLayer, DnnlArg.DiffWeightsIter, DnnlArg.DiffBias, DnnlArg.DiffWeightsProjection,
        DnnlArg.DiffWeightsPeephole,
    ];

    /// <summary>Memory objects for a primitive's data arguments, re-pointed at each call's buffers.</summary>
    private sealed class ArgSet
    {
        private readonly int[] _ids;
        private readonly DnnlMemory[] _mems;

        public ArgSet(DnnlPrimitiveDesc pd, DnnlEngine engine, int[] candidates)
        {
            var ids = new List<int>();
            var mems = new List<DnnlMemory>();
            foreach (int id in candidates)
            {
                var md = pd.ArgDesc(id);
                if (md.IsZero) continue;
                ids.Add(id);
                mems.Add(DnnlMemory.CreateUnbound(md, engine));
            }
            _ids = ids.ToArray();
            _mems = mems.ToArray();
        }

        public void Bind(int id, float* p)
        {
            for (int i = 0; i < _ids.Length; i++)
                if (_ids[i] == id)
                {
                    if (p == null) throw new InvalidOperationException($"oneDNN argument {id} needs a buffer");
                    _mems[i].SetDataHandle(p);
                    return;
                }
        }

        public int CopyTo(DnnlExecArg[] args, int at)
        {
            for (int i = 0; i < _ids.Length; i++) args[at++] = new DnnlExecArg(_ids[i], _mems[i]);
            return at;
        }
    }

    /// <summary>What one call needs to itself: a stream, memory objects, scratchpads and pins.</summary>
    private sealed class Context
    {
        public required DnnlStream Stream;
        public required ArgSet[] Fwd;
        public required DnnlMemory?[] FwdScratch;
        public ArgSet[]? Bwd;
        public DnnlMemory?[]? BwdScratch;
        public readonly float[]?[] Inter = new float[2][];
        public float[]? Zeros; // pinned zeros for an absent h0 / c0 (only ever read by the primitive)
        public readonly DnnlExecArg[] Args = new DnnlExecArg[32];
        public readonly List<GCHandle> Pins = [];

        public float* Pin(float[]? a)
        {
            if (a == null) return null;
            var h = GCHandle.Alloc(a, GCHandleType.Pinned);
            Pins.Add(h);
            return (float*)h.AddrOfPinnedObject();
        }

        public void Unpin()
        {
            foreach (var h in Pins) h.Free();
            Pins.Clear();
        }
    }

    private sealed class ShapeEntry
    {
        public required int T, N;
        public required bool Training;
        public required LayerPrims[] Layers;
        public readonly ConcurrentBag<Context> Pool = [];
        public PrimWeights? FwdWeights, BwdWeights;
    }

    private ShapeEntry GetEntry(int T, int N, bool training)
    {
        var last = Volatile.Read(ref _last);
        if (last != null && last.T == T && last.N == N && last.Training == training) return last;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_entries.TryGetValue((T, N, training), out var e))
            {
                Volatile.Write(ref _last, e);
                return e;
            }
            if (_entries.Count >= MaxCachedShapes) _entries.Clear(); // live workspaces keep their own entries alive
            var layers = new LayerPrims[L];
            var prop = training ? DnnlPropKind.ForwardTraining : DnnlPropKind.ForwardInference;
            try
            {
                for (int l = 0; l < L; l++)
                {
                    var pd = CreatePrimitiveDesc(() => ForwardDesc(l, T, N, prop), training ? "forward-training" : "forward-inference", l, hintForward: null);
                    layers[l] = new LayerPrims { FwdPd = pd, Fwd = DnnlPrimitive.Create(pd) };
                }
            }
            catch
            {
                foreach (var lp in layers.Where(x => x != null)) // a refused (or failed) layer: release the ones built below it
                {
                    lp.Fwd.Dispose();
                    lp.FwdPd.Dispose();
                }
                throw;
            }
            e = new ShapeEntry { T = T, N = N, Training = training, Layers = layers };
            _entries[(T, N, training)] = e;
            Volatile.Write(ref _last, e);
            return e;
        }
    }

    /// <summary>
    /// The operation and primitive descriptors of one layer and phase. oneDNN's "unimplemented" (from either call)
    /// becomes a <see cref="NotSupportedException"/> that names the problem, the phase, the layer and the call.
    /// </summary>
    private DnnlPrimitiveDesc CreatePrimitiveDesc(Func<DnnlRnnDesc> operation, string phase, int layer, DnnlPrimitiveDesc? hintForward)
    {
        try
        {
            var op = operation();
            using var attr = UserScratchpad();
            if (_backend.ForceUnimplementedForTests?.Invoke(phase) == true)
                throw new DnnlException("dnnl_primitive_desc_create", DnnlStatus.Unimplemented, op.Describe + " (forced by a test)");
            return DnnlPrimitiveDesc.Create(op, _engine, attr, hintForward);
        }
        catch (DnnlException e) when (e.Status == DnnlStatus.Unimplemented)
        {
            throw new NotSupportedException(
                $"onednn: oneDNN {_backend.Version} cannot run {Desc} ({phase}{(L > 1 ? $", layer {layer} of {L}" : "")}): " +
                $"{e.Call} returned dnnl_unimplemented", e);
        }
    }

    private static DnnlPrimitiveAttr UserScratchpad()
    {
        var attr = DnnlPrimitiveAttr.Create();
        attr.SetScratchpadMode(DnnlScratchpadMode.User);
        return attr;
    }

    private DnnlRnnDirection Direction => D == 2 ? DnnlRnnDirection.BidirectionalConcat : DnnlRnnDirection.UnidirectionalLeft2Right;

    /// <summary>The data descriptors of layer <paramref name="l"/> at (T, N): plain tnc / ldnc, weights `any`.</summary>
    private (DnnlMemoryDesc Src, DnnlMemoryDesc Iter, DnnlMemoryDesc IterC, DnnlMemoryDesc Wl, DnnlMemoryDesc Wi, DnnlMemoryDesc B,
        DnnlMemoryDesc Dst, DnnlMemoryDesc Wp, DnnlMemoryDesc Wph) Mds(int l, int T, int N, DnnlFormatTag weightsTag)
    {
        int I = Desc.LayerInputSize(l);
        var src = DnnlMemoryDesc.ByTag([T, N, I], DnnlFormatTag.Tnc);
        var iter = DnnlMemoryDesc.ByTag([1, D, N, Ho], DnnlFormatTag.Ldnc);
        var iterC = Desc.HasCellState ? DnnlMemoryDesc.ByTag([1, D, N, H], DnnlFormatTag.Ldnc) : default;
        var wl = DnnlMemoryDesc.ByTag([1, D, I, G, H], weightsTag);
        var wi = DnnlMemoryDesc.ByTag([1, D, Ho, G, H], weightsTag);
        var b = DnnlMemoryDesc.ByTag([1, D, Gb, H], DnnlFormatTag.Ldgo);
        var dst = DnnlMemoryDesc.ByTag([T, N, D * Ho], DnnlFormatTag.Tnc);
        var wp = P > 0 ? DnnlMemoryDesc.ByTag([1, D, H, P], weightsTag == DnnlFormatTag.Any ? DnnlFormatTag.Any : DnnlFormatTag.Ldio) : default;
        var wph = _peephole ? DnnlMemoryDesc.ByTag([1, D, 3, H], DnnlFormatTag.Ldgo) : default;
        return (src, iter, iterC, wl, wi, b, dst, wp, wph);
    }

    private DnnlRnnDesc ForwardDesc(int l, int T, int N, DnnlPropKind prop)
    {
        var m = Mds(l, T, N, DnnlFormatTag.Any);
        return Desc.Mode switch
        {
            RnnMode.Lstm => DnnlRnnDesc.LstmForward(prop, Direction, m.Src, m.Iter, m.IterC, m.Wl, m.Wi, m.B, m.Dst, m.Iter, m.IterC,
                weightsPeephole: m.Wph, weightsProjection: m.Wp),
            RnnMode.Gru => DnnlRnnDesc.LbrGruForward(prop, Direction, m.Src, m.Iter, m.Wl, m.Wi, m.B, m.Dst, m.Iter),
            _ => DnnlRnnDesc.VanillaForward(prop, Desc.Mode == RnnMode.RnnRelu ? DnnlAlgKind.EltwiseRelu : DnnlAlgKind.EltwiseTanh,
                Direction, m.Src, m.Iter, m.Wl, m.Wi, m.B, m.Dst, m.Iter),
        };
    }

    private DnnlRnnDesc BackwardDesc(int l, int T, int N)
    {
        var m = Mds(l, T, N, DnnlFormatTag.Any);
        var g = Mds(l, T, N, DnnlFormatTag.Ldigo); // gradients in our layout: ldigo / ldio, plain data
        return Desc.Mode switch
        {
            RnnMode.Lstm => DnnlRnnDesc.LstmBackward(Direction, m.Src, m.Iter, m.IterC, m.Wl, m.Wi, m.B, m.Dst, m.Iter, m.IterC,
                g.Src, g.Iter, g.IterC, g.Wl, g.Wi, g.B, g.Dst, g.Iter, g.IterC, weightsPeephole: m.Wph, weightsProjection: m.Wp,
                diffWeightsPeephole: g.Wph, diffWeightsProjection: g.Wp),
            RnnMode.Gru => DnnlRnnDesc.LbrGruBackward(Direction, m.Src, m.Iter, m.Wl, m.Wi, m.B, m.Dst, m.Iter,
                g.Src, g.Iter, g.Wl, g.Wi, g.B, g.Dst, g.Iter),
            _ => DnnlRnnDesc.VanillaBackward(Desc.Mode == RnnMode.RnnRelu ? DnnlAlgKind.EltwiseRelu : DnnlAlgKind.EltwiseTanh,
                Direction, m.Src, m.Iter, m.Wl, m.Wi, m.B, m.Dst, m.Iter, g.Src, g.Iter, g.Wl, g.Wi, g.B, g.Dst, g.Iter),
        };
    }

    private void EnsureBackward(ShapeEntry e)
    {
        lock (_gate)
        {
            for (int l = 0; l < L; l++)
            {
                var lp = e.Layers[l];
                if (lp.Bwd != null) continue;
                var pd = CreatePrimitiveDesc(() => BackwardDesc(l, e.T, e.N), "backward", l, lp.FwdPd);
                lp.BwdPd = pd;
                lp.Bwd = DnnlPrimitive.Create(pd);
            }
        }
    }

    /// <summary>The weights of <paramref name="w"/> in the formats the (forward or backward) primitives chose; reordered once.</summary>
    private PrimWeights WeightsFor(ShapeEntry e, UserWeights w, bool backward)
    {
        var cached = backward ? e.BwdWeights : e.FwdWeights;
        if (cached != null && ReferenceEquals(cached.Source, w)) return cached;
        lock (_gate)
        {
            cached = backward ? e.BwdWeights : e.FwdWeights;
            if (cached != null && ReferenceEquals(cached.Source, w)) return cached;
            var pw = new PrimWeights
            {
                Source = w,
                Wl = new DnnlMemory[L], Wi = new DnnlMemory[L], B = new DnnlMemory[L], Wp = new DnnlMemory?[L],
                Wph = new DnnlMemory?[L],
            };
            using var stream = DnnlStream.Create(_engine);
            for (int l = 0; l < L; l++)
            {
                var pd = backward ? e.Layers[l].BwdPd! : e.Layers[l].FwdPd;
                var uw = w.Layers[l];
                pw.Wl[l] = Reordered(uw.WlMem, pd.ArgDesc(DnnlArg.WeightsLayer), stream);
                pw.Wi[l] = Reordered(uw.WiMem, pd.ArgDesc(DnnlArg.WeightsIter), stream);
                pw.B[l] = Reordered(uw.BMem, pd.ArgDesc(DnnlArg.Bias), stream);
                if (uw.WpMem != null) pw.Wp[l] = Reordered(uw.WpMem, pd.ArgDesc(DnnlArg.WeightsProjection), stream);
                if (uw.WphMem != null) pw.Wph[l] = Reordered(uw.WphMem, pd.ArgDesc(DnnlArg.WeightsPeephole), stream);
            }
            stream.Wait();
            if (backward) e.BwdWeights = pw;
            else e.FwdWeights = pw;
            return pw;
        }
    }

    private DnnlMemory Reordered(DnnlMemory user, DnnlMemoryDesc want, DnnlStream stream)
    {
        if (want.IsZero || want == user.Desc) return user;
        var dst = DnnlMemory.Allocate(want, _engine);
        using var pd = DnnlPrimitiveDesc.CreateReorder(user.Desc, want, _engine);
        using var reorder = DnnlPrimitive.Create(pd);
        reorder.Execute(stream, [new DnnlExecArg(DnnlArg.From, user), new DnnlExecArg(DnnlArg.To, dst)]);
        return dst;
    }

    private Context Rent(ShapeEntry e, bool backward)
    {
        if (!e.Pool.TryTake(out var c))
        {
            c = new Context
            {
                Stream = DnnlStream.Create(_engine),
                Fwd = e.Layers.Select(lp => new ArgSet(lp.FwdPd, _engine, FwdDataArgs)).ToArray(),
                FwdScratch = e.Layers.Select(lp => AllocateOrNull(lp.FwdPd.ArgDesc(DnnlArg.Scratchpad))).ToArray(),
            };
        }
        if (backward && c.Bwd == null)
        {
            c.Bwd = e.Layers.Select(lp => new ArgSet(lp.BwdPd!, _engine, BwdDataArgs)).ToArray();
            c.BwdScratch = e.Layers.Select(lp => AllocateOrNull(lp.BwdPd!.ArgDesc(DnnlArg.Scratchpad))).ToArray();
        }
        return c;
    }

    private DnnlMemory? AllocateOrNull(DnnlMemoryDesc md) => md.IsZero ? null : DnnlMemory.Allocate(md, _engine);

    /// <summary>
    /// A training workspace in GC-tracked memory (a pinned array, 64-byte aligned inside), so that the collector sees
    /// its size; the memory object keeps the array alive through <see cref="WorkspaceMemory"/>.
    /// </summary>
    private WorkspaceMemory? ManagedWorkspace(DnnlMemoryDesc md)
    {
        if (md.IsZero) return null;
        long bytes = md.ByteSize + 64;
        var buffer = GC.AllocateUninitializedArray<byte>(checked((int)bytes), pinned: true);
        fixed (byte* p = buffer)
        {
            byte* aligned = (byte*)(((nint)p + 63) & ~(nint)63);
            return new WorkspaceMemory(buffer, DnnlMemory.Create(md, _engine, aligned));
        }
    }

    /// <summary>A oneDNN memory object over a pinned managed buffer that it keeps alive.</summary>
    private sealed record WorkspaceMemory(byte[] Buffer, DnnlMemory Memory);

    // ------------------------------------------------------------------ forward

    /// <summary>What a training forward kept for one group of equal-length sequences.</summary>
    private sealed class GroupRecord
    {
        public required int[]? Indices;     // null: every sequence, in order
        public required int T, N;
        public required ShapeEntry Entry;
        public required UserWeights Weights;
        public required float[] X;          // (T_g, N_g, I)
        public required float[] H0, HN;     // (L*D, N_g, H_out)
        public required float[]? C0, CN;    // (L*D, N_g, H)
        public required float[][] Dst;      // [l] (T_g, N_g, D*H_out)
        public required WorkspaceMemory?[] Ws; // [l] the primitive's workspace
    }

    private sealed class Workspace : RnnWorkspace
    {
        public required int T, N;
        public required List<GroupRecord> Groups;
    }

    /// <summary>Inference into the caller's buffers: bound in place without lengths (no per-call allocation); with lengths, the grouped forward's result copied.</summary>
    public RnnForwardResult ForwardInto(RnnInputs inputs, RnnOutputBuffers into)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(into);
        ThrowIfDisposed();
        if (inputs.Lengths != null) return into.CopyFrom(this, inputs);
        RnnInputChecks.Forward(Desc, inputs);
        into.Check(Desc, inputs);
        float[]? h0 = inputs.H0 == null ? null : HostOf(inputs.H0);
        float[]? c0 = inputs.C0 == null || !Desc.HasCellState ? null : HostOf(inputs.C0);
        RunInference(inputs.SeqLen, inputs.Batch, HostOf(inputs.Input), h0, c0, into.Output.HostArray, into.HN.HostArray, into.CN?.HostArray,
            CurrentWeights());
        return into.Result();
    }

    /// <summary>
    /// A forward into the caller's buffers. Training without lengths: the result's output and states copied into them
    /// (where <see cref="Forward"/> hands out copies in new arrays), so a training loop with kept buffers allocates less.
    /// </summary>
    public RnnForwardResult ForwardInto(RnnInputs inputs, RnnOutputBuffers into, bool training)
    {
        if (!training) return ForwardInto(inputs, into);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(into);
        ThrowIfDisposed();
        if (inputs.Lengths != null) return into.CopyFrom(this, inputs, training: true);
        RnnInputChecks.Forward(Desc, inputs);
        into.Check(Desc, inputs);
        float[]? h0 = inputs.H0 == null ? null : HostOf(inputs.H0);
        float[]? c0 = inputs.C0 == null ? null : HostOf(inputs.C0);
        var g = RunGroup(inputs.SeqLen, inputs.Batch, (float[])HostOf(inputs.Input).Clone(), h0, c0, null, training: true, CurrentWeights());
        g.Dst[L - 1].CopyTo(into.Output.HostArray, 0); // the workspace keeps its own arrays
        g.HN.CopyTo(into.HN.HostArray, 0);
        if (into.CN != null) g.CN!.CopyTo(into.CN.HostArray, 0);
        return into.Result(new Workspace { T = inputs.SeqLen, N = inputs.Batch, Groups = [g] });
    }

    public RnnForwardResult Forward(RnnInputs inputs, bool training)
    {
        ThrowIfDisposed();
        RnnInputChecks.Forward(Desc, inputs); // oneDNN reads the buffers natively: shapes are checked before any call
        int T = inputs.SeqLen, N = inputs.Batch, I = Desc.InputSize, F = D * Ho;
        var w = CurrentWeights();
        float[] x = HostOf(inputs.Input);
        float[]? h0 = inputs.H0 == null ? null : HostOf(inputs.H0);
        float[]? c0 = inputs.C0 == null ? null : HostOf(inputs.C0);
        int S = L * D;

        if (inputs.Lengths == null && !training)
        {
            // Steady-state inference: a pooled context, the caller's buffers bound in place, no per-call dnnl objects
            // and no managed allocation besides the returned tensors.
            var yOut = GC.AllocateUninitializedArray<float>(checked(T * N * F));
            var hn = GC.AllocateUninitializedArray<float>(S * N * Ho);
            var cn = Desc.HasCellState ? GC.AllocateUninitializedArray<float>(S * N * H) : null;
            RunInference(T, N, x, h0, Desc.HasCellState ? c0 : null, yOut, hn, cn, w);
            return new RnnForwardResult(Tensor.FromArray(yOut, T, N, F), Tensor.FromArray(hn, S, N, Ho),
                cn == null ? null : Tensor.FromArray(cn, S, N, H), null);
        }

        if (inputs.Lengths == null)
        {
            var g = RunGroup(T, N, training ? (float[])x.Clone() : x, h0, c0, null, training, w);
            if (!training) return new RnnForwardResult(Tensor.FromArray(g.Dst[L - 1], T, N, F), Tensor.FromArray(g.HN, S, N, Ho),
                g.CN == null ? null : Tensor.FromArray(g.CN, S, N, H), null);
            // The workspace keeps its own arrays; the caller gets copies it may change freely.
            return new RnnForwardResult(Tensor.FromArray((float[])g.Dst[L - 1].Clone(), T, N, F), Tensor.FromArray((float[])g.HN.Clone(), S, N, Ho),
                g.CN == null ? null : Tensor.FromArray((float[])g.CN.Clone(), S, N, H), new Workspace { T = T, N = N, Groups = [g] });
        }

        var y = new float[T * N * F];
        var hN = new float[S * N * Ho];
        var cN = Desc.HasCellState ? new float[S * N * H] : null;
        var groups = new List<GroupRecord>();
        foreach (var (len, idx) in OneDnnLayout.GroupByLength(inputs.Lengths))
        {
            int Ng = idx.Length;
            var g = RunGroup(len, Ng, GatherSeq(x, N, I, idx, len), GatherState(h0, S, N, Ho, idx), GatherState(c0, S, N, H, idx), idx, training, w);
            ScatterSeq(g.Dst[L - 1], y, N, F, idx, len);
            ScatterState(g.HN, hN, S, N, Ho, idx);
            if (cN != null) ScatterState(g.CN!, cN, S, N, H, idx);
            if (training) groups.Add(g);
        }
        return new RnnForwardResult(Tensor.FromArray(y, T, N, F), Tensor.FromArray(hN, S, N, Ho),
            cN == null ? null : Tensor.FromArray(cN, S, N, H), training ? new Workspace { T = T, N = N, Groups = groups } : null);
    }

    /// <summary>
    /// Inference on one (T, N) problem into the caller's <paramref name="y"/>, <paramref name="hN"/>, <paramref name="cN"/>:
    /// the pooled context's memory objects are re-pointed at the (fixed) buffers; h0/c0 null mean zeros.
    /// </summary>
    private void RunInference(int T, int N, float[] x, float[]? h0, float[]? c0, float[] y, float[] hN, float[]? cN, UserWeights w)
    {
        int S = L * D, F = D * Ho;
        var e = GetEntry(T, N, training: false);
        var pw = WeightsFor(e, w, backward: false);
        var ctx = Rent(e, backward: false);
        try
        {
            _backend.ApplyThreads();
            float* zeros = null;
            if (h0 == null || (cN != null && c0 == null))
                zeros = PinnedPointer(ctx.Zeros ??= GC.AllocateArray<float>(S * N * Math.Max(Ho, H), pinned: true));
            long size = (long)T * N * F;
            fixed (float* px = x, ph0Given = h0, pc0Given = c0, py = y, phN = hN, pcN = cN)
            {
                float* ph0 = h0 != null ? ph0Given : zeros;
                float* pc0 = cN == null ? null : c0 != null ? pc0Given : zeros;
                var args = ctx.Args;
                for (int l = 0; l < L; l++)
                {
                    var set = ctx.Fwd[l];
                    set.Bind(DnnlArg.SrcLayer, l == 0 ? px : PinnedPointer(ctx.Inter[(l - 1) & 1]!));
                    set.Bind(DnnlArg.SrcIter, ph0 + (long)l * D * N * Ho);
                    set.Bind(DnnlArg.DstLayer, l == L - 1 ? py : PinnedPointer(Scratch(ctx.Inter, l & 1, size)));
                    set.Bind(DnnlArg.DstIter, phN + (long)l * D * N * Ho);
                    if (pcN != null)
                    {
                        set.Bind(DnnlArg.SrcIterC, pc0 + (long)l * D * N * H);
                        set.Bind(DnnlArg.DstIterC, pcN + (long)l * D * N * H);
                    }
                    int n = set.CopyTo(args, 0);
                    n = WeightArgs(args, n, pw, l);
                    if (ctx.FwdScratch[l] is { } sp) args[n++] = new DnnlExecArg(DnnlArg.Scratchpad, sp);
                    e.Layers[l].Fwd.Execute(ctx.Stream, args.AsSpan(0, n));
                }
            }
        }
        finally
        {
            Array.Clear(ctx.Args);
            e.Pool.Add(ctx);
        }
    }

    /// <summary>The address of a pinned (POH) array's first element; stable for the array's lifetime.</summary>
    private static float* PinnedPointer(float[] pinned) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));

    /// <summary>Runs the stack on one (T, N) problem. <paramref name="x"/> is read in place; h0/c0 null mean zeros.</summary>
    private GroupRecord RunGroup(int T, int N, float[] x, float[]? h0, float[]? c0, int[]? idx, bool training, UserWeights w)
    {
        int S = L * D, F = D * Ho;
        var e = GetEntry(T, N, training);
        var pw = WeightsFor(e, w, backward: false);
        h0 = h0 == null ? new float[S * N * Ho] : training ? (float[])h0.Clone() : h0;
        if (Desc.HasCellState) c0 = c0 == null ? new float[S * N * H] : training ? (float[])c0.Clone() : c0;
        else c0 = null;
        var hN = new float[S * N * Ho];
        var cN = Desc.HasCellState ? new float[S * N * H] : null;
        var dst = new float[L][];
        var ws = new WorkspaceMemory?[L];
        var ctx = Rent(e, backward: false);
        try
        {
            _backend.ApplyThreads();
            for (int l = 0; l < L; l++)
            {
                long size = (long)T * N * F;
                if (l == L - 1) dst[l] = GC.AllocateUninitializedArray<float>((int)size); // the returned output
                else if (training) dst[l] = GC.AllocateUninitializedArray<float>((int)size);
                else dst[l] = Scratch(ctx.Inter, l & 1, size);
                if (training) ws[l] = ManagedWorkspace(e.Layers[l].FwdPd.ArgDesc(DnnlArg.Workspace));
            }
            float* px = ctx.Pin(x), ph0 = ctx.Pin(h0), pc0 = ctx.Pin(c0), phN = ctx.Pin(hN), pcN = ctx.Pin(cN);
            for (int l = 0; l < L; l++)
            {
                var set = ctx.Fwd[l];
                set.Bind(DnnlArg.SrcLayer, l == 0 ? px : ctx.Pin(dst[l - 1]));
                set.Bind(DnnlArg.SrcIter, ph0 + (long)l * D * N * Ho);
                set.Bind(DnnlArg.DstLayer, ctx.Pin(dst[l]));
                set.Bind(DnnlArg.DstIter, phN + (long)l * D * N * Ho);
                if (pc0 != null)
                {
                    set.Bind(DnnlArg.SrcIterC, pc0 + (long)l * D * N * H);
                    set.Bind(DnnlArg.DstIterC, pcN + (long)l * D * N * H);
                }
                var args = ctx.Args;
                int n = set.CopyTo(args, 0);
                n = WeightArgs(args, n, pw, l);
                if (ctx.FwdScratch[l] is { } sp) args[n++] = new DnnlExecArg(DnnlArg.Scratchpad, sp);
                if (ws[l] is { } wsm) args[n++] = new DnnlExecArg(DnnlArg.Workspace, wsm.Memory);
                e.Layers[l].Fwd.Execute(ctx.Stream, args.AsSpan(0, n));
            }
        }
        finally
        {
            ctx.Unpin();
            Array.Clear(ctx.Args);
            e.Pool.Add(ctx);
        }
        return new GroupRecord
        {
            Indices = idx, T = T, N = N, Entry = e, Weights = w, X = x, H0 = h0, HN = hN, C0 = c0, CN = cN,
            Dst = dst, Ws = ws,
        };
    }

    private static int WeightArgs(DnnlExecArg[] args, int n, PrimWeights pw, int l)
    {
        args[n++] = new DnnlExecArg(DnnlArg.WeightsLayer, pw.Wl[l]);
        args[n++] = new DnnlExecArg(DnnlArg.WeightsIter, pw.Wi[l]);
        args[n++] = new DnnlExecArg(DnnlArg.Bias, pw.B[l]);
        if (pw.Wp[l] is { } wp) args[n++] = new DnnlExecArg(DnnlArg.WeightsProjection, wp);
        if (pw.Wph[l] is { } wph) args[n++] = new DnnlExecArg(DnnlArg.WeightsPeephole, wph);
        return n;
    }

    private static float[] Scratch(float[]?[] set, int i, long size)
    {
        var a = set[i];
        if (a == null || a.Length < size) set[i] = a = GC.AllocateUninitializedArray<float>((int)size, pinned: true);
        return a;
    }

    // ------------------------------------------------------------------ backward

    /// <summary>Streaming on this backend: each step is this plan's own T=1 forward (see <see cref="PlanStepper"/>).</summary>
    public RnnStepper CreateStepper(int maxStreams = 1)
    {
        ThrowIfDisposed();
        return new PlanStepper(this, _backend, maxStreams);
    }

    public RnnGradients Backward(RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN) =>
        Backward(inputs, forward, dOutput, dHN, dCN, null);

    /// <summary>Backward with dX, dh0 and dc0 written into the caller's buffers (without lengths the primitive writes them in place), the parameter gradients added into <paramref name="paramGrads"/>.</summary>
    public RnnGradients BackwardAccumulate(RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN,
        RnnParameters paramGrads, RnnInputGradientBuffers into)
    {
        ArgumentNullException.ThrowIfNull(into);
        RnnGradientTargets.Check(Desc, paramGrads);
        var g = Backward(inputs, forward, dOutput, dHN, dCN, into);
        RnnGradientTargets.AddInto(g.DParams, paramGrads);
        return new RnnGradients(g.DInput, g.DH0, g.DC0, paramGrads);
    }

    private RnnGradients Backward(RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN, RnnInputGradientBuffers? into)
    {
        ThrowIfDisposed();
        RnnInputChecks.Backward(Desc, inputs, forward, dOutput, dHN, dCN);
        into?.Check(Desc, inputs, dOutput, dHN, dCN);
        if (forward.Workspace is not Workspace ws)
            throw new ArgumentException("forward: no oneDNN workspace; run Forward(training: true) on this plan first", nameof(forward));
        ws.ThrowIfDisposed();
        int T = ws.T, N = ws.N, I = Desc.InputSize, F = D * Ho, S = L * D;
        var dParams = RnnParameters.Zeros(Desc);
        float[]? dY = dOutput == null ? null : HostOf(dOutput);
        float[]? dhn = dHN == null ? null : HostOf(dHN);
        float[]? dcn = dCN == null || !Desc.HasCellState ? null : HostOf(dCN);
        var dX = into?.DInput.HostArray ?? new float[T * N * I];
        var dH0 = into?.DH0.HostArray ?? new float[S * N * Ho];
        var dC0 = !Desc.HasCellState ? null : into?.DC0!.HostArray ?? new float[S * N * H];
        bool grouped = ws.Groups.Exists(g => g.Indices != null);
        if (into != null && grouped) Array.Clear(dX); // groups scatter their steps only: padded steps must read zero

        foreach (var g in ws.Groups)
        {
            int Tg = g.T, Ng = g.N;
            var idx = g.Indices;
            float[] dYg = idx == null ? (dY ?? new float[Tg * Ng * F]) : (dY == null ? new float[Tg * Ng * F] : GatherSeq(dY, N, F, idx, Tg));
            float[] dHNg = idx == null ? (dhn ?? new float[S * Ng * Ho]) : GatherState(dhn, S, N, Ho, idx) ?? new float[S * Ng * Ho];
            float[]? dCNg = !Desc.HasCellState ? null : idx == null ? (dcn ?? new float[S * Ng * H]) : GatherState(dcn, S, N, H, idx) ?? new float[S * Ng * H];
            var dH0g = idx == null && into != null ? dH0 : new float[S * Ng * Ho];       // one group: written in place
            var dC0g = !Desc.HasCellState ? null : idx == null && into != null ? dC0 : new float[S * Ng * H];

            var e = g.Entry;
            EnsureBackward(e);
            var pw = WeightsFor(e, g.Weights, backward: true);
            var ctx = Rent(e, backward: true);
            float[] dCur = dYg;
            try
            {
                _backend.ApplyThreads();
                float* ph0 = ctx.Pin(g.H0), pc0 = ctx.Pin(g.C0), phN = ctx.Pin(g.HN), pcN = ctx.Pin(g.CN);
                float* pdhN = ctx.Pin(dHNg), pdcN = ctx.Pin(dCNg), pdh0 = ctx.Pin(dH0g), pdc0 = ctx.Pin(dC0g);
                for (int l = L - 1; l >= 0; l--)
                {
                    int Il = Desc.LayerInputSize(l);
                    var dSrc = l == 0 && idx == null && into != null ? dX : GC.AllocateUninitializedArray<float>(Tg * Ng * Il);
                    var dWl = new float[D * Il * G * H];
                    var dWi = new float[D * Ho * G * H];
                    var dB = new float[D * Gb * H];
                    var dWp = P > 0 ? new float[D * H * P] : null;
                    var dWph = _peephole ? new float[D * 3 * H] : null;
                    long so = (long)l * D * Ng * Ho, sc = (long)l * D * Ng * H;
                    var set = ctx.Bwd![l];
                    set.Bind(DnnlArg.SrcLayer, ctx.Pin(l == 0 ? g.X : g.Dst[l - 1]));
                    set.Bind(DnnlArg.SrcIter, ph0 + so);
                    set.Bind(DnnlArg.DstLayer, ctx.Pin(g.Dst[l]));
                    set.Bind(DnnlArg.DstIter, phN + so);
                    set.Bind(DnnlArg.DiffDstLayer, ctx.Pin(dCur));
                    set.Bind(DnnlArg.DiffDstIter, pdhN + so);
                    set.Bind(DnnlArg.DiffSrcLayer, ctx.Pin(dSrc));
                    set.Bind(DnnlArg.DiffSrcIter, pdh0 + so);
                    if (pc0 != null)
                    {
                        set.Bind(DnnlArg.SrcIterC, pc0 + sc);
                        set.Bind(DnnlArg.DstIterC, pcN + sc);
                        set.Bind(DnnlArg.DiffDstIterC, pdcN + sc);
                        set.Bind(DnnlArg.DiffSrcIterC, pdc0 + sc);
                    }
                    set.Bind(DnnlArg.DiffWeightsLayer, ctx.Pin(dWl));
                    set.Bind(DnnlArg.DiffWeightsIter, ctx.Pin(dWi));
                    set.Bind(DnnlArg.DiffBias, ctx.Pin(dB));
                    if (dWp != null) set.Bind(DnnlArg.DiffWeightsProjection, ctx.Pin(dWp));
                    if (dWph != null) set.Bind(DnnlArg.DiffWeightsPeephole, ctx.Pin(dWph));
                    var args = ctx.Args;
                    int n = set.CopyTo(args, 0);
                    n = WeightArgs(args, n, pw, l);
                    if (ctx.BwdScratch![l] is { } sp) args[n++] = new DnnlExecArg(DnnlArg.Scratchpad, sp);
                    if (g.Ws[l] is { } wsm) args[n++] = new DnnlExecArg(DnnlArg.Workspace, wsm.Memory);
                    e.Layers[l].Bwd!.Execute(ctx.Stream, args.AsSpan(0, n));

                    for (int d = 0; d < D; d++)
                    {
                        OneDnnLayout.AddFromLdigo(dWl.AsSpan(d * Il * G * H), dParams.Get(l, d, RnnParamKind.WeightIh).Span, G, H, Il, _perm);
                        OneDnnLayout.AddFromLdigo(dWi.AsSpan(d * Ho * G * H), dParams.Get(l, d, RnnParamKind.WeightHh).Span, G, H, Ho, _perm);
                        if (Desc.Bias)
                            OneDnnLayout.AddFromBias(Desc.Mode, dB.AsSpan(d * Gb * H), dParams.Get(l, d, RnnParamKind.BiasIh).Span,
                                dParams.Get(l, d, RnnParamKind.BiasHh).Span, H);
                        if (dWp != null)
                            OneDnnLayout.AddFromLdio(dWp.AsSpan(d * H * P), dParams.Get(l, d, RnnParamKind.WeightHr).Span, P, H);
                        if (dWph != null) // ldgo (3, H) per direction: PyTorch's (3*H) order i, f, o
                        {
                            var dst = dParams.Get(l, d, RnnParamKind.WeightPh).Span;
                            var src = dWph.AsSpan(d * 3 * H, 3 * H);
                            for (int k = 0; k < src.Length; k++) dst[k] += src[k];
                        }
                    }
                    dCur = dSrc;
                }
            }
            finally
            {
                ctx.Unpin();
                Array.Clear(ctx.Args);
                e.Pool.Add(ctx);
            }

            if (idx == null)
            {
                dX = dCur;
                dH0 = dH0g;
                dC0 = dC0g;
            }
            else
            {
                ScatterSeq(dCur, dX, N, I, idx, Tg);
                ScatterState(dH0g, dH0, S, N, Ho, idx);
                if (dC0 != null) ScatterState(dC0g!, dC0, S, N, H, idx);
            }
        }

        if (into != null) return into.Result(dParams);
        return new RnnGradients(Tensor.FromArray(dX, T, N, I), Tensor.FromArray(dH0, S, N, Ho),
            dC0 == null ? null : Tensor.FromArray(dC0, S, N, H), dParams);
    }

    // ------------------------------------------------------------------ gather / scatter for length groups

    private static float[] HostOf(Tensor t) => t.IsHost ? t.HostArray : t.ToArray();

    /// <summary>(T,N,C) -> (Tg,Ng,C): steps 0..Tg-1 of the sequences in <paramref name="idx"/>.</summary>
    private static float[] GatherSeq(float[] src, int N, int C, int[] idx, int Tg)
    {
        var dst = new float[Tg * idx.Length * C];
        for (int t = 0; t < Tg; t++)
        for (int j = 0; j < idx.Length; j++)
            Array.Copy(src, ((long)t * N + idx[j]) * C, dst, ((long)t * idx.Length + j) * C, C);
        return dst;
    }

    /// <summary>(Tg,Ng,C) into zero-padded (T,N,C).</summary>
    private static void ScatterSeq(float[] src, float[] dst, int N, int C, int[] idx, int Tg)
    {
        for (int t = 0; t < Tg; t++)
        for (int j = 0; j < idx.Length; j++)
            Array.Copy(src, ((long)t * idx.Length + j) * C, dst, ((long)t * N + idx[j]) * C, C);
    }

    /// <summary>(S,N,C) -> (S,Ng,C), or null for null.</summary>
    private static float[]? GatherState(float[]? src, int S, int N, int C, int[] idx)
    {
        if (src == null) return null;
        var dst = new float[S * idx.Length * C];
        for (int s = 0; s < S; s++)
        for (int j = 0; j < idx.Length; j++)
            Array.Copy(src, ((long)s * N + idx[j]) * C, dst, ((long)s * idx.Length + j) * C, C);
        return dst;
    }

    private static void ScatterState(float[] src, float[] dst, int S, int N, int C, int[] idx)
    {
        for (int s = 0; s < S; s++)
        for (int j = 0; j < idx.Length; j++)
            Array.Copy(src, ((long)s * idx.Length + j) * C, dst, ((long)s * N + idx[j]) * C, C);
    }
}
