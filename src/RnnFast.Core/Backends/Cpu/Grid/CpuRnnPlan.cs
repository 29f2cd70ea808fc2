// The managed CPU backend's RNN plan, the grid level: oneDNN's grid -> cell -> pointwise structure with our own kernels
// (Grid/: layers x directions x time; Cell/: one step; Pointwise/: the fused gate math; Gemm/: Sgemm). This file:
// the weights' versions and the forward grid.
// Per layer and direction: (1) XW (T*N, GP) = X (T*N, I_l) . W_ih^T + bias, one GEMM for all steps; (2) per step,
// the recurrent GEMM h_prev (N, H_out) . W_hh^T, added into XW[t] (LSTM/RNN) or into HH (N, GP) (GRU, whose n gate
// needs W_hn h + b_hn apart); (3) the fused gate kernel (CellOps) on the same thread, right after that thread's
// panels (threads own chunks of 32 hidden units, see CpuWeights); (4) LSTM projection h = h_raw . W_hr^T.
// Backward mirrors it: per step the gate-gradient kernel, then dh_prev (N, H_out) = dG_t (N, GP) . W_hh; after
// the time loop whole-sequence GEMMs dW_ih = dG^T X, dW_hh = dGh^T H_prev, dX (+)= dG . W_ih, dW_hr = dH^T H_raw.
// Semantics are the reference's (ReferenceRnnPlan): masking by length, padded outputs 0, the reverse direction
// walks t = T-1..0. Bidirectional layers run their two directions on two threads when the pool has them.
// CellForward.StepLayer drives the same per-step kernels for CpuRnnStepper (streaming: T=1 on the stepper's own buffers).
namespace RnnFast.Backends.Cpu;

internal sealed unsafe partial class CpuRnnPlan : IRnnPlan
{
    private readonly object _packGate = new();
    private readonly Stack<InferScratch> _scratch = new();
    private readonly BufferPool _buffers = new(); // training buffers: a disposed forward's workspace, a backward's scratch

    /// <summary>The pooled training buffers (for tests).</summary>
    internal BufferPool TrainingBuffers => _buffers;
    private CpuWeights _weights;

    private readonly CpuWeightPrecision _precision;
    private readonly Backend _backend;

    /// <param name="parameters">The weights (packed now, re-packed when their version changes).</param>
    /// <param name="precision">Also keep bf16 / int8 copies of the recurrent weights for batch-1 inference (see Bf16.cs, Int8.cs).</param>
    /// <param name="backend">The backend that made this plan (named by its steppers).</param>
    public CpuRnnPlan(RnnParameters parameters, CpuWeightPrecision precision = CpuWeightPrecision.Fp32, Backend? backend = null)
    {
        _backend = backend ?? new CpuBackend(precision);
        Parameters = parameters;
        Desc = parameters.Desc;
        _precision = precision;
        _weights = CpuWeights.Pack(parameters, VersionStamp(parameters), precision);
    }

    public RnnDesc Desc { get; }
    public RnnParameters Parameters { get; }

    /// <summary>The backend that made this plan ("cpu", "cpu:bf16" or "cpu:int8"; its steppers report it as ExecutedBy).</summary>
    internal Backend Backend => _backend;

    private int _disposed;

