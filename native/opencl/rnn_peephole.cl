// Peephole LSTM kernels, apart from lstm_step_fwd / lstm_step_bwd so the plain LSTM's kernels are unchanged. Same
// layout and masking as those (see rnn_forward.cl / rnn_backward.cl); ph (3*H) is the layer-direction's weight_ph in
// PyTorch's order i, f, o:
//   i = sig(G_i + p_i c_prev), f = sig(G_f + p_f c_prev), g = tanh(G_g), c' = f c_prev + i g, o = sig(G_o + p_o c'),
//   h = o tanh(c'). Backward: d_o = dh tanh(c') o (1-o); dc' = dc + dh o (1 - tanh^2 c') + d_o p_o;
//   d_i = dc' g i (1-i); d_f = dc' c_prev f (1-f); dc_prev = dc' f + d_i p_i + d_f p_f.
#ifndef LOCAL1D
#define LOCAL1D 64
#endif

inline float sigmoid_peep(float x) { return 1.0f / (1.0f + exp(-x)); }

inline int running_p(__global const int* len, const int hasLen, const int n, const int t) { return !hasLen || t < len[n]; }

__kernel __attribute__((reqd_work_group_size(LOCAL1D, 1, 1)))
void lstm_peep_step_fwd(const int N, const int H, const int t, __global const int* len, const int hasLen,
                        __global float* g, const int offG,
                        __global float* hbuf, const int offHPrev, const int offHNext,
                        __global float* cbuf, const int offCPrev, const int offCNext,
                        __global float* hraw, const int offHRaw, const int proj,
                        __global float* y, const int offY, const int ldy,
                        __global const float* ph, const int offPh)
{
    const int id = get_global_id(0);
    if (id >= N * H) return;
    const int n = id / H, j = id - n * H;
    if (!running_p(len, hasLen, n, t))
    {
        cbuf[offCNext + id] = cbuf[offCPrev + id];
        if (proj) hraw[offHRaw + id] = 0.0f;
        else
        {
            hbuf[offHNext + id] = hbuf[offHPrev + id];
            y[offY + n * ldy + j] = 0.0f;
        }
        return;
    }
    __global float* gr = g + offG + n * 4 * H;
    __global const float* p = ph + offPh;
    const float cp = cbuf[offCPrev + id];
    const float ig = sigmoid_peep(fma(p[j], cp, gr[j]));
    const float fg = sigmoid_peep(fma(p[H + j], cp, gr[H + j]));
    const float gg = tanh(gr[2 * H + j]);
    const float c = fma(fg, cp, ig * gg);
    const float og = sigmoid_peep(fma(p[2 * H + j], c, gr[3 * H + j]));
    gr[j] = ig;
    gr[H + j] = fg;
    gr[2 * H + j] = gg;
    gr[3 * H + j] = og;
    cbuf[offCNext + id] = c;
    const float h = og * tanh(c);
    if (proj) hraw[offHRaw + id] = h;
    else
    {
        hbuf[offHNext + id] = h;
        y[offY + n * ldy + j] = h;
    }
}

__kernel __attribute__((reqd_work_group_size(LOCAL1D, 1, 1)))
void lstm_peep_step_bwd(const int N, const int H, const int Ho, const int t, __global const int* len, const int hasLen,
                        __global const float* g, const int offG,
                        __global const float* cbuf, const int offCPrev, const int offCNext,
                        __global const float* dh, const int offDh,
                        __global const float* dy, const int offDy, const int ldy,
                        __global const float* dhraw, const int proj,
                        __global float* dc,
                        __global float* dg, const int offDG,
                        __global float* dhNext, const int offDhNext,
                        __global const float* ph, const int offPh)
{
    const int id = get_global_id(0);
    if (id >= N * H) return;
    const int n = id / H, j = id - n * H;
    const int active = running_p(len, hasLen, n, t);
    if (j < Ho) dhNext[offDhNext + n * Ho + j] = active ? 0.0f : dh[offDh + n * Ho + j];
    __global float* dgr = dg + offDG + n * 4 * H;
    if (!active)
    {
        dgr[j] = 0.0f;
        dgr[H + j] = 0.0f;
        dgr[2 * H + j] = 0.0f;
        dgr[3 * H + j] = 0.0f;
        return;
    }
    __global const float* p = ph + offPh;
    const float d = proj ? dhraw[id] : dh[offDh + n * Ho + j] + dy[offDy + n * ldy + j];
    __global const float* gr = g + offG + n * 4 * H;
    const float ig = gr[j], fg = gr[H + j], gg = gr[2 * H + j], og = gr[3 * H + j];
    const float tc = tanh(cbuf[offCNext + id]);
    const float dO = d * tc * og * (1.0f - og);
    const float dcn = dc[id] + d * og * (1.0f - tc * tc) + dO * p[2 * H + j];
    const float dI = dcn * gg * ig * (1.0f - ig);
    const float dF = dcn * cbuf[offCPrev + id] * fg * (1.0f - fg);
    dc[id] = dcn * fg + dI * p[j] + dF * p[H + j];
    dgr[j] = dI;
    dgr[H + j] = dF;
    dgr[2 * H + j] = dcn * ig * (1.0f - gg * gg);
    dgr[3 * H + j] = dO;
}

// The peephole weights' gradient of one layer-direction after its time loop, one work-item per (k, j) of 3*H:
// dp_i = sum dG_i c_prev, dp_f = sum dG_f c_prev, dp_o = sum dG_o c' over every step and sequence (masked steps have
// dG = 0). c slots (T+1, N, H): step t reads slot t and writes t+1 forward (reverse: reads t+1, writes t).
__kernel __attribute__((reqd_work_group_size(LOCAL1D, 1, 1)))
void lstm_peep_grad(const int T, const int N, const int H, const int reverse,
                    __global const float* dg, __global const float* cbuf, __global float* dst, const int offDst)
{
    const int id = get_global_id(0);
    if (id >= 3 * H) return;
    const int k = id / H, j = id - k * H;
    const int gate = k == 2 ? 3 : k; // i, f, o are gates 0, 1, 3
    float s = 0.0f;
    for (int t = 0; t < T; t++)
    {
        const int prev = reverse ? t + 1 : t, next = reverse ? t : t + 1;
        const int slot = k == 2 ? next : prev;
        for (int n = 0; n < N; n++)
            s = fma(dg[(t * N + n) * 4 * H + gate * H + j], cbuf[(slot * N + n) * H + j], s);
    }
    dst[offDst + id] = s;
}
