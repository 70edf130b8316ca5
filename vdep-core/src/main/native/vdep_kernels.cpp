// Native CPU kernels for the primitives whose ND4J versions are slow at LLaVA sizes: attention
// (scores, mask, softmax, weighted sum and their backward as one call per KV-head group), the
// cross-entropy's log-sum-exp and gradient, SwiGLU, quick-GELU, rotary embedding, RMSNorm and
// LayerNorm. Each is one pass over memory, vectorised (AVX2 + FMA). Also AdamW's fused update and
// the bias rows of a linear layer. The results depend only on this
// binary and the inputs, never on thread count or timing: work is split by whole rows or groups
// and every reduction runs in a fixed order.
//
// Called from io.github.vdep.core.ops.NativeKernels with raw addresses of row-major ND4J
// buffers; the Java side checks shapes, types and contiguity before calling.

#include <jni.h>

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <vector>

// glibc 2.29 gave exp and log new symbol versions (exp@GLIBC_2.29, log@GLIBC_2.29); binding the
// original ones keeps the library loadable on glibc 2.17 and newer (CentOS 7, RHEL 8). On a newer
// glibc the old versions are wrappers of the same functions that also set errno. The CI checks the versions the library needs (scripts/check-glibc-symbols.sh).
#if defined(__GLIBC__) && defined(__x86_64__)
__asm__(".symver exp,exp@GLIBC_2.2.5");
__asm__(".symver log,log@GLIBC_2.2.5");
#endif

namespace {

// ---------------------------------------------------------------- float vectors

// Eight floats in one AVX register (GCC vector extensions). Unaligned loads and stores go
// through memcpy, which compiles to vmovups.
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

inline v8f load8(const float* p) { v8f v; std::memcpy(&v, p, sizeof v); return v; }
inline void store8(float* p, v8f v) { std::memcpy(p, &v, sizeof v); }
inline v8f splat(float a) { return v8f{a, a, a, a, a, a, a, a}; }

// Loads the n < 8 leading elements of p into lanes, the rest filled with `fill`.
inline v8f load_part(const float* p, int n, float fill) {
    float t[8];
    for (int i = 0; i < 8; i++) t[i] = i < n ? p[i] : fill;
    return load8(t);
}
inline void store_part(float* p, int n, v8f v) {
    float t[8];
    store8(t, v);
    for (int i = 0; i < n; i++) p[i] = t[i];
}

// Lanes summed in a fixed order.
inline float hsum(v8f v) {
    return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}
inline float hmax(v8f v) {
    float m = v[0];
    for (int i = 1; i < 8; i++) m = v[i] > m ? v[i] : m;
    return m;
}
inline v8f vmax(v8f a, v8f b) { return a > b ? a : b; }

// exp(x): Cody-Waite reduction and Cephes' degree-6 polynomial (about 1 ulp). Below -87.33
// (including -inf) it returns 0; above 88.37 it saturates at about 2.5e38.
inline v8f exp8(v8f x) {
    const v8f lo = splat(-87.3365447504f);
    const v8f hi = splat(88.37f);  // keeps 2^n a normal float
    v8f xc = x < lo ? lo : x;
    xc = xc > hi ? hi : xc;
    v8f fx = __builtin_ia32_roundps256(xc * splat(1.44269504088896341f) + splat(0.5f), 0x09);  // floor
    v8f r = xc - fx * splat(0.693359375f);
    r = r - fx * splat(-2.12194440e-4f);
    v8f z = r * r;
    v8f y = splat(1.9875691500e-4f);
    y = y * r + splat(1.3981999507e-3f);
    y = y * r + splat(8.3334519073e-3f);
    y = y * r + splat(4.1665795894e-2f);
    y = y * r + splat(1.6666665459e-1f);
    y = y * r + splat(5.0000001201e-1f);
    y = y * z + r + splat(1.0f);
    v8i bits = (__builtin_convertvector(fx, v8i) + 127) << 23;
    v8f res = y * __builtin_bit_cast(v8f, bits);
    return x < lo ? splat(0.0f) : res;
}
inline v8f sigmoid8(v8f x) { return splat(1.0f) / (splat(1.0f) + exp8(-x)); }

// Row reductions in a fixed lane order (the same result whatever thread runs them).
inline float max_of(const float* p, int n) {
    v8f m = splat(-INFINITY);
    int j = 0;
    for (; j + 8 <= n; j += 8) m = vmax(m, load8(p + j));
    if (j < n) m = vmax(m, load_part(p + j, n - j, -INFINITY));
    return hmax(m);
}
inline double max_of(const double* p, int n) {
    double m = -INFINITY;
    for (int j = 0; j < n; j++) m = p[j] > m ? p[j] : m;
    return m;
}
inline float dot_of(const float* a, const float* b, int n) {
    v8f s = splat(0.0f);
    int j = 0;
    for (; j + 8 <= n; j += 8) s += load8(a + j) * load8(b + j);
    if (j < n) s += load_part(a + j, n - j, 0.0f) * load_part(b + j, n - j, 0.0f);
    return hsum(s);
}
inline double dot_of(const double* a, const double* b, int n) {
    double s = 0;
    for (int j = 0; j < n; j++) s += a[j] * b[j];
    return s;
}
// p[j] = exp(p[j] - shift), returning their sum.
inline float exp_shift_sum(float* p, int n, float shift) {
    v8f s = splat(0.0f), sh = splat(shift);
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        v8f e = exp8(load8(p + j) - sh);
        store8(p + j, e);
        s += e;
    }
    if (j < n) {
        v8f e = exp8(load_part(p + j, n - j, -INFINITY) - sh);  // padding lanes give exp(-inf) = 0
        store_part(p + j, n - j, e);
        s += e;
    }
    return hsum(s);
}
// Double precision serves the finite-difference gradient checks: plain loops and libm's exp.
inline double exp_shift_sum(double* p, int n, double shift) {
    double s = 0;
    for (int j = 0; j < n; j++) {
        p[j] = std::exp(p[j] - shift);
        s += p[j];
    }
    return s;
}

// Applies f (v8f -> v8f, lane-wise) to 8-element blocks [n0, n1) of an elementwise kernel; the
// last partial block is padded, so every element goes through the same vector code.
template <typename Body>
inline void blocks8(long n0, long n1, Body body) {
    for (long i = n0; i < n1; i += 8) body(i, n1 - i < 8 ? static_cast<int>(n1 - i) : 8);
}
inline v8f ld(const float* p, long i, int n) { return n == 8 ? load8(p + i) : load_part(p + i, n, 0.0f); }
inline void st(float* p, long i, int n, v8f v) {
    if (n == 8) store8(p + i, v); else store_part(p + i, n, v);
}

inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// ---------------------------------------------------------------- small gemm

// C[M x N] = A[M x K] B[K x N], row-major with leading dimensions. Float: 4 x 16 register tiles
// of FMAs; double (gradient checks only): plain loops.
constexpr int MR = 4;
constexpr int NR = 16;

// transA: A is stored [K x M] (row k holds A[:, k]), so the tile's 4 values of column k are adjacent.
template <bool transA, typename T>
inline T a_at(const T* A, int lda, int r, int k) {
    return transA ? A[static_cast<size_t>(k) * lda + r] : A[static_cast<size_t>(r) * lda + k];
}

