// The cuda backend's RNN plan: the whole stack (every layer and direction) is one cuDNN RNN descriptor, run by one
// cudnnRNNForward / cudnnRNNBackwardData_v8 / cudnnRNNBackwardWeights_v8 call each.
//   weights   PyTorch parameters -> a host image of cuDNN's weight space (CudnnWeightLayout, built from
//             cudnnGetRNNWeightParams) -> one upload, once per parameter version; gradients come back the same way.
//   data      time-major: x (T,N,I), y (T,N,D*H_out), hx/hy (L*D,N,H_out), cx/cy (L*D,N,H) are our tensors as they
//             are. Variable-length batches use SEQ_MAJOR_UNPACKED with padded I/O, their lengths in the data descriptors
//             (host) and devSeqLengths (device int32), and the plan zeroes padded rows of y and dx; batches of
//             full-length sequences use SEQ_MAJOR_PACKED with padded I/O off (same memory, cuDNN's faster path).
//   residency inputs already on this backend (CudaStorage) are used in place and results stay on the device; host inputs
//             are uploaded once and results downloaded once. A training forward keeps x, hx, cx, y and cuDNN's reserve
//             space on the device for backward (the workspace object); backward adds the weight gradients into a zeroed
//             dweightSpace (CUDNN_WGRAD_MODE_ADD), then gathers them into device tensors (device-resident call) or
//             downloads it once (host call).
//   states    a missing h0/c0 or upstream gradient is a zero buffer (cached, only ever read), never a NULL pointer.
//   algorithm standard or persistent-static (a descriptor and weight space per algorithm and padded-I/O setting). Auto
//             (the default) times both on the first calls of each small-batch shape and keeps the faster
//             (AlgorithmTuning); where cuDNN declines the persistent one, the plan uses standard and remembers why.
//   host      the weight-space image is pinned (registered) host memory: weight uploads and gradient downloads are DMA.
// Every call runs under the backend's lock on its one stream; the backend's context is made current first.
using System.Diagnostics;
using System.Numerics.Tensors;
using RnnFast.Bindings.Cuda;

namespace RnnFast.Backends.Cuda;

internal sealed class CudnnRnnPlan : IRnnPlan
{
    private const int MaxCachedShapes = 32;
    private readonly CudaBackend _b;
    private readonly CudaBackendOptions _options;
    private readonly Dictionary<(CudnnRnnAlgo Algo, bool PaddedIo), Prepared> _prepared = [];
    private readonly Dictionary<(int N, int TBucket, bool Training, bool PaddedIo), AlgorithmTuning> _tuning = [];
    private readonly Dictionary<(int T, int N), ShapeDescriptors> _shapes = [];
    private CudaDeviceMemory? _work, _zeros;
    private bool _disposed;

    public CudnnRnnPlan(CudaBackend backend, RnnParameters parameters, CudaBackendOptions options)
    {
        _b = backend;
        _options = options;
        Parameters = parameters;
        Desc = parameters.Desc;
        lock (_b.Gate)
        {
            _b.Context.MakeCurrent();
            GetPrepared(CudnnRnnAlgo.Standard, paddedIo: true); // builds and checks the weight layout now: errors surface at plan creation
        }
    }

    public RnnDesc Desc { get; }
    public RnnParameters Parameters { get; }

    /// <summary>Why the persistent algorithm is not used, once cuDNN declined it (null otherwise).</summary>
    internal string? PersistentDeclined { get; private set; }

    // ------------------------------------------------------------------ per-algorithm descriptor + weight space

    /// <summary>One RNN descriptor with its weight space on the device and the layout that maps it.</summary>
    private sealed class Prepared : IDisposable
    {
        public required CudnnRnnAlgo Algo;
        public required bool PaddedIo;
        public required RnnDescriptor Rnn;
        public required CudaDeviceMemory Weights;
        public required long WeightBytes;
        public required CudnnWeightLayout Layout;
        public long Stamp = long.MinValue;
        private CudaPinnedFloats? _image;

