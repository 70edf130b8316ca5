// Attention with materialised scores: batched cuBLAS products for Q K^T, P V and the backward
// products, and softmax kernels in between. Grouped-query attention reads each KV head for its
// `rep` query heads in place (no copies of K or V). Layouts as the CPU kernel (AttnShape in
// vdep_kernels.cpp): heads-major q [B, H, T, d], k, v [B, Hkv, S, d], or token-major q [B, T, H, d],
// k, v [B, S, Hkv, d]; probabilities [B, H, T, S] = [B, Hkv, rep * T, S]. With S > T the queries
// are the last T positions (KV cache). The key mask is float [B, S], 0 at padding keys.
#include "vdep_cuda.cuh"

using namespace vdep;

namespace {

// Softmax of scale * scores over the keys a query may see, in place; the rest become 0. A row
// with no visible key becomes uniform over all S keys (what an additive finite mask gives, as in
// the CPU paths). One block per row of P [B * H * T, S].
__global__ void attention_softmax_kernel(float* P, const float* keyMask, int H, int T, int S, bool causal, float scale) {
    const long row = blockIdx.x;
    const int b = static_cast<int>(row / (static_cast<long>(H) * T));
    const int t = static_cast<int>(row % T);
    const int lim = causal ? S - T + t + 1 : S;
    const float* km = keyMask == nullptr ? nullptr : keyMask + static_cast<long>(b) * S;
    float* p = P + row * S;
    float mx = -INFINITY;
    for (int j = threadIdx.x; j < lim; j += blockDim.x) {
        if (km == nullptr || km[j] != 0.0f) mx = fmaxf(mx, p[j] * scale);
    }
    mx = block_max(mx);
    if (mx == -INFINITY) {
        const float u = 1.0f / S;
        for (int j = threadIdx.x; j < S; j += blockDim.x) p[j] = u;
        return;
    }
    float s = 0.0f;
    for (int j = threadIdx.x; j < S; j += blockDim.x) {
        float e = 0.0f;
        if (j < lim && (km == nullptr || km[j] != 0.0f)) e = expf(p[j] * scale - mx);
        p[j] = e;
        s += e;
    }
    const float inv = 1.0f / block_sum(s);
    for (int j = threadIdx.x; j < S; j += blockDim.x) p[j] *= inv;
}

// dS = P (dP - sum_j dP P) scale, in place over dP; one block per row.
__global__ void attention_softmax_backward_kernel(const float* P, float* dP, int S, float scale) {
    const long base = blockIdx.x * static_cast<long>(S);
    float dot = 0.0f;
    for (int j = threadIdx.x; j < S; j += blockDim.x) dot += dP[base + j] * P[base + j];
    dot = block_sum(dot);
    for (int j = threadIdx.x; j < S; j += blockDim.x) dP[base + j] = P[base + j] * (dP[base + j] - dot) * scale;
}

// Where the operands of query head r of KV group kvh of batch b start, and how far apart
// consecutive groups are. Heads-major arrays fold the batch into the groups (uniform strides
// over b * Hkv + kvh); token-major ones take one batched call per batch element.
struct Layout {
    int B, Hkv, rep, T, S, d;
    bool tokenMajor;
    long qB, qH, qT, kB, kH, kT;  // element strides by batch, head, position

    Layout(int B_, int Hkv_, int rep_, int T_, int S_, int d_, bool tokenMajor_)
        : B(B_), Hkv(Hkv_), rep(rep_), T(T_), S(S_), d(d_), tokenMajor(tokenMajor_) {
        const long H = static_cast<long>(Hkv) * rep;
        if (tokenMajor) {
            qB = T * H * d; qH = d; qT = H * d;
            kB = static_cast<long>(S) * Hkv * d; kH = d; kT = static_cast<long>(Hkv) * d;
        } else {
            qB = H * T * d; qH = static_cast<long>(T) * d; qT = d;
            kB = static_cast<long>(Hkv) * S * d; kH = static_cast<long>(S) * d; kT = d;
        }
    }
    int outer() const { return tokenMajor ? B : 1; }          // batched calls per head index r
    int batch() const { return tokenMajor ? Hkv : B * Hkv; }  // groups per call
    long q(int o, int r) const { return o * qB + r * qH; }    // first q row of head kvh * rep + r, kvh = 0
    long k(int o) const { return o * kB; }
    long p(int o, int r) const { return (static_cast<long>(o) * Hkv * rep + r) * T * S; }
    long qStride() const { return rep * qH; }  // between consecutive groups
    long kStride() const { return kH; }
    long pStride() const { return static_cast<long>(rep) * T * S; }
};

}  // namespace