template <bool transA>
inline void tile(int mr, int nr, int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc, bool acc) {
    v8f c[MR][2];
    for (int r = 0; r < MR; r++) c[r][0] = c[r][1] = splat(0.0f);
    if (acc) {
        for (int r = 0; r < mr; r++) {
            const float* in = C + static_cast<size_t>(r) * ldc;
            c[r][0] = nr >= 8 ? load8(in) : load_part(in, nr, 0.0f);
            c[r][1] = nr == NR ? load8(in + 8) : (nr > 8 ? load_part(in + 8, nr - 8, 0.0f) : splat(0.0f));
        }
    }
    if (nr == NR) {
        for (int k = 0; k < K; k++) {
            const float* b = B + static_cast<size_t>(k) * ldb;
            v8f b0 = load8(b), b1 = load8(b + 8);
            for (int r = 0; r < MR; r++) {
                v8f a = splat(a_at<transA>(A, lda, r < mr ? r : 0, k));
                c[r][0] += a * b0;
                c[r][1] += a * b1;
            }
        }
    } else {
        for (int k = 0; k < K; k++) {
            const float* b = B + static_cast<size_t>(k) * ldb;
            v8f b0 = load_part(b, nr < 8 ? nr : 8, 0.0f);
            v8f b1 = nr > 8 ? load_part(b + 8, nr - 8, 0.0f) : splat(0.0f);
            for (int r = 0; r < MR; r++) {
                v8f a = splat(a_at<transA>(A, lda, r < mr ? r : 0, k));
                c[r][0] += a * b0;
                c[r][1] += a * b1;
            }
        }
    }
    for (int r = 0; r < mr; r++) {
        float* out = C + static_cast<size_t>(r) * ldc;
        if (nr == NR) {
            store8(out, c[r][0]);
            store8(out + 8, c[r][1]);
        } else {
            store_part(out, nr < 8 ? nr : 8, c[r][0]);
            if (nr > 8) store_part(out + 8, nr - 8, c[r][1]);
        }
    }
}

template <bool transA>
inline void gemm_impl(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc, bool acc) {
    for (int i = 0; i < M; i += MR) {
        int mr = M - i < MR ? M - i : MR;
        const float* a = transA ? A + i : A + static_cast<size_t>(i) * lda;
        for (int j = 0; j < N; j += NR) {
            int nr = N - j < NR ? N - j : NR;
            tile<transA>(mr, nr, K, a, lda, B + j, ldb, C + static_cast<size_t>(i) * ldc + j, ldc, acc);
        }
    }
}


// Double precision (the gradient checks): plain loops.
template <bool transA>
inline void gemm_impl(int M, int N, int K, const double* A, int lda, const double* B, int ldb, double* C, int ldc, bool acc) {
    for (int i = 0; i < M; i++) {
        double* c = C + static_cast<size_t>(i) * ldc;
        if (!acc)
            for (int j = 0; j < N; j++) c[j] = 0;
        for (int k = 0; k < K; k++) {
            double a = a_at<transA>(A, lda, i, k);
            const double* b = B + static_cast<size_t>(k) * ldb;
            for (int j = 0; j < N; j++) c[j] += a * b[j];
        }
    }
}

// Causal attention skips the products that the mask makes zero. Query row i (of T) sees keys
// j < off + i + 1 (off = S - T), so with C's rows in blocks of MR queries (or keys):
//   Cols:  C = Q K^T or dY V^T: only the columns the block's last row sees are computed (the
//          callers never read the rest of a row past its own limit);
//   KUpTo: C = P V or dS K: the sum stops at that column (P and dS are 0 beyond it);
//   KFrom: C = P^T dY or dS^T Q (C's rows are keys): the sum starts at the first query that
//          sees the block's first key (earlier queries have P = dS = 0 there).
// Skipped terms are exact zeros, so the results equal the full products. C (+)= A B, A [M x K]
// (transA: stored [K x M], no transposed copy); acc adds to C instead of overwriting it.
enum class Band { None, Cols, KUpTo, KFrom };

template <bool transA, typename T>
inline void gemm_band(Band band, int off, int M, int N, int K, const T* A, int lda, const T* B, int ldb, T* C, int ldc, bool acc) {
    if (band == Band::None) {
        gemm_impl<transA>(M, N, K, A, lda, B, ldb, C, ldc, acc);
        return;
    }
    for (int i = 0; i < M; i += MR) {
        const int mr = M - i < MR ? M - i : MR;
        const int lim = off + i + mr;  // keys seen by the block's last query
        int n = N, k0 = 0, k1 = K;
        if (band == Band::Cols) n = lim < N ? lim : N;
        if (band == Band::KUpTo) k1 = lim < K ? lim : K;
        if (band == Band::KFrom) k0 = i - off < 0 ? 0 : (i - off > K ? K : i - off);
        const T* a = transA ? A + static_cast<size_t>(k0) * lda + i : A + static_cast<size_t>(i) * lda + k0;
        gemm_impl<transA>(mr, n, k1 - k0, a, lda, B + static_cast<size_t>(k0) * ldb, ldb, C + static_cast<size_t>(i) * ldc, ldc, acc);
    }
}

// out[N x M] = in[M x N]^T, in's rows ld apart
template <typename T>
void transpose(int M, int N, const T* in, int ld, T* out) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) out[static_cast<size_t>(j) * M + i] = in[static_cast<size_t>(i) * ld + j];
}

// ---------------------------------------------------------------- attention

struct AttnShape {
    int B, Hkv, rep, T, S, d;
    bool causal;
    bool band;             // causal and every query sees a key: skip the masked products (Band)
    const float* keyMask;  // [B, S], 0 at padding keys, or null
    double scale;
    // Row strides (elements) of q/y/dq by batch, head and position, and of k/v/dk/dv: heads-major
    // arrays [B, H, T, d] or token-major ones [B, T, H, d] (the projections' own layout).
    long qB, qH, qT, kB, kH, kT;
    int M() const { return rep * T; }

    void layout(bool tokenMajor) {
        const long H = static_cast<long>(Hkv) * rep;
        if (tokenMajor) {
            qB = T * H * d; qH = d; qT = H * d;
            kB = static_cast<long>(S) * Hkv * d; kH = d; kT = static_cast<long>(Hkv) * d;
        } else {
            qB = H * T * d; qH = static_cast<long>(T) * d; qT = d;
            kB = static_cast<long>(Hkv) * S * d; kH = static_cast<long>(S) * d; kT = d;
        }
    }
    size_t qOff(int b, int h) const { return static_cast<size_t>(b) * qB + static_cast<size_t>(h) * qH; }
    size_t kOff(int b, int kvh) const { return static_cast<size_t>(b) * kB + static_cast<size_t>(kvh) * kH; }
};

// Softmax of scale * scores over the keys a query may see, in place; the rest become 0. A row
// with no visible key becomes uniform (what an additive finite mask gives, as in Hugging Face's
// LLaMA). Query row i of a group is position S - T + i % T.
template <typename T>
void masked_softmax_rows(const AttnShape& s, int b, T* P) {
    const int M = s.M(), S = s.S;
    const T scale = static_cast<T>(s.scale);
    const float* km = s.keyMask == nullptr ? nullptr : s.keyMask + static_cast<size_t>(b) * S;
    for (int i = 0; i < M; i++) {
        T* p = P + static_cast<size_t>(i) * S;
        int lim = s.causal ? S - s.T + i % s.T + 1 : S;
        if (km == nullptr) {
            for (int j = 0; j < lim; j++) p[j] *= scale;
        } else {
            for (int j = 0; j < lim; j++) p[j] = km[j] != 0.0f ? p[j] * scale : static_cast<T>(-INFINITY);
        }
        T mx = max_of(p, lim);
        if (mx == static_cast<T>(-INFINITY)) {
            T u = T(1) / T(S);
            for (int j = 0; j < S; j++) p[j] = u;
            continue;
        }
        T inv = T(1) / exp_shift_sum(p, lim, mx);
        for (int j = 0; j < lim; j++) p[j] *= inv;
        for (int j = lim; j < S; j++) p[j] = 0;
    }
}