        /// <summary>
        /// A pinned host array of the weight space's size, reused (calls are serialized by the backend's lock). Copies
        /// from it are truly asynchronous: write it only after the stream has finished with it.
        /// </summary>
        public float[] HostImage(CudaContext context) => (_image ??= CudaPinnedFloats.Allocate(context, checked((int)Layout.SpaceElements))).Array;

        public void Dispose()
        {
            _image?.Dispose();
            Weights.Dispose();
            Rnn.Dispose();
        }
    }

    private Prepared GetPrepared(CudnnRnnAlgo algo, bool paddedIo)
    {
        if (_prepared.TryGetValue((algo, paddedIo), out var p)) return p;
        var settings = CudnnRnnSettings.From(Desc, _options.MathType, algo, paddedIo);
        var rnn = RnnDescriptor.Create(_b.Cudnn, settings, _b.NoDropout);
        CudaDeviceMemory? weights = null;
        try
        {
            long bytes = rnn.WeightSpaceSize();
            if (bytes <= 0 || bytes % sizeof(float) != 0)
                throw new InvalidOperationException($"cudnnGetRNNWeightSpaceSize reported {bytes} bytes for {Desc}: not a whole number of floats");
            weights = CudaDeviceMemory.Allocate(_b.Context, bytes);
            var layout = BuildLayout(rnn, weights, bytes);
            p = new Prepared { Algo = algo, PaddedIo = paddedIo, Rnn = rnn, Weights = weights, WeightBytes = bytes, Layout = layout };
        }
        catch
        {
            weights?.Dispose();
            rnn.Dispose();
            throw;
        }
        _prepared[(algo, paddedIo)] = p;
        return p;
    }

    /// <summary>The weight layout from cudnnGetRNNWeightParams on the real weight space (addresses only; nothing is read).</summary>
    private CudnnWeightLayout BuildLayout(RnnDescriptor rnn, CudaDeviceMemory weights, long bytes)
    {
        using var m = TensorDescriptor.Create(_b.Cudnn);
        using var bd = TensorDescriptor.Create(_b.Cudnn);
        nint basePtr = weights.Pointer;
        CudnnWeightRegion? Region(nint addr, TensorDescriptor d, string what)
        {
            if (addr == 0) return null;
            var (type, dims, strides) = d.GetNd();
            if (dims.Length == 0) return null;
            if (type != CudnnDataType.Float) throw new InvalidOperationException($"{what}: cuDNN reports data type {type}, expected Float");
            long offset = (long)addr - (long)basePtr;
            if (offset % sizeof(float) != 0) throw new InvalidOperationException($"{what}: offset {offset} bytes is not a whole float");
            return new CudnnWeightRegion(offset / sizeof(float), dims, strides);
        }
        return CudnnWeightLayout.Build(Desc, bytes / sizeof(float), (pseudo, lin) =>
        {
            var (ma, ba) = rnn.WeightParams(pseudo, basePtr, bytes, lin, m, bd);
            string what = $"pseudo-layer {pseudo} linLayerID {lin}";
            return new CudnnWeightParams(Region(ma, m, what + " matrix"), Region(ba, bd, what + " bias"));
        });
    }

    /// <summary>Uploads the parameters into <paramref name="p"/>'s weight space when their version changed since the last upload.</summary>
    private void EnsureWeights(Prepared p)
    {
        long stamp = Parameters.VersionStamp;
        if (p.Stamp == stamp) return;
        var image = p.HostImage(_b.Context);
        _b.Stream.Synchronize(); // an earlier upload from this pinned image may still be reading it
        p.Layout.Pack(Parameters, image);
        p.Weights.CopyFromHost<float>(image, _b.Stream);
        p.Stamp = stamp;
    }

    /// <summary>Whether a batch is described with padded I/O: variable lengths need it; full-length batches skip it unless told not to.</summary>
    private bool PaddedIoFor(SequenceBatch batch) => batch.IsVariable || _options.AlwaysPaddedIo;

