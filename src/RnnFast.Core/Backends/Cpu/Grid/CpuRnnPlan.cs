// The managed CPU backend's RNN plan: oneDNN's grid -> cell -> pointwise structure with our own kernels.
// Per layer and direction: (1) XW (T*N, GP) = X (T*N, I_l) . W_ih^T + bias, one GEMM for all steps; (2) per step,
// the recurrent GEMM h_prev (N, H_out) . W_hh^T, added into XW[t] (LSTM/RNN) or into HH (N, GP) (GRU, whose n gate
// needs W_hn h + b_hn apart); (3) the fused gate kernel (CellOps) on the same thread, right after that thread's
// panels (threads own chunks of 32 hidden units, see CpuWeights); (4) LSTM projection h = h_raw . W_hr^T.
// Backward mirrors it: per step the gate-gradient kernel, then dh_prev (N, H_out) = dG_t (N, GP) . W_hh; after
// the time loop whole-sequence GEMMs dW_ih = dG^T X, dW_hh = dGh^T H_prev, dX (+)= dG . W_ih, dW_hr = dH^T H_raw.
// Semantics are the reference's (ReferenceRnnPlan): masking by length, padded outputs 0, the reverse direction
// walks t = T-1..0. Bidirectional layers run their two directions on two threads when the pool has them.
// StepLayer drives the same per-step kernels for CpuRnnStepper (streaming: T=1 on the stepper's own buffers).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RnnFast.Backends.Cpu;

internal sealed unsafe class CpuRnnPlan : IRnnPlan
{
    private const int U = Sgemm.NR; // hidden units per chunk
    private readonly object _packGate = new();
    private readonly Stack<InferScratch> _scratch = new();
    private CpuWeights _weights;

    private readonly bool _bf16;
    private readonly Backend _backend;

    /// <param name="parameters">The weights (packed now, re-packed when their version changes).</param>
    /// <param name="bf16">Also keep bf16 copies of the recurrent weights for batch-1 inference (see Bf16.cs).</param>
    /// <param name="backend">The backend that made this plan (named by its steppers).</param>
    public CpuRnnPlan(RnnParameters parameters, bool bf16 = false, Backend? backend = null)
    {
        _backend = backend ?? new CpuBackend(bf16);
        Parameters = parameters;
        Desc = parameters.Desc;
        _bf16 = bf16;
        _weights = CpuWeights.Pack(parameters, VersionStamp(parameters), bf16);
    }

    public RnnDesc Desc { get; }
    public RnnParameters Parameters { get; }

    /// <summary>The backend that made this plan ("cpu" or "cpu:bf16"; its steppers report it as ExecutedBy).</summary>
    internal Backend Backend => _backend;

    public void Dispose()
    {
        lock (_scratch) _scratch.Clear();
    }

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
                w = CpuWeights.Pack(Parameters, stamp, _bf16);
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

    // ------------------------------------------------------------------ buffers

    /// <summary>What a training forward keeps for backward.</summary>
    private sealed class Workspace : RnnWorkspace
    {
        public required CpuWeights Weights;
        public required int T, N;
        public required float[]?[] LayerOutputs;  // [l] (T, N, D*H_out) for l < L-1 (the next layer's input)
        public required float[][] Gates;          // [l*D+d] (T*N, GP): activated gates
        public required float[][] H;              // [l*D+d] (T+1, N, H_out): h slots (see HSlot)
        public required float[]?[] C;             // [l*D+d] (T+1, N, H): LSTM c slots
        public required float[]?[] HRaw;          // [l*D+d] (T, N, H): LSTM projection input o*tanh(c)
        public required float[]?[] HhN;           // [l*D+d] (T, N, H): GRU W_hn h + b_hn
        public required float[]?[] HH;            // [l*D+d] (N, GP): GRU per-step recurrent product (scratch)
    }

    /// <summary>Inference scratch, pooled per plan (Forward(training: false) may run on many threads at once).</summary>
    private sealed class InferScratch
    {
        public readonly float[][] XW = new float[2][], HH = new float[2][], H = new float[2][], C = new float[2][], HRaw = new float[2][];
        public readonly float[][] Y = new float[2][];

        public static float* Ensure(float[][] set, int i, long size)
        {
            var a = set[i];
            if (a == null || a.Length < size)
            {
                a = GC.AllocateUninitializedArray<float>((int)Math.Max(size, 1), pinned: true);
                set[i] = a;
            }
            return Sgemm.Addr(a);
        }
    }

    private InferScratch RentScratch()
    {
        lock (_scratch)
            if (_scratch.Count > 0) return _scratch.Pop();
        return new InferScratch();
    }

    private void ReturnScratch(InferScratch s)
    {
        lock (_scratch) _scratch.Push(s);
    }

    private static float[] HostData(Tensor t) => t.IsHost ? t.HostArray : t.ToArray();

    // ------------------------------------------------------------------ forward

    private struct DirFwd
    {
        public int Mode, T, N, H, Ho, G, GP, Q, P, Dir;
        public bool Training, SplitSteps;
        public int* Len;
        public float* XW, HH, HBuf, CBuf, HRaw, HhN, Y;
        public nint Ldy;
        public float* WhhT, HBias, WhrT;
        public ushort* WhhBf16, WhrBf16; // batch-1 inference with bf16 weights, else null
    }