// Groups [g0, g1) of B * Hkv (batch b, KV head kvh; its query heads kvh * rep + r): writes
// probs [B, Hkv, rep * T, S] (contiguous, row r * T + t) and y (q's layout).
template <typename T>
void attention_forward(const AttnShape& s, const T* q, const T* k, const T* v, T* probs, T* y, int g0, int g1) {
    const int M = s.M(), S = s.S, d = s.d, Tq = s.T, off = S - Tq;
    std::vector<T> kt(static_cast<size_t>(d) * S);
    for (int g = g0; g < g1; g++) {
        const int b = g / s.Hkv, kvh = g % s.Hkv;
        const T* K = k + s.kOff(b, kvh);
        const T* V = v + s.kOff(b, kvh);
        T* P = probs + static_cast<size_t>(g) * M * S;
        transpose(S, d, K, static_cast<int>(s.kT), kt.data());
        for (int r = 0; r < s.rep; r++) {
            const size_t qo = s.qOff(b, kvh * s.rep + r);
            gemm_band<false>(s.band ? Band::Cols : Band::None, off, Tq, S, d, q + qo, static_cast<int>(s.qT), kt.data(), S,
                             P + static_cast<size_t>(r) * Tq * S, S, false);
        }
        masked_softmax_rows(s, b, P);
        for (int r = 0; r < s.rep; r++) {
            const size_t qo = s.qOff(b, kvh * s.rep + r);
            gemm_band<false>(s.band ? Band::KUpTo : Band::None, off, Tq, d, S, P + static_cast<size_t>(r) * Tq * S, S, V,
                             static_cast<int>(s.kT), y + qo, static_cast<int>(s.qT), false);
        }
    }
}

// Backward of the groups [g0, g1) from dy (q's layout); dq (q's layout), dk and dv (k's) are
// written, each may be null when not needed.
template <typename T>
void attention_backward(const AttnShape& s, const T* q, const T* k, const T* v, const T* probs, const T* dy,
                        T* dq, T* dk, T* dv, int g0, int g1) {
    const int M = s.M(), S = s.S, d = s.d, Tq = s.T, off = S - Tq;
    const int ldq = static_cast<int>(s.qT), ldk = static_cast<int>(s.kT);
    const Band cols = s.band ? Band::Cols : Band::None, kUpTo = s.band ? Band::KUpTo : Band::None,
               kFrom = s.band ? Band::KFrom : Band::None;
    const T scale = static_cast<T>(s.scale);
    std::vector<T> vt(static_cast<size_t>(d) * S);
    std::vector<T> ds(static_cast<size_t>(M) * S);
    for (int g = g0; g < g1; g++) {
        const int b = g / s.Hkv, kvh = g % s.Hkv;
        const size_t ko = s.kOff(b, kvh);
        const T* K = k + ko;
        const T* V = v + ko;
        const T* P = probs + static_cast<size_t>(g) * M * S;
        if (dv != nullptr) {
            for (int r = 0; r < s.rep; r++) {
                const T* G = dy + s.qOff(b, kvh * s.rep + r);
                gemm_band<true>(kFrom, off, S, d, Tq, P + static_cast<size_t>(r) * Tq * S, S, G, ldq, dv + ko, ldk, r > 0);
            }
        }
        if (dq == nullptr && dk == nullptr) continue;
        transpose(S, d, V, ldk, vt.data());
        for (int r = 0; r < s.rep; r++) {
            const T* G = dy + s.qOff(b, kvh * s.rep + r);
            gemm_band<false>(cols, off, Tq, S, d, G, ldq, vt.data(), S, ds.data() + static_cast<size_t>(r) * Tq * S, S, false);
        }
        // dS = P * (dP - sum_j dP P) * scale; with the band, 0 past the row's keys (dP there was not computed)
        for (int i = 0; i < M; i++) {
            T* row = ds.data() + static_cast<size_t>(i) * S;
            const T* p = P + static_cast<size_t>(i) * S;
            const int lim = s.band ? off + i % Tq + 1 : S;
            T dot = dot_of(row, p, lim);
            for (int j = 0; j < lim; j++) row[j] = p[j] * (row[j] - dot) * scale;
            for (int j = lim; j < S; j++) row[j] = 0;
        }
        for (int r = 0; r < s.rep; r++) {
            const size_t qo = s.qOff(b, kvh * s.rep + r);
            const T* dsr = ds.data() + static_cast<size_t>(r) * Tq * S;
            if (dq != nullptr) gemm_band<false>(kUpTo, off, Tq, d, S, dsr, S, K, ldk, dq + qo, ldq, false);
            if (dk != nullptr) gemm_band<true>(kFrom, off, S, d, Tq, dsr, S, q + qo, ldq, dk + ko, ldk, r > 0);
        }
    }
}

// ---------------------------------------------------------------- flash attention (training)

// FlashAttention-2 on the CPU: the [T, S] probabilities never exist. The forward streams over
// blocks of FA_BC keys with an online softmax per block of FA_BR query rows and keeps only the
// output and each row's log-sum-exp; the backward recomputes each block's probabilities from q, k
// and that log-sum-exp, with D = rowsum(dy * y) computed first. Scratch is O(FA_BR * FA_BC + S * d)
// per task. A row with no visible key is uniform over all S keys, as in masked_softmax_rows; its
// log-sum-exp is stored as +inf, which the backward reads as "uniform".
constexpr int FA_BR = 64;
constexpr int FA_BC = 64;

inline float exp1(float x) { return exp8(splat(x))[0]; }
inline double exp1(double x) { return std::exp(x); }

// Scales the scores row[0, n) of query row i (of T; key block from j0) and sets those it may not
// see to -inf.
template <typename T>
inline void mask_scores(const AttnShape& s, const float* km, int i, int j0, T* row, int n) {
    const T scale = static_cast<T>(s.scale);
    int lim = s.causal ? s.S - s.T + i + 1 - j0 : n;
    lim = lim < 0 ? 0 : (lim > n ? n : lim);
    for (int j = 0; j < lim; j++) row[j] = (km == nullptr || km[j0 + j] != 0.0f) ? row[j] * scale : static_cast<T>(-INFINITY);
    for (int j = lim; j < n; j++) row[j] = static_cast<T>(-INFINITY);
}