    /// <summary>The shapes <see cref="CudaRnnAlgorithm.Auto"/> has settled, with the algorithm kept and the best times (tests, diagnostics).</summary>
    internal IReadOnlyList<string> TuningReport()
    {
        lock (_b.Gate)
            return _tuning.Select(kv => $"N={kv.Key.N} T<={kv.Key.TBucket} {(kv.Key.Training ? "training" : "inference")}" +
                $"{(kv.Key.PaddedIo ? " padded" : "")}: {kv.Value.Chosen?.ToString() ?? "timing"} (standard {kv.Value.Best.Standard * 1e3:0.###} ms, " +
                $"persistent {kv.Value.Best.Persistent * 1e3:0.###} ms)").ToList();
    }

    // ------------------------------------------------------------------ descriptors per batch shape

    /// <summary>The data and state descriptors of one batch shape, and its lengths on the device.</summary>
    private sealed class ShapeDescriptors : IDisposable
    {
        public required SequenceBatch Batch;
        public required RnnDataDescriptor X, Y;
        public required TensorDescriptor H, C;
        public required CudaDeviceMemory DevSeqLengths;

        public void Dispose()
        {
            X.Dispose();
            Y.Dispose();
            H.Dispose();
            C.Dispose();
            DevSeqLengths.Dispose();
        }
    }

    /// <summary>Cached per (T, N) for fixed-length batches; a variable-length batch gets its own (owned by the call or workspace).</summary>
    private ShapeDescriptors Shape(SequenceBatch batch, out bool owned)
    {
        owned = batch.IsVariable;
        if (!owned && _shapes.TryGetValue((batch.T, batch.N), out var cached)) return cached;
        var s = MakeShape(batch);
        if (!owned)
        {
            // Dropped, not disposed: a live workspace may still use one; finalizers release the rest.
            if (_shapes.Count >= MaxCachedShapes) _shapes.Clear();
            _shapes[(batch.T, batch.N)] = s;
        }
        return s;
    }

    private ShapeDescriptors MakeShape(SequenceBatch batch)
    {
        var cudnn = _b.Cudnn;
        var layout = PaddedIoFor(batch) ? CudnnRnnDataLayout.SeqMajorUnpacked : CudnnRnnDataLayout.SeqMajorPacked;
        var x = RnnDataDescriptor.Create(cudnn, layout, batch.T, batch.N, CudnnRnnSettings.InputVectorSize(Desc), batch.Lengths, 0f);
        var y = RnnDataDescriptor.Create(cudnn, layout, batch.T, batch.N, CudnnRnnSettings.OutputVectorSize(Desc), batch.Lengths, 0f);
        var h = TensorDescriptor.Create(cudnn);
        var (hd, hs) = CudnnRnnSettings.HiddenState(Desc, batch.N);
        h.SetNd(CudnnDataType.Float, hd, hs);
        var c = TensorDescriptor.Create(cudnn);
        var (cd, cs) = CudnnRnnSettings.CellState(Desc, batch.N);
        c.SetNd(CudnnDataType.Float, cd, cs);
        var lengths = _b.Pool.Rent((long)batch.N * sizeof(int));
        lengths.CopyFromHost<int>(batch.Lengths, _b.Stream);
        return new ShapeDescriptors { Batch = batch, X = x, Y = y, H = h, C = c, DevSeqLengths = lengths };
    }

    // ------------------------------------------------------------------ scratch and zeros

    /// <summary>The plan's scratch workspace, grown to at least <paramref name="bytes"/> (reused call after call: same stream, one call at a time).</summary>
    private CudaDeviceMemory Work(long bytes)
    {
        if (_work == null || _work.SizeInBytes < bytes)
        {
            _work?.Dispose();
            _work = _b.Pool.Rent(bytes);
        }
        return _work;
    }

