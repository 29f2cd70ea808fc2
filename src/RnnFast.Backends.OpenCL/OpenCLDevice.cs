// One OpenCL device in use: its context and in-order command queue (created once per process and device, shared by
// `opencl` and `opencl:N`), the kernels compiled for it (once, on first use), buffers, and the launches of the SGEMM
// and the per-element kernels. Kernel arguments live on shared kernel objects, so a caller holds Gate while it sets
// arguments and enqueues; everything runs in queue order, so results can be read without holding it.
using RnnFast.Bindings.OpenCL;

namespace RnnFast.Backends.OpenCL;

/// <summary>A device's context, queue, compiled kernels and the launch helpers the RNN plan uses.</summary>
internal sealed class OpenCLDevice
{
    private static readonly object CacheGate = new();
    private static readonly Dictionary<CLDevice, OpenCLDevice> Cache = [];
    private readonly Lazy<KernelSet> _kernels;

    private OpenCLDevice(OpenCLDeviceEntry entry, GemmTiles tiles)
    {
        Cl = CL.GetApi();
        Entry = entry;
        Tiles = tiles;
        Context = Cl.CreateContext(entry.Device);
        Queue = Cl.CreateCommandQueue(Context, entry.Device);
        _kernels = new Lazy<KernelSet>(() => new KernelSet(this), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The runtime of <paramref name="entry"/>'s device, created on first use.</summary>
    public static OpenCLDevice For(OpenCLDeviceEntry entry)
    {
        lock (CacheGate)
        {
            foreach (var (device, runtime) in Cache)
                if (device.SameDevice(entry.Device)) return runtime;
            var created = new OpenCLDevice(entry, GemmTiles.ChooseFor(entry.Properties));
            Cache[entry.Device] = created;
            return created;
        }
    }

    /// <summary>For tests: a runtime of its own (context, queue, program) with the given sizes, e.g. the GPU's SGEMM form on a CPU device.</summary>
    internal static OpenCLDevice CreateUncached(OpenCLDeviceEntry entry, GemmTiles tiles) => new(entry, tiles);

    public CL Cl { get; }
    public OpenCLDeviceEntry Entry { get; }
    public GemmTiles Tiles { get; }
    public CLContext Context { get; }
    public CLCommandQueue Queue { get; }

    /// <summary>Held while setting kernel arguments and enqueueing (kernel objects are shared).</summary>
    public object Gate { get; } = new();

    /// <summary>The compiled kernels (compiled on first access; a build failure throws with the build log).</summary>
    public KernelSet Kernels => _kernels.Value;

    /// <summary>True once the kernels are compiled.</summary>
    public bool IsCompiled => _kernels.IsValueCreated;

    // ------------------------------------------------------------------ memory

    /// <summary>A read-write buffer of <paramref name="floats"/> float32 elements (at least one), uninitialised.</summary>
    public CLBuffer NewBuffer(long floats)
    {
        if (floats > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(floats), $"a buffer of {floats} elements is larger than the kernels' 32-bit indexing allows");
        return Cl.CreateBuffer(Context, MemFlags.ReadWrite, Math.Max(floats, 1) * sizeof(float));
    }

    /// <summary>A buffer holding <paramref name="data"/> (blocking upload).</summary>
    public CLBuffer Upload(ReadOnlySpan<float> data)
    {
        var b = NewBuffer(data.Length);
        Cl.EnqueueWriteBuffer(Queue, b, 0, data);
        return b;
    }

    /// <summary>A buffer holding <paramref name="data"/> as int32 (blocking upload).</summary>
    public CLBuffer Upload(ReadOnlySpan<int> data)
    {
        var b = Cl.CreateBuffer(Context, MemFlags.ReadOnly, Math.Max(data.Length, 1) * sizeof(int));
        Cl.EnqueueWriteBuffer(Queue, b, 0, data);
        return b;
    }

    /// <summary>Blocking read of <paramref name="destination"/>.Length floats from element <paramref name="offset"/>.</summary>
    public void Download(CLBuffer buffer, long offset, Span<float> destination) => Cl.EnqueueReadBuffer(Queue, buffer, offset, destination);

    /// <summary>Enqueues buffer[offset .. offset+count) = value.</summary>
    public void Fill(CLBuffer buffer, long offset, long count, float value = 0f)
    {
        if (count > 0) Cl.EnqueueFillBuffer(Queue, buffer, value, offset * sizeof(float), count * sizeof(float));
    }

    /// <summary>Enqueues a device-to-device copy of <paramref name="count"/> floats.</summary>
    public void Copy(CLBuffer source, long sourceOffset, CLBuffer destination, long destinationOffset, long count)
    {
        if (count > 0) Cl.EnqueueCopyBuffer(Queue, source, destination, sourceOffset * sizeof(float), destinationOffset * sizeof(float), count * sizeof(float));
    }

    /// <summary>Blocks until everything enqueued so far has completed.</summary>
    public void Finish() => Cl.Finish(Queue);

    // ------------------------------------------------------------------ launches (caller holds Gate)

    /// <summary>
    /// Enqueues C (M x N) = op(A) . op(B) [+ beta C] [+ bias[offBias1..] + bias[offBias2..] per column]; offsets in
    /// elements, a negative bias offset means no such bias. The device's SGEMM form runs it (the tiled form for B^T
    /// products, which the vector form does not take); <paramref name="variant"/> overrides that (tests). See gemm.cl.
    /// </summary>
    public void Gemm(int M, int N, int K, CLBuffer a, long offA, int lda, bool transA, CLBuffer b, long offB, int ldb, bool transB,
        CLBuffer c, long offC, int ldc, float beta, CLBuffer? bias = null, long offBias1 = -1, long offBias2 = -1, GemmVariant? variant = null)
    {
        if (M <= 0 || N <= 0) return;
        var t = Tiles;
        var form = variant ?? t.Variant;
        if (form == GemmVariant.Vector && transB)
        {
            if (variant != null) throw new ArgumentException("transB: the vector SGEMM takes B as it is (K x N)", nameof(transB));
            form = GemmVariant.Tiled;
        }
        var k = form == GemmVariant.Vector ? Kernels.SgemmVec : Kernels.Sgemm;
        int biasMode = bias == null ? 0 : (offBias1 >= 0 ? 1 : 0) | (offBias2 >= 0 ? 2 : 0);
        var w = new ArgWriter(Cl, k);
        w.Int(M); w.Int(N); w.Int(K);
        w.Buf(a); w.Int(Off(offA)); w.Int(lda); w.Int(transA ? 1 : 0);
        w.Buf(b); w.Int(Off(offB)); w.Int(ldb);
        if (form == GemmVariant.Tiled) w.Int(transB ? 1 : 0);
        w.Buf(c); w.Int(Off(offC)); w.Int(ldc); w.Float(beta);
        w.Buf(bias ?? c); w.Int(Off(Math.Max(offBias1, 0))); w.Int(Off(Math.Max(offBias2, 0))); w.Int(biasMode);
        if (form == GemmVariant.Vector)
        {
            Span<nuint> global = [(nuint)(Groups(Groups(N, t.VW), t.LXV) * t.LXV), (nuint)Groups(M, t.VR)];
            Span<nuint> local = [(nuint)t.LXV, 1];
            Cl.EnqueueNDRangeKernel(Queue, k, global, local);
        }
        else
        {
            Span<nuint> global = [(nuint)(Groups(N, t.TN) * t.LX), (nuint)(Groups(M, t.TM) * t.LY)];
            Span<nuint> local = [(nuint)t.LX, (nuint)t.LY];
            Cl.EnqueueNDRangeKernel(Queue, k, global, local);
        }
    }

    /// <summary>Enqueues a per-element kernel over <paramref name="count"/> work-items (rounded up to whole work-groups).</summary>
    public void Launch1D(CLKernel kernel, long count)
    {
        if (count <= 0) return;
        int l = Tiles.Local1D;
        Span<nuint> global = [(nuint)(Groups(count, l) * l)];
        Span<nuint> local = [(nuint)l];
        Cl.EnqueueNDRangeKernel(Queue, kernel, global, local);
    }

    /// <summary>An element offset as the kernels' int argument.</summary>
    public static int Off(long offset) =>
        offset is >= 0 and <= int.MaxValue ? (int)offset : throw new ArgumentOutOfRangeException(nameof(offset), $"offset {offset} does not fit the kernels' 32-bit indexing");

    private static long Groups(long n, int size) => (n + size - 1) / size;
}