// Groups [g0, g1) of B * Hkv: y (q's layout) and lse [B, Hkv, rep, T] (= [B, H, T]) written.
template <typename T>
void flash_attention_forward(const AttnShape& s, const T* q, const T* k, const T* v, T* lse, T* y, int g0, int g1) {
    const int S = s.S, d = s.d, Tq = s.T, off = S - Tq;
    const int ldq = static_cast<int>(s.qT), ldk = static_cast<int>(s.kT);
    std::vector<T> kt(static_cast<size_t>(d) * S), sc(static_cast<size_t>(FA_BR) * FA_BC), acc(static_cast<size_t>(FA_BR) * d);
    T mx[FA_BR], sum[FA_BR];
    for (int g = g0; g < g1; g++) {
        const int b = g / s.Hkv, kvh = g % s.Hkv;
        const T* K = k + s.kOff(b, kvh);
        const T* V = v + s.kOff(b, kvh);
        const float* km = s.keyMask == nullptr ? nullptr : s.keyMask + static_cast<size_t>(b) * S;
        transpose(S, d, K, ldk, kt.data());
        for (int r = 0; r < s.rep; r++) {
            const T* Q = q + s.qOff(b, kvh * s.rep + r);
            T* Y = y + s.qOff(b, kvh * s.rep + r);
            T* L = lse + (static_cast<size_t>(g) * s.rep + r) * Tq;
            for (int i0 = 0; i0 < Tq; i0 += FA_BR) {
                const int br = Tq - i0 < FA_BR ? Tq - i0 : FA_BR;
                for (int ii = 0; ii < br; ii++) { mx[ii] = static_cast<T>(-INFINITY); sum[ii] = 0; }
                std::fill(acc.begin(), acc.end(), T(0));
                const int kEnd = s.causal ? (off + i0 + br < S ? off + i0 + br : S) : S;
                for (int j0 = 0; j0 < kEnd; j0 += FA_BC) {
                    const int bc = kEnd - j0 < FA_BC ? kEnd - j0 : FA_BC;
                    gemm_impl<false>(br, bc, d, Q + static_cast<size_t>(i0) * ldq, ldq, kt.data() + j0, S, sc.data(), FA_BC, false);
                    for (int ii = 0; ii < br; ii++) {
                        T* row = sc.data() + static_cast<size_t>(ii) * FA_BC;
                        mask_scores(s, km, i0 + ii, j0, row, bc);
                        const T bm = max_of(row, bc);
                        const T m = bm > mx[ii] ? bm : mx[ii];
                        if (m == static_cast<T>(-INFINITY)) {  // nothing visible yet: contributes nothing
                            for (int j = 0; j < bc; j++) row[j] = 0;
                            continue;
                        }
                        const T corr = mx[ii] == static_cast<T>(-INFINITY) ? T(0) : exp1(mx[ii] - m);
                        sum[ii] = sum[ii] * corr + exp_shift_sum(row, bc, m);
                        mx[ii] = m;
                        if (corr != T(1)) {
                            T* a = acc.data() + static_cast<size_t>(ii) * d;
                            for (int c = 0; c < d; c++) a[c] *= corr;
                        }
                    }
                    gemm_impl<false>(br, d, bc, sc.data(), FA_BC, V + static_cast<size_t>(j0) * ldk, ldk, acc.data(), d, true);
                }
                for (int ii = 0; ii < br; ii++) {
                    T* out = Y + static_cast<size_t>(i0 + ii) * ldq;
                    if (mx[ii] == static_cast<T>(-INFINITY)) {  // no visible key: uniform over all S keys
                        for (int c = 0; c < d; c++) out[c] = 0;
                        for (int j = 0; j < S; j++)
                            for (int c = 0; c < d; c++) out[c] += V[static_cast<size_t>(j) * ldk + c];
                        const T u = T(1) / T(S);
                        for (int c = 0; c < d; c++) out[c] *= u;
                        L[i0 + ii] = static_cast<T>(INFINITY);
                        continue;
                    }
                    const T inv = T(1) / sum[ii];
                    const T* a = acc.data() + static_cast<size_t>(ii) * d;
                    for (int c = 0; c < d; c++) out[c] = a[c] * inv;
                    L[i0 + ii] = mx[ii] + static_cast<T>(std::log(static_cast<double>(sum[ii])));
                }
            }
        }
    }
}

// Backward of the groups [g0, g1) from dy (q's layout), the forward's y and lse; dq (q's layout),
// dk and dv (k's) are written whole, each may be null when not needed.
template <typename T>
void flash_attention_backward(const AttnShape& s, const T* q, const T* k, const T* v, const T* y, const T* lse, const T* dy,
                              T* dq, T* dk, T* dv, int g0, int g1) {
    const int S = s.S, d = s.d, Tq = s.T, off = S - Tq;
    const int ldq = static_cast<int>(s.qT), ldk = static_cast<int>(s.kT);
    const T scale = static_cast<T>(s.scale);
    std::vector<T> kt(static_cast<size_t>(d) * S), vt(static_cast<size_t>(d) * S);
    std::vector<T> p(static_cast<size_t>(FA_BR) * FA_BC), ds(static_cast<size_t>(FA_BR) * FA_BC), dqa(static_cast<size_t>(FA_BR) * d);
    T D[FA_BR];
    const bool grads = dq != nullptr || dk != nullptr;
    for (int g = g0; g < g1; g++) {
        const int b = g / s.Hkv, kvh = g % s.Hkv;
        const size_t ko = s.kOff(b, kvh);
        const T* K = k + ko;
        const float* km = s.keyMask == nullptr ? nullptr : s.keyMask + static_cast<size_t>(b) * S;
        for (int j = 0; j < S; j++) {
            if (dk != nullptr) std::memset(dk + ko + static_cast<size_t>(j) * ldk, 0, sizeof(T) * d);
            if (dv != nullptr) std::memset(dv + ko + static_cast<size_t>(j) * ldk, 0, sizeof(T) * d);
        }
        transpose(S, d, K, ldk, kt.data());
        if (grads) transpose(S, d, v + ko, ldk, vt.data());
        for (int r = 0; r < s.rep; r++) {
            const size_t qo = s.qOff(b, kvh * s.rep + r);
            const T* L = lse + (static_cast<size_t>(g) * s.rep + r) * Tq;
            for (int i0 = 0; i0 < Tq; i0 += FA_BR) {
                const int br = Tq - i0 < FA_BR ? Tq - i0 : FA_BR;
                const T* Qi = q + qo + static_cast<size_t>(i0) * ldq;
                const T* Gi = dy + qo + static_cast<size_t>(i0) * ldq;
                bool uniform = false;
                for (int ii = 0; ii < br; ii++) {
                    D[ii] = dot_of(Gi + static_cast<size_t>(ii) * ldq, y + qo + static_cast<size_t>(i0 + ii) * ldq, d);
                    uniform = uniform || L[i0 + ii] == static_cast<T>(INFINITY);
                }
                std::fill(dqa.begin(), dqa.end(), T(0));
                const int kEnd = s.causal && !uniform ? (off + i0 + br < S ? off + i0 + br : S) : S;
                for (int j0 = 0; j0 < kEnd; j0 += FA_BC) {
                    const int bc = kEnd - j0 < FA_BC ? kEnd - j0 : FA_BC;
                    gemm_impl<false>(br, bc, d, Qi, ldq, kt.data() + j0, S, p.data(), FA_BC, false);
                    for (int ii = 0; ii < br; ii++) {
                        T* row = p.data() + static_cast<size_t>(ii) * FA_BC;
                        if (L[i0 + ii] == static_cast<T>(INFINITY)) {
                            for (int j = 0; j < bc; j++) row[j] = T(1) / T(S);
                        } else {
                            mask_scores(s, km, i0 + ii, j0, row, bc);
                            exp_shift_sum(row, bc, L[i0 + ii]);
                        }
                    }
                    // dv_j += P^T dy_i
                    if (dv != nullptr)
                        gemm_impl<true>(bc, d, br, p.data(), FA_BC, Gi, ldq, dv + ko + static_cast<size_t>(j0) * ldk, ldk, true);
                    if (!grads) continue;
                    // dS = P (dy_i V_j^T - D) scale
                    gemm_impl<false>(br, bc, d, Gi, ldq, vt.data() + j0, S, ds.data(), FA_BC, false);
                    for (int ii = 0; ii < br; ii++) {
                        T* row = ds.data() + static_cast<size_t>(ii) * FA_BC;
                        const T* pr = p.data() + static_cast<size_t>(ii) * FA_BC;
                        for (int j = 0; j < bc; j++) row[j] = pr[j] * (row[j] - D[ii]) * scale;
                    }
                    if (dq != nullptr) gemm_impl<false>(br, d, bc, ds.data(), FA_BC, K + static_cast<size_t>(j0) * ldk, ldk, dqa.data(), d, true);
                    if (dk != nullptr)
                        gemm_impl<true>(bc, d, br, ds.data(), FA_BC, Qi, ldq, dk + ko + static_cast<size_t>(j0) * ldk, ldk, true);
                }
                if (dq != nullptr)
                    for (int ii = 0; ii < br; ii++)
                        std::memcpy(dq + qo + static_cast<size_t>(i0 + ii) * ldq, dqa.data() + static_cast<size_t>(ii) * d, sizeof(T) * d);
            }
        }
    }
}

// ---------------------------------------------------------------- cross-entropy