    /// <summary>
    /// A buffer of at least <paramref name="floats"/> zeros (only ever read). Ask once per call for the most the call
    /// needs. Growing replaces the buffer without disposing the old one: a workspace that read it keeps it alive (it
    /// holds the object), and it goes back to the pool when nothing does.
    /// </summary>
    private CudaDeviceMemory Zeros(long floats)
    {
        long bytes = Math.Max(1, floats) * sizeof(float);
        if (_zeros == null || _zeros.SizeInBytes < bytes)
        {
            _zeros = _b.Pool.Rent(bytes);
            _zeros.ZeroAsync(_b.Stream);
        }
        return _zeros;
    }

    /// <summary>A tensor's elements on the device: in place when it already lives on this backend, else uploaded into <paramref name="keep"/>.</summary>
    private nint OnDevice(Tensor t, List<IDisposable> keep, List<object> alive)
    {
        if (t.Storage is CudaStorage cs && ReferenceEquals(cs.Owner, _b))
        {
            alive.Add(cs);
            return cs.Memory.Pointer;
        }
        var host = t.IsHost ? t.HostArray : t.ToArray();
        var buf = _b.Pool.Rent((long)host.Length * sizeof(float));
        buf.CopyFromHost<float>(host, _b.Stream);
        keep.Add(buf);
        return buf.Pointer;
    }

    /// <summary>
    /// A device copy of a (T, N, C) tensor with its padded rows zeroed: the upstream gradient of padded outputs must not
    /// reach cuDNN, whatever the caller put there (padded outputs are constants).
    /// </summary>
    private nint PaddedZeroedCopy(Tensor t, SequenceBatch batch, int features, List<IDisposable> keep)
    {
        CudaDeviceMemory buf;
        if (t.Storage is CudaStorage cs && ReferenceEquals(cs.Owner, _b))
        {
            long bytes = (long)t.Length * sizeof(float);
            buf = _b.Pool.Rent(bytes);
            buf.CopyFromDevice(cs.Memory, bytes, _b.Stream);
        }
        else
        {
            var host = t.IsHost ? t.HostArray : t.ToArray();
            buf = _b.Pool.Rent((long)host.Length * sizeof(float));
            buf.CopyFromHost<float>(host, _b.Stream);
        }
        keep.Add(buf);
        ZeroPadding(buf, batch, features);
        return buf.Pointer;
    }

    private bool IsOnDevice(Tensor t) => t.Storage is CudaStorage cs && ReferenceEquals(cs.Owner, _b);

    /// <summary>Zeroes the padded rows of a device (T, N, <paramref name="features"/>) buffer.</summary>
    private void ZeroPadding(CudaDeviceMemory buffer, SequenceBatch batch, int features)
    {
        foreach (var r in batch.PaddedRuns)
            buffer.ZeroAsync(_b.Stream, (long)r.Start * features * sizeof(float), (long)r.Count * features * sizeof(float));
    }

    /// <summary>A result tensor: the device buffer itself (device-resident call) or a host copy.</summary>
    private Tensor Result(CudaDeviceMemory buffer, bool onDevice, params int[] shape)
    {
        int length = 1;
        foreach (int d in shape) length *= d;
        if (onDevice) return new Tensor(new CudaStorage(_b, buffer, length), shape);
        var host = new float[length];
        buffer.CopyToHost<float>(host, _b.Stream);
        return Tensor.FromArray(host, shape);
    }

    // ------------------------------------------------------------------ forward

    /// <summary>What backward needs from a training forward, all on the device.</summary>
    private sealed class Workspace : RnnWorkspace
    {
        public required CudnnRnnPlan Plan;
        public required Prepared Prepared;
        public required ShapeDescriptors Shape;
        public required bool OwnsShape;
        public required nint X, Hx, Cx, Y;
        public required CudaDeviceMemory YBuffer;
        public required CudaDeviceMemory Reserve;
        public required long ReserveBytes;
        public required bool OnDevice;
        public required List<IDisposable> Owned;   // uploads made for this call (x, h0, c0)
        public required List<object> Alive;        // device buffers read in place: the caller's tensors, the zero buffer
        public bool Used;
        public bool Released;

