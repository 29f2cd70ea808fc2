// The OpenCL backend's RNN plan: oneDNN's grid -> cell -> pointwise structure as device kernels. Per layer and
// direction: (1) XW (T*N, G*H) = X (T*N, I_l) . W_ih^T + bias, one SGEMM for every step (forward reads the transposed
// weights DeviceWeights keeps, backward the PyTorch layout, so no SGEMM reads B transposed); (2) per step, the recurrent
// SGEMM h_prev (N, H_out) . W_hh^T added into XW[t] (RNN, LSTM) or into HH (N, G*H) with b_hh (GRU, whose n gate needs
// W_hn h + b_hn apart), then the fused gate kernel (gates activated in place, h/c into their slots, the output y_t);
// (3) LSTM projection h = h_raw . W_hr^T by SGEMM and a finishing kernel. Every step is enqueued without waiting: the
// input is uploaded once, the results read once per call (or left on the device when the input lived there).
// h and c have T+1 slots per direction: the forward direction goes slot t -> t+1, the reverse slot t+1 -> t, so slot
// T (forward) / 0 (reverse) holds h_n, and a training forward keeps every slot, the activated gates, h_raw (LSTM
// projection) and hh_n (GRU) on the device for backward. Backward walks the steps in reverse: per step the gate-gradient
// kernel writes dG_t and starts dh_prev, an SGEMM adds dG_t . W_hh; after the loop, whole-sequence SGEMMs give
// dW_ih = dG^T X, dW_hh = dGh^T H_prev, dW_hr = dH^T H_raw, dX (+)= dG . W_ih, and column sums the bias gradients,
// all into one gradient arena read back at once. Variable lengths by masking (see rnn_forward.cl), as the reference.
// Kernel objects are shared per device, so each call sets arguments and enqueues under the device's lock.
using RnnFast.Bindings.OpenCL;

namespace RnnFast.Backends.OpenCL;

internal sealed class OpenCLRnnPlan : IRnnPlan
{
    private readonly OpenCLBackend _backend;
    private readonly OpenCLDevice _dev;
    private readonly ArenaLayout _layout;
    private readonly object _weightsGate = new();
    private readonly int L, D, H, Ho, G, GH, P;
    private readonly RnnMode _mode;
    private DeviceWeights _weights;
    private bool _disposed;

    public OpenCLRnnPlan(OpenCLBackend backend, OpenCLDevice device, RnnParameters parameters)
    {
        _backend = backend;
        _dev = device;
        Parameters = parameters;
        Desc = parameters.Desc;
        L = Desc.NumLayers;
        D = Desc.Directions;
        H = Desc.HiddenSize;
        Ho = Desc.OutputHiddenSize;
        G = Desc.GateCount;
        GH = G * H;
        P = Desc.ProjSize;
        _mode = Desc.Mode;
        _layout = new ArenaLayout(parameters);
        _weights = DeviceWeights.Upload(device, parameters, _layout, parameters.VersionStamp);
    }

    public RnnDesc Desc { get; }
    public RnnParameters Parameters { get; }

    /// <summary>Releases the device copy of the weights now (buffers of results and workspaces are released with them).</summary>
    public void Dispose()
    {
        lock (_weightsGate)
        {
            if (Volatile.Read(ref _disposed)) return; // idempotent
            Volatile.Write(ref _disposed, true);
            _weights.Arena.Dispose();
            _weights.Transposed.Dispose();
        }
    }

