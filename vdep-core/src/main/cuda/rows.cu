// Row kernels: RMSNorm and LayerNorm (one block per row; row statistics and the weight/bias
// gradient sums in double, as vdep_kernels.cpp and RowKernels do), rotary embedding in both
// layouts, row gathers and scatters (embedding, gatherRows, replaceRows and their backward,
// without atomics so results are reproducible), bias gradients (column sums) and the
// cross-entropy with an ignore index.
#include "vdep_cuda.cuh"

using namespace vdep;

namespace {

// ---------------------------------------------------------------- RMSNorm

// y = x r w, r = 1 / sqrt(mean(x^2) + eps) kept per row (double) for the backward
__global__ void rms_forward_kernel(const float* x, const float* w, float* y, double* rstd, int C, double eps) {
    const float* xr = x + blockIdx.x * static_cast<long>(C);
    float* yr = y + blockIdx.x * static_cast<long>(C);
    double ss = 0;
    for (int j = threadIdx.x; j < C; j += blockDim.x) ss += static_cast<double>(xr[j]) * xr[j];
    ss = block_sum(ss);
    const double r = 1.0 / sqrt(ss / C + eps);
    if (threadIdx.x == 0) rstd[blockIdx.x] = r;
    const float rf = static_cast<float>(r);
    for (int j = threadIdx.x; j < C; j += blockDim.x) yr[j] = xr[j] * rf * w[j];
}

// xhat = x r; dx = (g w - xhat mean(g w xhat)) r
__global__ void rms_backward_kernel(const float* g, const float* x, const float* w, const double* rstd, float* dx, int C) {
    const long base = blockIdx.x * static_cast<long>(C);
    const float rf = static_cast<float>(rstd[blockIdx.x]);
    double dot = 0;
    for (int j = threadIdx.x; j < C; j += blockDim.x) dot += static_cast<double>(g[base + j] * w[j] * (x[base + j] * rf));
    dot = block_sum(dot);
    const float mean = static_cast<float>(dot / C);
    for (int j = threadIdx.x; j < C; j += blockDim.x) dx[base + j] = (g[base + j] * w[j] - x[base + j] * rf * mean) * rf;
}

// dw[j] (+)= sum over rows of g x r, one thread per column, rows in order (double)
__global__ void rms_weight_grad_kernel(const float* g, const float* x, const double* rstd, long N, int C, float* dw, bool accumulate) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= C) return;
    double s = 0;
    for (long i = 0; i < N; i++) s += static_cast<double>(g[i * C + j] * (x[i * C + j] * static_cast<float>(rstd[i])));
    dw[j] = accumulate ? dw[j] + static_cast<float>(s) : static_cast<float>(s);
}

// ---------------------------------------------------------------- LayerNorm

// y = (x - mean) rstd w + b, biased variance; mean and rstd kept per row (double)
__global__ void layer_forward_kernel(const float* x, const float* w, const float* b, float* y, double* mean, double* rstd, int C,
                                     double eps) {
    const float* xr = x + blockIdx.x * static_cast<long>(C);
    float* yr = y + blockIdx.x * static_cast<long>(C);
    double s = 0;
    for (int j = threadIdx.x; j < C; j += blockDim.x) s += xr[j];
    const double mu = block_sum(s) / C;
    double ss = 0;
    for (int j = threadIdx.x; j < C; j += blockDim.x) {
        double d = xr[j] - mu;
        ss += d * d;
    }
    const double rs = 1.0 / sqrt(block_sum(ss) / C + eps);
    if (threadIdx.x == 0) {
        mean[blockIdx.x] = mu;
        rstd[blockIdx.x] = rs;
    }
    const float m = static_cast<float>(mu), r = static_cast<float>(rs);
    for (int j = threadIdx.x; j < C; j += blockDim.x) yr[j] = (xr[j] - m) * r * w[j] + b[j];
}

// xhat = (x - mean) rstd, gh = g w: dx = (gh - mean(gh) - xhat mean(gh xhat)) rstd
__global__ void layer_backward_kernel(const float* g, const float* x, const float* w, const double* mean, const double* rstd,
                                      float* dx, int C) {
    const long base = blockIdx.x * static_cast<long>(C);
    const float m = static_cast<float>(mean[blockIdx.x]), r = static_cast<float>(rstd[blockIdx.x]);
    double sg = 0, sgx = 0;
    for (int j = threadIdx.x; j < C; j += blockDim.x) {
        float gh = g[base + j] * w[j];
        sg += gh;
        sgx += static_cast<double>(gh * ((x[base + j] - m) * r));
    }
    sg = block_sum(sg);
    sgx = block_sum(sgx);
    const float mg = static_cast<float>(sg / C), mgx = static_cast<float>(sgx / C);
    for (int j = threadIdx.x; j < C; j += blockDim.x) {
        float xh = (x[base + j] - m) * r;
        dx[base + j] = (g[base + j] * w[j] - mg - xh * mgx) * r;
    }
}