        /// <summary>Disposed without a backward (or after it): the reserve space and this call's uploads go back at once.</summary>
        protected override void Release()
        {
            lock (Plan._b.Gate)
            {
                if (Plan._disposed) return; // the plan's context is gone, and with it every device buffer
                Plan._b.Context.MakeCurrent();
                CudnnRnnPlan.Release(this);
            }
        }
    }

    public RnnForwardResult Forward(RnnInputs inputs, bool training)
    {
        ThrowIfDisposed();
        RnnInputChecks.Forward(Desc, inputs); // one set of shape checks and messages for every backend
        CheckShape("input", inputs.Input, inputs.SeqLen, inputs.Batch, Desc.InputSize);
        int N = inputs.Batch, S = Desc.NumLayers * Desc.Directions;
        if (inputs.H0 != null) CheckShape("h0", inputs.H0, S, N, Desc.OutputHiddenSize);
        if (inputs.C0 != null) CheckShape("c0", inputs.C0, S, N, Desc.HiddenSize);
        var batch = SequenceBatch.Create(inputs.SeqLen, N, inputs.Lengths);

        lock (_b.Gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _b.Context.MakeCurrent();
            bool padded = PaddedIoFor(batch);
            AlgorithmTuning? tuning = null;
            bool timed = false;
            CudnnRnnAlgo algo;
            if (PersistentDeclined != null) algo = CudnnRnnAlgo.Standard;
            else if (_options.TunesFor(N))
            {
                var key = (N, AlgorithmTuning.LengthBucket(batch.T), training, padded);
                if (!_tuning.TryGetValue(key, out tuning)) _tuning[key] = tuning = new AlgorithmTuning(_options.TuningCalls);
                algo = tuning.Next(out timed);
            }
            else algo = _options.AlgoFor(N);
            if (algo == CudnnRnnAlgo.Standard) return TimedForward(GetPrepared(CudnnRnnAlgo.Standard, padded), inputs, batch, training, tuning, timed);

            Prepared persistent;
            try
            {
                persistent = GetPrepared(algo, padded);
            }
            catch (CudnnException e)
            {
                // The descriptor itself is refused (this GPU or cell): no shape will get it.
                PersistentDeclined = e.Message;
                tuning?.Decline();
                return ForwardWith(GetPrepared(CudnnRnnAlgo.Standard, padded), inputs, batch, training);
            }
            try
            {
                return TimedForward(persistent, inputs, batch, training, tuning, timed);
            }
            catch (CudnnException e)
            {
                // cuDNN may accept the persistent descriptor and decline the shape only here: standard for this shape
                // (tuned) or from now on (fixed choice).
                if (tuning != null) tuning.Decline();
                else PersistentDeclined = e.Message;
                return ForwardWith(GetPrepared(CudnnRnnAlgo.Standard, padded), inputs, batch, training);
            }
        }
    }

    /// <summary>A forward with <paramref name="p"/>; when <paramref name="timed"/>, timed from an idle stream to its end and reported to <paramref name="tuning"/>.</summary>
    private RnnForwardResult TimedForward(Prepared p, RnnInputs inputs, SequenceBatch batch, bool training, AlgorithmTuning? tuning, bool timed)
    {
        if (tuning == null) return ForwardWith(p, inputs, batch, training);
        if (!timed)
        {
            var first = ForwardWith(p, inputs, batch, training);
            tuning.Report(p.Algo, false, 0);
            return first;
        }
        _b.Stream.Synchronize();
        long start = Stopwatch.GetTimestamp();
        var r = ForwardWith(p, inputs, batch, training);
        _b.Stream.Synchronize();
        tuning.Report(p.Algo, true, Stopwatch.GetElapsedTime(start).TotalSeconds);
        return r;
    }

