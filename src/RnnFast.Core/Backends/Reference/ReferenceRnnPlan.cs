// Reference RNN/LSTM/GRU over layers x directions x time, forward and BPTT backward, scalar and readable.
// Variable lengths by masking: at step t only sequences with t < length[n] update; the reverse direction walks
// t = T-1..0, so each sequence starts at its own last step; padded outputs stay zero and h_n is the state after
// each sequence's own last step. Dot products accumulate in double.
//
// Cells (PyTorch's definitions; xi = W_ih x + b_ih, hh = W_hh h + b_hh):
//   RNN : h' = act(xi + hh)
//   LSTM: i,f,o = sigmoid, g = tanh of (xi + hh) by gate; c' = f c + i g; h' = o tanh(c'); with projection h' = W_hr h'
//         peephole (weight_ph = p_i, p_f, p_o): i and f add p_i c and p_f c, o adds p_o c' to their pre-activations
//   GRU : r,z = sigmoid(xi + hh) by gate; n = tanh(xi_n + r * hh_n); h' = (1 - z) n + z h
namespace RnnFast.Backends.Reference;

internal sealed class ReferenceRnnPlan : IRnnPlan
{
    public ReferenceRnnPlan(RnnParameters parameters)
    {
        Parameters = parameters;
        Desc = parameters.Desc;
    }

    public RnnDesc Desc { get; }
    public RnnParameters Parameters { get; }

    private int _disposed;

    /// <summary>Marks the plan disposed (idempotent, thread-safe): Forward, Backward and CreateStepper refuse after it.</summary>
    public void Dispose() => Interlocked.Exchange(ref _disposed, 1);

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>What one layer and direction recorded during a training forward, per step t.</summary>
    private sealed class DirRecord
    {
        public required float[][] HPrev;   // [t] (N, H_out): h before the step
        public required float[][] CPrev;   // [t] (N, H): LSTM only
        public required float[][] Gates;   // [t] (N, G*H): activated gates (RNN: h'; LSTM: i,f,g,o; GRU: r,z,n)
        public required float[][] CNew;    // [t] (N, H): LSTM cell after the step
        public required float[][] HRaw;    // [t] (N, H): LSTM o*tanh(c') before projection
        public required float[][] HhN;     // [t] (N, H): GRU W_hn h + b_hn
    }

    private sealed class Workspace : RnnWorkspace
    {
        public required float[][] LayerInputs;  // [l] (T, N, I_l)
        public required DirRecord[] Records;    // [l*D+d]
    }

    public RnnForwardResult Forward(RnnInputs inputs, bool training)
    {
        ThrowIfDisposed();
        RnnInputChecks.Forward(Desc, inputs);
        var desc = Desc;
        int T = inputs.SeqLen, N = inputs.Batch, D = desc.Directions, L = desc.NumLayers;
        int Ho = desc.OutputHiddenSize, H = desc.HiddenSize;
        int[] lengths = inputs.Lengths ?? Enumerable.Repeat(T, N).ToArray();

        var hN = new float[L * D * N * Ho];
        var cN = desc.HasCellState ? new float[L * D * N * H] : null;
        var layerInputs = new float[L][];
        var records = new DirRecord[L * D];
        float[] x = inputs.Input.ToArray();
        float[]? h0 = inputs.H0?.ToArray();
        float[]? c0 = inputs.C0?.ToArray();

        for (int l = 0; l < L; l++)
        {
            layerInputs[l] = x;
            int I = desc.LayerInputSize(l);
            var y = new float[T * N * D * Ho];
            for (int d = 0; d < D; d++)
            {
                int s = l * D + d;
                var h = new float[N * Ho];
                var c = new float[N * H];
                if (h0 != null) Array.Copy(h0, s * N * Ho, h, 0, N * Ho);
                if (c0 != null && desc.HasCellState) Array.Copy(c0, s * N * H, c, 0, N * H);
                var rec = training ? NewRecord(T) : null;
                if (rec != null) records[s] = rec;
                for (int step = 0; step < T; step++)
                {
                    int t = d == 0 ? step : T - 1 - step;
                    StepForward(l, d, t, N, I, x, lengths, h, c, y, rec);
                }
                Array.Copy(h, 0, hN, s * N * Ho, N * Ho);
                if (cN != null) Array.Copy(c, 0, cN, s * N * H, N * H);
            }
            x = y;
        }

        var output = Tensor.FromArray(x, T, N, D * Ho);
        var hTensor = Tensor.FromArray(hN, L * D, N, Ho);
        var cTensor = cN == null ? null : Tensor.FromArray(cN, L * D, N, H);
        RnnWorkspace? ws = training ? new Workspace { LayerInputs = layerInputs, Records = records } : null;
        return new RnnForwardResult(output, hTensor, cTensor, ws);
    }