// lse[i] = log sum_j exp(x[i, j]) for rows [r0, r1) of x [N, V].
template <typename T>
void logsumexp_rows(const T* x, int V, double* lse, int r0, int r1) {
    std::vector<T> e(V);
    for (int i = r0; i < r1; i++) {
        const T* row = x + static_cast<size_t>(i) * V;
        T mx = max_of(row, V);
        std::memcpy(e.data(), row, sizeof(T) * V);
        T sum = exp_shift_sum(e.data(), V, mx);
        lse[i] = static_cast<double>(mx) + std::log(static_cast<double>(sum));
    }
}

// grad[i] = (softmax(x[i]) - onehot(target[i])) * rowScale[i]; rows with scale 0 get zeros.
template <typename T>
void cross_entropy_grad_rows(const T* x, int V, const double* lse, const double* rowScale, const int* targets, T* grad,
                             int r0, int r1) {
    for (int i = r0; i < r1; i++) {
        T* out = grad + static_cast<size_t>(i) * V;
        T sc = static_cast<T>(rowScale[i]);
        if (sc == T(0)) {
            std::memset(out, 0, sizeof(T) * V);
            continue;
        }
        std::memcpy(out, x + static_cast<size_t>(i) * V, sizeof(T) * V);
        exp_shift_sum(out, V, static_cast<T>(lse[i]));
        for (int j = 0; j < V; j++) out[j] *= sc;
        out[targets[i]] -= sc;
    }
}

// ---------------------------------------------------------------- elementwise
// Float versions on 8-element blocks (see blocks8); double versions as plain loops.

void swiglu_forward(const float* g, const float* u, float* y, long n0, long n1) {
    blocks8(n0, n1, [&](long i, int n) {
        v8f gv = ld(g, i, n);
        st(y, i, n, gv * sigmoid8(gv) * ld(u, i, n));
    });
}
void swiglu_forward(const double* g, const double* u, double* y, long n0, long n1) {
    for (long i = n0; i < n1; i++) y[i] = g[i] * sigmoid(g[i]) * u[i];
}

// dg = dy u s (1 + g (1 - s)), du = dy g s, s = sigmoid(g) recomputed.
void swiglu_backward(const float* g, const float* u, const float* dy, float* dg, float* du, long n0, long n1) {
    blocks8(n0, n1, [&](long i, int n) {
        v8f gv = ld(g, i, n), s = sigmoid8(gv), dyv = ld(dy, i, n);
        if (du != nullptr) st(du, i, n, dyv * gv * s);
        if (dg != nullptr) st(dg, i, n, dyv * ld(u, i, n) * s * (splat(1.0f) + gv * (splat(1.0f) - s)));
    });
}
void swiglu_backward(const double* g, const double* u, const double* dy, double* dg, double* du, long n0, long n1) {
    for (long i = n0; i < n1; i++) {
        double s = sigmoid(g[i]);
        if (du != nullptr) du[i] = dy[i] * g[i] * s;
        if (dg != nullptr) dg[i] = dy[i] * u[i] * s * (1.0 + g[i] * (1.0 - s));
    }
}

constexpr double QUICK_GELU_K = 1.702;

void quick_gelu_forward(const float* x, float* y, long n0, long n1) {
    const v8f k = splat(static_cast<float>(QUICK_GELU_K));
    blocks8(n0, n1, [&](long i, int n) {
        v8f xv = ld(x, i, n);
        st(y, i, n, xv * sigmoid8(k * xv));
    });
}
void quick_gelu_forward(const double* x, double* y, long n0, long n1) {
    for (long i = n0; i < n1; i++) y[i] = x[i] * sigmoid(QUICK_GELU_K * x[i]);
}

// dx = dy (s + k x s (1 - s)), s = sigmoid(k x).
void quick_gelu_backward(const float* x, const float* dy, float* dx, long n0, long n1) {
    const v8f k = splat(static_cast<float>(QUICK_GELU_K));
    blocks8(n0, n1, [&](long i, int n) {
        v8f xv = ld(x, i, n), s = sigmoid8(k * xv);
        st(dx, i, n, ld(dy, i, n) * (s + k * xv * s * (splat(1.0f) - s)));
    });
}
void quick_gelu_backward(const double* x, const double* dy, double* dx, long n0, long n1) {
    for (long i = n0; i < n1; i++) {
        double s = sigmoid(QUICK_GELU_K * x[i]);
        dx[i] = dy[i] * (s + QUICK_GELU_K * x[i] * s * (1.0 - s));
    }
}

// Rotary embedding (rotate-half) of rows [r0, r1) of x [rows, d], row r at position
// (r / hp) % T of the tables cos, sin [T, d]: hp = 1 for [B, H, T, d], H for [B, T, H, d].
// Backward (transpose = true): dx = g cos + rotate_half^T(g sin).
template <typename T>
void rope_rows(const T* x, const T* cos, const T* sin, T* y, int T_, int hp, int d, bool transpose, long r0, long r1) {
    const int h = d / 2;
    for (long r = r0; r < r1; r++) {
        const T* xr = x + r * d;
        T* yr = y + r * d;
        const long pos = (r / hp) % T_;
        const T* c = cos + static_cast<size_t>(pos) * d;
        const T* s = sin + static_cast<size_t>(pos) * d;
        if (!transpose) {
            for (int i = 0; i < h; i++) yr[i] = xr[i] * c[i] - xr[i + h] * s[i];
            for (int i = h; i < d; i++) yr[i] = xr[i] * c[i] + xr[i - h] * s[i];
        } else {
            for (int i = 0; i < h; i++) yr[i] = xr[i] * c[i] + xr[i + h] * s[i + h];
            for (int i = h; i < d; i++) yr[i] = xr[i] * c[i] - xr[i - h] * s[i - h];
        }
    }
}

// ---------------------------------------------------------------- RMSNorm and LayerNorm
// Rows [r0, r1) of x [N, C]; row statistics and the weight/bias gradient partials are summed in
// double precision (as RowKernels' Java loops do), element results in the array's type. The
// forward writes row i's statistics at [i - r0]; the backward reads them at [i]; dw/db (each
// may be null) receive this range's sums.

typedef double v4d __attribute__((vector_size(32)));
inline v4d lo4d(v8f v) { return __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1, 2, 3), v4d); }
inline v4d hi4d(v8f v) { return __builtin_convertvector(__builtin_shufflevector(v, v, 4, 5, 6, 7), v4d); }
inline double hsum4(v4d v) { return (v[0] + v[2]) + (v[1] + v[3]); }
inline v4d load4d(const double* p) { v4d v; std::memcpy(&v, p, sizeof v); return v; }
inline void store4d(double* p, v4d v) { std::memcpy(p, &v, sizeof v); }
// d[0 .. n) += v (widened), for the double partial sums of the parameter gradients
inline void add8d(double* d, v8f v, int n) {
    if (n == 8) {
        store4d(d, load4d(d) + lo4d(v));
        store4d(d + 4, load4d(d + 4) + hi4d(v));
    } else {
        for (int i = 0; i < n; i++) d[i] += v[i];
    }
}
// Eight-lane double accumulator of float vectors.
struct Sum8d {
    v4d lo = {0, 0, 0, 0}, hi = {0, 0, 0, 0};
    void add(v8f v) { lo += lo4d(v); hi += hi4d(v); }
    double total() const { return hsum4(lo) + hsum4(hi); }
};
// sum of x[j] (or of (x[j] - shift)^2 when squares) over a float row, in double
inline double row_sum(const float* x, int C, bool squares, double shift) {
    v4d a = {0, 0, 0, 0}, b = {0, 0, 0, 0};
    const v4d sh = {shift, shift, shift, shift};
    blocks8(0, C, [&](long j, int n) {
        v8f xv = ld(x, j, n);
        v4d l = lo4d(xv), h = hi4d(xv);
        if (squares) {
            // padding lanes hold 0: (0 - shift)^2 must not count
            l -= sh; h -= sh;
            for (int i = n; i < 8; i++) (i < 4 ? l[i] : h[i - 4]) = 0;
            a += l * l; b += h * h;
        } else {
            a += l; b += h;
        }
    });
    return hsum4(a) + hsum4(b);
}