    /// <summary>One cudnnRNNForward with <paramref name="p"/> (caller holds the lock, context current).</summary>
    private RnnForwardResult ForwardWith(Prepared p, RnnInputs inputs, SequenceBatch batch, bool training)
    {
        int T = batch.T, N = batch.N, S = Desc.NumLayers * Desc.Directions, H = Desc.HiddenSize, Ho = Desc.OutputHiddenSize;
        int F = Desc.OutputSize;
        bool lstm = Desc.HasCellState;
        bool onDevice = IsOnDevice(inputs.Input);
        var mode = training ? CudnnForwardMode.Training : CudnnForwardMode.Inference;
        EnsureWeights(p);
        var shape = Shape(batch, out bool ownsShape);
        var owned = new List<IDisposable>();
        var alive = new List<object>();
        CudaDeviceMemory? y = null, hy = null, cy = null, reserve = null;
        bool kept = false;
        try
        {
            long zerosNeeded = Math.Max(inputs.H0 == null ? (long)S * N * Ho : 0, lstm && inputs.C0 == null ? (long)S * N * H : 0);
            nint zeros = 0;
            if (zerosNeeded > 0)
            {
                var z = Zeros(zerosNeeded);
                alive.Add(z);
                zeros = z.Pointer;
            }
            nint px = OnDevice(inputs.Input, owned, alive);
            nint hx = inputs.H0 != null ? OnDevice(inputs.H0, owned, alive) : zeros;
            nint cx = !lstm ? 0 : inputs.C0 != null ? OnDevice(inputs.C0, owned, alive) : zeros;
            y = _b.Pool.Rent((long)T * N * F * sizeof(float));
            hy = _b.Pool.Rent((long)S * N * Ho * sizeof(float));
            cy = lstm ? _b.Pool.Rent((long)S * N * H * sizeof(float)) : null;
            var (workBytes, reserveBytes) = p.Rnn.TempSpaceSizes(mode, shape.X);
            var work = Work(workBytes);
            if (training) reserve = _b.Pool.Rent(reserveBytes);
            p.Rnn.Forward(mode, shape.DevSeqLengths.Pointer, shape.X, px, shape.Y, y.Pointer, shape.H, hx, hy.Pointer, shape.C, cx,
                cy?.Pointer ?? 0, p.WeightBytes, p.Weights.Pointer, workBytes, work.Pointer, training ? reserveBytes : 0, reserve?.Pointer ?? 0);
            if (batch.IsVariable) ZeroPadding(y, batch, F);

            var output = Result(y, onDevice, T, N, F);
            var hN = Result(hy, onDevice, S, N, Ho);
            var cN = cy == null ? null : Result(cy, onDevice, S, N, H);
            if (!onDevice)
            {
                hy.Dispose();
                cy?.Dispose();
            }
            Workspace? ws = null;
            if (training)
            {
                ws = new Workspace
                {
                    Plan = this, Prepared = p, Shape = shape, OwnsShape = ownsShape, X = px, Hx = hx, Cx = cx, Y = y.Pointer, YBuffer = y,
                    Reserve = reserve!, ReserveBytes = reserveBytes, OnDevice = onDevice, Owned = owned, Alive = alive,
                };
                kept = true;
            }
            else if (!onDevice)
            {
                y.Dispose();
            }
            return new RnnForwardResult(output, hN, cN, ws);
        }
        catch
        {
            y?.Dispose();
            hy?.Dispose();
            cy?.Dispose();
            reserve?.Dispose();
            throw;
        }
        finally
        {
            if (!kept)
            {
                foreach (var o in owned) o.Dispose();
                if (ownsShape) shape.Dispose();
            }
        }
    }

    // ------------------------------------------------------------------ backward

    /// <summary>Streaming on this backend: each step is this plan's own T=1 forward (see <see cref="PlanStepper"/>).</summary>
    public RnnStepper CreateStepper(int maxStreams = 1)
    {
        ThrowIfDisposed();
        return new PlanStepper(this, _b, maxStreams);
    }

