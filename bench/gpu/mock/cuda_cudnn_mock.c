/* A CPU stand-in for libcuda.so.1 and libcudnn.so.9, for dry-running RnnFast's cuda backend where there is no GPU.
 * One shared library exports both APIs (point RNNFAST_CUDA_PATH and RNNFAST_CUDNN_PATH at the same file, so both
 * share one allocation table). It is strict where the real libraries are strict and stricter where that helps:
 *   - "device" memory is host memory; every pointer and size handed to a copy, memset or cuDNN call must lie inside a
 *     live allocation (out-of-bounds, freed and never-allocated pointers are errors, with cudnnGetLastErrorString text);
 *   - memory calls need a current context on the calling thread (as the driver API does);
 *   - descriptors are validated against each other (vector sizes, state shapes, weight/work/reserve sizes, the
 *     device copy of the sequence lengths against the data descriptor's);
 *   - the weight space has cuDNN's documented per-pseudo-layer order (matrices by linLayerID, projection, then biases)
 *     and cudnnGetRNNWeightParams reports (1, rows, cols) / (1, rows, 1), like cuDNN 9;
 *   - cudnnRNNForward computes the RNN in double (cuDNN's cell formulas, padded I/O, bidirectional, stacked, LSTM
 *     projection) and writes NaN at padded output rows (the caller must zero them itself);
 *   - backward data and weights are central finite differences of that forward (the training forward keeps x, and
 *     backward data keeps dy/dhy/dcy, in the reserve space), NaN at padded dx rows; CUDNN_WGRAD_MODE_ADD adds.
 * Semantics come from the cuDNN 9 API reference as RnnFast reads it, so this proves plumbing (argument order, sizes,
 * lifetimes, residency), not cuDNN's numerics. Build: gcc -O2 -shared -fPIC -o libcudamock.so cuda_cudnn_mock.c -lm */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int cudnnStatus_t;
#define EXPORT __attribute__((visibility("default")))

/* ------------------------------------------------------------------ errors */
static __thread char last_error[1024];
static void set_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    fprintf(stderr, "[cuda mock] %s\n", last_error);
}
#define BAD(...) do { set_error(__VA_ARGS__); return 2000; } while (0)        /* CUDNN_STATUS_BAD_PARAM */
#define NOTSUP(...) do { set_error(__VA_ARGS__); return 3000; } while (0)     /* CUDNN_STATUS_NOT_SUPPORTED */
#define CUBAD(...) do { set_error(__VA_ARGS__); return 1; } while (0)         /* CUDA_ERROR_INVALID_VALUE */

/* ------------------------------------------------------------------ allocations */
typedef struct { uintptr_t p; size_t n; } Alloc;
static Alloc *allocs; static int nallocs, capallocs;
static size_t in_use;
static long n_alloc, n_free;
static int n_registered; /* host ranges registered with cuMemHostRegister_v2 and not yet unregistered */
static long n_forward[2]; /* cudnnRNNForward calls with the standard and the persistent-static algorithm */
/* CUDA_MOCK_STATS=1: how many driver allocations and frees the process made (a caching allocator keeps them few). */
__attribute__((destructor)) static void mock_stats(void) {
    if (getenv("CUDA_MOCK_STATS")) fprintf(stderr, "[cuda mock] cuMemAlloc_v2 %ld, cuMemFree_v2 %ld, live %d (%zu bytes), host registrations live %d, forward calls standard %ld persistent %ld\n", n_alloc, n_free, nallocs, in_use, n_registered, n_forward[0], n_forward[1]);
}
static int find_alloc(uintptr_t p) { for (int i = 0; i < nallocs; i++) if (allocs[i].p == p) return i; return -1; }
static int in_range(const void *ptr, size_t bytes) {
    uintptr_t p = (uintptr_t)ptr;
    for (int i = 0; i < nallocs; i++) if (p >= allocs[i].p && p + bytes <= allocs[i].p + allocs[i].n) return 1;
    return 0;
}
#define DEV(ptr, bytes, what) do { if (!in_range((const void *)(uintptr_t)(ptr), (bytes))) \
    { set_error("%s: device range %p + %zu bytes is not inside a live allocation", what, (void *)(uintptr_t)(ptr), (size_t)(bytes)); return 2000; } } while (0)

/* ------------------------------------------------------------------ driver API */
static int ctx_token; static int ctx_retains;
static __thread void *current_ctx;
#define NEED_CTX(what) do { if (current_ctx != &ctx_token) { set_error("%s: no current context on this thread", what); return 201; } } while (0)