    private static DirRecord NewRecord(int T) => new()
    {
        HPrev = new float[T][], CPrev = new float[T][], Gates = new float[T][],
        CNew = new float[T][], HRaw = new float[T][], HhN = new float[T][],
    };

    /// <summary>One time step t of layer l, direction d, for every sequence still running at t.</summary>
    private void StepForward(int l, int d, int t, int N, int I, float[] x, int[] lengths, float[] h, float[] c, float[] y, DirRecord? rec)
    {
        var desc = Desc;
        int H = desc.HiddenSize, Ho = desc.OutputHiddenSize, G = desc.GateCount, D = desc.Directions;
        var wih = Parameters.Get(l, d, RnnParamKind.WeightIh).HostArray;
        var whh = Parameters.Get(l, d, RnnParamKind.WeightHh).HostArray;
        var bih = Parameters.TryGet(l, d, RnnParamKind.BiasIh)?.HostArray;
        var bhh = Parameters.TryGet(l, d, RnnParamKind.BiasHh)?.HostArray;
        var whr = Parameters.TryGet(l, d, RnnParamKind.WeightHr)?.HostArray;
        var wph = Parameters.TryGet(l, d, RnnParamKind.WeightPh)?.HostArray;

        if (rec != null)
        {
            rec.HPrev[t] = (float[])h.Clone();
            if (desc.HasCellState) rec.CPrev[t] = (float[])c.Clone();
            rec.Gates[t] = new float[N * G * H];
            if (desc.HasCellState) { rec.CNew[t] = new float[N * H]; rec.HRaw[t] = new float[N * H]; }
            if (desc.Mode == RnnMode.Gru) rec.HhN[t] = new float[N * H];
        }

        var xi = new double[G * H];
        var hh = new double[G * H];
        var hNew = new float[Ho];
        var hRaw = new float[H];
        for (int n = 0; n < N; n++)
        {
            if (t >= lengths[n]) continue; // padded step: state carries, output stays zero
            int xOff = (t * N + n) * I;
            for (int g = 0; g < G * H; g++)
            {
                double a = bih?[g] ?? 0, b = bhh?[g] ?? 0;
                for (int i = 0; i < I; i++) a += (double)wih[g * I + i] * x[xOff + i];
                for (int j = 0; j < Ho; j++) b += (double)whh[g * Ho + j] * h[n * Ho + j];
                xi[g] = a;
                hh[g] = b;
            }

            Span<float> gates = rec != null ? rec.Gates[t].AsSpan(n * G * H, G * H) : new float[G * H];
            switch (desc.Mode)
            {
                case RnnMode.RnnTanh:
                case RnnMode.RnnRelu:
                    for (int j = 0; j < H; j++)
                    {
                        double pre = xi[j] + hh[j];
                        float v = (float)(desc.Mode == RnnMode.RnnTanh ? Math.Tanh(pre) : Math.Max(pre, 0));
                        gates[j] = v;
                        hNew[j] = v;
                    }
                    break;
                case RnnMode.Lstm:
                    for (int j = 0; j < H; j++)
                    {
                        double cp = c[n * H + j];
                        double pi = wph?[j] ?? 0, pf = wph?[H + j] ?? 0, po = wph?[2 * H + j] ?? 0;
                        double ig = Sigmoid(xi[j] + hh[j] + pi * cp);
                        double fg = Sigmoid(xi[H + j] + hh[H + j] + pf * cp);
                        double gg = Math.Tanh(xi[2 * H + j] + hh[2 * H + j]);
                        double cn = fg * cp + ig * gg;
                        double og = Sigmoid(xi[3 * H + j] + hh[3 * H + j] + po * cn);
                        gates[j] = (float)ig; gates[H + j] = (float)fg; gates[2 * H + j] = (float)gg; gates[3 * H + j] = (float)og;
                        c[n * H + j] = (float)cn;
                        hRaw[j] = (float)(og * Math.Tanh(cn));
                        if (rec != null) { rec.CNew[t][n * H + j] = (float)cn; rec.HRaw[t][n * H + j] = hRaw[j]; }
                    }
                    if (whr != null)
                    {
                        for (int p = 0; p < Ho; p++)
                        {
                            double acc = 0;
                            for (int j = 0; j < H; j++) acc += (double)whr[p * H + j] * hRaw[j];
                            hNew[p] = (float)acc;
                        }
                    }
                    else Array.Copy(hRaw, hNew, H);
                    break;
                case RnnMode.Gru:
                    for (int j = 0; j < H; j++)
                    {
                        double r = Sigmoid(xi[j] + hh[j]);
                        double z = Sigmoid(xi[H + j] + hh[H + j]);
                        double nn = Math.Tanh(xi[2 * H + j] + r * hh[2 * H + j]);
                        gates[j] = (float)r; gates[H + j] = (float)z; gates[2 * H + j] = (float)nn;
                        if (rec != null) rec.HhN[t][n * H + j] = (float)hh[2 * H + j];
                        hNew[j] = (float)((1 - z) * nn + z * h[n * Ho + j]);
                    }
                    break;
            }

            Array.Copy(hNew, 0, h, n * Ho, Ho);
            Array.Copy(hNew, 0, y, (t * N + n) * D * Ho + d * Ho, Ho);
        }
    }

