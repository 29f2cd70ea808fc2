// Per-step gate-gradient kernels of backpropagation through time, one work-item per (sequence n, hidden unit j).
// dh (N, H_out) is the gradient flowing into h after step t from later steps; dy is the output gradient at t. Each
// kernel writes dG_t (N, G*H), the gradient of the gate pre-activations (for GRU also dGh_t, the gradient of
// W_hh h + b_hh, which differs in the n gate), and starts dh_prev in dhNext: the part that does not pass through
// W_hh (GRU's z * dh; for sequences not running at t, dh itself, carried). A GEMM then adds dGh_t . W_hh into dhNext.
// Sequences not running at t get dG = 0, so the whole-sequence weight GEMMs need no mask. dc (N, H) is updated in place.
#ifndef LOCAL1D
#define LOCAL1D 64
#endif

inline int running_b(__global const int* len, const int hasLen, const int n, const int t) { return !hasLen || t < len[n]; }

// RNN: dpre = dh_total * act'(pre), from the activated value v: tanh' = 1 - v^2, relu' = (v > 0).
__kernel __attribute__((reqd_work_group_size(LOCAL1D, 1, 1)))
void rnn_step_bwd(const int N, const int H, const int t, __global const int* len, const int hasLen, const int relu,
                  __global const float* g, const int offG,
                  __global const float* dh, const int offDh,
                  __global const float* dy, const int offDy, const int ldy,
                  __global float* dg, const int offDG,
                  __global float* dhNext, const int offDhNext)
{
    const int id = get_global_id(0);
    if (id >= N * H) return;
    const int n = id / H, j = id - n * H;
    if (!running_b(len, hasLen, n, t))
    {
        dhNext[offDhNext + id] = dh[offDh + id];
        dg[offDG + id] = 0.0f;
        return;
    }
    const float d = dh[offDh + id] + dy[offDy + n * ldy + j];
    const float v = g[offG + id];
    dg[offDG + id] = relu ? (v > 0.0f ? d : 0.0f) : d * (1.0f - v * v);
    dhNext[offDhNext + id] = 0.0f;
}

// LSTM projection: dTot_t (N, P) = dh + dy for running sequences, else 0; it feeds dh_raw = dTot . W_hr and dW_hr.
__kernel __attribute__((reqd_work_group_size(LOCAL1D, 1, 1)))
void lstm_proj_bwd_total(const int N, const int P, const int t, __global const int* len, const int hasLen,
                         __global const float* dh, const int offDh,
                         __global const float* dy, const int offDy, const int ldy,
                         __global float* dtot, const int offDTot)
{
    const int id = get_global_id(0);
    if (id >= N * P) return;
    const int n = id / P, p = id - n * P;
    dtot[offDTot + id] = running_b(len, hasLen, n, t) ? dh[offDh + id] + dy[offDy + n * ldy + p] : 0.0f;
}

// LSTM: with h = o tanh(c), c = f c_prev + i g. Without projection dh_total = dh + dy; with it, dhraw (N, H).
// dhNext is (N, H_out); H_out <= H, so the work-items j < H_out also start dh_prev.
__kernel __attribute__((reqd_work_group_size(LOCAL1D, 1, 1)))
void lstm_step_bwd(const int N, const int H, const int Ho, const int t, __global const int* len, const int hasLen,
                   __global const float* g, const int offG,
                   __global const float* cbuf, const int offCPrev, const int offCNext,
                   __global const float* dh, const int offDh,
                   __global const float* dy, const int offDy, const int ldy,
                   __global const float* dhraw, const int proj,
                   __global float* dc,
                   __global float* dg, const int offDG,
                   __global float* dhNext, const int offDhNext)
{
    const int id = get_global_id(0);
    if (id >= N * H) return;
    const int n = id / H, j = id - n * H;
    const int active = running_b(len, hasLen, n, t);
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
    const float d = proj ? dhraw[id] : dh[offDh + n * Ho + j] + dy[offDy + n * ldy + j];
    __global const float* gr = g + offG + n * 4 * H;
    const float ig = gr[j], fg = gr[H + j], gg = gr[2 * H + j], og = gr[3 * H + j];
    const float tc = tanh(cbuf[offCNext + id]);
    const float dcn = dc[id] + d * og * (1.0f - tc * tc);
    dc[id] = dcn * fg;
    dgr[j] = dcn * gg * ig * (1.0f - ig);
    dgr[H + j] = dcn * cbuf[offCPrev + id] * fg * (1.0f - fg);
    dgr[2 * H + j] = dcn * ig * (1.0f - gg * gg);
    dgr[3 * H + j] = d * tc * og * (1.0f - og);
}

// GRU: h' = (1 - z) n + z h, n = tanh(xi_n + r hh_n). dG (for xi) and dGh (for hh) agree on r and z; for n,
// dG_n = dpre_n and dGh_n = dpre_n * r. dh_prev starts with z * dh_total.
__kernel __attribute__((reqd_work_group_size(LOCAL1D, 1, 1)))
void gru_step_bwd(const int N, const int H, const int t, __global const int* len, const int hasLen,
                  __global const float* g, const int offG,
                  __global const float* hbuf, const int offHPrev,
                  __global const float* hhn, const int offHhn,
                  __global const float* dh, const int offDh,
                  __global const float* dy, const int offDy, const int ldy,
                  __global float* dg, const int offDG,
                  __global float* dgh, const int offDGh,
                  __global float* dhNext, const int offDhNext)
{
    const int id = get_global_id(0);
    if (id >= N * H) return;
    const int n = id / H, j = id - n * H;
    __global float* dgr = dg + offDG + n * 3 * H;
    __global float* dghr = dgh + offDGh + n * 3 * H;
    if (!running_b(len, hasLen, n, t))
    {
        dhNext[offDhNext + id] = dh[offDh + id];
        dgr[j] = 0.0f; dgr[H + j] = 0.0f; dgr[2 * H + j] = 0.0f;
        dghr[j] = 0.0f; dghr[H + j] = 0.0f; dghr[2 * H + j] = 0.0f;
        return;
    }
    const float d = dh[offDh + id] + dy[offDy + n * ldy + j];
    __global const float* gr = g + offG + n * 3 * H;
    const float r = gr[j], z = gr[H + j], nn = gr[2 * H + j];
    const float dPreN = d * (1.0f - z) * (1.0f - nn * nn);
    const float dr = dPreN * hhn[offHhn + id] * r * (1.0f - r);
    const float dz = d * (hbuf[offHPrev + id] - nn) * z * (1.0f - z);
    dgr[j] = dr;
    dgr[H + j] = dz;
    dgr[2 * H + j] = dPreN;
    dghr[j] = dr;
    dghr[H + j] = dz;
    dghr[2 * H + j] = dPreN * r;
    dhNext[offDhNext + id] = d * z;
}

// Bias gradients: dst[c] = sum over rows of src (rows x cols, row-major), one work-item per column.
__kernel __attribute__((reqd_work_group_size(LOCAL1D, 1, 1)))
void column_sums(const int rows, const int cols, __global const float* src, const int offSrc, __global float* dst, const int offDst)
{
    const int c = get_global_id(0);
    if (c >= cols) return;
    float s = 0.0f;
    for (int r = 0; r < rows; r++) s += src[offSrc + r * cols + c];
    dst[offDst + c] = s;
}