EXPORT CUresult cuInit(unsigned flags) { return flags == 0 ? 0 : 1; }
EXPORT CUresult cuDriverGetVersion(int *v) { *v = 13000; return 0; }
static const char *cu_name(CUresult r) {
    switch (r) { case 0: return "CUDA_SUCCESS"; case 1: return "CUDA_ERROR_INVALID_VALUE"; case 2: return "CUDA_ERROR_OUT_OF_MEMORY";
    case 100: return "CUDA_ERROR_NO_DEVICE"; case 201: return "CUDA_ERROR_INVALID_CONTEXT"; default: return NULL; }
}
EXPORT CUresult cuGetErrorName(CUresult r, const char **s) { *s = cu_name(r); return *s ? 0 : 1; }
EXPORT CUresult cuGetErrorString(CUresult r, const char **s) { *s = cu_name(r) ? "mock driver error" : NULL; return *s ? 0 : 1; }
EXPORT CUresult cuDeviceGetCount(int *n) { *n = 1; return 0; }
EXPORT CUresult cuDeviceGet(int *d, int ordinal) { if (ordinal != 0) return 101; *d = 0; return 0; }
EXPORT CUresult cuDeviceGetName(char *name, int len, int dev) { if (dev != 0 || len < 1) return 101; snprintf(name, len, "Mock GPU (CPU stand-in)"); return 0; }
EXPORT CUresult cuDeviceGetAttribute(int *v, int attr, int dev) {
    if (dev != 0) return 101;
    switch (attr) { case 13: *v = 1000000; return 0; case 16: *v = 4; return 0; case 75: *v = 9; return 0; case 76: *v = 0; return 0; default: CUBAD("cuDeviceGetAttribute: attribute %d not mocked", attr); }
}
EXPORT CUresult cuDeviceTotalMem_v2(size_t *b, int dev) { if (dev != 0) return 101; *b = (size_t)8 << 30; return 0; }
EXPORT CUresult cuDevicePrimaryCtxRetain(void **ctx, int dev) { if (dev != 0) return 101; ctx_retains++; *ctx = &ctx_token; return 0; }
EXPORT CUresult cuDevicePrimaryCtxRelease_v2(int dev) { if (dev != 0 || ctx_retains <= 0) CUBAD("cuDevicePrimaryCtxRelease_v2: not retained"); ctx_retains--; return 0; }
EXPORT CUresult cuCtxSetCurrent(void *ctx) { if (ctx != NULL && ctx != &ctx_token) return 201; current_ctx = ctx; return 0; }
EXPORT CUresult cuCtxSynchronize(void) { NEED_CTX("cuCtxSynchronize"); return 0; }
static int stream_token, event_token;
EXPORT CUresult cuStreamCreate(void **s, unsigned flags) { NEED_CTX("cuStreamCreate"); if (flags > 1) return 1; *s = &stream_token; return 0; }
EXPORT CUresult cuStreamDestroy_v2(void *s) { return s == &stream_token ? 0 : 400; }
EXPORT CUresult cuStreamSynchronize(void *s) { return s == &stream_token || s == NULL ? 0 : 400; }
EXPORT CUresult cuEventCreate(void **e, unsigned flags) { NEED_CTX("cuEventCreate"); (void)flags; *e = &event_token; return 0; }
EXPORT CUresult cuEventRecord(void *e, void *s) { (void)s; return e == &event_token ? 0 : 400; }
EXPORT CUresult cuEventSynchronize(void *e) { return e == &event_token ? 0 : 400; }
EXPORT CUresult cuEventElapsedTime(float *ms, void *a, void *b) { (void)a; (void)b; *ms = 0.001f; return 0; }
EXPORT CUresult cuEventDestroy_v2(void *e) { return e == &event_token ? 0 : 400; }
EXPORT CUresult cuMemAlloc_v2(unsigned long long *p, size_t n) {
    NEED_CTX("cuMemAlloc_v2");
    if (n == 0) CUBAD("cuMemAlloc_v2: 0 bytes");
    void *m = malloc(n);
    if (!m) return 2;
    memset(m, 0xCD, n); /* like uninitialized device memory: never zero by luck */
    if (nallocs == capallocs) { capallocs = capallocs ? 2 * capallocs : 256; allocs = realloc(allocs, capallocs * sizeof(Alloc)); }
    allocs[nallocs++] = (Alloc){ (uintptr_t)m, n };
    in_use += n;
    n_alloc++;
    *p = (unsigned long long)(uintptr_t)m;
    return 0;
}
EXPORT CUresult cuMemFree_v2(unsigned long long p) {
    NEED_CTX("cuMemFree_v2");
    int i = find_alloc((uintptr_t)p);
    if (i < 0) CUBAD("cuMemFree_v2: %p was not allocated (or freed twice)", (void *)(uintptr_t)p);
    in_use -= allocs[i].n;
    n_free++;
    free((void *)allocs[i].p);
    allocs[i] = allocs[--nallocs];
    return 0;
}
EXPORT CUresult cuMemGetInfo_v2(size_t *f, size_t *t) { NEED_CTX("cuMemGetInfo_v2"); *t = (size_t)8 << 30; *f = *t - in_use; return 0; }
#define CUDEV(p, n, what) do { if (!in_range((const void *)(uintptr_t)(p), (n))) CUBAD("%s: device range %p + %zu bytes is not inside a live allocation", what, (void *)(uintptr_t)(p), (size_t)(n)); } while (0)
EXPORT CUresult cuMemcpyHtoD_v2(unsigned long long d, const void *s, size_t n) { NEED_CTX("cuMemcpyHtoD"); CUDEV(d, n, "cuMemcpyHtoD_v2"); memcpy((void *)(uintptr_t)d, s, n); return 0; }
EXPORT CUresult cuMemcpyDtoH_v2(void *d, unsigned long long s, size_t n) { NEED_CTX("cuMemcpyDtoH"); CUDEV(s, n, "cuMemcpyDtoH_v2"); memcpy(d, (void *)(uintptr_t)s, n); return 0; }
EXPORT CUresult cuMemcpyDtoD_v2(unsigned long long d, unsigned long long s, size_t n) { NEED_CTX("cuMemcpyDtoD"); CUDEV(d, n, "cuMemcpyDtoD_v2 dst"); CUDEV(s, n, "cuMemcpyDtoD_v2 src"); memmove((void *)(uintptr_t)d, (void *)(uintptr_t)s, n); return 0; }
EXPORT CUresult cuMemcpyHtoDAsync_v2(unsigned long long d, const void *s, size_t n, void *st) { if (st != &stream_token) return 400; return cuMemcpyHtoD_v2(d, s, n); }
EXPORT CUresult cuMemcpyDtoHAsync_v2(void *d, unsigned long long s, size_t n, void *st) { if (st != &stream_token) return 400; return cuMemcpyDtoH_v2(d, s, n); }
EXPORT CUresult cuMemcpyDtoDAsync_v2(unsigned long long d, unsigned long long s, size_t n, void *st) { if (st != &stream_token) return 400; return cuMemcpyDtoD_v2(d, s, n); }
EXPORT CUresult cuMemsetD8_v2(unsigned long long d, unsigned char v, size_t n) { NEED_CTX("cuMemsetD8"); CUDEV(d, n, "cuMemsetD8_v2"); memset((void *)(uintptr_t)d, v, n); return 0; }
EXPORT CUresult cuMemsetD32_v2(unsigned long long d, unsigned v, size_t n) {
    NEED_CTX("cuMemsetD32"); CUDEV(d, 4 * n, "cuMemsetD32_v2");
    if (d % 4) CUBAD("cuMemsetD32_v2: %p is not 4-byte aligned", (void *)(uintptr_t)d);
    for (size_t i = 0; i < n; i++) ((unsigned *)(uintptr_t)d)[i] = v;
    return 0;
}
EXPORT CUresult cuMemHostRegister_v2(void *p, size_t n, unsigned flags) {
    NEED_CTX("cuMemHostRegister_v2");
    if (!p || n == 0 || flags != 0) CUBAD("cuMemHostRegister_v2: %p, %zu bytes, flags %u", p, n, flags);
    n_registered++; return 0;
}
EXPORT CUresult cuMemHostUnregister(void *p) {
    NEED_CTX("cuMemHostUnregister");
    if (!p || n_registered == 0) CUBAD("cuMemHostUnregister: %p was not registered", p);
    n_registered--; return 0;
}
EXPORT CUresult cuMemsetD8Async(unsigned long long d, unsigned char v, size_t n, void *st) { if (st != &stream_token) return 400; return cuMemsetD8_v2(d, v, n); }
EXPORT CUresult cuMemsetD32Async(unsigned long long d, unsigned v, size_t n, void *st) { if (st != &stream_token) return 400; return cuMemsetD32_v2(d, v, n); }