    /// <summary>Streaming on this backend: each step is this plan's own T=1 forward (see <see cref="PlanStepper"/>).</summary>
    public RnnStepper CreateStepper(int maxStreams = 1)
    {
        ThrowIfDisposed();
        return new PlanStepper(this, Backends.Reference.ReferenceBackend.Instance, maxStreams);
    }

    public RnnGradients Backward(RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN)
    {
        ThrowIfDisposed();
        RnnInputChecks.Backward(Desc, inputs, forward, dOutput, dHN, dCN);
        if (forward.Workspace is not Workspace ws)
            throw new ArgumentException("forward: no reference workspace; run Forward(training: true) on this plan first", nameof(forward));
        ws.ThrowIfDisposed();
        var desc = Desc;
        int T = inputs.SeqLen, N = inputs.Batch, D = desc.Directions, L = desc.NumLayers;
        int Ho = desc.OutputHiddenSize, H = desc.HiddenSize;
        int[] lengths = inputs.Lengths ?? Enumerable.Repeat(T, N).ToArray();

        var dParams = RnnParameters.Zeros(desc);
        var dh0 = new float[L * D * N * Ho];
        var dc0 = desc.HasCellState ? new float[L * D * N * H] : null;
        float[] dY = dOutput?.ToArray() ?? new float[T * N * D * Ho];
        float[]? dhn = dHN?.ToArray();
        float[]? dcn = dCN?.ToArray();

        for (int l = L - 1; l >= 0; l--)
        {
            int I = desc.LayerInputSize(l);
            var dX = new double[T * N * I];
            for (int d = 0; d < D; d++)
            {
                int s = l * D + d;
                var dh = new double[N * Ho];
                var dc = new double[N * H];
                if (dhn != null) for (int k = 0; k < N * Ho; k++) dh[k] = dhn[s * N * Ho + k];
                if (dcn != null && desc.HasCellState) for (int k = 0; k < N * H; k++) dc[k] = dcn[s * N * H + k];
                var grads = new DirGrads(dParams, l, d);
                for (int step = T - 1; step >= 0; step--)
                {
                    int t = d == 0 ? step : T - 1 - step; // reverse of the processing order
                    StepBackward(l, d, t, N, I, ws.LayerInputs[l], ws.Records[s], lengths, dY, dh, dc, dX, grads);
                }
                grads.Store();
                for (int k = 0; k < N * Ho; k++) dh0[s * N * Ho + k] = (float)dh[k];
                if (dc0 != null) for (int k = 0; k < N * H; k++) dc0[s * N * H + k] = (float)dc[k];
            }
            dY = dX.Select(v => (float)v).ToArray();
        }

        return new RnnGradients(
            Tensor.FromArray(dY, T, N, desc.InputSize),
            Tensor.FromArray(dh0, L * D, N, Ho),
            dc0 == null ? null : Tensor.FromArray(dc0, L * D, N, H),
            dParams);
    }