// probs [B, H, T, S] and y (q's layout) written. keyMask 0 for none.
KERNEL_FN(void, attentionForward)(JNIEnv* env, jclass, jlong q, jlong k, jlong v, jlong keyMask, jlong probs, jlong y, jint B,
                                  jint Hkv, jint rep, jint T, jint S, jint d, jboolean causal, jdouble scale, jboolean tokenMajor) {
    if (B <= 0 || T <= 0) return;
    const Layout L(B, Hkv, rep, T, S, d, tokenMajor == JNI_TRUE);
    const float* Q = dptr<const float>(q);
    const float* K = dptr<const float>(k);
    const float* V = dptr<const float>(v);
    float* P = dptr<float>(probs);
    float* Y = dptr<float>(y);
    // scores P_h [T, S] = Q_h [T, d] K^T
    for (int o = 0; o < L.outer(); o++) {
        for (int r = 0; r < rep; r++) {
            if (!gemm_batched(env, false, true, T, S, d, 1.0f, Q + L.q(o, r), static_cast<int>(L.qT), L.qStride(), K + L.k(o),
                              static_cast<int>(L.kT), L.kStride(), 0.0f, P + L.p(o, r), S, L.pStride(), L.batch(), "attention scores"))
                return;
        }
    }
    const long rows = static_cast<long>(B) * Hkv * rep * T;
    attention_softmax_kernel<<<static_cast<unsigned int>(rows), BLOCK>>>(P, dptr<const float>(keyMask), Hkv * rep, T, S,
                                                                         causal == JNI_TRUE, static_cast<float>(scale));
    if (launch_failed(env, "attention_softmax_kernel")) return;
    // y_h [T, d] = P_h [T, S] V [S, d]
    for (int o = 0; o < L.outer(); o++) {
        for (int r = 0; r < rep; r++) {
            if (!gemm_batched(env, false, false, T, d, S, 1.0f, P + L.p(o, r), S, L.pStride(), V + L.k(o), static_cast<int>(L.kT),
                              L.kStride(), 0.0f, Y + L.q(o, r), static_cast<int>(L.qT), L.qStride(), L.batch(), "attention output"))
                return;
        }
    }
}

// From dy (q's layout): dq (q's layout), dk, dv (k's) overwritten, each 0 when not wanted.
// dS is scratch of the probabilities' size [B, H, T, S].
KERNEL_FN(void, attentionBackward)(JNIEnv* env, jclass, jlong q, jlong k, jlong v, jlong probs, jlong dy, jlong dq, jlong dk, jlong dv,
                                   jlong dS, jint B, jint Hkv, jint rep, jint T, jint S, jint d, jdouble scale, jboolean tokenMajor) {
    if (B <= 0 || T <= 0) return;
    const Layout L(B, Hkv, rep, T, S, d, tokenMajor == JNI_TRUE);
    const float* Q = dptr<const float>(q);
    const float* K = dptr<const float>(k);
    const float* V = dptr<const float>(v);
    const float* P = dptr<const float>(probs);
    const float* G = dptr<const float>(dy);
    float* DS = dptr<float>(dS);
    const int ldq = static_cast<int>(L.qT), ldk = static_cast<int>(L.kT);
    for (int o = 0; o < L.outer(); o++) {
        // dv [S, d] = sum over the group's heads of P_h^T dy_h
        if (dv != 0) {
            for (int r = 0; r < rep; r++) {
                if (!gemm_batched(env, true, false, S, d, T, 1.0f, P + L.p(o, r), S, L.pStride(), G + L.q(o, r), ldq, L.qStride(),
                                  r == 0 ? 0.0f : 1.0f, dptr<float>(dv) + L.k(o), ldk, L.kStride(), L.batch(), "attention dv"))
                    return;
            }
        }
        if (dq == 0 && dk == 0) continue;
        // dP_h [T, S] = dy_h V^T
        for (int r = 0; r < rep; r++) {
            if (!gemm_batched(env, false, true, T, S, d, 1.0f, G + L.q(o, r), ldq, L.qStride(), V + L.k(o), ldk, L.kStride(), 0.0f,
                              DS + L.p(o, r), S, L.pStride(), L.batch(), "attention dP"))
                return;
        }
    }
    if (dq == 0 && dk == 0) return;
    const long rows = static_cast<long>(B) * Hkv * rep * T;
    attention_softmax_backward_kernel<<<static_cast<unsigned int>(rows), BLOCK>>>(P, DS, S, static_cast<float>(scale));
    if (launch_failed(env, "attention_softmax_backward_kernel")) return;
    for (int o = 0; o < L.outer(); o++) {
        for (int r = 0; r < rep; r++) {
            // dq_h [T, d] = dS_h [T, S] K
            if (dq != 0 && !gemm_batched(env, false, false, T, d, S, 1.0f, DS + L.p(o, r), S, L.pStride(), K + L.k(o), ldk,
                                         L.kStride(), 0.0f, dptr<float>(dq) + L.q(o, r), ldq, L.qStride(), L.batch(), "attention dq"))
                return;
            // dk [S, d] = sum over the group's heads of dS_h^T q_h
            if (dk != 0 && !gemm_batched(env, true, false, S, d, T, 1.0f, DS + L.p(o, r), S, L.pStride(), Q + L.q(o, r), ldq,
                                         L.qStride(), r == 0 ? 0.0f : 1.0f, dptr<float>(dk) + L.k(o), ldk, L.kStride(), L.batch(),
                                         "attention dk"))
                return;
        }
    }
}