/* ------------------------------------------------------------------ cuDNN objects */
typedef struct { int magic, stream_set; } Handle;
typedef struct { int magic, type, nb, dims[8], strides[8]; } TensorDesc;
typedef struct { int magic, set; } DropDesc;
typedef struct { int magic, set, algo, cell, bias, dir, input, dtype, mprec, math, I, H, P, L; unsigned aux; DropDesc *drop; } RnnDesc;
typedef struct { int magic, set, layout, T, N, C, *lens; float fill; } DataDesc;
enum { M_HANDLE = 0x11, M_TENSOR = 0x22, M_DROP = 0x33, M_RNN = 0x44, M_DATA = 0x55, M_DEAD = 0x66 };

EXPORT size_t cudnnGetVersion(void) { return 91000; }
EXPORT const char *cudnnGetErrorString(cudnnStatus_t s) {
    switch (s) { case 0: return "CUDNN_STATUS_SUCCESS"; case 2000: return "CUDNN_STATUS_BAD_PARAM"; case 3000: return "CUDNN_STATUS_NOT_SUPPORTED"; default: return "CUDNN_STATUS_UNKNOWN (mock)"; }
}
EXPORT void cudnnGetLastErrorString(char *msg, size_t max) { if (max) { snprintf(msg, max, "%s", last_error); last_error[0] = 0; } }
EXPORT cudnnStatus_t cudnnCreate(Handle **h) { *h = calloc(1, sizeof(Handle)); (*h)->magic = M_HANDLE; return 0; }
EXPORT cudnnStatus_t cudnnDestroy(Handle *h) { if (!h || h->magic != M_HANDLE) BAD("cudnnDestroy: not a handle"); h->magic = M_DEAD; free(h); return 0; }
EXPORT cudnnStatus_t cudnnSetStream(Handle *h, void *s) { if (!h || h->magic != M_HANDLE) BAD("cudnnSetStream: not a handle"); if (s != &stream_token) BAD("cudnnSetStream: unknown stream"); h->stream_set = 1; return 0; }
#define HANDLE(h, what) do { if (!(h) || (h)->magic != M_HANDLE) BAD("%s: not a cuDNN handle", what); if (!(h)->stream_set) BAD("%s: cudnnSetStream was not called", what); } while (0)

