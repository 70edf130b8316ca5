// FlashAttention-2 style attention (llm.c's CUDA kernels are the model): the [T, S] probabilities
// never exist in training. The forward streams over the keys with an online softmax and keeps
// only the output and each query row's log-sum-exp (FP32, [B, H, T]); the backward computes
// D = rowsum(dy * y) first and recomputes the probabilities from q, k and the log-sum-exp.
// Grouped-query attention reads each KV head for its `rep` query heads in place (no copies of K or
// V). Layouts as the CPU kernel (AttnShape in vdep_kernels.cpp): heads-major q [B, H, T, d],
// k, v [B, Hkv, S, d], or token-major q [B, T, H, d], k, v [B, S, Hkv, d]. With S > T the queries
// are the last T positions (KV cache). The key mask is float [B, S], 0 at padding keys. A row with
// no visible key is uniform over all S keys (what an additive finite mask gives, as in the CPU
// paths); its log-sum-exp is stored as +inf, which the backward and the probabilities read as
// "uniform".
//
// These are the straightforward form: one thread block per query row (forward, dq) or key row
// (dk, dv), BLOCK keys or queries per step, scores by per-thread dot products. They keep the
// memory O(B H T) and the results deterministic (no atomics); they are not tuned (no tensor cores,
// no K/V tiles in shared memory), and the attention-maps path recomputes the probabilities.
#include "vdep_cuda.cuh"

using namespace vdep;

namespace {

// Element strides of q/y/dy/dq by batch, head and position, and of k/v/dk/dv.
struct Layout {
    int B, Hkv, rep, T, S, d;
    long qB, qH, qT, kB, kH, kT;