    /// <summary>Double accumulators for one layer and direction's parameter gradients.</summary>
    private sealed class DirGrads
    {
        private readonly RnnParameters _target;
        private readonly int _l, _d;

        public DirGrads(RnnParameters target, int l, int d)
        {
            _target = target;
            _l = l;
            _d = d;
            Wih = new double[target.Get(l, d, RnnParamKind.WeightIh).Length];
            Whh = new double[target.Get(l, d, RnnParamKind.WeightHh).Length];
            var b = target.TryGet(l, d, RnnParamKind.BiasIh);
            Bih = new double[b?.Length ?? 0];
            Bhh = new double[b?.Length ?? 0];
            Whr = new double[target.TryGet(l, d, RnnParamKind.WeightHr)?.Length ?? 0];
            Wph = new double[target.TryGet(l, d, RnnParamKind.WeightPh)?.Length ?? 0];
        }

        public double[] Wih { get; }
        public double[] Whh { get; }
        public double[] Bih { get; }
        public double[] Bhh { get; }
        public double[] Whr { get; }
        public double[] Wph { get; }

        public void Store()
        {
            Copy(Wih, RnnParamKind.WeightIh);
            Copy(Whh, RnnParamKind.WeightHh);
            Copy(Bih, RnnParamKind.BiasIh);
            Copy(Bhh, RnnParamKind.BiasHh);
            Copy(Whr, RnnParamKind.WeightHr);
            Copy(Wph, RnnParamKind.WeightPh);
        }

        private void Copy(double[] src, RnnParamKind kind)
        {
            var t = _target.TryGet(_l, _d, kind);
            if (t == null) return;
            var s = t.Span;
            for (int i = 0; i < s.Length; i++) s[i] = (float)src[i];
        }
    }