// dw[j] (+)= sum g xhat, db[j] (+)= sum g over rows (each may be null), rows in order (double)
__global__ void layer_param_grad_kernel(const float* g, const float* x, const double* mean, const double* rstd, long N, int C,
                                        float* dw, float* db, bool accumulate) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= C) return;
    double sw = 0, sb = 0;
    for (long i = 0; i < N; i++) {
        float gv = g[i * C + j];
        sw += static_cast<double>(gv * ((x[i * C + j] - static_cast<float>(mean[i])) * static_cast<float>(rstd[i])));
        sb += gv;
    }
    if (dw != nullptr) dw[j] = accumulate ? dw[j] + static_cast<float>(sw) : static_cast<float>(sw);
    if (db != nullptr) db[j] = accumulate ? db[j] + static_cast<float>(sb) : static_cast<float>(sb);
}

// out[j] (+)= sum over rows of g[i, j] (a bias gradient), rows in order (double)
__global__ void column_sum_kernel(const float* g, long N, int C, float* out, bool accumulate) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= C) return;
    double s = 0;
    for (long i = 0; i < N; i++) s += g[i * C + j];
    out[j] = accumulate ? out[j] + static_cast<float>(s) : static_cast<float>(s);
}

// ---------------------------------------------------------------- rotary embedding

// Rows of x [rows, d]; row r is at position (r / hp) % T of cos, sin [T, d] (hp = 1 for
// [B, H, T, d], H for [B, T, H, d]). y = x cos + rotate_half(x) sin; the transpose (backward):
// dx = g cos + rotate_half^T(g sin).
__global__ void rope_kernel(const float* x, const float* cos, const float* sin, float* y, long rows, int T, int hp, int d,
                            bool transpose) {
    const int h = d / 2;
    const long n = rows * d;
    GRID_STRIDE(e, n) {
        const long r = e / d;
        const int i = static_cast<int>(e % d);
        const long pos = (r / hp) % T;
        const float* c = cos + pos * d;
        const float* s = sin + pos * d;
        const float* xr = x + r * d;
        float v;
        if (!transpose) {
            v = i < h ? xr[i] * c[i] - xr[i + h] * s[i] : xr[i] * c[i] + xr[i - h] * s[i];
        } else {
            v = i < h ? xr[i] * c[i] + xr[i + h] * s[i + h] : xr[i] * c[i] - xr[i - h] * s[i - h];
        }
        y[e] = v;
    }
}

// ---------------------------------------------------------------- row gathers and scatters

// dst[i] = src[idx[i]] for n rows of C floats
__global__ void gather_rows_kernel(const float* src, int C, const int* idx, long n, float* dst) {
    const long total = n * C;
    GRID_STRIDE(e, total) dst[e] = src[static_cast<long>(idx[e / C]) * C + e % C];
}

// dst[idx[i]] = src[i] (distinct idx)
__global__ void scatter_rows_kernel(const float* src, int C, const int* idx, long n, float* dst) {
    const long total = n * C;
    GRID_STRIDE(e, total) dst[static_cast<long>(idx[e / C]) * C + e % C] = src[e];
}

// dst[idx[i]] = 0
__global__ void zero_rows_kernel(float* dst, int C, const int* idx, long n) {
    const long total = n * C;
    GRID_STRIDE(e, total) dst[static_cast<long>(idx[e / C]) * C + e % C] = 0.0f;
}

// dst[rows[u]] += sum of src[positions[k]] for k in [offsets[u], offsets[u + 1]): one block
// per distinct row, positions summed in the order given (no atomics: reproducible).
__global__ void scatter_add_rows_kernel(const float* src, int C, const int* rows, const int* offsets, const int* positions,
                                        float* dst) {
    const int u = blockIdx.x;
    const int k0 = offsets[u], k1 = offsets[u + 1];
    float* out = dst + static_cast<long>(rows[u]) * C;
    for (int j = threadIdx.x; j < C; j += blockDim.x) {
        float s = 0.0f;
        for (int k = k0; k < k1; k++) s += src[static_cast<long>(positions[k]) * C + j];
        out[j] += s;
    }
}

// ---------------------------------------------------------------- cross-entropy