    Layout(int B_, int Hkv_, int rep_, int T_, int S_, int d_, bool tokenMajor) : B(B_), Hkv(Hkv_), rep(rep_), T(T_), S(S_), d(d_) {
        const long H = static_cast<long>(Hkv) * rep;
        if (tokenMajor) {
            qB = T * H * d; qH = d; qT = H * d;
            kB = static_cast<long>(S) * Hkv * d; kH = d; kT = static_cast<long>(Hkv) * d;
        } else {
            qB = H * T * d; qH = static_cast<long>(T) * d; qT = d;
            kB = static_cast<long>(Hkv) * S * d; kH = static_cast<long>(S) * d; kT = d;
        }
    }
    // query row i of head h of batch b, and key row j of KV head kvh
    __device__ long q(int b, int h, int i) const { return b * qB + h * qH + i * qT; }
    __device__ long k(int b, int kvh, int j) const { return b * kB + kvh * kH + j * kT; }
};

__device__ inline float dot(const float* a, const float* b, int d) {
    float s = 0.0f;
    for (int c = 0; c < d; c++) s += a[c] * b[c];
    return s;
}

// Whether query row i (of T) of batch b may see key j.
__device__ inline bool visible(const Layout& L, const float* keyMask, bool causal, int b, int i, int j) {
    return (!causal || j <= L.S - L.T + i) && (keyMask == nullptr || keyMask[static_cast<long>(b) * L.S + j] != 0.0f);
}

// One block per query row (b, h, i), row = (b * H + h) * T + i. Shared: q row [d], accumulator
// [d], BLOCK probabilities.
__global__ void flash_forward_kernel(Layout L, const float* Q, const float* K, const float* V, const float* keyMask, bool causal,
                                     float scale, float* lse, float* Y) {
    extern __shared__ float smem[];
    float* qs = smem;
    float* acc = qs + L.d;
    float* p = acc + L.d;
    const long row = blockIdx.x;
    const int H = L.Hkv * L.rep;
    const int i = static_cast<int>(row % L.T), h = static_cast<int>((row / L.T) % H), b = static_cast<int>(row / (static_cast<long>(L.T) * H));
    const int kvh = h / L.rep;
    const float* q = Q + L.q(b, h, i);
    for (int c = threadIdx.x; c < L.d; c += blockDim.x) {
        qs[c] = q[c];
        acc[c] = 0.0f;
    }
    __syncthreads();
    const int lim = causal ? L.S - L.T + i + 1 : L.S;
    float mx = -INFINITY, sum = 0.0f;
    for (int j0 = 0; j0 < lim; j0 += blockDim.x) {
        const int j = j0 + threadIdx.x;
        float sc = -INFINITY;
        if (j < lim && visible(L, keyMask, causal, b, i, j)) sc = dot(qs, K + L.k(b, kvh, j), L.d) * scale;
        const float m = fmaxf(mx, block_max(sc));
        if (m == -INFINITY) continue;  // nothing visible yet (uniform across the block)
        const float corr = mx == -INFINITY ? 0.0f : expf(mx - m);
        const float e = sc == -INFINITY ? 0.0f : expf(sc - m);
        sum = sum * corr + block_sum(e);
        mx = m;
        p[threadIdx.x] = e;
        __syncthreads();
        const int n = lim - j0 < static_cast<int>(blockDim.x) ? lim - j0 : blockDim.x;
        for (int c = threadIdx.x; c < L.d; c += blockDim.x) {
            float a = acc[c] * corr;
            for (int jj = 0; jj < n; jj++) a += p[jj] * V[L.k(b, kvh, j0 + jj) + c];
            acc[c] = a;
        }
        __syncthreads();
    }
    float* y = Y + L.q(b, h, i);
    if (mx == -INFINITY) {  // no visible key: uniform over all S keys
        for (int c = threadIdx.x; c < L.d; c += blockDim.x) {
            float a = 0.0f;
            for (int j = 0; j < L.S; j++) a += V[L.k(b, kvh, j) + c];
            y[c] = a / L.S;
        }
        if (threadIdx.x == 0) lse[row] = INFINITY;
        return;
    }
    for (int c = threadIdx.x; c < L.d; c += blockDim.x) y[c] = acc[c] / sum;
    if (threadIdx.x == 0) lse[row] = mx + logf(sum);
}

// The probability of key j for query row `row` from its log-sum-exp; ds = P (dP - D) scale.
__device__ inline float probability(const Layout& L, const float* keyMask, bool causal, int b, int i, int j, float score, float rowLse) {
    if (rowLse == INFINITY) return 1.0f / L.S;
    return visible(L, keyMask, causal, b, i, j) ? expf(score - rowLse) : 0.0f;
}

// One block per query row: D = rowsum(dy * y) (written to Drows for the dk/dv kernel) and, when
// dQ is given, dq = sum_j dS_j k_j. Shared: q row, dy row, dq accumulator [d each], BLOCK dS.
__global__ void flash_backward_dq_kernel(Layout L, const float* Q, const float* K, const float* V, const float* keyMask, bool causal,
                                         float scale, const float* Y, const float* lse, const float* dY, float* Drows, float* dQ) {
    extern __shared__ float smem[];
    float* qs = smem;
    float* gs = qs + L.d;
    float* acc = gs + L.d;
    float* ds = acc + L.d;
    const long row = blockIdx.x;
    const int H = L.Hkv * L.rep;
    const int i = static_cast<int>(row % L.T), h = static_cast<int>((row / L.T) % H), b = static_cast<int>(row / (static_cast<long>(L.T) * H));
    const int kvh = h / L.rep;
    const long qo = L.q(b, h, i);
    float part = 0.0f;
    for (int c = threadIdx.x; c < L.d; c += blockDim.x) {
        qs[c] = Q[qo + c];
        gs[c] = dY[qo + c];
        acc[c] = 0.0f;
        part += dY[qo + c] * Y[qo + c];
    }
    const float D = block_sum(part);  // synchronises, so qs and gs are complete
    if (threadIdx.x == 0) Drows[row] = D;
    if (dQ == nullptr) return;
    const float rowLse = lse[row];
    const int lim = causal && rowLse != INFINITY ? L.S - L.T + i + 1 : L.S;
    for (int j0 = 0; j0 < lim; j0 += blockDim.x) {
        const int j = j0 + threadIdx.x;
        float g = 0.0f;
        if (j < lim) {
            const float pr = probability(L, keyMask, causal, b, i, j, dot(qs, K + L.k(b, kvh, j), L.d) * scale, rowLse);
            g = pr * (dot(gs, V + L.k(b, kvh, j), L.d) - D) * scale;
        }
        ds[threadIdx.x] = g;
        __syncthreads();
        const int n = lim - j0 < static_cast<int>(blockDim.x) ? lim - j0 : blockDim.x;
        for (int c = threadIdx.x; c < L.d; c += blockDim.x) {
            float a = acc[c];
            for (int jj = 0; jj < n; jj++) a += ds[jj] * K[L.k(b, kvh, j0 + jj) + c];
            acc[c] = a;
        }
        __syncthreads();
    }
    for (int c = threadIdx.x; c < L.d; c += blockDim.x) dQ[qo + c] = acc[c];
}

// One block per key row (b, kvh, j): dv_j = sum over the group's heads and queries of P dy,
// dk_j = sum of dS q. Shared: k row, v row, two accumulators [d each], BLOCK P and dS.
__global__ void flash_backward_dkv_kernel(Layout L, const float* Q, const float* K, const float* V, const float* keyMask, bool causal,
                                          float scale, const float* lse, const float* dY, const float* Drows, float* dK, float* dV) {
    extern __shared__ float smem[];
    float* ks = smem;
    float* vs = ks + L.d;
    float* ak = vs + L.d;
    float* av = ak + L.d;
    float* ps = av + L.d;
    float* ds = ps + blockDim.x;
    const long row = blockIdx.x;  // (b * Hkv + kvh) * S + j
    const int j = static_cast<int>(row % L.S), kvh = static_cast<int>((row / L.S) % L.Hkv), b = static_cast<int>(row / (static_cast<long>(L.S) * L.Hkv));
    const long ko = L.k(b, kvh, j);
    for (int c = threadIdx.x; c < L.d; c += blockDim.x) {
        ks[c] = K[ko + c];
        vs[c] = V[ko + c];
        ak[c] = 0.0f;
        av[c] = 0.0f;
    }
    __syncthreads();
    const int H = L.Hkv * L.rep;
    for (int r = 0; r < L.rep; r++) {
        const int h = kvh * L.rep + r;
        const long rowBase = (static_cast<long>(b) * H + h) * L.T;
        for (int i0 = 0; i0 < L.T; i0 += blockDim.x) {
            const int i = i0 + threadIdx.x;
            float pr = 0.0f, g = 0.0f;
            if (i < L.T) {
                const long qo = L.q(b, h, i);
                pr = probability(L, keyMask, causal, b, i, j, dot(Q + qo, ks, L.d) * scale, lse[rowBase + i]);
                if (pr != 0.0f) g = pr * (dot(dY + qo, vs, L.d) - Drows[rowBase + i]) * scale;
            }
            ps[threadIdx.x] = pr;
            ds[threadIdx.x] = g;
            __syncthreads();
            const int n = L.T - i0 < static_cast<int>(blockDim.x) ? L.T - i0 : blockDim.x;
            for (int c = threadIdx.x; c < L.d; c += blockDim.x) {
                float a = av[c], e = ak[c];
                for (int ii = 0; ii < n; ii++) {
                    const long qo = L.q(b, h, i0 + ii);
                    a += ps[ii] * dY[qo + c];
                    e += ds[ii] * Q[qo + c];
                }
                av[c] = a;
                ak[c] = e;
            }
            __syncthreads();
        }
    }
    for (int c = threadIdx.x; c < L.d; c += blockDim.x) {
        if (dK != nullptr) dK[ko + c] = ak[c];
        if (dV != nullptr) dV[ko + c] = av[c];
    }
}

// probs [B, H, T, S] from q, k and the forward's log-sum-exp: one thread per entry (grid-stride).
__global__ void attention_probabilities_kernel(Layout L, const float* Q, const float* K, const float* keyMask, bool causal, float scale,
                                               const float* lse, float* P, long n) {
    const int H = L.Hkv * L.rep;
    for (long e = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; e < n; e += static_cast<long>(gridDim.x) * blockDim.x) {
        const long row = e / L.S;
        const int j = static_cast<int>(e % L.S);
        const int i = static_cast<int>(row % L.T), h = static_cast<int>((row / L.T) % H), b = static_cast<int>(row / (static_cast<long>(L.T) * H));
        const float rowLse = lse[row];
        float score = 0.0f;
        if (rowLse != INFINITY && visible(L, keyMask, causal, b, i, j)) score = dot(Q + L.q(b, h, i), K + L.k(b, h / L.rep, j), L.d) * scale;
        P[e] = probability(L, keyMask, causal, b, i, j, score, rowLse);
    }
}

}  // namespace