EXPORT cudnnStatus_t cudnnCreateTensorDescriptor(TensorDesc **d) { *d = calloc(1, sizeof(TensorDesc)); (*d)->magic = M_TENSOR; return 0; }
EXPORT cudnnStatus_t cudnnDestroyTensorDescriptor(TensorDesc *d) { if (!d || d->magic != M_TENSOR) BAD("cudnnDestroyTensorDescriptor: not a tensor descriptor"); d->magic = M_DEAD; free(d); return 0; }
EXPORT cudnnStatus_t cudnnSetTensorNdDescriptor(TensorDesc *d, int type, int nb, const int *dims, const int *strides) {
    if (!d || d->magic != M_TENSOR) BAD("cudnnSetTensorNdDescriptor: not a tensor descriptor");
    if (type != 0 || nb < 3 || nb > 8) BAD("cudnnSetTensorNdDescriptor: type %d nbDims %d", type, nb);
    for (int i = 0; i < nb; i++) if (dims[i] <= 0 || strides[i] <= 0) BAD("cudnnSetTensorNdDescriptor: dim %d is %d stride %d", i, dims[i], strides[i]);
    d->type = type; d->nb = nb; memcpy(d->dims, dims, nb * sizeof(int)); memcpy(d->strides, strides, nb * sizeof(int));
    return 0;
}
EXPORT cudnnStatus_t cudnnGetTensorNdDescriptor(const TensorDesc *d, int req, int *type, int *nb, int *dims, int *strides) {
    if (!d || d->magic != M_TENSOR) BAD("cudnnGetTensorNdDescriptor: not a tensor descriptor");
    *type = d->type; *nb = d->nb;
    for (int i = 0; i < d->nb && i < req; i++) { dims[i] = d->dims[i]; strides[i] = d->strides[i]; }
    return 0;
}
EXPORT cudnnStatus_t cudnnCreateDropoutDescriptor(DropDesc **d) { *d = calloc(1, sizeof(DropDesc)); (*d)->magic = M_DROP; return 0; }
EXPORT cudnnStatus_t cudnnDestroyDropoutDescriptor(DropDesc *d) { if (!d || d->magic != M_DROP) BAD("cudnnDestroyDropoutDescriptor: bad"); d->magic = M_DEAD; free(d); return 0; }
EXPORT cudnnStatus_t cudnnSetDropoutDescriptor(DropDesc *d, Handle *h, float dropout, void *states, size_t size, unsigned long long seed) {
    if (!d || d->magic != M_DROP) BAD("cudnnSetDropoutDescriptor: bad descriptor");
    if (!h || h->magic != M_HANDLE) BAD("cudnnSetDropoutDescriptor: bad handle");
    if (dropout != 0.0f) NOTSUP("cudnnSetDropoutDescriptor: the mock supports dropout 0 only");
    (void)states; (void)size; (void)seed; d->set = 1; return 0;
}
EXPORT cudnnStatus_t cudnnCreateRNNDescriptor(RnnDesc **d) { *d = calloc(1, sizeof(RnnDesc)); (*d)->magic = M_RNN; return 0; }
EXPORT cudnnStatus_t cudnnDestroyRNNDescriptor(RnnDesc *d) { if (!d || d->magic != M_RNN) BAD("cudnnDestroyRNNDescriptor: bad"); d->magic = M_DEAD; free(d); return 0; }
EXPORT cudnnStatus_t cudnnSetRNNDescriptor_v8(RnnDesc *d, int algo, int cell, int bias, int dir, int input, int dtype, int mprec, int math,
                                              int I, int H, int P, int L, DropDesc *drop, unsigned aux) {
    if (!d || d->magic != M_RNN) BAD("cudnnSetRNNDescriptor_v8: bad descriptor");
    if (algo < 0 || algo > 3 || cell < 0 || cell > 3 || dir < 0 || dir > 1) BAD("cudnnSetRNNDescriptor_v8: algo %d cell %d dir %d", algo, cell, dir);
    /* CUDA_MOCK_PERSIST=1: PERSIST_STATIC is accepted (and computed like STANDARD); otherwise it is declined */
    if (algo != 0 && !(algo == 1 && getenv("CUDA_MOCK_PERSIST")))
        NOTSUP("cudnnSetRNNDescriptor_v8: the mock has only CUDNN_RNN_ALGO_STANDARD (CUDA_MOCK_PERSIST=1 adds PERSIST_STATIC)");
    if (bias != 0 && bias != 2) NOTSUP("cudnnSetRNNDescriptor_v8: the mock has NO_BIAS and DOUBLE_BIAS only, got %d", bias);
    if (input != 0) NOTSUP("cudnnSetRNNDescriptor_v8: LINEAR_INPUT only");
    if (dtype != 0 || mprec != 0) BAD("cudnnSetRNNDescriptor_v8: float data and math precision expected, got %d/%d", dtype, mprec);
    if (math < 0 || math > 3) BAD("cudnnSetRNNDescriptor_v8: mathType %d", math);
    if (I <= 0 || H <= 0 || L <= 0 || P <= 0 || P > H) BAD("cudnnSetRNNDescriptor_v8: sizes I=%d H=%d P=%d L=%d", I, H, P, L);
    if (cell != 2 && P != H) BAD("cudnnSetRNNDescriptor_v8: projSize %d != hiddenSize %d for a cell without projection", P, H);
    if (!drop || drop->magic != M_DROP || !drop->set) BAD("cudnnSetRNNDescriptor_v8: dropout descriptor not set");
    if (aux > 1) BAD("cudnnSetRNNDescriptor_v8: auxFlags %u (PADDED_IO_DISABLED 0 or PADDED_IO_ENABLED 1)", aux);
    d->algo = algo; d->cell = cell; d->bias = bias; d->dir = dir; d->input = input; d->dtype = dtype; d->mprec = mprec; d->math = math;
    d->I = I; d->H = H; d->P = P; d->L = L; d->aux = aux; d->drop = drop; d->set = 1;
    return 0;
}
EXPORT cudnnStatus_t cudnnCreateRNNDataDescriptor(DataDesc **d) { *d = calloc(1, sizeof(DataDesc)); (*d)->magic = M_DATA; return 0; }
EXPORT cudnnStatus_t cudnnDestroyRNNDataDescriptor(DataDesc *d) { if (!d || d->magic != M_DATA) BAD("cudnnDestroyRNNDataDescriptor: bad"); d->magic = M_DEAD; free(d->lens); free(d); return 0; }
EXPORT cudnnStatus_t cudnnSetRNNDataDescriptor(DataDesc *d, int dtype, int layout, int T, int N, int C, const int *lens, void *fill) {
    if (!d || d->magic != M_DATA) BAD("cudnnSetRNNDataDescriptor: bad descriptor");
    if (dtype != 0 || layout < 0 || layout > 1) BAD("cudnnSetRNNDataDescriptor: float SEQ_MAJOR_UNPACKED or SEQ_MAJOR_PACKED expected, got %d/%d", dtype, layout);
    if (T <= 0 || N <= 0 || C <= 0 || !lens) BAD("cudnnSetRNNDataDescriptor: T=%d N=%d C=%d", T, N, C);
    for (int n = 0; n < N; n++) if (lens[n] < 1 || lens[n] > T) BAD("cudnnSetRNNDataDescriptor: length %d of sequence %d outside 1..%d", lens[n], n, T);
    /* the mock runs packed data as it runs unpacked data, so it takes packed data of full-length sequences only */
    if (layout == 1) for (int n = 0; n < N; n++) if (lens[n] != T) NOTSUP("cudnnSetRNNDataDescriptor: the mock packs full-length sequences only (sequence %d has %d of %d)", n, lens[n], T);
    free(d->lens);
    d->lens = malloc(N * sizeof(int)); memcpy(d->lens, lens, N * sizeof(int));
    d->layout = layout; d->T = T; d->N = N; d->C = C; d->fill = fill ? *(float *)fill : NAN; d->set = 1;
    return 0;
}

