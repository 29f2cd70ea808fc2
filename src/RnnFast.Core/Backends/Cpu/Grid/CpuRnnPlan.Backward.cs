// CpuRnnPlan's backward grid: layers from the top down, per layer the directions (on two threads when worth it),
// each a reverse time loop (TimeLoop.Backward) producing dG; then whole-sequence GEMMs per layer and direction:
// dW_ih = dG^T X, dW_hh = dGh^T H_prev, bias sums, dW_hr = dH^T H_raw, dX (+)= dG . W_ih; and the gradient rows
// from the physical gate order back into PyTorch's (GradientRows).
namespace RnnFast.Backends.Cpu;

internal sealed unsafe partial class CpuRnnPlan
{
    public RnnGradients Backward(RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN) =>
        Backward(inputs, forward, dOutput, dHN, dCN, null, null);

    /// <summary>Backward adding the parameter gradients straight into <paramref name="paramGrads"/> (no gradient-sized arrays per call).</summary>
    public RnnGradients BackwardAccumulate(RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN,
        RnnParameters paramGrads)
    {
        RnnGradientTargets.Check(Desc, paramGrads);
        return Backward(inputs, forward, dOutput, dHN, dCN, paramGrads, null);
    }

    /// <summary>
    /// <see cref="BackwardAccumulate(RnnInputs, RnnForwardResult, Tensor, Tensor, Tensor, RnnParameters)"/> writing dX,
    /// dh0 and dc0 straight into the caller's buffers. Measured (alternating runs, `rnnfast bench` training, a
    /// new output and dX per call against kept ones): LSTM 25x64x512 286-297 -> 301-317 GFLOP/s, LSTM 25x32x1024
    /// 209-248 -> 301-328: the fresh megabyte arrays cost a full collection and page faults per call.
    /// </summary>
    public RnnGradients BackwardAccumulate(RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN,
        RnnParameters paramGrads, RnnInputGradientBuffers into)
    {
        ArgumentNullException.ThrowIfNull(into);
        RnnGradientTargets.Check(Desc, paramGrads);
        return Backward(inputs, forward, dOutput, dHN, dCN, paramGrads, into);
    }