    /// <summary>Throws ObjectDisposedException (naming this plan) once Dispose ran: Forward, Backward and CreateStepper (so its steppers' Step) refuse.</summary>
    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);

    /// <summary>The device copy of the parameters' current version (uploaded again when an optimizer changed them).</summary>
    private DeviceWeights CurrentWeights()
    {
        long stamp = Parameters.VersionStamp;
        var w = Volatile.Read(ref _weights);
        if (w.Stamp == stamp) return w;
        lock (_weightsGate)
        {
            if (_weights.Stamp != stamp) Volatile.Write(ref _weights, DeviceWeights.Upload(_dev, Parameters, _layout, stamp));
            return _weights;
        }
    }

    // ------------------------------------------------------------------ buffers

    /// <summary>One layer and direction's device buffers (see the file header for the slot scheme).</summary>
    private sealed class DirBuffers
    {
        public required CLBuffer XW;    // (T*N, G*H): pre-activations, then activated gates
        public required CLBuffer Hs;    // (T+1, N, H_out): h slots
        public CLBuffer? Cs;            // (T+1, N, H): LSTM c slots
        public CLBuffer? HRaw;          // (T*N, H): LSTM projection input o*tanh(c)
        public CLBuffer? HhN;           // (T*N, H): GRU W_hn h + b_hn (training)
        public CLBuffer? HH;            // (N, G*H): GRU recurrent product of the current step
    }

    /// <summary>What a training forward keeps on the device for backward.</summary>
    private sealed class Workspace : RnnWorkspace
    {
        public required OpenCLRnnPlan Plan;
        public required DeviceWeights Weights;
        public required int T, N;
        public required CLBuffer X0;        // (T, N, I): the input
        public required CLBuffer? Lens;     // (N) int32, null when every sequence has length T
        public required CLBuffer[] LayerOut; // [l] (T, N, D*H_out)
        public required DirBuffers[] Dirs;   // [l*D+d]

        /// <summary>Gives the plan-made device buffers back at once (OpenCL frees each after the commands using it finish).</summary>
        protected override void Release()
        {
            for (int l = 0; l < LayerOut.Length - 1; l++) LayerOut[l]?.Dispose(); // the last one is the forward's output
            foreach (var d in Dirs)
            {
                if (d == null) continue;
                d.XW.Dispose();
                d.Hs.Dispose();
                d.Cs?.Dispose();
                d.HRaw?.Dispose();
                d.HhN?.Dispose();
                d.HH?.Dispose();
            }
        }
    }

    private DirBuffers NewDirBuffers(int T, int N, bool training) => new()
    {
        XW = _dev.NewBuffer((long)T * N * GH),
        Hs = _dev.NewBuffer((long)(T + 1) * N * Ho),
        Cs = _mode == RnnMode.Lstm ? _dev.NewBuffer((long)(T + 1) * N * H) : null,
        HRaw = P > 0 ? _dev.NewBuffer((long)T * N * H) : null,
        HhN = _mode == RnnMode.Gru && training ? _dev.NewBuffer((long)T * N * H) : null,
        HH = _mode == RnnMode.Gru ? _dev.NewBuffer((long)N * GH) : null,
    };

    private bool OnThisDevice(Tensor t) => t.Storage is OpenCLStorage s && ReferenceEquals(s.Device, _dev);

    /// <summary>The tensor's buffer when it lives on this device, else a new buffer holding its elements.</summary>
    private CLBuffer DeviceBuffer(Tensor t)
    {
        if (t.Storage is OpenCLStorage s && ReferenceEquals(s.Device, _dev)) return s.Buffer;
        return _dev.Upload(t.IsHost ? t.HostArray : t.ToArray());
    }

    private Tensor Result(CLBuffer buffer, bool onDevice, params int[] shape)
    {
        int length = shape.Aggregate(1, (a, b) => a * b);
        if (onDevice) return new Tensor(new OpenCLStorage(_backend, _dev, buffer, length), shape);
        var host = new float[length];
        _dev.Download(buffer, 0, host);
        return Tensor.FromArray(host, shape);
    }

    // ------------------------------------------------------------------ forward

    public RnnForwardResult Forward(RnnInputs inputs, bool training)
    {
        ThrowIfDisposed();
        RnnInputChecks.Forward(Desc, inputs); // one set of shape checks and messages for every backend
        int T = inputs.SeqLen, N = inputs.Batch;
        CheckShapes(inputs);
        var w = CurrentWeights();
        bool onDevice = OnThisDevice(inputs.Input);
        var x0 = DeviceBuffer(inputs.Input);
        var lens = inputs.Lengths == null ? null : _dev.Upload(inputs.Lengths);
        var h0 = inputs.H0 == null ? null : DeviceBuffer(inputs.H0);
        var c0 = inputs.C0 == null || _mode != RnnMode.Lstm ? null : DeviceBuffer(inputs.C0);
        var hN = _dev.NewBuffer((long)L * D * N * Ho);
        var cN = _mode == RnnMode.Lstm ? _dev.NewBuffer((long)L * D * N * H) : null;
        var layerOut = new CLBuffer[L];
        var dirs = new DirBuffers[L * D];
        var scratch = new DirBuffers?[D];

        lock (_dev.Gate)
        {
            var xin = x0;
            int I = Desc.InputSize;
            for (int l = 0; l < L; l++)
            {
                var y = layerOut[l] = _dev.NewBuffer((long)T * N * D * Ho);
                for (int d = 0; d < D; d++)
                {
                    int s = l * D + d;
                    var b = dirs[s] = training ? NewDirBuffers(T, N, true) : scratch[d] ??= NewDirBuffers(T, N, false);
                    long hFirst = d == 0 ? 0 : (long)T * N * Ho;
                    if (h0 != null) _dev.Copy(h0, (long)s * N * Ho, b.Hs, hFirst, (long)N * Ho);
                    else _dev.Fill(b.Hs, hFirst, (long)N * Ho);
                    if (b.Cs != null)
                    {
                        long cFirst = d == 0 ? 0 : (long)T * N * H;
                        if (c0 != null) _dev.Copy(c0, (long)s * N * H, b.Cs, cFirst, (long)N * H);
                        else _dev.Fill(b.Cs, cFirst, (long)N * H);
                    }

                    // (1) the input projection of every step at once; RNN and LSTM fold b_hh in here too
                    long bih = _layout.Of(l, d, RnnParamKind.BiasIh), bhh = _layout.Of(l, d, RnnParamKind.BiasHh);
                    _dev.Gemm(T * N, GH, I, xin, 0, I, false, w.Transposed, _layout.Of(l, d, RnnParamKind.WeightIh), GH, false,
                        b.XW, 0, GH, 0f, w.Arena, bih, _mode == RnnMode.Gru ? -1 : bhh);

                    // (2) the steps, all enqueued
                    for (int step = 0; step < T; step++)
                    {
                        int t = d == 0 ? step : T - 1 - step;
                        StepForward(w, l, d, t, T, N, d == 0 ? t : t + 1, d == 0 ? t + 1 : t, b, y, lens, x0, training);
                    }

                    long hLast = d == 0 ? (long)T * N * Ho : 0;
                    _dev.Copy(b.Hs, hLast, hN, (long)s * N * Ho, (long)N * Ho);
                    if (cN != null) _dev.Copy(b.Cs!, d == 0 ? (long)T * N * H : 0, cN, (long)s * N * H, (long)N * H);
                }
                xin = y;
                I = D * Ho;
            }
        }

        if (onDevice) _dev.Finish();
        var output = Result(layerOut[L - 1], onDevice, T, N, D * Ho);
        var hTensor = Result(hN, onDevice, L * D, N, Ho);
        var cTensor = cN == null ? null : Result(cN, onDevice, L * D, N, H);
        RnnWorkspace? ws = training
            ? new Workspace { Plan = this, Weights = w, T = T, N = N, X0 = x0, Lens = lens, LayerOut = layerOut, Dirs = dirs }
            : null;
        return new RnnForwardResult(output, hTensor, cTensor, ws);
    }

    /// <summary>Enqueues step t of layer l, direction d: the recurrent SGEMM, the gate kernel, the LSTM projection.</summary>
    private void StepForward(DeviceWeights w, int l, int d, int t, int T, int N, long prev, long next, DirBuffers b, CLBuffer y,
        CLBuffer? lens, CLBuffer anyBuffer, bool training)
    {
        var k = _dev.Kernels;
        int ldy = D * Ho;
        long offY = (long)t * N * ldy + d * Ho;
        long offG = (long)t * N * GH;
        long whh = _layout.Of(l, d, RnnParamKind.WeightHh);
        int hasLen = lens == null ? 0 : 1;
        var len = lens ?? anyBuffer;
        switch (_mode)
        {
            case RnnMode.RnnTanh:
            case RnnMode.RnnRelu:
            {
                _dev.Gemm(N, GH, Ho, b.Hs, prev * N * Ho, Ho, false, w.Transposed, whh, GH, false, b.XW, offG, GH, 1f);
                var a = new ArgWriter(_dev.Cl, k.RnnStepFwd);
                a.Int(N); a.Int(H); a.Int(t); a.Buf(len); a.Int(hasLen); a.Int(_mode == RnnMode.RnnRelu ? 1 : 0);
                a.Buf(b.XW); a.Int(Off(offG));
                a.Buf(b.Hs); a.Int(Off(prev * N * Ho)); a.Int(Off(next * N * Ho));
                a.Buf(y); a.Int(Off(offY)); a.Int(ldy);
                _dev.Launch1D(k.RnnStepFwd, (long)N * H);
                break;
            }
            case RnnMode.Lstm:
            {
                _dev.Gemm(N, GH, Ho, b.Hs, prev * N * Ho, Ho, false, w.Transposed, whh, GH, false, b.XW, offG, GH, 1f);
                var cell = Desc.Peephole ? k.LstmPeepStepFwd : k.LstmStepFwd; // the peephole kernel takes weight_ph last
                var a = new ArgWriter(_dev.Cl, cell);
                a.Int(N); a.Int(H); a.Int(t); a.Buf(len); a.Int(hasLen);
                a.Buf(b.XW); a.Int(Off(offG));
                a.Buf(b.Hs); a.Int(Off(prev * N * Ho)); a.Int(Off(next * N * Ho));
                a.Buf(b.Cs!); a.Int(Off(prev * N * H)); a.Int(Off(next * N * H));
                a.Buf(b.HRaw ?? b.XW); a.Int(Off((long)t * N * H)); a.Int(P > 0 ? 1 : 0);
                a.Buf(y); a.Int(Off(offY)); a.Int(ldy);
                if (Desc.Peephole) { a.Buf(w.Arena); a.Int(Off(_layout.Of(l, d, RnnParamKind.WeightPh))); }
                _dev.Launch1D(cell, (long)N * H);
                if (P > 0)
                {
                    // h_next (N, P) = h_raw (N, H) . W_hr^T, then carry / output
                    _dev.Gemm(N, P, H, b.HRaw!, (long)t * N * H, H, false, w.Transposed, _layout.Of(l, d, RnnParamKind.WeightHr), P, false,
                        b.Hs, next * N * P, P, 0f);
                    var f = new ArgWriter(_dev.Cl, k.LstmProjFinish);
                    f.Int(N); f.Int(P); f.Int(t); f.Buf(len); f.Int(hasLen);
                    f.Buf(b.Hs); f.Int(Off(prev * N * P)); f.Int(Off(next * N * P));
                    f.Buf(y); f.Int(Off(offY)); f.Int(ldy);
                    _dev.Launch1D(k.LstmProjFinish, (long)N * P);
                }
                break;
            }
            case RnnMode.Gru:
            {
                _dev.Gemm(N, GH, Ho, b.Hs, prev * N * Ho, Ho, false, w.Transposed, whh, GH, false, b.HH!, 0, GH, 0f,
                    w.Arena, _layout.Of(l, d, RnnParamKind.BiasHh));
                var a = new ArgWriter(_dev.Cl, k.GruStepFwd);
                a.Int(N); a.Int(H); a.Int(t); a.Buf(len); a.Int(hasLen);
                a.Buf(b.XW); a.Int(Off(offG));
                a.Buf(b.HH!); a.Int(0);
                a.Buf(b.Hs); a.Int(Off(prev * N * H)); a.Int(Off(next * N * H));
                a.Buf(b.HhN ?? b.HH!); a.Int(Off(training ? (long)t * N * H : 0)); a.Int(training ? 1 : 0);
                a.Buf(y); a.Int(Off(offY)); a.Int(ldy);
                _dev.Launch1D(k.GruStepFwd, (long)N * H);
                break;
            }
        }
    }

    // ------------------------------------------------------------------ backward

    /// <summary>Streaming on this backend: each step is this plan's own T=1 forward (see <see cref="PlanStepper"/>).</summary>
    public RnnStepper CreateStepper(int maxStreams = 1)
    {
        ThrowIfDisposed();
        return new PlanStepper(this, _backend, maxStreams);
    }

    public RnnGradients Backward(RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN)
    {
        ThrowIfDisposed();
        RnnInputChecks.Backward(Desc, inputs, forward, dOutput, dHN, dCN);
        if (forward.Workspace is not Workspace ws || !ReferenceEquals(ws.Plan, this))
            throw new ArgumentException("forward: no workspace of this OpenCL plan; run Forward(training: true) on this plan first", nameof(forward));
        ws.ThrowIfDisposed();
        int T = ws.T, N = ws.N;
        if (inputs.SeqLen != T || inputs.Batch != N)
            throw new ArgumentException($"inputs: (T={inputs.SeqLen}, N={inputs.Batch}) differ from the forward pass's (T={T}, N={N})", nameof(inputs));
        CheckGradShape(dOutput, nameof(dOutput), T, N, D * Ho);
        CheckGradShape(dHN, nameof(dHN), L * D, N, Ho);
        if (_mode == RnnMode.Lstm) CheckGradShape(dCN, nameof(dCN), L * D, N, H);

        var w = ws.Weights;
        bool onDevice = OnThisDevice(inputs.Input);
        bool gru = _mode == RnnMode.Gru, lstm = _mode == RnnMode.Lstm;
        var k = _dev.Kernels;
        int I0 = Desc.InputSize, TN = T * N;
        var dYTop = dOutput == null ? null : DeviceBuffer(dOutput);
        var dhn = dHN == null ? null : DeviceBuffer(dHN);
        var dcn = dCN == null || !lstm ? null : DeviceBuffer(dCN);
        var grads = _dev.NewBuffer(_layout.Total);
        var dX0 = _dev.NewBuffer((long)TN * I0);
        var dH0 = _dev.NewBuffer((long)L * D * N * Ho);
        var dC0 = lstm ? _dev.NewBuffer((long)L * D * N * H) : null;

        // per-direction scratch, reused by every layer
        var dG = new CLBuffer[D];
        var dGh = new CLBuffer[D];
        var dh2 = new CLBuffer[D];
        var dc = new CLBuffer?[D];
        var dTot = new CLBuffer?[D];
        var dhRaw = new CLBuffer?[D];
        for (int d = 0; d < D; d++)
        {
            dG[d] = _dev.NewBuffer((long)TN * GH);
            dGh[d] = gru ? _dev.NewBuffer((long)TN * GH) : dG[d];
            dh2[d] = _dev.NewBuffer(2L * N * Ho);
            dc[d] = lstm ? _dev.NewBuffer((long)N * H) : null;
            dTot[d] = P > 0 ? _dev.NewBuffer((long)TN * P) : null;
            dhRaw[d] = P > 0 ? _dev.NewBuffer((long)N * H) : null;
        }
        int hasLen = ws.Lens == null ? 0 : 1;
        var len = ws.Lens ?? ws.X0;

        lock (_dev.Gate)
        {
            CLBuffer dYl;
            if (dYTop != null) dYl = dYTop;
            else
            {
                dYl = _dev.NewBuffer((long)TN * D * Ho);
                _dev.Fill(dYl, 0, (long)TN * D * Ho);
            }
            int ldy = D * Ho;
            for (int l = L - 1; l >= 0; l--)
            {
                int I = Desc.LayerInputSize(l);
                var xin = l == 0 ? ws.X0 : ws.LayerOut[l - 1];
                var dX = l == 0 ? dX0 : _dev.NewBuffer((long)TN * I);
                for (int d = 0; d < D; d++)
                {
                    int s = l * D + d;
                    var b = ws.Dirs[s];
                    if (dhn != null) _dev.Copy(dhn, (long)s * N * Ho, dh2[d], 0, (long)N * Ho);
                    else _dev.Fill(dh2[d], 0, (long)N * Ho);
                    if (lstm)
                    {
                        if (dcn != null) _dev.Copy(dcn, (long)s * N * H, dc[d]!, 0, (long)N * H);
                        else _dev.Fill(dc[d]!, 0, (long)N * H);
                    }
                    long whh = _layout.Of(l, d, RnnParamKind.WeightHh);
                    for (int step = 0; step < T; step++)
                    {
                        int t = d == 0 ? T - 1 - step : step;
                        long prev = d == 0 ? t : t + 1, next = d == 0 ? t + 1 : t;
                        long cur = (long)(step & 1) * N * Ho, nxt = (long)((step + 1) & 1) * N * Ho;
                        long offDy = (long)t * N * ldy + d * Ho, offG = (long)t * N * GH;
                        switch (_mode)
                        {
                            case RnnMode.RnnTanh:
                            case RnnMode.RnnRelu:
                            {
                                var a = new ArgWriter(_dev.Cl, k.RnnStepBwd);
                                a.Int(N); a.Int(H); a.Int(t); a.Buf(len); a.Int(hasLen); a.Int(_mode == RnnMode.RnnRelu ? 1 : 0);
                                a.Buf(b.XW); a.Int(Off(offG));
                                a.Buf(dh2[d]); a.Int(Off(cur));
                                a.Buf(dYl); a.Int(Off(offDy)); a.Int(ldy);
                                a.Buf(dG[d]); a.Int(Off(offG));
                                a.Buf(dh2[d]); a.Int(Off(nxt));
                                _dev.Launch1D(k.RnnStepBwd, (long)N * H);
                                break;
                            }
                            case RnnMode.Lstm:
                            {
                                if (P > 0)
                                {
                                    var pt = new ArgWriter(_dev.Cl, k.LstmProjBwdTotal);
                                    pt.Int(N); pt.Int(P); pt.Int(t); pt.Buf(len); pt.Int(hasLen);
                                    pt.Buf(dh2[d]); pt.Int(Off(cur));
                                    pt.Buf(dYl); pt.Int(Off(offDy)); pt.Int(ldy);
                                    pt.Buf(dTot[d]!); pt.Int(Off((long)t * N * P));
                                    _dev.Launch1D(k.LstmProjBwdTotal, (long)N * P);
                                    // dh_raw (N, H) = dTot_t (N, P) . W_hr (P, H)
                                    _dev.Gemm(N, H, P, dTot[d]!, (long)t * N * P, P, false, w.Arena, _layout.Of(l, d, RnnParamKind.WeightHr), H, false,
                                        dhRaw[d]!, 0, H, 0f);
                                }
                                var cell = Desc.Peephole ? k.LstmPeepStepBwd : k.LstmStepBwd; // the peephole kernel takes weight_ph last
                                var a = new ArgWriter(_dev.Cl, cell);
                                a.Int(N); a.Int(H); a.Int(Ho); a.Int(t); a.Buf(len); a.Int(hasLen);
                                a.Buf(b.XW); a.Int(Off(offG));
                                a.Buf(b.Cs!); a.Int(Off(prev * N * H)); a.Int(Off(next * N * H));
                                a.Buf(dh2[d]); a.Int(Off(cur));
                                a.Buf(dYl); a.Int(Off(offDy)); a.Int(ldy);
                                a.Buf(dhRaw[d] ?? dG[d]); a.Int(P > 0 ? 1 : 0);
                                a.Buf(dc[d]!);
                                a.Buf(dG[d]); a.Int(Off(offG));
                                a.Buf(dh2[d]); a.Int(Off(nxt));
                                if (Desc.Peephole) { a.Buf(w.Arena); a.Int(Off(_layout.Of(l, d, RnnParamKind.WeightPh))); }
                                _dev.Launch1D(cell, (long)N * H);
                                break;
                            }
                            case RnnMode.Gru:
                            {
                                var a = new ArgWriter(_dev.Cl, k.GruStepBwd);
                                a.Int(N); a.Int(H); a.Int(t); a.Buf(len); a.Int(hasLen);
                                a.Buf(b.XW); a.Int(Off(offG));
                                a.Buf(b.Hs); a.Int(Off(prev * N * H));
                                a.Buf(b.HhN!); a.Int(Off((long)t * N * H));
                                a.Buf(dh2[d]); a.Int(Off(cur));
                                a.Buf(dYl); a.Int(Off(offDy)); a.Int(ldy);
                                a.Buf(dG[d]); a.Int(Off(offG));
                                a.Buf(dGh[d]); a.Int(Off(offG));
                                a.Buf(dh2[d]); a.Int(Off(nxt));
                                _dev.Launch1D(k.GruStepBwd, (long)N * H);
                                break;
                            }
                        }
                        // dh_prev (N, H_out) += dGh_t (N, G*H) . W_hh (G*H, H_out)
                        _dev.Gemm(N, Ho, GH, dGh[d], offG, GH, false, w.Arena, whh, Ho, false, dh2[d], nxt, Ho, 1f);
                    }
                    _dev.Copy(dh2[d], (long)(T & 1) * N * Ho, dH0, (long)s * N * Ho, (long)N * Ho);
                    if (lstm) _dev.Copy(dc[d]!, 0, dC0!, (long)s * N * H, (long)N * H);

                    // whole-sequence weight gradients (rows of steps a sequence did not run have dG = 0)
                    _dev.Gemm(GH, I, TN, dG[d], 0, GH, true, xin, 0, I, false, grads, _layout.Of(l, d, RnnParamKind.WeightIh), I, 0f);
                    long hPrev0 = d == 0 ? 0 : (long)N * Ho; // H_prev rows: slots 0..T-1 forward, 1..T reverse
                    _dev.Gemm(GH, Ho, TN, dGh[d], 0, GH, true, b.Hs, hPrev0, Ho, false, grads, whh, Ho, 0f);
                    if (Desc.Bias)
                    {
                        ColumnSums(TN, GH, dG[d], grads, _layout.Of(l, d, RnnParamKind.BiasIh));
                        ColumnSums(TN, GH, dGh[d], grads, _layout.Of(l, d, RnnParamKind.BiasHh));
                    }
                    if (P > 0)
                        _dev.Gemm(P, H, TN, dTot[d]!, 0, P, true, b.HRaw!, 0, H, false, grads, _layout.Of(l, d, RnnParamKind.WeightHr), H, 0f);
                    if (Desc.Peephole)
                    {
                        var pg = new ArgWriter(_dev.Cl, k.LstmPeepGrad);
                        pg.Int(T); pg.Int(N); pg.Int(H); pg.Int(d);
                        pg.Buf(dG[d]); pg.Buf(b.Cs!); pg.Buf(grads); pg.Int(Off(_layout.Of(l, d, RnnParamKind.WeightPh)));
                        _dev.Launch1D(k.LstmPeepGrad, 3L * H);
                    }
                    // dX (T*N, I) (+)= dG (T*N, G*H) . W_ih (G*H, I)
                    _dev.Gemm(TN, I, GH, dG[d], 0, GH, false, w.Arena, _layout.Of(l, d, RnnParamKind.WeightIh), I, false, dX, 0, I, d > 0 ? 1f : 0f);
                }
                dYl = dX;
                ldy = I;
            }
        }

        // one read of every parameter gradient
        var all = new float[_layout.Total];
        _dev.Download(grads, 0, all);
        var dParams = RnnParameters.Zeros(Desc);
        for (int i = 0; i < dParams.Tensors.Count; i++)
            all.AsSpan((int)_layout.Starts[i], dParams.Tensors[i].Length).CopyTo(dParams.Tensors[i].Span);
        return new RnnGradients(
            Result(dX0, onDevice, T, N, I0),
            Result(dH0, onDevice, L * D, N, Ho),
            dC0 == null ? null : Result(dC0, onDevice, L * D, N, H),
            dParams);
    }

    private void ColumnSums(int rows, int cols, CLBuffer src, CLBuffer dst, long offDst)
    {
        var k = _dev.Kernels.ColumnSums;
        var a = new ArgWriter(_dev.Cl, k);
        a.Int(rows); a.Int(cols); a.Buf(src); a.Int(0); a.Buf(dst); a.Int(Off(offDst));
        _dev.Launch1D(k, cols);
    }

    // ------------------------------------------------------------------ checks

    private void CheckShapes(RnnInputs inputs)
    {
        int T = inputs.SeqLen, N = inputs.Batch;
        if (!inputs.Input.HasShape(T, N, Desc.InputSize))
            throw new ArgumentException($"inputs: input has shape {Tensor.FormatShape(inputs.Input.Shape)}, expected (T,N,{Desc.InputSize})", nameof(inputs));
        if (inputs.H0 != null && !inputs.H0.HasShape(L * D, N, Ho))
            throw new ArgumentException($"inputs: h0 has shape {Tensor.FormatShape(inputs.H0.Shape)}, expected {Tensor.FormatShape([L * D, N, Ho])}", nameof(inputs));
        if (inputs.C0 != null && _mode == RnnMode.Lstm && !inputs.C0.HasShape(L * D, N, H))
            throw new ArgumentException($"inputs: c0 has shape {Tensor.FormatShape(inputs.C0.Shape)}, expected {Tensor.FormatShape([L * D, N, H])}", nameof(inputs));
        if (inputs.Lengths != null && inputs.Lengths.Length != N)
            throw new ArgumentException($"inputs: {inputs.Lengths.Length} lengths for a batch of {N}", nameof(inputs));
        long largest = Math.Max((long)(T + 1) * N * Math.Max(GH, D * Ho), (long)T * N * Math.Max(Desc.InputSize, GH));
        if (largest > int.MaxValue)
            throw new ArgumentException($"inputs: T={T}, N={N} need buffers of {largest} elements, beyond the kernels' 32-bit indexing", nameof(inputs));
    }

    private static void CheckGradShape(Tensor? t, string name, params int[] shape)
    {
        if (t != null && !t.HasShape(shape))
            throw new ArgumentException($"{name}: expected {Tensor.FormatShape(shape)}, found {Tensor.FormatShape(t.Shape)}", name);
    }

    private static int Off(long offset) => OpenCLDevice.Off(offset);
}