// Per row of x [N, V]: lse = log sum exp (max and exp-sum in float, the log in double, as the
// CPU kernel); rowLoss = lse - x[target] on supervised rows, 0 on ignored ones.
__global__ void cross_entropy_forward_kernel(const float* x, int V, const int* targets, int ignore, float* lse, float* rowLoss) {
    const float* row = x + blockIdx.x * static_cast<long>(V);
    float mx = -INFINITY;
    for (int j = threadIdx.x; j < V; j += blockDim.x) mx = fmaxf(mx, row[j]);
    mx = block_max(mx);
    float s = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) s += expf(row[j] - mx);
    s = block_sum(s);
    if (threadIdx.x == 0) {
        const double l = static_cast<double>(mx) + log(static_cast<double>(s));
        lse[blockIdx.x] = static_cast<float>(l);
        const int t = targets[blockIdx.x];
        rowLoss[blockIdx.x] = t == ignore ? 0.0f : static_cast<float>(l - row[t]);
    }
}

// grad[i] = (softmax(x[i]) - onehot(target[i])) * dloss / norm on supervised rows, 0 on ignored ones.
__global__ void cross_entropy_backward_kernel(const float* x, int V, const int* targets, int ignore, const float* lse,
                                              const float* dloss, double invNorm, float* grad) {
    const long base = blockIdx.x * static_cast<long>(V);
    const int t = targets[blockIdx.x];
    const float sc = t == ignore ? 0.0f : static_cast<float>(static_cast<double>(dloss[0]) * invNorm);
    const float l = lse[blockIdx.x];
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        float p = sc == 0.0f ? 0.0f : expf(x[base + j] - l) * sc;
        grad[base + j] = j == t ? p - sc : p;
    }
}

struct Identity {
    const float* x;
    __device__ float operator()(long i) const { return x[i]; }
};

unsigned int column_blocks(int C) { return static_cast<unsigned int>((C + BLOCK - 1) / BLOCK); }

}  // namespace

// ---------------------------------------------------------------- JNI

KERNEL_FN(void, rmsForward)(JNIEnv* env, jclass, jlong x, jlong w, jlong y, jlong rstd, jint N, jint C, jdouble eps) {
    if (N <= 0) return;
    rms_forward_kernel<<<N, BLOCK>>>(dptr<const float>(x), dptr<const float>(w), dptr<float>(y), dptr<double>(rstd), C, eps);
    launch_failed(env, "rms_forward_kernel");
}

// dx (may be 0) overwritten; dw (may be 0) overwritten or accumulated
KERNEL_FN(void, rmsBackward)(JNIEnv* env, jclass, jlong g, jlong x, jlong w, jlong rstd, jlong dx, jlong dw, jint N, jint C,
                             jboolean accumulateDw) {
    if (N <= 0) return;
    if (dx != 0) {
        rms_backward_kernel<<<N, BLOCK>>>(dptr<const float>(g), dptr<const float>(x), dptr<const float>(w), dptr<const double>(rstd),
                                          dptr<float>(dx), C);
        if (launch_failed(env, "rms_backward_kernel")) return;
    }
    if (dw != 0) {
        rms_weight_grad_kernel<<<column_blocks(C), BLOCK>>>(dptr<const float>(g), dptr<const float>(x), dptr<const double>(rstd), N,
                                                             C, dptr<float>(dw), accumulateDw == JNI_TRUE);
        launch_failed(env, "rms_weight_grad_kernel");
    }
}

KERNEL_FN(void, layerForward)(JNIEnv* env, jclass, jlong x, jlong w, jlong b, jlong y, jlong mean, jlong rstd, jint N, jint C,
                              jdouble eps) {
    if (N <= 0) return;
    layer_forward_kernel<<<N, BLOCK>>>(dptr<const float>(x), dptr<const float>(w), dptr<const float>(b), dptr<float>(y),
                                       dptr<double>(mean), dptr<double>(rstd), C, eps);
    launch_failed(env, "layer_forward_kernel");
}

KERNEL_FN(void, layerBackward)(JNIEnv* env, jclass, jlong g, jlong x, jlong w, jlong mean, jlong rstd, jlong dx, jlong dw, jlong db,
                               jint N, jint C, jboolean accumulateParams) {
    if (N <= 0) return;
    if (dx != 0) {
        layer_backward_kernel<<<N, BLOCK>>>(dptr<const float>(g), dptr<const float>(x), dptr<const float>(w),
                                            dptr<const double>(mean), dptr<const double>(rstd), dptr<float>(dx), C);
        if (launch_failed(env, "layer_backward_kernel")) return;
    }
    if (dw != 0 || db != 0) {
        layer_param_grad_kernel<<<column_blocks(C), BLOCK>>>(dptr<const float>(g), dptr<const float>(x), dptr<const double>(mean),
                                                              dptr<const double>(rstd), N, C, dptr<float>(dw), dptr<float>(db),
                                                              accumulateParams == JNI_TRUE);
        launch_failed(env, "layer_param_grad_kernel");
    }
}