/* ------------------------------------------------------------------ the weight space: cuDNN's order per pseudo-layer */
static int gates_of(int cell) { return cell == 2 ? 4 : cell == 3 ? 3 : 1; }
static int dirs(const RnnDesc *r) { return r->dir ? 2 : 1; }
static int has_proj(const RnnDesc *r) { return r->cell == 2 && r->P < r->H; }
static int layer_in(const RnnDesc *r, int l) { return l == 0 ? r->I : dirs(r) * r->P; }
static long pseudo_size(const RnnDesc *r, int l) {
    int G = gates_of(r->cell);
    long s = (long)G * r->H * layer_in(r, l) + (long)G * r->H * r->P;
    if (has_proj(r)) s += (long)r->P * r->H;
    if (r->bias) s += 2L * G * r->H;
    return s;
}
static long weight_floats(const RnnDesc *r) { long s = 0; for (int l = 0; l < r->L; l++) s += dirs(r) * pseudo_size(r, l); return s; }
/* offset (floats) of (pseudo, lin) matrix or bias; -1 when absent */
static long region(const RnnDesc *r, int pseudo, int lin, int bias, int *rows, int *cols) {
    int D = dirs(r), G = gates_of(r->cell), l = pseudo / D;
    long base = 0;
    for (int p = 0; p < pseudo; p++) base += pseudo_size(r, p / D);
    int I = layer_in(r, l);
    long off = base;
    if (!bias) {
        if (lin < G) { *rows = r->H; *cols = I; return off + (long)lin * r->H * I; }
        off += (long)G * r->H * I;
        if (lin < 2 * G) { *rows = r->H; *cols = r->P; return off + (long)(lin - G) * r->H * r->P; }
        off += (long)G * r->H * r->P;
        if (lin == 8 && has_proj(r)) { *rows = r->P; *cols = r->H; return off; }
        return -1;
    }
    off += (long)G * r->H * I + (long)G * r->H * r->P + (has_proj(r) ? (long)r->P * r->H : 0);
    if (!r->bias || lin >= 2 * G) return -1;
    *rows = r->H; *cols = 1;
    return off + (long)lin * r->H;
}
#define RNN(d, what) do { if (!(d) || (d)->magic != M_RNN || !(d)->set) BAD("%s: RNN descriptor not set", what); } while (0)
EXPORT cudnnStatus_t cudnnGetRNNWeightSpaceSize(Handle *h, RnnDesc *r, size_t *size) {
    HANDLE(h, "cudnnGetRNNWeightSpaceSize"); RNN(r, "cudnnGetRNNWeightSpaceSize");
    *size = (size_t)weight_floats(r) * 4; return 0;
}
EXPORT cudnnStatus_t cudnnGetRNNWeightParams(Handle *h, RnnDesc *r, int pseudo, size_t wsize, const void *w, int lin,
                                             TensorDesc *md, void **maddr, TensorDesc *bd, void **baddr) {
    HANDLE(h, "cudnnGetRNNWeightParams"); RNN(r, "cudnnGetRNNWeightParams");
    if (pseudo < 0 || pseudo >= r->L * dirs(r)) BAD("cudnnGetRNNWeightParams: pseudoLayer %d", pseudo);
    if (lin < 0 || lin > 8 || (lin >= 2 * gates_of(r->cell) && lin != 8)) BAD("cudnnGetRNNWeightParams: linLayerID %d for cell %d", lin, r->cell);
    if (wsize != (size_t)weight_floats(r) * 4) BAD("cudnnGetRNNWeightParams: weightSpaceSize %zu, expected %ld", wsize, weight_floats(r) * 4);
    DEV(w, wsize, "cudnnGetRNNWeightParams weightSpace");
    if (!md || md->magic != M_TENSOR || !bd || bd->magic != M_TENSOR) BAD("cudnnGetRNNWeightParams: descriptors");
    int rows, cols;
    long mo = region(r, pseudo, lin, 0, &rows, &cols);
    if (mo < 0) { md->nb = 0; *maddr = NULL; }
    else { md->type = 0; md->nb = 3; md->dims[0] = 1; md->dims[1] = rows; md->dims[2] = cols; md->strides[0] = rows * cols; md->strides[1] = cols; md->strides[2] = 1; *maddr = (char *)w + mo * 4; }
    long bo = region(r, pseudo, lin, 1, &rows, &cols);
    if (bo < 0) { bd->nb = 0; *baddr = NULL; }
    else { bd->type = 0; bd->nb = 3; bd->dims[0] = 1; bd->dims[1] = rows; bd->dims[2] = 1; bd->strides[0] = rows; bd->strides[1] = 1; bd->strides[2] = 1; *baddr = (char *)w + bo * 4; }
    return 0;
}

/* reserve space (floats): x (T*N*I), hx (S*N*P), cx (S*N*H), dy (T*N*D*P), dhy (S*N*P), dcy (S*N*H), w (weights) */
static long reserve_floats(const RnnDesc *r, const DataDesc *x) {
    long T = x->T, N = x->N, S = (long)r->L * dirs(r);
    return T * N * r->I + 2 * (S * N * r->P + S * N * r->H) + T * N * dirs(r) * r->P + weight_floats(r);
}
#define WORK_BYTES 4096
EXPORT cudnnStatus_t cudnnGetRNNTempSpaceSizes(Handle *h, RnnDesc *r, int mode, DataDesc *x, size_t *work, size_t *reserve) {
    HANDLE(h, "cudnnGetRNNTempSpaceSizes"); RNN(r, "cudnnGetRNNTempSpaceSizes");
    if (!x || x->magic != M_DATA || !x->set) BAD("cudnnGetRNNTempSpaceSizes: xDesc");
    if (x->C != r->I) BAD("cudnnGetRNNTempSpaceSizes: xDesc vectorSize %d != inputSize %d", x->C, r->I);
    if (mode != 0 && mode != 1) BAD("cudnnGetRNNTempSpaceSizes: fwdMode %d", mode);
    *work = WORK_BYTES; *reserve = mode == 1 ? (size_t)reserve_floats(r, x) * 4 : 0;
    return 0;
}