    private struct StepFwd
    {
        public DirFwd* D;
        public int T;
        public float* Gates, HPrev, HNext, CPrev, CNext, HRaw, HhN, Y;
    }

    private struct DirPair
    {
        public DirFwd* Fwd;
        public DirBwd* Bwd;
    }

    public RnnForwardResult Forward(RnnInputs inputs, bool training)
    {
        RnnInputChecks.Forward(Desc, inputs); // the kernels read through pointers: shapes are checked before any of them
        var desc = Desc;
        int T = inputs.SeqLen, N = inputs.Batch, L = desc.NumLayers, D = desc.Directions;
        int H = desc.HiddenSize, Ho = desc.OutputHiddenSize, P = desc.ProjSize;
        var w = CurrentWeights();
        if (training) w.EnsureBackward();
        int GP = w.Dirs[0].GP, Q = w.Dirs[0].Q;
        float[] x0 = HostData(inputs.Input);
        float[]? h0 = inputs.H0 == null ? null : HostData(inputs.H0);
        float[]? c0 = inputs.C0 == null ? null : HostData(inputs.C0);
        int[]? lens = inputs.Lengths;
        var output = new float[(long)T * N * D * Ho];
        var hN = new float[L * D * N * Ho];
        var cN = desc.HasCellState ? new float[L * D * N * H] : null;

        Workspace? ws = null;
        InferScratch? sc = null;
        if (training)
        {
            ws = new Workspace
            {
                Weights = w, T = T, N = N,
                LayerOutputs = new float[L][], Gates = new float[L * D][], H = new float[L * D][],
                C = new float[L * D][], HRaw = new float[L * D][], HhN = new float[L * D][], HH = new float[L * D][],
            };
        }
        else sc = RentScratch();

        var pool = WorkerPool.Shared;
        long stepWork = (long)N * GP * Ho;
        bool splitSteps = SplitsSteps(N, GP, Ho, Q);
        bool parallelDirs = D == 2 && pool.Size > 1 && stepWork * T >= 1 << 16;
        try
        {
            fixed (float* px = x0, ph0 = h0, pc0 = c0, pout = output, phN = hN, pcN = cN)
            fixed (int* plen = lens)
            {
                float* xin = px;
                int I = desc.InputSize;
                DirFwd* dirs = stackalloc DirFwd[2];
                for (int l = 0; l < L; l++)
                {
                    float* y;
                    if (l == L - 1) y = pout;
                    else if (ws != null) y = Sgemm.Addr(ws.LayerOutputs[l] = CpuWeights.Pinned((long)T * N * D * Ho));
                    else y = InferScratch.Ensure(sc!.Y, l & 1, (long)T * N * D * Ho);

                    for (int d = 0; d < D; d++)
                    {
                        int s = l * D + d;
                        var dw = w.Dirs[s];
                        ref DirFwd f = ref dirs[d];
                        f = NewDirFwd(desc.Mode, dw, T, N, d, training, splitSteps && !parallelDirs, bf16Batch1: !training);
                        f.Len = plen;
                        f.Y = y + d * Ho;
                        f.Ldy = D * Ho;
                        if (ws != null)
                        {
                            f.XW = Sgemm.Addr(ws.Gates[s] = GC.AllocateUninitializedArray<float>(T * N * GP, pinned: true));
                            f.HBuf = Sgemm.Addr(ws.H[s] = CpuWeights.Pinned((long)(T + 1) * N * Ho));
                            if (desc.HasCellState) f.CBuf = Sgemm.Addr(ws.C[s] = CpuWeights.Pinned((long)(T + 1) * N * H));
                            if (P > 0) f.HRaw = Sgemm.Addr(ws.HRaw[s] = CpuWeights.Pinned((long)T * N * H));
                            if (desc.Mode == RnnMode.Gru)
                            {
                                f.HhN = Sgemm.Addr(ws.HhN[s] = CpuWeights.Pinned((long)T * N * H));
                                f.HH = Sgemm.Addr(ws.HH[s] = CpuWeights.Pinned((long)N * GP));
                            }
                        }
                        else
                        {
                            f.XW = InferScratch.Ensure(sc!.XW, d, (long)T * N * GP);
                            f.HBuf = InferScratch.Ensure(sc.H, d, 2L * N * Ho);
                            if (desc.HasCellState) f.CBuf = InferScratch.Ensure(sc.C, d, (long)N * H);
                            if (P > 0) f.HRaw = InferScratch.Ensure(sc.HRaw, d, (long)N * H);
                            if (desc.Mode == RnnMode.Gru) f.HH = InferScratch.Ensure(sc.HH, d, (long)N * GP);
                        }

                        // h0 / c0 into the first slot (training: slot 0 forward, slot T reverse; inference: slot 0)
                        float* hFirst = f.HBuf + (training && d == 1 ? (long)T * N * Ho : 0);
                        if (ph0 != null) Copy(ph0 + (long)s * N * Ho, hFirst, N * Ho);
                        else Clear(hFirst, N * Ho);
                        if (desc.HasCellState)
                        {
                            float* cFirst = f.CBuf + (training && d == 1 ? (long)T * N * H : 0);
                            if (pc0 != null) Copy(pc0 + (long)s * N * H, cFirst, N * H);
                            else Clear(cFirst, N * H);
                        }

                        // (1) the input projection of every step at once
                        Sgemm.Gemm(T * N, GP, I, xin, I, 1, Sgemm.Addr(dw.WihT), null, 0, 0, f.XW, GP, false,
                            dw.XBias == null ? null : Sgemm.Addr(dw.XBias), true);
                    }

                    if (parallelDirs)
                    {
                        var pair = new DirPair { Fwd = dirs };
                        pool.Run(&DirsFwdWorker, &pair, 2);
                    }
                    else
                        for (int d = 0; d < D; d++) RunDirForward(dirs + d);

                    for (int d = 0; d < D; d++)
                    {
                        int s = l * D + d;
                        ref DirFwd f = ref dirs[d];
                        long hSlot = training ? (d == 0 ? T : 0) : (T & 1);
                        Copy(f.HBuf + hSlot * N * Ho, phN + (long)s * N * Ho, N * Ho);
                        if (pcN != null)
                            Copy(f.CBuf + (training ? (d == 0 ? (long)T * N * H : 0) : 0), pcN + (long)s * N * H, N * H);
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
        return new RnnForwardResult(Tensor.FromArray(output, T, N, D * Ho), Tensor.FromArray(hN, L * D, N, Ho),
            cN == null ? null : Tensor.FromArray(cN, L * D, N, H), ws);
    }

    /// <summary>
    /// The per-direction forward description of layer-direction <paramref name="dw"/> (sizes and weight pointers; the
    /// caller sets the buffers). bf16 weights are used when asked for, N == 1 and the weights have them.
    /// </summary>
    private static DirFwd NewDirFwd(RnnMode mode, DirWeights dw, int T, int N, int dir, bool training, bool splitSteps, bool bf16Batch1)
    {
        var f = new DirFwd
        {
            Mode = (int)mode, T = T, N = N, H = dw.H, Ho = dw.Ho, G = dw.G, GP = dw.GP, Q = dw.Q, P = dw.P, Dir = dir,
            Training = training, SplitSteps = splitSteps,
            WhhT = Sgemm.Addr(dw.WhhT), HBias = dw.HBias == null ? null : Sgemm.Addr(dw.HBias),
            WhrT = dw.WhrT == null ? null : Sgemm.Addr(dw.WhrT),
        };
        if (bf16Batch1 && N == 1 && dw.WhhBf16 != null)
        {
            f.WhhBf16 = Bf16.Addr(dw.WhhBf16);
            if (dw.WhrBf16 != null) f.WhrBf16 = Bf16.Addr(dw.WhrBf16);
        }
        return f;
    }

    /// <summary>Whether one step's recurrent work (N x GP x H_out) is worth cutting into parts for the pool's threads.</summary>
    private static bool SplitsSteps(int N, int GP, int Ho, int Q) =>
        WorkerPool.Shared.Size > 1 && Q >= 2 && (long)N * GP * Ho >= 1 << 15;

    /// <summary>
    /// One inference step of one unidirectional layer for N rows on the caller's buffers (CpuRnnStepper's path: the
    /// kernels of Forward at T=1). gates (N,GP) = x (N,I_l) . W_ih^T + bias, one GEMM; then the recurrent panels and the
    /// fused gate math per chunk, then the LSTM projection. hPrev (N,H_out) is only read (other threads' panels read
    /// all of it while a chunk's h is written), hNext (N,H_out) gets h; c (N,H) is advanced in place; y (N,H_out) gets
    /// h too. hh (N,GP) is GRU's scratch, hRaw (N,H) the projection's input (else null). y may alias x (x is read
    /// before any y is written). bf16 weights (cpu:bf16) are read at N == 1.
    /// </summary>
    internal static void StepLayer(RnnMode mode, DirWeights dw, int N, float* x, float* gates, float* hh, float* hRaw,
        float* hPrev, float* hNext, float* c, float* y)
    {
        Sgemm.Gemm(N, dw.GP, dw.I, x, dw.I, 1, Sgemm.Addr(dw.WihT), null, 0, 0, gates, dw.GP, false,
            dw.XBias == null ? null : Sgemm.Addr(dw.XBias), true);
        var f = NewDirFwd(mode, dw, 1, N, 0, training: false, SplitsSteps(N, dw.GP, dw.Ho, dw.Q), bf16Batch1: true);
        f.XW = gates;
        f.HH = hh;
        f.HRaw = hRaw;
        f.CBuf = c;
        f.Y = y;
        f.Ldy = dw.Ho;
        var st = new StepFwd { D = &f, T = 0, Gates = gates, HPrev = hPrev, HNext = hNext, CPrev = c, CNext = c, HRaw = hRaw, Y = y };
        RunStep(&st);
    }

    /// <summary>Step st->T of its direction: the recurrent part on the pool (cut into parts when the direction splits steps), then the projection.</summary>
    private static void RunStep(StepFwd* st)
    {
        ref DirFwd d = ref *st->D;
        var pool = WorkerPool.Shared;
        pool.Run(&StepFwdWorker, st, d.SplitSteps ? Parts(d.Q) : 1);
        if (d.P > 0) pool.Run(&ProjFwdWorker, st, d.SplitSteps ? Parts(Sgemm.Panels(d.P)) : 1);
    }

    private static void DirsFwdWorker(void* ctx, int index, int count)
    {
        var pair = (DirPair*)ctx;
        for (int d = index; d < 2; d += count) RunDirForward(pair->Fwd + d);
    }

    private static void RunDirForward(DirFwd* dp)
    {
        ref DirFwd d = ref *dp;
        int T = d.T, N = d.N, Ho = d.Ho, H = d.H;
        var st = new StepFwd { D = dp };
        for (int s = 0; s < T; s++)
        {
            int t = d.Dir == 0 ? s : T - 1 - s;
            st.T = t;
            st.Gates = d.XW + (long)t * N * d.GP;
            st.Y = d.Y + (long)t * N * d.Ldy;
            if (d.Training)
            {
                long prev = d.Dir == 0 ? t : t + 1, next = d.Dir == 0 ? t + 1 : t;
                st.HPrev = d.HBuf + prev * N * Ho;
                st.HNext = d.HBuf + next * N * Ho;
                if (d.CBuf != null)
                {
                    st.CPrev = d.CBuf + prev * N * H;
                    st.CNext = d.CBuf + next * N * H;
                }
                st.HRaw = d.HRaw == null ? null : d.HRaw + (long)t * N * H;
                st.HhN = d.HhN == null ? null : d.HhN + (long)t * N * H;
            }
            else
            {
                st.HPrev = d.HBuf + (long)(s & 1) * N * Ho;
                st.HNext = d.HBuf + (long)((s + 1) & 1) * N * Ho;
                st.CPrev = st.CNext = d.CBuf;
                st.HRaw = d.HRaw;
                st.HhN = null;
            }
            RunStep(&st);
        }
    }

    /// <summary>One step, the chunks of hidden units this part owns: recurrent GEMM panels, then the gate math.</summary>
    private static void StepFwdWorker(void* ctx, int index, int count)
    {
        ref StepFwd st = ref *(StepFwd*)ctx;
        ref DirFwd d = ref *st.D;
        WorkerPool.Split(d.Q, index, count, out int q0, out int q1);
        if (q0 >= q1) return;
        int N = d.N, K = d.Ho, G = d.G, GP = d.GP, H = d.H;
        var mode = (RnnMode)d.Mode;
        bool gru = mode == RnnMode.Gru;
        var ap = Sgemm.PrepareA(N, K, st.HPrev, K);
        float* C = gru ? d.HH : st.Gates;
        int init = gru ? (d.HBias != null ? Sgemm.InitBias : Sgemm.InitZero) : Sgemm.InitLoad;
        // batch 1 on AVX-512: all G gate panels of a chunk in one pass (G memory streams at once; GRU N=1 at H 2560/2816
        // measured 18-27% faster than one panel after another, in 6 of 6 alternating runs)
        bool multi = N == 1 && G > 1 && d.WhhBf16 == null && Vector512.IsHardwareAccelerated;
        for (int q = q0; q < q1; q++)
        {
            if (multi)
            {
                int p0 = q * G;
                Sgemm.GemvPanels(K, st.HPrev, d.WhhT + (long)p0 * K * U, G, C + p0 * U, init, gru && d.HBias != null ? d.HBias + p0 * U : null, U);
            }
            else
            for (int g = 0; g < G; g++)
            {
                int p = q * G + g;
                if (d.WhhBf16 != null)
                    Bf16.Gemv(K, st.HPrev, d.WhhBf16 + (long)p * K * U, C + p * U, init, gru && d.HBias != null ? d.HBias + p * U : null, U);
                else
                    Sgemm.PanelProduct(N, K, ap, d.WhhT + (long)p * K * U, C + p * U, GP, init,
                        gru && d.HBias != null ? d.HBias + p * U : null, U);
            }
            int j0 = q * U, w = Math.Min(U, H - j0);
            for (int n = 0; n < N; n++)
            {
                bool active = d.Len == null || st.T < d.Len[n];
                float* gates = st.Gates + (long)n * GP + q * G * U;
                float* y = st.Y + n * d.Ldy + j0;
                switch (mode)
                {
                    case RnnMode.Lstm:
                    {
                        float* cp = st.CPrev + (long)n * H + j0, cn = st.CNext + (long)n * H + j0;
                        if (active)
                        {
                            var op = new LstmFwdOp
                            {
                                G = gates, Cp = cp, Cn = cn, Store = d.Training,
                                H = d.P > 0 ? st.HRaw + (long)n * H + j0 : st.HNext + (long)n * K + j0,
                                Y = d.P > 0 ? null : y,
                            };
                            Pointwise.Run(ref op, w);
                        }
                        else
                        {
                            if (cp != cn) Copy(cp, cn, w);
                            if (d.P > 0) Clear(st.HRaw + (long)n * H + j0, w);
                            else
                            {
                                Copy(st.HPrev + (long)n * K + j0, st.HNext + (long)n * K + j0, w);
                                Clear(y, w);
                            }
                        }
                        break;
                    }
                    case RnnMode.Gru:
                        if (active)
                        {
                            var op = new GruFwdOp
                            {
                                Gx = gates, Gh = d.HH + (long)n * GP + q * G * U, Hp = st.HPrev + (long)n * K + j0,
                                H = st.HNext + (long)n * K + j0, Y = y, Hn = st.HhN == null ? null : st.HhN + (long)n * H + j0,
                                Store = d.Training,
                            };
                            Pointwise.Run(ref op, w);
                        }
                        else
                        {
                            Copy(st.HPrev + (long)n * K + j0, st.HNext + (long)n * K + j0, w);
                            Clear(y, w);
                        }
                        break;
                    default:
                        if (active)
                        {
                            var op = new RnnFwdOp
                            {
                                G = gates, H = st.HNext + (long)n * K + j0, Y = y, Relu = mode == RnnMode.RnnRelu, Store = d.Training,
                            };
                            Pointwise.Run(ref op, w);
                        }
                        else
                        {
                            Copy(st.HPrev + (long)n * K + j0, st.HNext + (long)n * K + j0, w);
                            Clear(y, w);
                        }
                        break;
                }
            }
        }
    }

    /// <summary>LSTM projection for this part's 32-column panels of P: h = h_raw . W_hr^T, then masking and y.</summary>
    private static void ProjFwdWorker(void* ctx, int index, int count)
    {
        ref StepFwd st = ref *(StepFwd*)ctx;
        ref DirFwd d = ref *st.D;
        int P = d.P, N = d.N, H = d.H;
        WorkerPool.Split(Sgemm.Panels(P), index, count, out int p0, out int p1);
        if (p0 >= p1) return;
        var ap = Sgemm.PrepareA(N, H, st.HRaw, H);
        for (int p = p0; p < p1; p++)
        {
            int j0 = p * U, cols = Math.Min(U, P - j0);
            if (d.WhrBf16 != null) Bf16.Gemv(H, st.HRaw, d.WhrBf16 + (long)p * H * U, st.HNext + j0, Sgemm.InitZero, null, cols);
            else Sgemm.PanelProduct(N, H, ap, d.WhrT + (long)p * H * U, st.HNext + j0, P, Sgemm.InitZero, null, cols);
            for (int n = 0; n < N; n++)
            {
                bool active = d.Len == null || st.T < d.Len[n];
                float* hn = st.HNext + (long)n * P + j0, y = st.Y + n * d.Ldy + j0;
                if (active) Copy(hn, y, cols);
                else
                {
                    Copy(st.HPrev + (long)n * P + j0, hn, cols);
                    Clear(y, cols);
                }
            }
        }
    }

    // ------------------------------------------------------------------ backward

    private struct DirBwd
    {
        public int Mode, T, N, H, Ho, G, GP, Q, P, Dir;
        public bool SplitSteps;
        public int* Len;
        public float* Gates, HBuf, CBuf, HRaw, HhN;
        public float* DY;
        public nint Ldy;
        public float* DG, DGh, Dh2, Dc, DTot, DhRaw;
        public float* WhhB, WhrB;
    }

    private struct StepBwd
    {
        public DirBwd* D;
        public int T;
        public float* DhCur, DhNext, Dy, Gates, DGt, DGht, HPrev, CPrev, CNext, HhN, DTot;
    }

    /// <summary>Streaming on this backend: the allocation-free <see cref="CpuRnnStepper"/> (this plan's kernels at T=1, state in place).</summary>
    public RnnStepper CreateStepper(int maxStreams = 1) => new CpuRnnStepper(this, maxStreams);

    public RnnGradients Backward(RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN)
    {
        RnnInputChecks.Backward(Desc, inputs, forward, dOutput, dHN, dCN);
        if (forward.Workspace is not Workspace ws)
            throw new ArgumentException("forward: no CPU workspace; run Forward(training: true) on this plan first", nameof(forward));
        ws.ThrowIfDisposed();
        var desc = Desc;
        int T = inputs.SeqLen, N = inputs.Batch, L = desc.NumLayers, D = desc.Directions;
        if (T != ws.T || N != ws.N)
            throw new ArgumentException($"inputs: (T,N)=({T},{N}) differ from the forward pass's ({ws.T},{ws.N})", nameof(inputs));
        int H = desc.HiddenSize, Ho = desc.OutputHiddenSize, G = desc.GateCount, P = desc.ProjSize;
        var w = ws.Weights;
        int GP = w.Dirs[0].GP, Q = w.Dirs[0].Q;
        bool gru = desc.Mode == RnnMode.Gru;

        var dParams = RnnParameters.Zeros(desc);
        var dh0 = new float[L * D * N * Ho];
        var dc0 = desc.HasCellState ? new float[L * D * N * H] : null;
        var dX0 = new float[(long)T * N * desc.InputSize];
        float[] dYTop = dOutput == null ? new float[(long)T * N * D * Ho] : HostData(dOutput);
        float[]? dhn = dHN == null ? null : HostData(dHN);
        float[]? dcn = dCN == null ? null : HostData(dCN);
        float[] x0 = HostData(inputs.Input);
        int[]? lens = inputs.Lengths;

        // per-direction buffers, reused by every layer (padding columns of DG stay zero)
        var dG = new float[D][];
        var dGh = new float[D][];
        var dh2 = new float[D][];
        var dc = new float[D][];
        var dTot = new float[D][];
        var dhRaw = new float[D][];
        for (int d = 0; d < D; d++)
        {
            dG[d] = CpuWeights.Pinned((long)T * N * GP);
            dGh[d] = gru ? CpuWeights.Pinned((long)T * N * GP) : dG[d];
            dh2[d] = CpuWeights.Pinned(2L * N * Ho);
            dc[d] = CpuWeights.Pinned((long)N * H);
            if (P > 0)
            {
                dTot[d] = CpuWeights.Pinned((long)T * N * P);
                dhRaw[d] = CpuWeights.Pinned((long)N * H);
            }
        }
        int maxI = Math.Max(desc.InputSize, desc.OutputSize);
        var tmpW = CpuWeights.Pinned((long)GP * Math.Max(maxI, Ho));
        var colSum = new float[GP];

        var pool = WorkerPool.Shared;
        long stepWork = (long)N * GP * Ho;
        bool splitSteps = pool.Size > 1 && Q >= 2 && stepWork >= 1 << 15;
        bool parallelDirs = D == 2 && pool.Size > 1 && stepWork * T >= 1 << 16;

        fixed (float* px0 = x0, pdX0 = dX0, pdYTop = dYTop, pdhn = dhn, pdcn = dcn, pdh0 = dh0, pdc0 = dc0)
        fixed (int* plen = lens)
        {
            float* dYl = pdYTop;
            float[]? dYHold = null; // keeps the layer-above's dX alive
            DirBwd* dirs = stackalloc DirBwd[2];
            for (int l = L - 1; l >= 0; l--)
            {
                int I = desc.LayerInputSize(l);
                float* xin = l == 0 ? px0 : Sgemm.Addr(ws.LayerOutputs[l - 1]!);
                for (int d = 0; d < D; d++)
                {
                    int s = l * D + d;
                    var dw = w.Dirs[s];
                    ref DirBwd b = ref dirs[d];
                    b = new DirBwd
                    {
                        Mode = (int)desc.Mode, T = T, N = N, H = H, Ho = Ho, G = G, GP = GP, Q = Q, P = P, Dir = d,
                        SplitSteps = splitSteps && !parallelDirs, Len = plen,
                        Gates = Sgemm.Addr(ws.Gates[s]), HBuf = Sgemm.Addr(ws.H[s]),
                        CBuf = ws.C[s] == null ? null : Sgemm.Addr(ws.C[s]!),
                        HRaw = ws.HRaw[s] == null ? null : Sgemm.Addr(ws.HRaw[s]!),
                        HhN = ws.HhN[s] == null ? null : Sgemm.Addr(ws.HhN[s]!),
                        DY = dYl + d * Ho, Ldy = D * Ho,
                        DG = Sgemm.Addr(dG[d]), DGh = Sgemm.Addr(dGh[d]), Dh2 = Sgemm.Addr(dh2[d]), Dc = Sgemm.Addr(dc[d]),
                        DTot = P > 0 ? Sgemm.Addr(dTot[d]) : null, DhRaw = P > 0 ? Sgemm.Addr(dhRaw[d]) : null,
                        WhhB = Sgemm.Addr(dw.WhhB!), WhrB = dw.WhrB == null ? null : Sgemm.Addr(dw.WhrB),
                    };
                    if (pdhn != null) Copy(pdhn + (long)s * N * Ho, b.Dh2, N * Ho);
                    else Clear(b.Dh2, N * Ho);
                    if (desc.HasCellState)
                    {
                        if (pdcn != null) Copy(pdcn + (long)s * N * H, b.Dc, N * H);
                        else Clear(b.Dc, N * H);
                    }
                }

                if (parallelDirs)
                {
                    var pair = new DirPair { Bwd = dirs };
                    pool.Run(&DirsBwdWorker, &pair, 2);
                }
                else
                    for (int d = 0; d < D; d++) RunDirBackward(dirs + d);

                float[]? dXl = l == 0 ? null : CpuWeights.Pinned((long)T * N * I);
                float* pdX = l == 0 ? pdX0 : Sgemm.Addr(dXl!);
                for (int d = 0; d < D; d++)
                {
                    int s = l * D + d;
                    var dw = w.Dirs[s];
                    ref DirBwd b = ref dirs[d];
                    Copy(b.Dh2 + (long)(T & 1) * N * Ho, pdh0 + (long)s * N * Ho, N * Ho);
                    if (pdc0 != null) Copy(b.Dc, pdc0 + (long)s * N * H, N * H);

                    int TN = T * N;
                    float* ptmp = Sgemm.Addr(tmpW);
                    // dW_ih (GP x I) = dG^T . X
                    Sgemm.Gemm(GP, I, TN, b.DG, 1, GP, null, xin, I, 1, ptmp, I, false, null, true);
                    Unpermute(ptmp, I, dw.PhysToRow, dParams.Get(l, d, RnnParamKind.WeightIh));
                    // dW_hh (GP x H_out) = dGh^T . H_prev  (rows of H_prev: slots 0..T-1 forward, 1..T reverse)
                    float* hPrev = b.HBuf + (d == 0 ? 0 : (long)N * Ho);
                    Sgemm.Gemm(GP, Ho, TN, b.DGh, 1, GP, null, hPrev, Ho, 1, ptmp, Ho, false, null, true);
                    Unpermute(ptmp, Ho, dw.PhysToRow, dParams.Get(l, d, RnnParamKind.WeightHh));
                    if (desc.Bias)
                    {
                        ColumnSums(b.DG, TN, GP, colSum);
                        UnpermuteVector(colSum, dw.PhysToRow, dParams.Get(l, d, RnnParamKind.BiasIh));
                        if (gru) ColumnSums(b.DGh, TN, GP, colSum);
                        UnpermuteVector(colSum, dw.PhysToRow, dParams.Get(l, d, RnnParamKind.BiasHh));
                    }
                    if (P > 0)
                    {
                        // dW_hr (P x H) = dH^T . H_raw
                        fixed (float* pwr = dParams.Get(l, d, RnnParamKind.WeightHr).HostArray)
                            Sgemm.Gemm(P, H, TN, b.DTot, 1, P, null, b.HRaw, H, 1, pwr, H, false, null, true);
                    }
                    // dX (T*N x I) (+)= dG . W_ih
                    Sgemm.Gemm(TN, I, GP, b.DG, GP, 1, Sgemm.Addr(dw.WihB!), null, 0, 0, pdX, I, d > 0, null, true);
                }
                GC.KeepAlive(dYHold); // the layer above's dX (dYl) was read until here
                dYHold = dXl;
                dYl = pdX;
            }
            GC.KeepAlive(dYHold);
        }
        return new RnnGradients(
            Tensor.FromArray(dX0, T, N, desc.InputSize),
            Tensor.FromArray(dh0, L * D, N, Ho),
            dc0 == null ? null : Tensor.FromArray(dc0, L * D, N, H),
            dParams);
    }

    private static void DirsBwdWorker(void* ctx, int index, int count)
    {
        var pair = (DirPair*)ctx;
        for (int d = index; d < 2; d += count) RunDirBackward(pair->Bwd + d);
    }

    private static void RunDirBackward(DirBwd* bp)
    {
        ref DirBwd b = ref *bp;
        int T = b.T, N = b.N, Ho = b.Ho, H = b.H, GP = b.GP, P = b.P;
        var pool = WorkerPool.Shared;
        int gateParts = b.SplitSteps ? Parts(b.Q) : 1;
        int hParts = b.SplitSteps ? Parts(Sgemm.Panels(Ho)) : 1;
        var st = new StepBwd { D = bp };
        for (int s = 0; s < T; s++)
        {
            int t = b.Dir == 0 ? T - 1 - s : s;
            long prev = b.Dir == 0 ? t : t + 1, next = b.Dir == 0 ? t + 1 : t;
            st.T = t;
            st.DhCur = b.Dh2 + (long)(s & 1) * N * Ho;
            st.DhNext = b.Dh2 + (long)((s + 1) & 1) * N * Ho;
            st.Dy = b.DY + (long)t * N * b.Ldy;
            st.Gates = b.Gates + (long)t * N * GP;
            st.DGt = b.DG + (long)t * N * GP;
            st.DGht = b.DGh + (long)t * N * GP;
            st.HPrev = b.HBuf + prev * N * Ho;
            if (b.CBuf != null)
            {
                st.CPrev = b.CBuf + prev * N * H;
                st.CNext = b.CBuf + next * N * H;
            }
            st.HhN = b.HhN == null ? null : b.HhN + (long)t * N * H;
            if (P > 0)
            {
                // dH_t = dh + dy for the sequences running at t, else 0 (it feeds dW_hr and dh_raw)
                st.DTot = b.DTot + (long)t * N * P;
                for (int n = 0; n < N; n++)
                {
                    float* dt = st.DTot + (long)n * P;
                    if (b.Len == null || t < b.Len[n])
                    {
                        var op = new AddOp(st.DhCur + (long)n * P, st.Dy + n * b.Ldy, dt);
                        Pointwise.Run(ref op, P);
                    }
                    else Clear(dt, P);
                }
            }
            pool.Run(&StepBwdGatesWorker, &st, gateParts);
            pool.Run(&StepBwdHWorker, &st, hParts);
        }
    }

    /// <summary>Backward through one step's gate math for this part's chunks (LSTM projection first: dh_raw = dH_t . W_hr).</summary>
    private static void StepBwdGatesWorker(void* ctx, int index, int count)
    {
        ref StepBwd st = ref *(StepBwd*)ctx;
        ref DirBwd b = ref *st.D;
        WorkerPool.Split(b.Q, index, count, out int q0, out int q1);
        if (q0 >= q1) return;
        int N = b.N, H = b.H, Ho = b.Ho, G = b.G, GP = b.GP, P = b.P;
        var mode = (RnnMode)b.Mode;
        if (P > 0)
        {
            var ap = Sgemm.PrepareA(N, P, st.DTot, P);
            for (int q = q0; q < q1; q++)
                Sgemm.PanelProduct(N, P, ap, b.WhrB + (long)q * P * U, b.DhRaw + q * U, H, Sgemm.InitZero, null,
                    Math.Min(U, H - q * U));
        }
        for (int q = q0; q < q1; q++)
        {
            int j0 = q * U, w = Math.Min(U, H - j0);
            for (int n = 0; n < N; n++)
            {
                long gOff = (long)n * GP + q * G * U;
                float* dg = st.DGt + gOff;
                if (b.Len != null && st.T >= b.Len[n])
                {
                    for (int g = 0; g < G; g++)
                    {
                        Clear(dg + g * U, w);
                        if (mode == RnnMode.Gru) Clear(st.DGht + gOff + g * U, w);
                    }
                    continue;
                }
                float* dy = st.Dy + n * b.Ldy + j0;
                switch (mode)
                {
                    case RnnMode.Lstm:
                    {
                        var op = new LstmBwdOp
                        {
                            G = st.Gates + gOff, Cp = st.CPrev + (long)n * H + j0, Cn = st.CNext + (long)n * H + j0,
                            Dh = P > 0 ? b.DhRaw + (long)n * H + j0 : st.DhCur + (long)n * Ho + j0, Dy = P > 0 ? null : dy,
                            Dc = b.Dc + (long)n * H + j0, DG = dg,
                        };
                        Pointwise.Run(ref op, w);
                        break;
                    }
                    case RnnMode.Gru:
                    {
                        var op = new GruBwdOp
                        {
                            G = st.Gates + gOff, Hn = st.HhN + (long)n * H + j0, Hp = st.HPrev + (long)n * Ho + j0,
                            Dh = st.DhCur + (long)n * Ho + j0, Dy = dy, DG = dg, DGh = st.DGht + gOff,
                        };
                        Pointwise.Run(ref op, w);
                        break;
                    }
                    default:
                    {
                        var op = new RnnBwdOp
                        {
                            G = st.Gates + gOff, Dh = st.DhCur + (long)n * Ho + j0, Dy = dy, DG = dg, Relu = mode == RnnMode.RnnRelu,
                        };
                        Pointwise.Run(ref op, w);
                        break;
                    }
                }
            }
        }
    }

    /// <summary>dh_prev for this part's 32-column panels of H_out: dGh_t . W_hh, plus GRU's z*dh, or dh itself where masked.</summary>
    private static void StepBwdHWorker(void* ctx, int index, int count)
    {
        ref StepBwd st = ref *(StepBwd*)ctx;
        ref DirBwd b = ref *st.D;
        int N = b.N, Ho = b.Ho, G = b.G, GP = b.GP;
        WorkerPool.Split(Sgemm.Panels(Ho), index, count, out int p0, out int p1);
        if (p0 >= p1) return;
        bool gru = b.Mode == (int)RnnMode.Gru;
        var ap = Sgemm.PrepareA(N, GP, st.DGht, GP);
        for (int p = p0; p < p1; p++)
        {
            int j0 = p * U, cols = Math.Min(U, Ho - j0);
            Sgemm.PanelProduct(N, GP, ap, b.WhhB + (long)p * GP * U, st.DhNext + j0, Ho, Sgemm.InitZero, null, cols);
            for (int n = 0; n < N; n++)
            {
                float* dn = st.DhNext + (long)n * Ho + j0, dcur = st.DhCur + (long)n * Ho + j0;
                if (b.Len != null && st.T >= b.Len[n]) Copy(dcur, dn, cols);
                else if (gru)
                {
                    // h' = n + z (h - n): dh_prev gets z * dh directly (unit j's z is at physical column Phys(1, j))
                    float* dy = st.Dy + n * b.Ldy + j0;
                    float* z = st.Gates + (long)n * GP + p * G * U + U; // chunk p == unit chunk (Ho == H for GRU)
                    for (int j = 0; j < cols; j++) dn[j] += (dcur[j] + dy[j]) * z[j];
                }
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>How many parts to cut a step's work of <paramref name="units"/> chunks or panels into: a few per thread, so
    /// that a thread that is held up has its parts taken over by the others.</summary>
    private static int Parts(int units) => Math.Max(1, Math.Min(units, 4 * WorkerPool.Shared.Size));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(float* src, float* dst, int n) => new ReadOnlySpan<float>(src, n).CopyTo(new Span<float>(dst, n));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Clear(float* dst, int n) => new Span<float>(dst, n).Clear();

    /// <summary>sums[c] = sum over rows of m (rows x cols).</summary>
    private static void ColumnSums(float* m, int rows, int cols, float[] sums)
    {
        fixed (float* s = sums)
        {
            Clear(s, cols);
            for (int r = 0; r < rows; r++)
            {
                var op = new AddOp(s, m + (long)r * cols, s);
                Pointwise.Run(ref op, cols);
            }
        }
    }

    /// <summary>Gradient rows from physical gate order (GP x cols, row-major) into PyTorch's (G*H x cols).</summary>
    private static void Unpermute(float* phys, int cols, int[] physToRow, Tensor target)
    {
        var dst = target.Span;
        for (int c = 0; c < physToRow.Length; c++)
        {
            int row = physToRow[c];
            if (row < 0) continue;
            new ReadOnlySpan<float>(phys + (long)c * cols, cols).CopyTo(dst.Slice(row * cols, cols));
        }
    }

    private static void UnpermuteVector(float[] phys, int[] physToRow, Tensor target)
    {
        var dst = target.Span;
        for (int c = 0; c < physToRow.Length; c++)
            if (physToRow[c] >= 0) dst[physToRow[c]] = phys[c];
    }
}
