// Fused per-step gate kernels of the forward pass, one work-item per (sequence n, hidden unit j) of the batch.
// Before a step's kernel runs, g (N, G*H) holds the step's pre-activations: W_ih x_t + b_ih (+ b_hh) from the
// whole-sequence input GEMM plus, for RNN and LSTM, the recurrent GEMM W_hh h_prev added in place. GRU keeps the
// recurrent part hh = W_hh h_prev + b_hh apart (its n gate needs r * (W_hn h + b_hn)). The kernel overwrites g with the
// activated gates (what backward reads), writes h_next/c_next into their slots and the step's output y (zero at
// padded steps). A sequence n is running at step t when t < len[n] (or always when hasLen is 0); otherwise its
// state is carried: h_next = h_prev, c_next = c_prev. Gate orders are PyTorch's: LSTM i,f,g,o; GRU r,z,n.
#ifndef LOCAL1D
#define LOCAL1D 64
#endif

inline float sigmoid_precise(float x) { return 1.0f / (1.0f + exp(-x)); }

inline int running(__global const int* len, const int hasLen, const int n, const int t) { return !hasLen || t < len[n]; }

// RNN (tanh or relu): h' = act(W_ih x + b_ih + W_hh h + b_hh).
__kernel __attribute__((reqd_work_group_size(LOCAL1D, 1, 1)))
void rnn_step_fwd(const int N, const int H, const int t, __global const int* len, const int hasLen, const int relu,
                  __global float* g, const int offG,
                  __global float* hbuf, const int offHPrev, const int offHNext,
                  __global float* y, const int offY, const int ldy)
{
    const int id = get_global_id(0);
    if (id >= N * H) return;
    const int n = id / H, j = id - n * H;
    if (!running(len, hasLen, n, t))
    {
        hbuf[offHNext + id] = hbuf[offHPrev + id];
        y[offY + n * ldy + j] = 0.0f;
        return;
    }
    const float pre = g[offG + id];
    const float v = relu ? fmax(pre, 0.0f) : tanh(pre);
    g[offG + id] = v;
    hbuf[offHNext + id] = v;
    y[offY + n * ldy + j] = v;
}

// LSTM: i,f,o = sigmoid, g = tanh; c' = f c + i g; h' = o tanh(c'). With a projection (proj != 0) o tanh(c') goes to
// hraw (N, H) and lstm_proj_finish completes the step after the projection GEMM; h slots are then (N, P).
__kernel __attribute__((reqd_work_group_size(LOCAL1D, 1, 1)))
void lstm_step_fwd(const int N, const int H, const int t, __global const int* len, const int hasLen,
                   __global float* g, const int offG,
                   __global float* hbuf, const int offHPrev, const int offHNext,
                   __global float* cbuf, const int offCPrev, const int offCNext,
                   __global float* hraw, const int offHRaw, const int proj,
                   __global float* y, const int offY, const int ldy)
{
    const int id = get_global_id(0);
    if (id >= N * H) return;
    const int n = id / H, j = id - n * H;
    if (!running(len, hasLen, n, t))
    {
        cbuf[offCNext + id] = cbuf[offCPrev + id];
        if (proj) hraw[offHRaw + id] = 0.0f; // keeps the projection's weight gradient free of stale values
        else
        {
            hbuf[offHNext + id] = hbuf[offHPrev + id];
            y[offY + n * ldy + j] = 0.0f;
        }
        return;
    }
    __global float* gr = g + offG + n * 4 * H;
    const float ig = sigmoid_precise(gr[j]);
    const float fg = sigmoid_precise(gr[H + j]);
    const float gg = tanh(gr[2 * H + j]);
    const float og = sigmoid_precise(gr[3 * H + j]);
    gr[j] = ig;
    gr[H + j] = fg;
    gr[2 * H + j] = gg;
    gr[3 * H + j] = og;
    const float c = fma(fg, cbuf[offCPrev + id], ig * gg);
    cbuf[offCNext + id] = c;
    const float h = og * tanh(c);
    if (proj) hraw[offHRaw + id] = h;
    else
    {
        hbuf[offHNext + id] = h;
        y[offY + n * ldy + j] = h;
    }
}

// LSTM projection, after h_next (N, P) = hraw . W_hr^T was written into its slot: carried state for sequences that
// are not running, and the step's output.
__kernel __attribute__((reqd_work_group_size(LOCAL1D, 1, 1)))
void lstm_proj_finish(const int N, const int P, const int t, __global const int* len, const int hasLen,
                      __global float* hbuf, const int offHPrev, const int offHNext,
                      __global float* y, const int offY, const int ldy)
{
    const int id = get_global_id(0);
    if (id >= N * P) return;
    const int n = id / P, p = id - n * P;
    if (!running(len, hasLen, n, t))
    {
        hbuf[offHNext + id] = hbuf[offHPrev + id];
        y[offY + n * ldy + p] = 0.0f;
        return;
    }
    y[offY + n * ldy + p] = hbuf[offHNext + id];
}

// GRU: r,z = sigmoid(xi + hh); n = tanh(xi_n + r * hh_n); h' = (1 - z) n + z h. g holds xi = W_ih x + b_ih,
// hh (N, 3H) holds W_hh h + b_hh; training keeps hh_n in hhn (N, H) for backward.
__kernel __attribute__((reqd_work_group_size(LOCAL1D, 1, 1)))
void gru_step_fwd(const int N, const int H, const int t, __global const int* len, const int hasLen,
                  __global float* g, const int offG,
                  __global const float* hh, const int offHH,
                  __global float* hbuf, const int offHPrev, const int offHNext,
                  __global float* hhn, const int offHhn, const int training,
                  __global float* y, const int offY, const int ldy)
{
    const int id = get_global_id(0);
    if (id >= N * H) return;
    const int n = id / H, j = id - n * H;
    if (!running(len, hasLen, n, t))
    {
        hbuf[offHNext + id] = hbuf[offHPrev + id];
        if (training) hhn[offHhn + id] = 0.0f;
        y[offY + n * ldy + j] = 0.0f;
        return;
    }
    __global float* gr = g + offG + n * 3 * H;
    __global const float* hr = hh + offHH + n * 3 * H;
    const float r = sigmoid_precise(gr[j] + hr[j]);
    const float z = sigmoid_precise(gr[H + j] + hr[H + j]);
    const float hn = hr[2 * H + j];
    const float nn = tanh(fma(r, hn, gr[2 * H + j]));
    gr[j] = r;
    gr[H + j] = z;
    gr[2 * H + j] = nn;
    if (training) hhn[offHhn + id] = hn;
    const float h = fma(z, hbuf[offHPrev + id] - nn, nn);
    hbuf[offHNext + id] = h;
    y[offY + n * ldy + j] = h;
}
