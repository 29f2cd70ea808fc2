// SGEMM for the OpenCL backend: C (M x N) = op(A) (M x K) . op(B) (K x N) [+ beta * C] [+ bias rows], in two forms
// chosen from the device's properties (sizes arrive as -D options):
//   sgemm      (GPUs) each work-group computes a TM x TN tile of C from TK-deep tiles of A and B staged in local
//              memory; each work-item accumulates WM x WN outputs (rows ly + i*(TM/WM), columns lx + j*(TN/WN)).
//   sgemm_vec  (CPU devices, e.g. PoCL, where local memory is ordinary memory and barriers are emulated) each
//              work-item accumulates a VR x VW block in VW-wide vector registers straight from global memory (the
//              caches do the tiling); op(B) must be B itself (row-major K x N).
// op(A)(m,k) = transA ? A[k*lda + m] : A[m*lda + k]; op(B)(k,n) = transB ? B[n*ldb + k] : B[k*ldb + n].
// Accumulation is fp32 with fma. Offsets are in elements, so one buffer can hold many matrices. With beta == 0, C is
// not read (it may hold anything).
#ifndef TM
#define TM 32
#endif
#ifndef TN
#define TN 32
#endif
#ifndef TK
#define TK 16
#endif
#ifndef WM
#define WM 4
#endif
#ifndef WN
#define WN 4
#endif
#define LX (TN / WN)
#define LY (TM / WM)

__kernel __attribute__((reqd_work_group_size(LX, LY, 1)))
void sgemm(const int M, const int N, const int K,
           __global const float* A, const int offA, const int lda, const int transA,
           __global const float* B, const int offB, const int ldb, const int transB,
           __global float* C, const int offC, const int ldc, const float beta,
           __global const float* bias, const int offBias1, const int offBias2, const int biasMode)
{
    __local float As[TK][TM];
    __local float Bs[TK][TN];
    const int lx = get_local_id(0), ly = get_local_id(1);
    const int lid = ly * LX + lx;
    const int n0 = get_group_id(0) * TN, m0 = get_group_id(1) * TM;
    A += offA;
    B += offB;
    C += offC;

    float acc[WM][WN];
    for (int i = 0; i < WM; i++)
        for (int j = 0; j < WN; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += TK)
    {
        for (int e = lid; e < TM * TK; e += LX * LY)
        {
            int mm, kk;
            if (transA) { mm = e % TM; kk = e / TM; }   // contiguous along m in memory
            else        { kk = e % TK; mm = e / TK; }   // contiguous along k in memory
            const int gm = m0 + mm, gk = k0 + kk;
            As[kk][mm] = (gm < M && gk < K) ? (transA ? A[gk * lda + gm] : A[gm * lda + gk]) : 0.0f;
        }
        for (int e = lid; e < TN * TK; e += LX * LY)
        {
            int nn, kk;
            if (transB) { kk = e % TK; nn = e / TK; }   // contiguous along k in memory
            else        { nn = e % TN; kk = e / TN; }   // contiguous along n in memory
            const int gn = n0 + nn, gk = k0 + kk;
            Bs[kk][nn] = (gn < N && gk < K) ? (transB ? B[gn * ldb + gk] : B[gk * ldb + gn]) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TK; kk++)
        {
            float a[WM], b[WN];
            for (int i = 0; i < WM; i++) a[i] = As[kk][ly + i * LY];
            for (int j = 0; j < WN; j++) b[j] = Bs[kk][lx + j * LX];
            for (int i = 0; i < WM; i++)
                for (int j = 0; j < WN; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    for (int i = 0; i < WM; i++)
    {
        const int m = m0 + ly + i * LY;
        if (m >= M) continue;
        for (int j = 0; j < WN; j++)
        {
            const int n = n0 + lx + j * LX;
            if (n >= N) continue;
            float v = acc[i][j];
            if (beta != 0.0f) v = fma(beta, C[m * ldc + n], v);
            if (biasMode & 1) v += bias[offBias1 + n];
            if (biasMode & 2) v += bias[offBias2 + n];
            C[m * ldc + n] = v;
        }
    }
}

#ifndef VW
#define VW 8
#endif
#ifndef VR
#define VR 4
#endif
#ifndef LXV
#define LXV 8
#endif
#define PASTE(a, b) a##b
#define EXPAND_PASTE(a, b) PASTE(a, b)
#define floatV EXPAND_PASTE(float, VW)
#define vloadV EXPAND_PASTE(vload, VW)
#define vstoreV EXPAND_PASTE(vstore, VW)

__kernel __attribute__((reqd_work_group_size(LXV, 1, 1)))
void sgemm_vec(const int M, const int N, const int K,
               __global const float* A, const int offA, const int lda, const int transA,
               __global const float* B, const int offB, const int ldb,
               __global float* C, const int offC, const int ldc, const float beta,
               __global const float* bias, const int offBias1, const int offBias2, const int biasMode)
{
    const int n0 = get_global_id(0) * VW, m0 = get_global_id(1) * VR;
    if (n0 >= N || m0 >= M) return;
    A += offA;
    B += offB;
    C += offC;
    // row i of the block reads A at base[i] + k * step (rows past M repeat the last row and are not stored)
    int base[VR];
    for (int i = 0; i < VR; i++) base[i] = transA ? min(m0 + i, M - 1) : min(m0 + i, M - 1) * lda;
    const int step = transA ? lda : 1;
    if (n0 + VW <= N)
    {
        floatV acc[VR];
        for (int i = 0; i < VR; i++) acc[i] = (floatV)(0.0f);
        for (int k = 0; k < K; k++)
        {
            const floatV b = vloadV(0, B + k * ldb + n0);
            for (int i = 0; i < VR; i++) acc[i] = fma((floatV)(A[base[i] + k * step]), b, acc[i]);
        }
        for (int i = 0; i < VR; i++)
        {
            if (m0 + i >= M) break;
            __global float* c = C + (m0 + i) * ldc + n0;
            floatV v = acc[i];
            if (beta != 0.0f) v = fma((floatV)(beta), vloadV(0, c), v);
            if (biasMode & 1) v += vloadV(0, bias + offBias1 + n0);
            if (biasMode & 2) v += vloadV(0, bias + offBias2 + n0);
            vstoreV(v, 0, c);
        }
    }
    else
    {
        // the last, partial column block: one column at a time
        for (int n = n0; n < N; n++)
        {
            float acc[VR];
            for (int i = 0; i < VR; i++) acc[i] = 0.0f;
            for (int k = 0; k < K; k++)
            {
                const float b = B[k * ldb + n];
                for (int i = 0; i < VR; i++) acc[i] = fma(A[base[i] + k * step], b, acc[i]);
            }
            for (int i = 0; i < VR; i++)
            {
                if (m0 + i >= M) break;
                float v = acc[i];
                if (beta != 0.0f) v = fma(beta, C[(m0 + i) * ldc + n], v);
                if (biasMode & 1) v += bias[offBias1 + n];
                if (biasMode & 2) v += bias[offBias2 + n];
                C[(m0 + i) * ldc + n] = v;
            }
        }
    }
}