    /// <summary>Backward through step t of layer l, direction d: updates dh/dc (carried), dX and the weight gradients.</summary>
    private void StepBackward(int l, int d, int t, int N, int I, float[] x, DirRecord rec, int[] lengths,
        float[] dY, double[] dh, double[] dc, double[] dX, DirGrads grads)
    {
        var desc = Desc;
        int H = desc.HiddenSize, Ho = desc.OutputHiddenSize, G = desc.GateCount, D = desc.Directions;
        var wih = Parameters.Get(l, d, RnnParamKind.WeightIh).HostArray;
        var whh = Parameters.Get(l, d, RnnParamKind.WeightHh).HostArray;
        var whr = Parameters.TryGet(l, d, RnnParamKind.WeightHr)?.HostArray;
        var wph = Parameters.TryGet(l, d, RnnParamKind.WeightPh)?.HostArray;
        bool hasBias = desc.Bias;

        var dxi = new double[G * H]; // gradient w.r.t. W_ih x + b_ih, by gate
        var dhh = new double[G * H]; // gradient w.r.t. W_hh h + b_hh, by gate
        var dhNew = new double[Ho];
        var dhRaw = new double[H];
        for (int n = 0; n < N; n++)
        {
            if (t >= lengths[n]) continue; // padded step: dh and dc pass through unchanged
            for (int j = 0; j < Ho; j++) dhNew[j] = dh[n * Ho + j] + dY[(t * N + n) * D * Ho + d * Ho + j];
            var gates = rec.Gates[t].AsSpan(n * G * H, G * H);
            var hPrev = rec.HPrev[t].AsSpan(n * Ho, Ho);
            var dhPrevDirect = new double[Ho];

            switch (desc.Mode)
            {
                case RnnMode.RnnTanh:
                    for (int j = 0; j < H; j++) dxi[j] = dhh[j] = dhNew[j] * (1 - (double)gates[j] * gates[j]);
                    break;
                case RnnMode.RnnRelu:
                    for (int j = 0; j < H; j++) dxi[j] = dhh[j] = gates[j] > 0 ? dhNew[j] : 0;
                    break;
                case RnnMode.Lstm:
                {
                    var hRaw = rec.HRaw[t].AsSpan(n * H, H);
                    if (whr != null)
                    {
                        for (int j = 0; j < H; j++) dhRaw[j] = 0;
                        for (int p = 0; p < Ho; p++)
                        {
                            for (int j = 0; j < H; j++)
                            {
                                grads.Whr[p * H + j] += dhNew[p] * hRaw[j];
                                dhRaw[j] += whr[p * H + j] * dhNew[p];
                            }
                        }
                    }
                    else for (int j = 0; j < H; j++) dhRaw[j] = dhNew[j];

                    for (int j = 0; j < H; j++)
                    {
                        double ig = gates[j], fg = gates[H + j], gg = gates[2 * H + j], og = gates[3 * H + j];
                        double cNew = rec.CNew[t][n * H + j], cPrev = rec.CPrev[t][n * H + j];
                        double tc = Math.Tanh(cNew);
                        double dOg = dhRaw[j] * tc;
                        double dPreO = dOg * og * (1 - og);
                        double dcNew = dc[n * H + j] + dhRaw[j] * og * (1 - tc * tc);
                        if (wph != null) dcNew += dPreO * wph[2 * H + j]; // o's peephole reads c'
                        double dIg = dcNew * gg, dGg = dcNew * ig, dFg = dcNew * cPrev;
                        double dPreI = dIg * ig * (1 - ig), dPreF = dFg * fg * (1 - fg);
                        double dcPrev = dcNew * fg;
                        if (wph != null)
                        {
                            dcPrev += dPreI * wph[j] + dPreF * wph[H + j];
                            grads.Wph[j] += dPreI * cPrev;
                            grads.Wph[H + j] += dPreF * cPrev;
                            grads.Wph[2 * H + j] += dPreO * cNew;
                        }
                        dc[n * H + j] = dcPrev;
                        dxi[j] = dPreI;
                        dxi[H + j] = dPreF;
                        dxi[2 * H + j] = dGg * (1 - gg * gg);
                        dxi[3 * H + j] = dPreO;
                    }
                    for (int g = 0; g < G * H; g++) dhh[g] = dxi[g];
                    break;
                }
                case RnnMode.Gru:
                    for (int j = 0; j < H; j++)
                    {
                        double r = gates[j], z = gates[H + j], nn = gates[2 * H + j];
                        double hhN = rec.HhN[t][n * H + j];
                        double dN = dhNew[j] * (1 - z);
                        double dZ = dhNew[j] * (hPrev[j] - nn);
                        dhPrevDirect[j] = dhNew[j] * z;
                        double dPreN = dN * (1 - nn * nn);
                        double dR = dPreN * hhN;
                        dxi[j] = dhh[j] = dR * r * (1 - r);
                        dxi[H + j] = dhh[H + j] = dZ * z * (1 - z);
                        dxi[2 * H + j] = dPreN;
                        dhh[2 * H + j] = dPreN * r;
                    }
                    break;
            }

            // Through the two GEMMs: x -> xi (W_ih, b_ih) and h_prev -> hh (W_hh, b_hh).
            int xOff = (t * N + n) * I;
            for (int g = 0; g < G * H; g++)
            {
                double gx = dxi[g], gh = dhh[g];
                if (hasBias)
                {
                    grads.Bih[g] += gx;
                    grads.Bhh[g] += gh;
                }
                for (int i = 0; i < I; i++)
                {
                    grads.Wih[g * I + i] += gx * x[xOff + i];
                    dX[xOff + i] += wih[g * I + i] * gx;
                }
                for (int j = 0; j < Ho; j++)
                {
                    grads.Whh[g * Ho + j] += gh * hPrev[j];
                    dhPrevDirect[j] += whh[g * Ho + j] * gh;
                }
            }
            for (int j = 0; j < Ho; j++) dh[n * Ho + j] = dhPrevDirect[j];
        }
    }

    private static double Sigmoid(double v) => 1.0 / (1.0 + Math.Exp(-v));
}