void rms_forward_rows(const float* x, const float* w, float* y, int C, double eps, double* stats, long r0, long r1) {
    for (long i = r0; i < r1; i++) {
        const float* xr = x + i * C;
        float* yr = y + i * C;
        double r = 1.0 / std::sqrt(row_sum(xr, C, true, 0.0) / C + eps);
        stats[i - r0] = r;
        const v8f rv = splat(static_cast<float>(r));
        blocks8(0, C, [&](long j, int n) { st(yr, j, n, ld(xr, j, n) * rv * ld(w, j, n)); });
    }
}
void rms_forward_rows(const double* x, const double* w, double* y, int C, double eps, double* stats, long r0, long r1) {
    for (long i = r0; i < r1; i++) {
        const double* xr = x + i * C;
        double ss = 0;
        for (int j = 0; j < C; j++) ss += xr[j] * xr[j];
        double r = 1.0 / std::sqrt(ss / C + eps);
        stats[i - r0] = r;
        for (int j = 0; j < C; j++) y[i * C + j] = xr[j] * r * w[j];
    }
}

// xhat = x r; dw += g xhat; dx = (g w - xhat mean(g w xhat)) r
void rms_backward_rows(const float* g, const float* x, const float* w, const double* r, float* dx, double* dw, int C,
                       long r0, long r1) {
    for (long i = r0; i < r1; i++) {
        const float* xr = x + i * C;
        const float* gr = g + i * C;
        const v8f rv = splat(static_cast<float>(r[i]));
        Sum8d dot;
        blocks8(0, C, [&](long j, int n) {
            v8f xh = ld(xr, j, n) * rv, gv = ld(gr, j, n);
            if (dw != nullptr) add8d(dw + j, gv * xh, n);
            dot.add(gv * ld(w, j, n) * xh);
        });
        if (dx == nullptr) continue;
        const v8f mean = splat(static_cast<float>(dot.total() / C));
        float* dr = dx + i * C;
        blocks8(0, C, [&](long j, int n) {
            v8f xh = ld(xr, j, n) * rv;
            st(dr, j, n, (ld(gr, j, n) * ld(w, j, n) - xh * mean) * rv);
        });
    }
}
void rms_backward_rows(const double* g, const double* x, const double* w, const double* r, double* dx, double* dw, int C,
                       long r0, long r1) {
    for (long i = r0; i < r1; i++) {
        const double* xr = x + i * C;
        const double* gr = g + i * C;
        double dot = 0;
        for (int j = 0; j < C; j++) {
            double xh = xr[j] * r[i];
            if (dw != nullptr) dw[j] += gr[j] * xh;
            dot += gr[j] * w[j] * xh;
        }
        if (dx == nullptr) continue;
        double mean = dot / C;
        for (int j = 0; j < C; j++) dx[i * C + j] = (gr[j] * w[j] - xr[j] * r[i] * mean) * r[i];
    }
}

// y = (x - mean) rstd w + b (biased variance)
void layer_forward_rows(const float* x, const float* w, const float* bias, float* y, int C, double eps, double* mean,
                        double* rstd, long r0, long r1) {
    for (long i = r0; i < r1; i++) {
        const float* xr = x + i * C;
        float* yr = y + i * C;
        double mu = row_sum(xr, C, false, 0.0) / C;
        double rs = 1.0 / std::sqrt(row_sum(xr, C, true, mu) / C + eps);
        mean[i - r0] = mu;
        rstd[i - r0] = rs;
        const v8f m = splat(static_cast<float>(mu)), rv = splat(static_cast<float>(rs));
        blocks8(0, C, [&](long j, int n) { st(yr, j, n, (ld(xr, j, n) - m) * rv * ld(w, j, n) + ld(bias, j, n)); });
    }
}
void layer_forward_rows(const double* x, const double* w, const double* bias, double* y, int C, double eps, double* mean,
                        double* rstd, long r0, long r1) {
    for (long i = r0; i < r1; i++) {
        const double* xr = x + i * C;
        double s = 0;
        for (int j = 0; j < C; j++) s += xr[j];
        double mu = s / C, ss = 0;
        for (int j = 0; j < C; j++) ss += (xr[j] - mu) * (xr[j] - mu);
        double rs = 1.0 / std::sqrt(ss / C + eps);
        mean[i - r0] = mu;
        rstd[i - r0] = rs;
        for (int j = 0; j < C; j++) y[i * C + j] = (xr[j] - mu) * rs * w[j] + bias[j];
    }
}

// xhat = (x - mean) rstd, gh = g w: dx = (gh - mean(gh) - xhat mean(gh xhat)) rstd; dw += g xhat; db += g
void layer_backward_rows(const float* g, const float* x, const float* w, const double* mean, const double* rstd, float* dx,
                         double* dw, double* db, int C, long r0, long r1) {
    for (long i = r0; i < r1; i++) {
        const float* xr = x + i * C;
        const float* gr = g + i * C;
        const v8f m = splat(static_cast<float>(mean[i])), rs = splat(static_cast<float>(rstd[i]));
        Sum8d sg, sgx;
        blocks8(0, C, [&](long j, int n) {
            v8f xh = (ld(xr, j, n) - m) * rs, gv = ld(gr, j, n);
            if (dw != nullptr) add8d(dw + j, gv * xh, n);
            if (db != nullptr) add8d(db + j, gv, n);
            v8f gh = gv * ld(w, j, n);
            sg.add(gh);
            sgx.add(gh * xh);
        });
        if (dx == nullptr) continue;
        const v8f mg = splat(static_cast<float>(sg.total() / C)), mgx = splat(static_cast<float>(sgx.total() / C));
        float* dr = dx + i * C;
        blocks8(0, C, [&](long j, int n) {
            v8f xh = (ld(xr, j, n) - m) * rs;
            st(dr, j, n, (ld(gr, j, n) * ld(w, j, n) - mg - xh * mgx) * rs);
        });
    }
}
void layer_backward_rows(const double* g, const double* x, const double* w, const double* mean, const double* rstd, double* dx,
                         double* dw, double* db, int C, long r0, long r1) {
    for (long i = r0; i < r1; i++) {
        const double* xr = x + i * C;
        const double* gr = g + i * C;
        const double mu = mean[i], rs = rstd[i];
        double sg = 0, sgx = 0;
        for (int j = 0; j < C; j++) {
            double xh = (xr[j] - mu) * rs;
            if (dw != nullptr) dw[j] += gr[j] * xh;
            if (db != nullptr) db[j] += gr[j];
            sg += gr[j] * w[j];
            sgx += gr[j] * w[j] * xh;
        }
        if (dx == nullptr) continue;
        double mg = sg / C, mgx = sgx / C;
        for (int j = 0; j < C; j++) dx[i * C + j] = (gr[j] * w[j] - mg - (xr[j] - mu) * rs * mgx) * rs;
    }
}

// ---------------------------------------------------------------- optimizer

// AdamW's moment and parameter update over elements [n0, n1), in torch.optim.AdamW's order:
// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; w -= step m / (sqrt(v) / bc2sqrt + eps).
void adamw_update(float* w, const float* g, float* m, float* v, double beta1, double beta2, double eps, double step,
                  double bc2sqrt, long n0, long n1) {
    const v8f b1 = splat(static_cast<float>(beta1)), c1 = splat(static_cast<float>(1.0 - beta1));
    const v8f b2 = splat(static_cast<float>(beta2)), c2 = splat(static_cast<float>(1.0 - beta2));
    const v8f e = splat(static_cast<float>(eps)), sz = splat(static_cast<float>(step)), bc = splat(static_cast<float>(bc2sqrt));
    blocks8(n0, n1, [&](long i, int n) {
        v8f gv = ld(g, i, n);
        v8f mv = ld(m, i, n) * b1 + gv * c1;
        v8f vv = ld(v, i, n) * b2 + gv * gv * c2;
        st(m, i, n, mv);
        st(v, i, n, vv);
        st(w, i, n, ld(w, i, n) - sz * (mv / (__builtin_ia32_sqrtps256(vv) / bc + e)));
    });
}
void adamw_update(double* w, const double* g, double* m, double* v, double beta1, double beta2, double eps, double step,
                  double bc2sqrt, long n0, long n1) {
    for (long i = n0; i < n1; i++) {
        m[i] = m[i] * beta1 + g[i] * (1.0 - beta1);
        v[i] = v[i] * beta2 + g[i] * g[i] * (1.0 - beta2);
        w[i] -= step * (m[i] / (std::sqrt(v[i]) / bc2sqrt + eps));
    }
}