/* ------------------------------------------------------------------ the math (double) */
static double sigm(double v) { return 1 / (1 + exp(-v)); }
typedef struct { const RnnDesc *r; int T, N; const int *lens; } Prob;
/* y (T,N,D*P), hy (S,N,P), cy (S,N,H); w in cuDNN's layout */
static void forward(const Prob *pb, const double *x, const double *hx, const double *cx, const double *w, double *y, double *hy, double *cy) {
    const RnnDesc *r = pb->r;
    int T = pb->T, N = pb->N, D = dirs(r), G = gates_of(r->cell), H = r->H, P = r->P, L = r->L;
    int proj = has_proj(r), lstm = r->cell == 2;
    double *in = malloc(sizeof(double) * T * N * (r->I > D * P ? r->I : D * P));
    double *out = malloc(sizeof(double) * T * N * D * P);
    double *g = malloc(sizeof(double) * G * H), *hh = malloc(sizeof(double) * G * H), *h = malloc(sizeof(double) * H), *c = malloc(sizeof(double) * H), *hr = malloc(sizeof(double) * H);
    memcpy(in, x, sizeof(double) * T * N * r->I);
    for (int l = 0; l < L; l++) {
        int I = layer_in(r, l);
        memset(out, 0, sizeof(double) * T * N * D * P);
        for (int d = 0; d < D; d++) {
            int pseudo = l * D + d, rows, cols;
            long wo = region(r, pseudo, 0, 0, &rows, &cols), ro = region(r, pseudo, G, 0, &rows, &cols);
            long po = proj ? region(r, pseudo, 8, 0, &rows, &cols) : -1;
            long bwo = r->bias ? region(r, pseudo, 0, 1, &rows, &cols) : -1, bro = r->bias ? region(r, pseudo, G, 1, &rows, &cols) : -1;
            for (int n = 0; n < N; n++) {
                int len = pb->lens[n];
                for (int j = 0; j < P; j++) h[j] = hx[((long)pseudo * N + n) * P + j];
                if (lstm) for (int j = 0; j < H; j++) c[j] = cx[((long)pseudo * N + n) * H + j];
                for (int s = 0; s < len; s++) {
                    int t = d == 0 ? s : len - 1 - s;
                    const double *xt = in + ((long)t * N + n) * I;
                    for (int k = 0; k < G * H; k++) {
                        double a = bwo >= 0 ? w[bwo + k] : 0, b = bro >= 0 ? w[bro + k] : 0;
                        for (int i = 0; i < I; i++) a += w[wo + (long)k * I + i] * xt[i];
                        for (int i = 0; i < P; i++) b += w[ro + (long)k * P + i] * h[i];
                        g[k] = a; hh[k] = b;
                    }
                    if (r->cell == 0 || r->cell == 1) {
                        for (int j = 0; j < H; j++) { double v = g[j] + hh[j]; h[j] = r->cell == 0 ? (v > 0 ? v : 0) : tanh(v); }
                    } else if (r->cell == 3) {
                        for (int j = 0; j < H; j++) {
                            double rg = sigm(g[j] + hh[j]), z = sigm(g[H + j] + hh[H + j]);
                            double nn = tanh(g[2 * H + j] + rg * hh[2 * H + j]);
                            h[j] = (1 - z) * nn + z * h[j];
                        }
                    } else {
                        for (int j = 0; j < H; j++) {
                            double ig = sigm(g[j] + hh[j]), fg = sigm(g[H + j] + hh[H + j]), gg = tanh(g[2 * H + j] + hh[2 * H + j]), og = sigm(g[3 * H + j] + hh[3 * H + j]);
                            c[j] = fg * c[j] + ig * gg;
                            hr[j] = og * tanh(c[j]);
                        }
                        if (proj) for (int p = 0; p < P; p++) { double v = 0; for (int j = 0; j < H; j++) v += w[po + (long)p * H + j] * hr[j]; h[p] = v; }
                        else for (int j = 0; j < H; j++) h[j] = hr[j];
                    }
                    for (int j = 0; j < P; j++) out[((long)t * N + n) * D * P + d * P + j] = h[j];
                }
                for (int j = 0; j < P; j++) hy[((long)pseudo * N + n) * P + j] = h[j];
                if (lstm) for (int j = 0; j < H; j++) cy[((long)pseudo * N + n) * H + j] = c[j];
            }
        }
        memcpy(in, out, sizeof(double) * T * N * D * P);
    }
    memcpy(y, out, sizeof(double) * T * N * D * P);
    free(in); free(out); free(g); free(hh); free(h); free(c); free(hr);
}
static double *to_double(const float *p, long n) { double *d = malloc(sizeof(double) * (n ? n : 1)); for (long i = 0; i < n; i++) d[i] = p ? p[i] : 0; return d; }
/* loss = sum over valid steps of y*dy + sum hy*dhy + sum cy*dcy */
static double loss(const Prob *pb, const double *x, const double *hx, const double *cx, const double *w, const double *dy, const double *dhy, const double *dcy) {
    const RnnDesc *r = pb->r;
    int T = pb->T, N = pb->N, Y = dirs(r) * r->P;
    long S = (long)r->L * dirs(r);
    double *y = malloc(sizeof(double) * T * N * Y), *hy = malloc(sizeof(double) * S * N * r->P), *cy = malloc(sizeof(double) * S * N * r->H);
    forward(pb, x, hx, cx, w, y, hy, cy);
    double s = 0;
    for (int t = 0; t < T; t++) for (int n = 0; n < N; n++) if (t < pb->lens[n]) for (int j = 0; j < Y; j++) s += y[((long)t * N + n) * Y + j] * dy[((long)t * N + n) * Y + j];
    for (long i = 0; i < S * N * r->P; i++) s += hy[i] * dhy[i];
    if (r->cell == 2) for (long i = 0; i < S * N * r->H; i++) s += cy[i] * dcy[i];
    free(y); free(hy); free(cy);
    return s;
}
static double numeric(const Prob *pb, double *v, long i, double *x, double *hx, double *cx, double *w, double *dy, double *dhy, double *dcy) {
    const double eps = 1e-4;
    double keep = v[i];
    v[i] = keep + eps; double a = loss(pb, x, hx, cx, w, dy, dhy, dcy);
    v[i] = keep - eps; double b = loss(pb, x, hx, cx, w, dy, dhy, dcy);
    v[i] = keep;
    return (a - b) / (2 * eps);
}