    /// <summary>
    /// The backward grid; the parameter gradients go into new tensors, or are added into <paramref name="into"/>; dX, dh0
    /// and dc0 into new tensors, or written into <paramref name="gradsInto"/>.
    /// </summary>
    private RnnGradients Backward(RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN, RnnParameters? into,
        RnnInputGradientBuffers? gradsInto)
    {
        ThrowIfDisposed();
        RnnInputChecks.Backward(Desc, inputs, forward, dOutput, dHN, dCN);
        gradsInto?.Check(Desc, inputs, dOutput, dHN, dCN);
        if (forward.Workspace is not Workspace ws)
            throw new ArgumentException("forward: no CPU workspace; run Forward(training: true) on this plan first", nameof(forward));
        ws.ThrowIfDisposed();
        var desc = Desc;
        int T = inputs.SeqLen, N = inputs.Batch, L = desc.NumLayers, D = desc.Directions;
        if (T != ws.T || N != ws.N)
            throw new ArgumentException($"inputs: (T,N)=({T},{N}) differ from the forward pass's ({ws.T},{ws.N})", nameof(inputs));
        int H = desc.HiddenSize, Ho = desc.OutputHiddenSize, P = desc.ProjSize;
        var w = ws.Weights;
        var layout = w.Dirs[0].Layout;
        int GP = layout.GP;
        bool gru = desc.Mode == RnnMode.Gru;

        bool add = into != null; // add into the caller's gradients, or write new ones
        var dParams = into ?? RnnParameters.Zeros(desc);
        // every element of dX, dh0 and dc0 is written below (dX by the first direction's product, dh0/dc0 per slot)
        var dh0 = gradsInto?.DH0.HostArray ?? new float[L * D * N * Ho];
        var dc0 = !desc.HasCellState ? null : gradsInto?.DC0!.HostArray ?? new float[L * D * N * H];
        var dX0 = gradsInto?.DInput.HostArray ?? new float[(long)T * N * desc.InputSize];
        float[] dYTop = dOutput == null ? new float[(long)T * N * D * Ho] : HostData(dOutput);
        float[]? dhn = dHN == null ? null : HostData(dHN);
        float[]? dcn = dCN == null ? null : HostData(dCN);
        float[] x0 = HostData(inputs.Input);
        int[]? lens = inputs.Lengths;

        // per-direction buffers, reused by every layer (padding columns of DG stay zero)
        var dG = new AlignedFloats[D];
        var dGh = new AlignedFloats[D];
        var dh2 = new AlignedFloats[D];
        var dc = new AlignedFloats[D];
        var dTot = new AlignedFloats[D];
        var dhRaw = new AlignedFloats[D];
        // every step writes every gate column of dG (masked rows as zeros) except the padding of a last, partial chunk
        // of 32 units, which must read as zero: only then is a reused buffer cleared first (about 2-3% of a call)
        bool paddedGates = layout.GP != layout.G * H;
        for (int d = 0; d < D; d++)
        {
            dG[d] = _buffers.Rent(T * layout.Row(N), clear: paddedGates);
            dGh[d] = gru ? _buffers.Rent(T * layout.Row(N), clear: paddedGates) : dG[d];
            dh2[d] = _buffers.Rent(2L * N * Ho);
            dc[d] = _buffers.Rent((long)N * H);
            if (P > 0)
            {
                dTot[d] = _buffers.Rent((long)T * N * P);
                dhRaw[d] = _buffers.Rent((long)N * H);
            }
        }
        int maxI = Math.Max(desc.InputSize, desc.OutputSize);
        var tmpW = _buffers.Rent((long)GP * Math.Max(maxI, Ho), clear: false); // every product writes the block it reads
        var colSum = GC.AllocateArray<float>(GP, pinned: true);

        var pool = WorkerPool.Shared;
        long stepWork = (long)N * GP * Ho;
        bool splitSteps = CellForward.SplitsSteps(N, GP, Ho, layout.Q);
        long hState = (long)N * Ho, cState = (long)N * H; // one layer-direction's h (N, H_out) and c (N, H)
        bool parallelDirs = D == 2 && pool.Size > 1 && stepWork * T >= 1 << 16;

        fixed (float* px0 = x0, pdX0 = dX0, pdYTop = dYTop, pdhn = dhn, pdcn = dcn, pdh0 = dh0, pdc0 = dc0)
        fixed (int* plen = lens)
        {
            // (L*D, N, H_out) and (L*D, N, H) states
            FloatBuf dhnb = new(pdhn, dhn?.Length ?? 0), dcnb = new(pdcn, dcn?.Length ?? 0);
            FloatBuf dh0b = new(pdh0, dh0.Length), dc0b = new(pdc0, dc0?.Length ?? 0);
            var dYl = new FloatBuf(pdYTop, dYTop.Length); // (T, N, D*H_out): the gradient of layer l's output
            AlignedFloats? dYHold = null; // keeps the layer-above's dX alive
            DirBwd* dirs = stackalloc DirBwd[2];
            for (int l = L - 1; l >= 0; l--)
            {
                int I = desc.LayerInputSize(l);
                FloatBuf xin = l == 0 ? new FloatBuf(px0, x0.Length) : FloatBuf.Of(ws.LayerOutputs[l - 1]!); // (T, N, I_l)
                for (int d = 0; d < D; d++)
                {
                    int s = l * D + d;
                    var dw = w.Dirs[s];
                    ref DirBwd b = ref dirs[d];
                    b = new DirBwd
                    {
                        Mode = desc.Mode, T = T, N = N, NStride = N, Ho = Ho, P = P, Dir = d, Layout = dw.Layout,
                        SplitSteps = splitSteps && !parallelDirs, Len = plen,
                        Gates = FloatBuf.Of(ws.Gates[s]), HBuf = FloatBuf.Of(ws.H[s]), CBuf = FloatBuf.Of(ws.C[s]),
                        HRaw = FloatBuf.Of(ws.HRaw[s]), HhN = FloatBuf.Of(ws.HhN[s]),
                        DY = dYl.From(d * Ho), Ldy = D * Ho,
                        DG = FloatBuf.Of(dG[d]), DGh = FloatBuf.Of(dGh[d]), Dh2 = FloatBuf.Of(dh2[d]), Dc = FloatBuf.Of(dc[d]),
                        DTot = FloatBuf.Of(dTot[d]), DhRaw = FloatBuf.Of(dhRaw[d]),
                        WhhB = dw.WhhBPanels, WhrB = dw.WhrBPanels, Ph = FloatBuf.Of(dw.Ph),
                    };
                    // dh_T (and dc_T) into the first dh slot
                    float* dhFirst = b.Dh2.At(0, hState);
                    if (pdhn != null) Pointwise.Copy(dhnb.At(s * hState, hState), dhFirst, N * Ho);
                    else Pointwise.Clear(dhFirst, N * Ho);
                    if (desc.HasCellState)
                    {
                        float* dcFirst = b.Dc.At(0, cState);
                        if (pdcn != null) Pointwise.Copy(dcnb.At(s * cState, cState), dcFirst, N * H);
                        else Pointwise.Clear(dcFirst, N * H);
                    }
                }

                // recurrent weights small enough and steps short enough: the batch cut into parts that run every step
                // unsynchronised, as the forward did (TimeLoop.BatchParts)
                int batchParts = parallelDirs ? 0 : TimeLoop.BatchParts(w.Dirs[l * D], N, T);
                if (batchParts >= 2)
                    for (int d = 0; d < D; d++) TimeLoop.BackwardBatchParts(dirs + d, batchParts);
                else TimeLoop.Backward(dirs, D, parallelDirs);

                AlignedFloats? dXl = l == 0 ? null : _buffers.Rent((long)T * N * I);
                FloatBuf dX = l == 0 ? new FloatBuf(pdX0, dX0.Length) : FloatBuf.Of(dXl); // (T, N, I_l)
                for (int d = 0; d < D; d++)
                {
                    int s = l * D + d;
                    var dw = w.Dirs[s];
                    ref DirBwd b = ref dirs[d];
                    Pointwise.Copy(b.Dh2.At((T & 1) * hState, hState), dh0b.At(s * hState, hState), N * Ho);
                    if (pdc0 != null) Pointwise.Copy(b.Dc.At(0, cState), dc0b.At(s * cState, cState), N * H);

                    int TN = T * N;
                    var tmp = FloatBuf.Of(tmpW);
                    float* ptmp = tmp.Ptr;
                    // the bias gradients are dG's column sums: the dW products take them as they pack dG^T
                    var sums = FloatBuf.Of(colSum);
                    // dW_ih (GP x I) = dG^T . X  (and the input bias's gradient, which for LSTM / RNN is also the recurrent one's)
                    var dGt = new GemmA(b.DG, GP, transposed: true);
                    Sgemm.Gemm(new GemmShape(GP, I, TN), desc.Bias ? dGt.WithRowSums(sums) : dGt, new GemmB(xin, I), new GemmC(tmp, I), GemmInit.Zero);
                    GradientRows.Unpermute(ptmp, I, dw.PhysToRow, dParams.Get(l, d, RnnParamKind.WeightIh), add);
                    if (desc.Bias)
                    {
                        GradientRows.UnpermuteVector(colSum, dw.PhysToRow, dParams.Get(l, d, RnnParamKind.BiasIh), add);
                        if (!gru) GradientRows.UnpermuteVector(colSum, dw.PhysToRow, dParams.Get(l, d, RnnParamKind.BiasHh), add);
                    }
                    // dW_hh (GP x H_out) = dGh^T . H_prev  (rows of H_prev: slots 0..T-1 forward, 1..T reverse); GRU's
                    // recurrent bias gradient from its own dGh
                    var hPrev = b.HBuf.From(d == 0 ? 0 : hState);
                    var dGht = new GemmA(b.DGh, GP, transposed: true);
                    Sgemm.Gemm(new GemmShape(GP, Ho, TN), gru && desc.Bias ? dGht.WithRowSums(sums) : dGht, new GemmB(hPrev, Ho),
                        new GemmC(tmp, Ho), GemmInit.Zero);
                    GradientRows.Unpermute(ptmp, Ho, dw.PhysToRow, dParams.Get(l, d, RnnParamKind.WeightHh), add);
                    if (gru && desc.Bias)
                    {
                        GradientRows.UnpermuteVector(colSum, dw.PhysToRow, dParams.Get(l, d, RnnParamKind.BiasHh), add);
                    }
                    if (dw.Ph != null) PeepholeGradient(ref b, dParams.Get(l, d, RnnParamKind.WeightPh), add);
                    if (P > 0)
                    {
                        // dW_hr (P x H) = dH^T . H_raw
                        var dWhr = dParams.Get(l, d, RnnParamKind.WeightHr).HostArray;
                        fixed (float* pwr = dWhr)
                            Sgemm.Gemm(new GemmShape(P, H, TN), new GemmA(b.DTot, P, transposed: true), new GemmB(b.HRaw, H),
                                new GemmC(new FloatBuf(pwr, dWhr.Length), H), add ? GemmInit.Load : GemmInit.Zero);
                    }
                    // dX (T*N x I) (+)= dG . W_ih
                    Sgemm.Gemm(new GemmShape(TN, I, GP), new GemmA(b.DG, GP), GemmB.FromPacked(dw.WihBPanels), new GemmC(dX, I),
                        d > 0 ? GemmInit.Load : GemmInit.Zero);
                }
                _buffers.Return(dYHold); // the layer above's dX (dYl) was read until here
                dYHold = dXl;
                dYl = dX;
            }
            _buffers.Return(dYHold);
        }
        for (int d = 0; d < D; d++)
        {
            _buffers.Return(dG[d]);
            if (gru) _buffers.Return(dGh[d]);
            _buffers.Return(dh2[d]);
            _buffers.Return(dc[d]);
            _buffers.Return(dTot[d]);
            _buffers.Return(dhRaw[d]);
        }
        _buffers.Return(tmpW);
        if (gradsInto != null) return gradsInto.Result(dParams);
        return new RnnGradients(
            Tensor.FromArray(dX0, T, N, desc.InputSize),
            Tensor.FromArray(dh0, L * D, N, Ho),
            dc0 == null ? null : Tensor.FromArray(dc0, L * D, N, H),
            dParams);
    }