template <typename T>
T* ptr(jlong address) { return reinterpret_cast<T*>(static_cast<intptr_t>(address)); }

}  // namespace

// ---------------------------------------------------------------- JNI entry points
// dtype: 0 = float, 1 = double. Addresses of 0 mean "not given".

#define JNI_FN(name) JNIEXPORT void JNICALL Java_io_github_vdep_core_ops_NativeKernels_##name

extern "C" {

// Compiled for the baseline x86-64 instruction set: it must run on CPUs without AVX to say so.
__attribute__((target("arch=x86-64"))) JNIEXPORT jboolean JNICALL Java_io_github_vdep_core_ops_NativeKernels_cpuSupported(JNIEnv*,
                                                                                                                         jclass) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? JNI_TRUE : JNI_FALSE;
}

JNI_FN(attentionForward)(JNIEnv*, jclass, jint dtype, jlong q, jlong k, jlong v, jlong keyMask, jlong probs, jlong y,
                         jint B, jint Hkv, jint rep, jint T, jint S, jint d, jboolean causal, jboolean band, jdouble scale,
                         jboolean tokenMajor, jint g0, jint g1) {
    AttnShape s{B, Hkv, rep, T, S, d, causal == JNI_TRUE, band == JNI_TRUE, ptr<const float>(keyMask), scale, 0, 0, 0, 0, 0, 0};
    s.layout(tokenMajor == JNI_TRUE);
    if (dtype == 0) {
        attention_forward<float>(s, ptr<float>(q), ptr<float>(k), ptr<float>(v), ptr<float>(probs), ptr<float>(y), g0, g1);
    } else {
        attention_forward<double>(s, ptr<double>(q), ptr<double>(k), ptr<double>(v), ptr<double>(probs), ptr<double>(y), g0, g1);
    }
}

JNI_FN(attentionBackward)(JNIEnv*, jclass, jint dtype, jlong q, jlong k, jlong v, jlong probs, jlong dy, jlong dq, jlong dk,
                          jlong dv, jint B, jint Hkv, jint rep, jint T, jint S, jint d, jboolean band, jdouble scale,
                          jboolean tokenMajor, jint g0, jint g1) {
    AttnShape s{B, Hkv, rep, T, S, d, band == JNI_TRUE, band == JNI_TRUE, nullptr, scale, 0, 0, 0, 0, 0, 0};
    s.layout(tokenMajor == JNI_TRUE);
    if (dtype == 0) {
        attention_backward<float>(s, ptr<float>(q), ptr<float>(k), ptr<float>(v), ptr<float>(probs), ptr<float>(dy), ptr<float>(dq),
                                  ptr<float>(dk), ptr<float>(dv), g0, g1);
    } else {
        attention_backward<double>(s, ptr<double>(q), ptr<double>(k), ptr<double>(v), ptr<double>(probs), ptr<double>(dy),
                                   ptr<double>(dq), ptr<double>(dk), ptr<double>(dv), g0, g1);
    }
}

JNI_FN(flashAttentionForward)(JNIEnv*, jclass, jint dtype, jlong q, jlong k, jlong v, jlong keyMask, jlong lse, jlong y,
                              jint B, jint Hkv, jint rep, jint T, jint S, jint d, jboolean causal, jdouble scale,
                              jboolean tokenMajor, jint g0, jint g1) {
    AttnShape s{B, Hkv, rep, T, S, d, causal == JNI_TRUE, false, ptr<const float>(keyMask), scale, 0, 0, 0, 0, 0, 0};
    s.layout(tokenMajor == JNI_TRUE);
    if (dtype == 0) {
        flash_attention_forward<float>(s, ptr<float>(q), ptr<float>(k), ptr<float>(v), ptr<float>(lse), ptr<float>(y), g0, g1);
    } else {
        flash_attention_forward<double>(s, ptr<double>(q), ptr<double>(k), ptr<double>(v), ptr<double>(lse), ptr<double>(y), g0, g1);
    }
}

JNI_FN(flashAttentionBackward)(JNIEnv*, jclass, jint dtype, jlong q, jlong k, jlong v, jlong keyMask, jlong y, jlong lse, jlong dy,
                               jlong dq, jlong dk, jlong dv, jint B, jint Hkv, jint rep, jint T, jint S, jint d, jboolean causal,
                               jdouble scale, jboolean tokenMajor, jint g0, jint g1) {
    AttnShape s{B, Hkv, rep, T, S, d, causal == JNI_TRUE, false, ptr<const float>(keyMask), scale, 0, 0, 0, 0, 0, 0};
    s.layout(tokenMajor == JNI_TRUE);
    if (dtype == 0) {
        flash_attention_backward<float>(s, ptr<float>(q), ptr<float>(k), ptr<float>(v), ptr<float>(y), ptr<float>(lse), ptr<float>(dy),
                                        ptr<float>(dq), ptr<float>(dk), ptr<float>(dv), g0, g1);
    } else {
        flash_attention_backward<double>(s, ptr<double>(q), ptr<double>(k), ptr<double>(v), ptr<double>(y), ptr<double>(lse),
                                         ptr<double>(dy), ptr<double>(dq), ptr<double>(dk), ptr<double>(dv), g0, g1);
    }
}

JNI_FN(logSumExpRows)(JNIEnv*, jclass, jint dtype, jlong x, jint V, jlong lse, jint r0, jint r1) {
    if (dtype == 0) {
        logsumexp_rows<float>(ptr<float>(x), V, ptr<double>(lse), r0, r1);
    } else {
        logsumexp_rows<double>(ptr<double>(x), V, ptr<double>(lse), r0, r1);
    }
}

JNI_FN(crossEntropyGradRows)(JNIEnv* env, jclass, jint dtype, jlong x, jint V, jdoubleArray lse, jdoubleArray rowScale,
                             jintArray targets, jlong grad, jint r0, jint r1) {
    double* l = static_cast<double*>(env->GetPrimitiveArrayCritical(lse, nullptr));
    double* sc = static_cast<double*>(env->GetPrimitiveArrayCritical(rowScale, nullptr));
    int* t = static_cast<int*>(env->GetPrimitiveArrayCritical(targets, nullptr));
    if (dtype == 0) {
        cross_entropy_grad_rows<float>(ptr<float>(x), V, l, sc, t, ptr<float>(grad), r0, r1);
    } else {
        cross_entropy_grad_rows<double>(ptr<double>(x), V, l, sc, t, ptr<double>(grad), r0, r1);
    }
    env->ReleasePrimitiveArrayCritical(targets, t, JNI_ABORT);
    env->ReleasePrimitiveArrayCritical(rowScale, sc, JNI_ABORT);
    env->ReleasePrimitiveArrayCritical(lse, l, JNI_ABORT);
}

JNI_FN(swigluForward)(JNIEnv*, jclass, jint dtype, jlong g, jlong u, jlong y, jlong n0, jlong n1) {
    if (dtype == 0) {
        swiglu_forward(ptr<float>(g), ptr<float>(u), ptr<float>(y), n0, n1);
    } else {
        swiglu_forward(ptr<double>(g), ptr<double>(u), ptr<double>(y), n0, n1);
    }
}