/* ------------------------------------------------------------------ the three RNN calls */
static cudnnStatus_t check_call(const char *what, Handle *h, RnnDesc *r, const int *devlens, DataDesc *xd, DataDesc *yd, TensorDesc *hd, TensorDesc *cd,
                                size_t wsize, const void *w, size_t worksize, const void *work) {
    HANDLE(h, what); RNN(r, what);
    if (!xd || xd->magic != M_DATA || !xd->set || !yd || yd->magic != M_DATA || !yd->set) BAD("%s: data descriptors", what);
    if (xd->C != r->I) BAD("%s: xDesc vectorSize %d != inputSize %d", what, xd->C, r->I);
    if (yd->C != dirs(r) * r->P) BAD("%s: yDesc vectorSize %d != D*projSize %d", what, yd->C, dirs(r) * r->P);
    if (xd->T != yd->T || xd->N != yd->N || memcmp(xd->lens, yd->lens, xd->N * sizeof(int))) BAD("%s: xDesc and yDesc differ in T, N or lengths", what);
    if (yd->fill != 0.0f) BAD("%s: yDesc paddingFill is not 0", what);
    if (xd->layout != yd->layout) BAD("%s: xDesc and yDesc layouts differ", what);
    if (r->aux == 0 && xd->layout != 1) BAD("%s: padded I/O is disabled, so the data layout must be SEQ_MAJOR_PACKED", what);
    if (r->aux == 1 && xd->layout == 1) BAD("%s: padded I/O is enabled but the data layout is SEQ_MAJOR_PACKED", what);
    DEV(devlens, xd->N * sizeof(int), "devSeqLengths");
    for (int n = 0; n < xd->N; n++) if (devlens[n] != xd->lens[n]) BAD("%s: devSeqLengths[%d] = %d but the data descriptor says %d", what, n, devlens[n], xd->lens[n]);
    int S = r->L * dirs(r), N = xd->N;
    if (!hd || hd->magic != M_TENSOR || hd->nb != 3 || hd->dims[0] != S || hd->dims[1] != N || hd->dims[2] != r->P || hd->strides[0] != N * r->P || hd->strides[1] != r->P || hd->strides[2] != 1)
        BAD("%s: hDesc must be (%d,%d,%d) packed", what, S, N, r->P);
    if (!cd || cd->magic != M_TENSOR || cd->nb != 3 || cd->dims[0] != S || cd->dims[1] != N || cd->dims[2] != r->H || cd->strides[0] != N * r->H)
        BAD("%s: cDesc must be (%d,%d,%d) packed", what, S, N, r->H);
    if (wsize != (size_t)weight_floats(r) * 4) BAD("%s: weightSpaceSize %zu, expected %ld", what, wsize, weight_floats(r) * 4);
    DEV(w, wsize, "weightSpace");
    if (worksize < WORK_BYTES) BAD("%s: workSpaceSize %zu < %d", what, worksize, WORK_BYTES);
    DEV(work, worksize, "workSpace");
    return 0;
}
EXPORT cudnnStatus_t cudnnRNNForward(Handle *h, RnnDesc *r, int mode, const int *devlens, DataDesc *xd, const float *x, DataDesc *yd, float *y,
                                     TensorDesc *hd, const float *hx, float *hy, TensorDesc *cd, const float *cx, float *cy,
                                     size_t wsize, const float *w, size_t worksize, void *work, size_t rsize, float *reserve) {
    cudnnStatus_t st = check_call("cudnnRNNForward", h, r, devlens, xd, yd, hd, cd, wsize, w, worksize, work);
    if (st) return st;
    n_forward[r->algo == 1]++;
    int T = xd->T, N = xd->N, Y = yd->C, lstm = r->cell == 2;
    long S = (long)r->L * dirs(r), nh = S * N * r->P, nc = S * N * r->H, nx = (long)T * N * r->I;
    DEV(x, nx * 4, "x"); DEV(y, (long)T * N * Y * 4, "y");
    if (hx) DEV(hx, nh * 4, "hx");
    if (hy) DEV(hy, nh * 4, "hy");
    if (lstm && cx) DEV(cx, nc * 4, "cx");
    if (lstm && cy) DEV(cy, nc * 4, "cy");
    if (mode == 1) {
        if (rsize != (size_t)reserve_floats(r, xd) * 4) BAD("cudnnRNNForward: reserveSpaceSize %zu, expected %ld", rsize, reserve_floats(r, xd) * 4);
        DEV(reserve, rsize, "reserveSpace");
    } else if (mode != 0) BAD("cudnnRNNForward: fwdMode %d", mode);
    Prob pb = { r, T, N, xd->lens };
    double *xd_ = to_double(x, nx), *hx_ = to_double(hx, nh), *cx_ = to_double(lstm ? cx : NULL, nc), *w_ = to_double(w, weight_floats(r));
    double *y_ = malloc(sizeof(double) * T * N * Y), *hy_ = malloc(sizeof(double) * nh), *cy_ = malloc(sizeof(double) * nc);
    forward(&pb, xd_, hx_, cx_, w_, y_, hy_, cy_);
    for (int t = 0; t < T; t++) for (int n = 0; n < N; n++) for (int j = 0; j < Y; j++)
        y[((long)t * N + n) * Y + j] = t < xd->lens[n] ? (float)y_[((long)t * N + n) * Y + j] : NAN;
    if (hy) for (long i = 0; i < nh; i++) hy[i] = (float)hy_[i];
    if (lstm && cy) for (long i = 0; i < nc; i++) cy[i] = (float)cy_[i];
    if (mode == 1) {
        memcpy(reserve, x, nx * 4);
        for (long i = 0; i < nh; i++) reserve[nx + i] = hx ? hx[i] : 0;
        for (long i = 0; i < nc; i++) reserve[nx + nh + i] = lstm && cx ? cx[i] : 0;
        memcpy(reserve + nx + nh + nc + (long)T * N * Y + nh + nc, w, weight_floats(r) * 4);
    }
    free(xd_); free(hx_); free(cx_); free(w_); free(y_); free(hy_); free(cy_);
    return 0;
}
EXPORT cudnnStatus_t cudnnRNNBackwardData_v8(Handle *h, RnnDesc *r, const int *devlens, DataDesc *yd, const float *y, const float *dy,
                                             DataDesc *xd, float *dx, TensorDesc *hd, const float *hx, const float *dhy, float *dhx,
                                             TensorDesc *cd, const float *cx, const float *dcy, float *dcx,
                                             size_t wsize, const float *w, size_t worksize, void *work, size_t rsize, float *reserve) {
    cudnnStatus_t st = check_call("cudnnRNNBackwardData_v8", h, r, devlens, xd, yd, hd, cd, wsize, w, worksize, work);
    if (st) return st;
    int T = xd->T, N = xd->N, Y = yd->C, lstm = r->cell == 2;
    long S = (long)r->L * dirs(r), nh = S * N * r->P, nc = S * N * r->H, nx = (long)T * N * r->I, ny = (long)T * N * Y;
    if (rsize != (size_t)reserve_floats(r, xd) * 4) BAD("cudnnRNNBackwardData_v8: reserveSpaceSize %zu, expected %ld", rsize, reserve_floats(r, xd) * 4);
    DEV(reserve, rsize, "reserveSpace"); DEV(y, ny * 4, "y"); DEV(dy, ny * 4, "dy"); DEV(dx, nx * 4, "dx");
    if (hx) DEV(hx, nh * 4, "hx");
    if (dhy) DEV(dhy, nh * 4, "dhy");
    if (dhx) DEV(dhx, nh * 4, "dhx");
    if (lstm) { if (cx) DEV(cx, nc * 4, "cx"); if (dcy) DEV(dcy, nc * 4, "dcy"); if (dcx) DEV(dcx, nc * 4, "dcx"); }
    for (long i = 0; i < nh; i++) if ((hx ? hx[i] : 0) != reserve[nx + i]) BAD("cudnnRNNBackwardData_v8: hx differs from the training forward's");
    for (long i = 0; i < nc; i++) if ((lstm && cx ? cx[i] : 0) != reserve[nx + nh + i]) BAD("cudnnRNNBackwardData_v8: cx differs from the training forward's");
    if (memcmp(w, reserve + nx + nh + nc + ny + nh + nc, weight_floats(r) * 4)) BAD("cudnnRNNBackwardData_v8: weights differ from the training forward's");
    Prob pb = { r, T, N, xd->lens };
    double *x_ = to_double(reserve, nx), *hx_ = to_double(hx, nh), *cx_ = to_double(lstm ? cx : NULL, nc), *w_ = to_double(w, weight_floats(r));
    double *dy_ = to_double(dy, ny), *dhy_ = to_double(dhy, nh), *dcy_ = to_double(lstm ? dcy : NULL, nc);
    for (int t = 0; t < T; t++) for (int n = 0; n < N; n++) for (int i = 0; i < r->I; i++) {
        long k = ((long)t * N + n) * r->I + i;
        dx[k] = t < xd->lens[n] ? (float)numeric(&pb, x_, k, x_, hx_, cx_, w_, dy_, dhy_, dcy_) : NAN;
    }
    if (dhx) for (long i = 0; i < nh; i++) dhx[i] = (float)numeric(&pb, hx_, i, x_, hx_, cx_, w_, dy_, dhy_, dcy_);
    if (lstm && dcx) for (long i = 0; i < nc; i++) dcx[i] = (float)numeric(&pb, cx_, i, x_, hx_, cx_, w_, dy_, dhy_, dcy_);
    float *keep = reserve + nx + nh + nc; /* after x, hx, cx */
    memcpy(keep, dy, ny * 4);
    for (long i = 0; i < nh; i++) keep[ny + i] = dhy ? dhy[i] : 0;
    for (long i = 0; i < nc; i++) keep[ny + nh + i] = lstm && dcy ? dcy[i] : 0;
    free(x_); free(hx_); free(cx_); free(w_); free(dy_); free(dhy_); free(dcy_);
    return 0;
}
EXPORT cudnnStatus_t cudnnRNNBackwardWeights_v8(Handle *h, RnnDesc *r, int add, const int *devlens, DataDesc *xd, const float *x,
                                                TensorDesc *hd, const float *hx, DataDesc *yd, const float *y, size_t wsize, float *dw,
                                                size_t worksize, void *work, size_t rsize, float *reserve) {
    /* The weights are no argument here (cuDNN keeps what it needs in the reserve space): the mock's training forward
       stored them there, and backward data stored the upstream gradients. */
    if (!hd || hd->magic != M_TENSOR || hd->nb != 3 || hd->dims[2] != r->P) BAD("cudnnRNNBackwardWeights_v8: hDesc");
    HANDLE(h, "cudnnRNNBackwardWeights_v8"); RNN(r, "cudnnRNNBackwardWeights_v8");
    if (add != 0) BAD("cudnnRNNBackwardWeights_v8: the mock expects CUDNN_WGRAD_MODE_ADD, got %d", add);
    if (!xd || xd->magic != M_DATA || !yd || yd->magic != M_DATA) BAD("cudnnRNNBackwardWeights_v8: data descriptors");
    int T = xd->T, N = xd->N, Y = yd->C;
    long S = (long)r->L * dirs(r), nh = S * N * r->P, nc = S * N * r->H, nx = (long)T * N * r->I, ny = (long)T * N * Y, nw = weight_floats(r);
    if (wsize != (size_t)nw * 4) BAD("cudnnRNNBackwardWeights_v8: weightSpaceSize %zu, expected %ld", wsize, nw * 4);
    DEV(dw, wsize, "dweightSpace"); DEV(x, nx * 4, "x"); DEV(y, ny * 4, "y"); DEV(work, worksize, "workSpace");
    if (worksize < WORK_BYTES) BAD("cudnnRNNBackwardWeights_v8: workSpaceSize %zu", worksize);
    DEV(devlens, N * sizeof(int), "devSeqLengths");
    for (int n = 0; n < N; n++) if (devlens[n] != xd->lens[n]) BAD("cudnnRNNBackwardWeights_v8: devSeqLengths[%d] = %d, descriptor %d", n, devlens[n], xd->lens[n]);
    if (hx) DEV(hx, nh * 4, "hx");
    if (rsize != (size_t)reserve_floats(r, xd) * 4) BAD("cudnnRNNBackwardWeights_v8: reserveSpaceSize %zu", rsize);
    DEV(reserve, rsize, "reserveSpace");
    if (memcmp(x, reserve, nx * 4)) BAD("cudnnRNNBackwardWeights_v8: x differs from the training forward's");
    for (long i = 0; i < nh; i++) if ((hx ? hx[i] : 0) != reserve[nx + i]) BAD("cudnnRNNBackwardWeights_v8: hx differs from the training forward's");
    Prob pb = { r, T, N, xd->lens };
    const float *keep = reserve + nx + nh + nc;
    double *x_ = to_double(reserve, nx), *hx_ = to_double(reserve + nx, nh), *cx_ = to_double(reserve + nx + nh, nc);
    double *dy_ = to_double(keep, ny), *dhy_ = to_double(keep + ny, nh), *dcy_ = to_double(keep + ny + nh, nc), *w_ = to_double(keep + ny + nh + nc, nw);
    for (long i = 0; i < nw; i++) dw[i] += (float)numeric(&pb, w_, i, x_, hx_, cx_, w_, dy_, dhy_, dcy_);
    free(x_); free(hx_); free(cx_); free(w_); free(dy_); free(dhy_); free(dcy_);
    return 0;
}