    /// <summary>
    /// The peephole weights' gradient (3*H; i, f, o) of one layer-direction after its time loop: over every step and row,
    /// dp_i += dG_i c_prev, dp_f += dG_f c_prev, dp_o += dG_o c' (masked steps have dG = 0), in the chunked form, then
    /// into PyTorch's order.
    /// </summary>
    private static void PeepholeGradient(ref DirBwd b, Tensor target, bool add)
    {
        var L = b.Layout;
        int T = b.T, N = b.N, H = L.H;
        long cStep = (long)N * H, gStep = L.Row(N);
        var acc = CpuWeights.Pinned((long)L.Q * 3 * GateLayout.U);
        var accb = FloatBuf.Of(acc);
        for (int t = 0; t < T; t++)
        {
            long prev = b.Dir == 0 ? t : t + 1, next = b.Dir == 0 ? t + 1 : t; // the c slots before and after step t
            for (int n = 0; n < N; n++)
            for (int q = 0; q < L.Q; q++)
            {
                int j0 = L.FirstUnit(q), w = L.Units(q);
                var op = new PeepholeGradOp
                {
                    DG = b.DG.At(t * gStep + L.At(n, q), L.ChunkColumns),
                    Cp = b.CBuf.At(prev * cStep + (long)n * H + j0, w), Cn = b.CBuf.At(next * cStep + (long)n * H + j0, w),
                    Acc = accb.At((long)q * 3 * GateLayout.U, 3 * GateLayout.U),
                };
                Pointwise.Run(ref op, w);
            }
        }
        var dst = target.Span;
        for (int k = 0; k < 3; k++)
        for (int j = 0; j < H; j++)
            dst[k * H + j] = (add ? dst[k * H + j] : 0f) + acc[CpuWeights.PeepholeIndex(k, j)];
    }
}