KERNEL_FN(void, columnSum)(JNIEnv* env, jclass, jlong g, jlong N, jint C, jlong out, jboolean accumulate) {
    if (C <= 0) return;
    column_sum_kernel<<<column_blocks(C), BLOCK>>>(dptr<const float>(g), N, C, dptr<float>(out), accumulate == JNI_TRUE);
    launch_failed(env, "column_sum_kernel");
}

KERNEL_FN(void, rope)(JNIEnv* env, jclass, jlong x, jlong cos, jlong sin, jlong y, jlong rows, jint T, jint hp, jint d,
                      jboolean transpose) {
    const long n = rows * d;
    if (n <= 0) return;
    rope_kernel<<<blocks_for(n), BLOCK>>>(dptr<const float>(x), dptr<const float>(cos), dptr<const float>(sin), dptr<float>(y), rows,
                                          T, hp, d, transpose == JNI_TRUE);
    launch_failed(env, "rope_kernel");
}

KERNEL_FN(void, gatherRows)(JNIEnv* env, jclass, jlong src, jint C, jlong idx, jlong n, jlong dst) {
    if (n * C <= 0) return;
    gather_rows_kernel<<<blocks_for(n * C), BLOCK>>>(dptr<const float>(src), C, dptr<const int>(idx), n, dptr<float>(dst));
    launch_failed(env, "gather_rows_kernel");
}

KERNEL_FN(void, scatterRows)(JNIEnv* env, jclass, jlong src, jint C, jlong idx, jlong n, jlong dst) {
    if (n * C <= 0) return;
    scatter_rows_kernel<<<blocks_for(n * C), BLOCK>>>(dptr<const float>(src), C, dptr<const int>(idx), n, dptr<float>(dst));
    launch_failed(env, "scatter_rows_kernel");
}

KERNEL_FN(void, zeroRows)(JNIEnv* env, jclass, jlong dst, jint C, jlong idx, jlong n) {
    if (n * C <= 0) return;
    zero_rows_kernel<<<blocks_for(n * C), BLOCK>>>(dptr<float>(dst), C, dptr<const int>(idx), n);
    launch_failed(env, "zero_rows_kernel");
}

// rows, offsets (distinct + 1 entries) and positions: device int arrays built on the host
KERNEL_FN(void, scatterAddRows)(JNIEnv* env, jclass, jlong src, jint C, jlong rows, jlong offsets, jlong positions, jint distinct,
                                jlong dst) {
    if (distinct <= 0 || C <= 0) return;
    scatter_add_rows_kernel<<<distinct, BLOCK>>>(dptr<const float>(src), C, dptr<const int>(rows), dptr<const int>(offsets),
                                                 dptr<const int>(positions), dptr<float>(dst));
    launch_failed(env, "scatter_add_rows_kernel");
}

// loss[0] = sum of rowLoss / norm (0 rows supervised: pass invNorm 0); lse, rowLoss: N floats each
KERNEL_FN(void, crossEntropyForward)(JNIEnv* env, jclass, jlong x, jint N, jint V, jlong targets, jint ignore, jlong lse,
                                     jlong rowLoss, jdouble invNorm, jlong loss) {
    if (N <= 0) return;
    cross_entropy_forward_kernel<<<N, BLOCK>>>(dptr<const float>(x), V, dptr<const int>(targets), ignore, dptr<float>(lse),
                                               dptr<float>(rowLoss));
    if (launch_failed(env, "cross_entropy_forward_kernel")) return;
    reduce_sum(env, Identity{dptr<const float>(rowLoss)}, N, invNorm, 0.0, dptr<float>(loss), nullptr, false, "crossEntropyForward");
}

KERNEL_FN(void, crossEntropyBackward)(JNIEnv* env, jclass, jlong x, jint N, jint V, jlong targets, jint ignore, jlong lse,
                                      jlong dloss, jdouble invNorm, jlong grad) {
    if (N <= 0) return;
    cross_entropy_backward_kernel<<<N, BLOCK>>>(dptr<const float>(x), V, dptr<const int>(targets), ignore, dptr<const float>(lse),
                                                dptr<const float>(dloss), invNorm, dptr<float>(grad));
    launch_failed(env, "cross_entropy_backward_kernel");
}