    public RnnGradients Backward(RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN)
    {
        ThrowIfDisposed();
        RnnInputChecks.Backward(Desc, inputs, forward, dOutput, dHN, dCN);
        if (forward.Workspace is not Workspace ws || !ReferenceEquals(ws.Plan, this))
            throw new ArgumentException("forward: no cuDNN workspace of this plan; run Forward(training: true) on this plan first", nameof(forward));
        if (!ws.Used) ws.ThrowIfDisposed();
        var batch = ws.Shape.Batch;
        int T = batch.T, N = batch.N, I = Desc.InputSize, S = Desc.NumLayers * Desc.Directions, H = Desc.HiddenSize, Ho = Desc.OutputHiddenSize;
        int F = Desc.OutputSize;
        bool lstm = Desc.HasCellState;
        if (dOutput != null) CheckShape("dOutput", dOutput, T, N, F);
        if (dHN != null) CheckShape("dHN", dHN, S, N, Ho);
        if (dCN != null && lstm) CheckShape("dCN", dCN, S, N, H);

        lock (_b.Gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (ws.Used) throw new InvalidOperationException("backward already ran on this forward result (cuDNN's reserve space is consumed by backward); run a new training forward");
            ws.Used = true;
            _b.Context.MakeCurrent();
            var p = ws.Prepared;
            var shape = ws.Shape;
            var owned = new List<IDisposable>();
            var alive = new List<object>();
            CudaDeviceMemory? dx = null, dhx = null, dcx = null, dw = null;
            try
            {
                long zerosNeeded = Math.Max(dOutput == null ? (long)T * N * F : 0,
                    Math.Max(dHN == null ? (long)S * N * Ho : 0, lstm && dCN == null ? (long)S * N * H : 0));
                nint zeros = 0;
                if (zerosNeeded > 0)
                {
                    var z = Zeros(zerosNeeded);
                    alive.Add(z);
                    zeros = z.Pointer;
                }
                nint dy = dOutput == null ? zeros : batch.IsVariable ? PaddedZeroedCopy(dOutput, batch, F, owned) : OnDevice(dOutput, owned, alive);
                nint dhy = dHN != null ? OnDevice(dHN, owned, alive) : zeros;
                nint dcy = !lstm ? 0 : dCN != null ? OnDevice(dCN, owned, alive) : zeros;
                dx = _b.Pool.Rent((long)T * N * I * sizeof(float));
                dhx = _b.Pool.Rent((long)S * N * Ho * sizeof(float));
                dcx = lstm ? _b.Pool.Rent((long)S * N * H * sizeof(float)) : null;
                var (workBytes, reserveBytes) = p.Rnn.TempSpaceSizes(CudnnForwardMode.Training, shape.X);
                if (reserveBytes != ws.ReserveBytes)
                    throw new InvalidOperationException($"cuDNN now asks for a {reserveBytes}-byte reserve space, the training forward had {ws.ReserveBytes}");
                var work = Work(workBytes);

                p.Rnn.BackwardData(shape.DevSeqLengths.Pointer, shape.Y, ws.Y, dy, shape.X, dx.Pointer, shape.H, ws.Hx, dhy, dhx.Pointer,
                    shape.C, ws.Cx, dcy, dcx?.Pointer ?? 0, p.WeightBytes, p.Weights.Pointer, workBytes, work.Pointer, ws.ReserveBytes, ws.Reserve.Pointer);
                if (batch.IsVariable) ZeroPadding(dx, batch, I);

                dw = _b.Pool.Rent(p.WeightBytes);
                dw.ZeroAsync(_b.Stream, 0, p.WeightBytes); // CUDNN_WGRAD_MODE_ADD accumulates
                p.Rnn.BackwardWeights(CudnnWgradMode.Add, shape.DevSeqLengths.Pointer, shape.X, ws.X, shape.H, ws.Hx, shape.Y, ws.Y,
                    p.WeightBytes, dw.Pointer, workBytes, work.Pointer, ws.ReserveBytes, ws.Reserve.Pointer);
                RnnParameters dParams;
                if (ws.OnDevice)
                {
                    dParams = DeviceGradients(p, dw); // a device-resident call keeps its parameter gradients on the device too
                }
                else
                {
                    var image = p.HostImage(_b.Context);
                    dw.CopyToHost<float>(image, _b.Stream); // DMA into pinned memory; waits for the stream
                    dParams = RnnParameters.Zeros(Desc);
                    p.Layout.AddTo(image, dParams);
                }

                var dInput = Result(dx, ws.OnDevice, T, N, I);
                var dH0 = Result(dhx, ws.OnDevice, S, N, Ho);
                var dC0 = dcx == null ? null : Result(dcx, ws.OnDevice, S, N, H);
                if (!ws.OnDevice)
                {
                    dx.Dispose();
                    dhx.Dispose();
                    dcx?.Dispose();
                }
                return new RnnGradients(dInput, dH0, dC0, dParams);
            }
            catch
            {
                dx?.Dispose();
                dhx?.Dispose();
                dcx?.Dispose();
                throw;
            }
            finally
            {
                dw?.Dispose();
                foreach (var o in owned) o.Dispose();
                ws.Dispose(); // single use: the reserve space goes back now
            }
        }
    }