    /// <summary>Frees the inference scratch and the pooled training buffers (idempotent, thread-safe): Forward, Backward, CreateStepper and its steppers' Step refuse after it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        lock (_scratch) _scratch.Clear();
        _buffers.Clear();
    }

    /// <summary>Throws ObjectDisposedException (naming this plan) once <see cref="Dispose"/> ran.</summary>
    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>The packed weights for the parameters' current version (re-packed when an optimizer changed them).</summary>
    internal CpuWeights CurrentWeights()
    {
        long stamp = VersionStamp(Parameters);
        var w = Volatile.Read(ref _weights);
        if (w.Stamp == stamp) return w;
        lock (_packGate)
        {
            w = _weights;
            if (w.Stamp != stamp)
            {
                w = CpuWeights.Pack(Parameters, stamp, _precision);
                Volatile.Write(ref _weights, w);
            }
            return w;
        }
    }

    /// <summary>RnnParameters.VersionStamp (the sum of the tensors' versions) by index: no enumerator per call, so a stepper's step allocates nothing.</summary>
    private static long VersionStamp(RnnParameters p)
    {
        var tensors = p.Tensors;
        long v = 0;
        for (int i = 0; i < tensors.Count; i++) v += tensors[i].Version;
        return v;
    }

    private static float[] HostData(Tensor t) => t.IsHost ? t.HostArray : t.ToArray();

    // ------------------------------------------------------------------ forward

    public RnnForwardResult Forward(RnnInputs inputs, bool training) => Run(inputs, training, null);

    /// <summary>Inference written straight into the caller's buffers: no per-call allocation (see <see cref="RnnOutputBuffers"/>).</summary>
    public RnnForwardResult ForwardInto(RnnInputs inputs, RnnOutputBuffers into)
    {
        ArgumentNullException.ThrowIfNull(into);
        return Run(inputs, training: false, into);
    }

    /// <summary>A forward (inference or training) written straight into the caller's buffers: no output-sized allocation per call.</summary>
    public RnnForwardResult ForwardInto(RnnInputs inputs, RnnOutputBuffers into, bool training)
    {
        ArgumentNullException.ThrowIfNull(into);
        return Run(inputs, training, into);
    }

    private RnnForwardResult Run(RnnInputs inputs, bool training, RnnOutputBuffers? into)
    {
        ThrowIfDisposed();
        RnnInputChecks.Forward(Desc, inputs); // the kernels read through pointers: shapes are checked before any of them
        into?.Check(Desc, inputs);
        var desc = Desc;
        int T = inputs.SeqLen, N = inputs.Batch, L = desc.NumLayers, D = desc.Directions;
        int H = desc.HiddenSize, Ho = desc.OutputHiddenSize, P = desc.ProjSize;
        var w = CurrentWeights();
        if (training) w.EnsureBackward();
        var layout = w.Dirs[0].Layout;
        int GP = layout.GP;
        float[] x0 = HostData(inputs.Input);
        float[]? h0 = inputs.H0 == null ? null : HostData(inputs.H0);
        float[]? c0 = inputs.C0 == null ? null : HostData(inputs.C0);
        int[]? lens = inputs.Lengths;
        float[] output, hN;
        float[]? cN;
        if (into != null) (output, hN, cN) = (into.Output.HostArray, into.HN.HostArray, into.CN?.HostArray); // the time loop writes every element, padded steps' zeros included
        else
        {
            output = new float[(long)T * N * D * Ho];
            hN = new float[L * D * N * Ho];
            cN = desc.HasCellState ? new float[L * D * N * H] : null;
        }

        Workspace? ws = null;
        InferScratch? sc = null;
        if (training)
        {
            ws = new Workspace
            {
                Pool = _buffers, Weights = w, T = T, N = N,
                LayerOutputs = new AlignedFloats[L], Gates = new AlignedFloats[L * D], H = new AlignedFloats[L * D],
                C = new AlignedFloats[L * D], HRaw = new AlignedFloats[L * D], HhN = new AlignedFloats[L * D], HH = new AlignedFloats[L * D],
            };
        }
        else sc = RentScratch();

        var pool = WorkerPool.Shared;
        long stepWork = (long)N * GP * Ho;
        bool splitSteps = CellForward.SplitsSteps(N, GP, Ho, layout.Q);
        bool parallelDirs = D == 2 && pool.Size > 1 && stepWork * T >= 1 << 16;
        long hState = (long)N * Ho, cState = (long)N * H; // one layer-direction's h (N, H_out) and c (N, H)
        try
        {
            fixed (float* px = x0, ph0 = h0, pc0 = c0, pout = output, phN = hN, pcN = cN)
            fixed (int* plen = lens)
            {
                // (L*D, N, H_out) and (L*D, N, H) states
                FloatBuf h0b = new(ph0, h0?.Length ?? 0), c0b = new(pc0, c0?.Length ?? 0);
                FloatBuf hNb = new(phN, hN.Length), cNb = new(pcN, cN?.Length ?? 0);
                var xin = new FloatBuf(px, x0.Length); // (T, N, I_l)
                int I = desc.InputSize;
                DirFwd* dirs = stackalloc DirFwd[2];
                for (int l = 0; l < L; l++)
                {
                    long ySize = (long)T * N * D * Ho; // the layer's output (T, N, D*H_out)
                    FloatBuf y;
                    if (l == L - 1) y = new FloatBuf(pout, output.Length);
                    else if (ws != null) y = FloatBuf.Of(ws.LayerOutputs[l] = _buffers.Rent(ySize));
                    else y = InferScratch.Ensure(sc!.Y, l & 1, ySize);

                    for (int d = 0; d < D; d++)
                    {
                        int s = l * D + d;
                        var dw = w.Dirs[s];
                        ref DirFwd f = ref dirs[d];
                        f = DirFwd.Create(desc.Mode, dw, T, N, d, training, splitSteps && !parallelDirs, lowPrecisionSmallBatch: !training);
                        f.Len = plen;
                        f.Y = y.From(d * Ho);
                        f.Ldy = D * Ho;
                        if (ws != null)
                        {
                            f.XW = FloatBuf.Of(ws.Gates[s] = _buffers.Rent(T * layout.Row(N), clear: false));
                            f.HBuf = FloatBuf.Of(ws.H[s] = _buffers.Rent((T + 1) * hState));
                            if (desc.HasCellState) f.CBuf = FloatBuf.Of(ws.C[s] = _buffers.Rent((T + 1) * cState));
                            if (P > 0) f.HRaw = FloatBuf.Of(ws.HRaw[s] = _buffers.Rent(T * cState));
                            if (desc.Mode == RnnMode.Gru)
                            {
                                f.HhN = FloatBuf.Of(ws.HhN[s] = _buffers.Rent(T * cState));
                                f.HH = FloatBuf.Of(ws.HH[s] = _buffers.Rent(layout.Row(N)));
                            }
                        }
                        else
                        {
                            f.XW = InferScratch.Ensure(sc!.XW, d, T * layout.Row(N));
                            f.HBuf = InferScratch.Ensure(sc.H, d, 2 * hState);
                            if (desc.HasCellState) f.CBuf = InferScratch.Ensure(sc.C, d, cState);
                            if (P > 0) f.HRaw = InferScratch.Ensure(sc.HRaw, d, cState);
                            if (desc.Mode == RnnMode.Gru) f.HH = InferScratch.Ensure(sc.HH, d, layout.Row(N));
                        }

                        // h0 / c0 into the first slot (training: slot 0 forward, slot T reverse; inference: slot 0)
                        long first = training && d == 1 ? T : 0;
                        float* hFirst = f.HBuf.At(first * hState, hState);
                        if (ph0 != null) Pointwise.Copy(h0b.At(s * hState, hState), hFirst, N * Ho);
                        else Pointwise.Clear(hFirst, N * Ho);
                        if (desc.HasCellState)
                        {
                            float* cFirst = f.CBuf.At(first * cState, cState);
                            if (pc0 != null) Pointwise.Copy(c0b.At(s * cState, cState), cFirst, N * H);
                            else Pointwise.Clear(cFirst, N * H);
                        }

                        // (1) the input projection of every step at once: XW (T*N, GP) = x (T*N, I_l) . W_ih^T + bias
                        Sgemm.Gemm(new GemmShape(T * N, GP, I), new GemmA(xin, I), GemmB.FromPacked(dw.WihTPanels, dw.Layout.HalfPanelsFrom), new GemmC(f.XW, GP),
                            dw.XInit, FloatBuf.Of(dw.XBias));
                    }

                    // (2)-(4) the time loops, per step the cell: recurrent panels, gate kernel, projection. With small
                    // recurrent weights: the batch cut into parts that run all steps unsynchronised (TimeLoop.BatchParts).
                    int batchParts = parallelDirs ? 0 : TimeLoop.BatchParts(w.Dirs[l * D], N, T);
                    if (batchParts >= 2)
                        for (int d = 0; d < D; d++) TimeLoop.ForwardBatchParts(dirs + d, batchParts);
                    else TimeLoop.Forward(dirs, D, parallelDirs);

                    for (int d = 0; d < D; d++)
                    {
                        int s = l * D + d;
                        ref DirFwd f = ref dirs[d];
                        long hSlot = training ? (d == 0 ? T : 0) : (T & 1), cSlot = training && d == 0 ? T : 0;
                        Pointwise.Copy(f.HBuf.At(hSlot * hState, hState), hNb.At(s * hState, hState), N * Ho);
                        if (pcN != null) Pointwise.Copy(f.CBuf.At(cSlot * cState, cState), cNb.At(s * cState, cState), N * H);
                    }
                    xin = y;
                    I = D * Ho;
                }
            }
        }
        finally
        {
            if (sc != null) ReturnScratch(sc);
        }
        if (into != null) return into.Result(ws);
        return new RnnForwardResult(Tensor.FromArray(output, T, N, D * Ho), Tensor.FromArray(hN, L * D, N, Ho),
            cN == null ? null : Tensor.FromArray(cN, L * D, N, H), ws);
    }

    /// <summary>Streaming on this backend: the allocation-free <see cref="CpuRnnStepper"/> (this plan's kernels at T=1, state in place).</summary>
    public RnnStepper CreateStepper(int maxStreams = 1)
    {
        ThrowIfDisposed();
        return new CpuRnnStepper(this, maxStreams);
    }
}