// y (q's layout) and lse [B, H, T] written. keyMask 0 for none.
KERNEL_FN(void, flashAttentionForward)(JNIEnv* env, jclass, jlong q, jlong k, jlong v, jlong keyMask, jlong lse, jlong y, jint B,
                                       jint Hkv, jint rep, jint T, jint S, jint d, jboolean causal, jdouble scale, jboolean tokenMajor) {
    if (B <= 0 || T <= 0) return;
    const Layout L(B, Hkv, rep, T, S, d, tokenMajor == JNI_TRUE);
    const long rows = static_cast<long>(B) * Hkv * rep * T;
    const size_t shared = sizeof(float) * (2 * static_cast<size_t>(d) + BLOCK);
    flash_forward_kernel<<<static_cast<unsigned int>(rows), BLOCK, shared>>>(L, dptr<const float>(q), dptr<const float>(k),
                                                                             dptr<const float>(v), dptr<const float>(keyMask),
                                                                             causal == JNI_TRUE, static_cast<float>(scale), dptr<float>(lse),
                                                                             dptr<float>(y));
    launch_failed(env, "flash_forward_kernel");
}

// From dy (q's layout), the forward's y and lse: dq (q's layout), dk, dv (k's) overwritten, each 0
// when not wanted. dRows is scratch [B, H, T] (D = rowsum(dy * y)).
KERNEL_FN(void, flashAttentionBackward)(JNIEnv* env, jclass, jlong q, jlong k, jlong v, jlong keyMask, jlong y, jlong lse, jlong dy,
                                        jlong dq, jlong dk, jlong dv, jlong dRows, jint B, jint Hkv, jint rep, jint T, jint S, jint d,
                                        jboolean causal, jdouble scale, jboolean tokenMajor) {
    if (B <= 0 || T <= 0) return;
    const Layout L(B, Hkv, rep, T, S, d, tokenMajor == JNI_TRUE);
    const long rows = static_cast<long>(B) * Hkv * rep * T;
    const bool c = causal == JNI_TRUE;
    const float sc = static_cast<float>(scale);
    flash_backward_dq_kernel<<<static_cast<unsigned int>(rows), BLOCK, sizeof(float) * (3 * static_cast<size_t>(d) + BLOCK)>>>(
        L, dptr<const float>(q), dptr<const float>(k), dptr<const float>(v), dptr<const float>(keyMask), c, sc, dptr<const float>(y),
        dptr<const float>(lse), dptr<const float>(dy), dptr<float>(dRows), dptr<float>(dq));
    if (launch_failed(env, "flash_backward_dq_kernel")) return;
    if (dk == 0 && dv == 0) return;
    const long keyRows = static_cast<long>(B) * Hkv * S;
    flash_backward_dkv_kernel<<<static_cast<unsigned int>(keyRows), BLOCK, sizeof(float) * (4 * static_cast<size_t>(d) + 2 * BLOCK)>>>(
        L, dptr<const float>(q), dptr<const float>(k), dptr<const float>(v), dptr<const float>(keyMask), c, sc, dptr<const float>(lse),
        dptr<const float>(dy), dptr<const float>(dRows), dptr<float>(dk), dptr<float>(dv));
    launch_failed(env, "flash_backward_dkv_kernel");
}

// probs [B, H, T, S] recomputed from q, k and the forward's lse (the attention-maps path).
KERNEL_FN(void, attentionProbabilities)(JNIEnv* env, jclass, jlong q, jlong k, jlong keyMask, jlong lse, jlong probs, jint B, jint Hkv,
                                        jint rep, jint T, jint S, jint d, jboolean causal, jdouble scale, jboolean tokenMajor) {
    if (B <= 0 || T <= 0) return;
    const Layout L(B, Hkv, rep, T, S, d, tokenMajor == JNI_TRUE);
    const long n = static_cast<long>(B) * Hkv * rep * T * S;
    attention_probabilities_kernel<<<blocks_for(n), BLOCK>>>(L, dptr<const float>(q), dptr<const float>(k), dptr<const float>(keyMask),
                                                       causal == JNI_TRUE, static_cast<float>(scale), dptr<const float>(lse),
                                                       dptr<float>(probs), n);
    launch_failed(env, "attention_probabilities_kernel");
}