    /// <summary>
    /// The parameter gradients as device tensors in PyTorch's layout, gathered from cuDNN's dweightSpace block by block
    /// (device-to-device copies queued on the stream; each buffer is zeroed first, so an element no block covers reads 0).
    /// </summary>
    private RnnParameters DeviceGradients(Prepared p, CudaDeviceMemory dw)
    {
        var ids = RnnParameters.Layout(Desc);
        var index = new Dictionary<RnnParamId, int>(ids.Count);
        var buffers = new CudaDeviceMemory[ids.Count];
        var tensors = new Tensor[ids.Count];
        try
        {
            for (int i = 0; i < ids.Count; i++)
            {
                index[ids[i]] = i;
                var shape = RnnParameters.ShapeOf(Desc, ids[i]);
                long n = 1;
                foreach (int d in shape) n *= d;
                buffers[i] = _b.Pool.Rent(n * sizeof(float));
                buffers[i].ZeroAsync(_b.Stream, 0, n * sizeof(float));
            }
            foreach (var b in p.Layout.Blocks)
                buffers[index[b.Param]].CopyFromDevice(dw, (long)b.Count * sizeof(float), _b.Stream,
                    sourceOffset: b.SpaceOffset * sizeof(float), byteOffset: (long)b.SourceOffset * sizeof(float));
            for (int i = 0; i < ids.Count; i++)
                tensors[i] = Result(buffers[i], onDevice: true, RnnParameters.ShapeOf(Desc, ids[i]));
            return RnnParameters.FromTensors(Desc, tensors);
        }
        catch
        {
            foreach (var b in buffers) b?.Dispose();
            throw;
        }
    }

    /// <summary>Frees what a workspace holds on the device (after its backward).</summary>
    private static void Release(Workspace ws)
    {
        if (ws.Released) return;
        ws.Released = true;
        ws.Reserve.Dispose();
        if (!ws.OnDevice) ws.YBuffer.Dispose();
        foreach (var o in ws.Owned) o.Dispose();
        ws.Owned.Clear();
        ws.Alive.Clear();
        if (ws.OwnsShape) ws.Shape.Dispose();
    }

    private static void CheckShape(string name, Tensor t, params int[] shape)
    {
        if (!t.HasShape(shape))
            throw new ArgumentException($"{name}: expected {Tensor.FormatShape(shape)}, found {Tensor.FormatShape(t.Shape)}", name);
    }

    public void Dispose()
    {
        lock (_b.Gate)
        {
            if (_disposed) return;
            Volatile.Write(ref _disposed, true);
            foreach (var p in _prepared.Values) p.Dispose();
            _prepared.Clear();
            foreach (var s in _shapes.Values) s.Dispose();
            _shapes.Clear();
            _work?.Dispose();
        }
    }

    /// <summary>Throws ObjectDisposedException (naming this plan) once Dispose ran: Forward, Backward and CreateStepper (so its steppers' Step) refuse.</summary>
    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
}