JNI_FN(swigluBackward)(JNIEnv*, jclass, jint dtype, jlong g, jlong u, jlong dy, jlong dg, jlong du, jlong n0, jlong n1) {
    if (dtype == 0) {
        swiglu_backward(ptr<float>(g), ptr<float>(u), ptr<float>(dy), ptr<float>(dg), ptr<float>(du), n0, n1);
    } else {
        swiglu_backward(ptr<double>(g), ptr<double>(u), ptr<double>(dy), ptr<double>(dg), ptr<double>(du), n0, n1);
    }
}

JNI_FN(quickGeluForward)(JNIEnv*, jclass, jint dtype, jlong x, jlong y, jlong n0, jlong n1) {
    if (dtype == 0) {
        quick_gelu_forward(ptr<float>(x), ptr<float>(y), n0, n1);
    } else {
        quick_gelu_forward(ptr<double>(x), ptr<double>(y), n0, n1);
    }
}

JNI_FN(quickGeluBackward)(JNIEnv*, jclass, jint dtype, jlong x, jlong dy, jlong dx, jlong n0, jlong n1) {
    if (dtype == 0) {
        quick_gelu_backward(ptr<float>(x), ptr<float>(dy), ptr<float>(dx), n0, n1);
    } else {
        quick_gelu_backward(ptr<double>(x), ptr<double>(dy), ptr<double>(dx), n0, n1);
    }
}

JNI_FN(ropeRows)(JNIEnv*, jclass, jint dtype, jlong x, jlong cos, jlong sin, jlong y, jint T, jint hp, jint d,
                 jboolean transpose, jlong r0, jlong r1) {
    if (dtype == 0) {
        rope_rows<float>(ptr<float>(x), ptr<float>(cos), ptr<float>(sin), ptr<float>(y), T, hp, d, transpose == JNI_TRUE, r0, r1);
    } else {
        rope_rows<double>(ptr<double>(x), ptr<double>(cos), ptr<double>(sin), ptr<double>(y), T, hp, d, transpose == JNI_TRUE, r0,
                          r1);
    }
}

// Java double[] arguments: the forward's statistics (written) are private to the calling task; the
// backward's are only read; dw/db are the calling chunk's own partial sums. Each is pinned or copied by the JVM and released accordingly.
JNI_FN(rmsForwardRows)(JNIEnv* env, jclass, jint dtype, jlong x, jlong w, jlong y, jint C, jdouble eps, jdoubleArray stats,
                       jlong r0, jlong r1) {
    double* st = static_cast<double*>(env->GetPrimitiveArrayCritical(stats, nullptr));
    if (dtype == 0) {
        rms_forward_rows(ptr<float>(x), ptr<float>(w), ptr<float>(y), C, eps, st, r0, r1);
    } else {
        rms_forward_rows(ptr<double>(x), ptr<double>(w), ptr<double>(y), C, eps, st, r0, r1);
    }
    env->ReleasePrimitiveArrayCritical(stats, st, 0);
}

JNI_FN(rmsBackwardRows)(JNIEnv* env, jclass, jint dtype, jlong g, jlong x, jlong w, jdoubleArray r, jlong dx, jdoubleArray dw,
                        jint C, jlong r0, jlong r1) {
    double* rr = static_cast<double*>(env->GetPrimitiveArrayCritical(r, nullptr));
    double* dwp = dw == nullptr ? nullptr : static_cast<double*>(env->GetPrimitiveArrayCritical(dw, nullptr));
    if (dtype == 0) {
        rms_backward_rows(ptr<float>(g), ptr<float>(x), ptr<float>(w), rr, ptr<float>(dx), dwp, C, r0, r1);
    } else {
        rms_backward_rows(ptr<double>(g), ptr<double>(x), ptr<double>(w), rr, ptr<double>(dx), dwp, C, r0, r1);
    }
    if (dwp != nullptr) env->ReleasePrimitiveArrayCritical(dw, dwp, 0);
    env->ReleasePrimitiveArrayCritical(r, rr, JNI_ABORT);
}

JNI_FN(layerForwardRows)(JNIEnv* env, jclass, jint dtype, jlong x, jlong w, jlong b, jlong y, jint C, jdouble eps,
                         jdoubleArray mean, jdoubleArray rstd, jlong r0, jlong r1) {
    double* mu = static_cast<double*>(env->GetPrimitiveArrayCritical(mean, nullptr));
    double* rs = static_cast<double*>(env->GetPrimitiveArrayCritical(rstd, nullptr));
    if (dtype == 0) {
        layer_forward_rows(ptr<float>(x), ptr<float>(w), ptr<float>(b), ptr<float>(y), C, eps, mu, rs, r0, r1);
    } else {
        layer_forward_rows(ptr<double>(x), ptr<double>(w), ptr<double>(b), ptr<double>(y), C, eps, mu, rs, r0, r1);
    }
    env->ReleasePrimitiveArrayCritical(rstd, rs, 0);
    env->ReleasePrimitiveArrayCritical(mean, mu, 0);
}

JNI_FN(layerBackwardRows)(JNIEnv* env, jclass, jint dtype, jlong g, jlong x, jlong w, jdoubleArray mean, jdoubleArray rstd,
                          jlong dx, jdoubleArray dw, jdoubleArray db, jint C, jlong r0, jlong r1) {
    double* mu = static_cast<double*>(env->GetPrimitiveArrayCritical(mean, nullptr));
    double* rs = static_cast<double*>(env->GetPrimitiveArrayCritical(rstd, nullptr));
    double* dwp = dw == nullptr ? nullptr : static_cast<double*>(env->GetPrimitiveArrayCritical(dw, nullptr));
    double* dbp = db == nullptr ? nullptr : static_cast<double*>(env->GetPrimitiveArrayCritical(db, nullptr));
    if (dtype == 0) {
        layer_backward_rows(ptr<float>(g), ptr<float>(x), ptr<float>(w), mu, rs, ptr<float>(dx), dwp, dbp, C, r0, r1);
    } else {
        layer_backward_rows(ptr<double>(g), ptr<double>(x), ptr<double>(w), mu, rs, ptr<double>(dx), dwp, dbp, C, r0, r1);
    }
    if (dbp != nullptr) env->ReleasePrimitiveArrayCritical(db, dbp, 0);
    if (dwp != nullptr) env->ReleasePrimitiveArrayCritical(dw, dwp, 0);
    env->ReleasePrimitiveArrayCritical(rstd, rs, JNI_ABORT);
    env->ReleasePrimitiveArrayCritical(mean, mu, JNI_ABORT);
}

JNI_FN(fillRows)(JNIEnv*, jclass, jint dtype, jlong src, jlong dst, jlong rows, jint C) {
    const size_t bytes = static_cast<size_t>(C) * (dtype == 0 ? sizeof(float) : sizeof(double));
    const char* s = ptr<const char>(src);
    char* d = ptr<char>(dst);
    for (jlong i = 0; i < rows; i++) std::memcpy(d + i * bytes, s, bytes);
}

JNI_FN(adamWUpdate)(JNIEnv*, jclass, jint dtype, jlong w, jlong g, jlong m, jlong v, jdouble beta1, jdouble beta2, jdouble eps,
                    jdouble step, jdouble bc2sqrt, jlong n0, jlong n1) {
    if (dtype == 0) {
        adamw_update(ptr<float>(w), ptr<float>(g), ptr<float>(m), ptr<float>(v), beta1, beta2, eps, step, bc2sqrt, n0, n1);
    } else {
        adamw_update(ptr<double>(w), ptr<double>(g), ptr<double>(m), ptr<double>(v), beta1, beta2, eps, step, bc2sqrt, n0, n1);
    }
}

}  // extern "C"
