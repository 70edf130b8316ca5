// Elementwise kernels and their backward twins: activations (GELU, quick-GELU, SiLU, SwiGLU),
// arithmetic (add with broadcasting, mul, scale, sum), the image losses (MSE, L1, smooth-L1,
// cosine), the optimizer updates (AdamW, SGD), the gradient norm, layout copies (permute,
// slice/concat blocks) and F16/BF16 conversion. Formulas follow the CPU primitives in
// vdep-core/src/main/java/io/github/vdep/core/ops and vdep_kernels.cpp.
#include "vdep_cuda.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

using namespace vdep;

namespace {

constexpr float QUICK_GELU_K = 1.702f;
constexpr float INV_SQRT2 = 0.70710678118654752440f;
constexpr float INV_SQRT_2PI = 0.39894228040143267794f;

__device__ inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }
__device__ inline float signf(float x) { return static_cast<float>((x > 0.0f) - (x < 0.0f)); }

// ---------------------------------------------------------------- activations

__global__ void gelu_forward_kernel(const float* x, float* y, long n) {
    GRID_STRIDE(i, n) {
        float v = x[i];
        y[i] = v * (0.5f * (1.0f + erff(v * INV_SQRT2)));
    }
}
// d/dx = Phi(x) + x phi(x)
__global__ void gelu_backward_kernel(const float* x, const float* dy, float* dx, long n) {
    GRID_STRIDE(i, n) {
        float v = x[i];
        float cdf = 0.5f * (1.0f + erff(v * INV_SQRT2));
        float pdf = expf(-0.5f * v * v) * INV_SQRT_2PI;
        dx[i] = (pdf * v + cdf) * dy[i];
    }
}

__global__ void quick_gelu_forward_kernel(const float* x, float* y, long n) {
    GRID_STRIDE(i, n) y[i] = x[i] * sigmoidf(QUICK_GELU_K * x[i]);
}
// dx = dy (s + k x s (1 - s)), s = sigmoid(k x)
__global__ void quick_gelu_backward_kernel(const float* x, const float* dy, float* dx, long n) {
    GRID_STRIDE(i, n) {
        float s = sigmoidf(QUICK_GELU_K * x[i]);
        dx[i] = dy[i] * (s + QUICK_GELU_K * x[i] * s * (1.0f - s));
    }
}

__global__ void silu_forward_kernel(const float* x, float* y, long n) {
    GRID_STRIDE(i, n) y[i] = x[i] * sigmoidf(x[i]);
}
// dx = dy s (1 + x (1 - s))
__global__ void silu_backward_kernel(const float* x, const float* dy, float* dx, long n) {
    GRID_STRIDE(i, n) {
        float s = sigmoidf(x[i]);
        dx[i] = dy[i] * s * (1.0f + x[i] * (1.0f - s));
    }
}

__global__ void swiglu_forward_kernel(const float* g, const float* u, float* y, long n) {
    GRID_STRIDE(i, n) y[i] = g[i] * sigmoidf(g[i]) * u[i];
}
// dg = dy u s (1 + g (1 - s)), du = dy g s; either may be null
__global__ void swiglu_backward_kernel(const float* g, const float* u, const float* dy, float* dg, float* du, long n) {
    GRID_STRIDE(i, n) {
        float s = sigmoidf(g[i]);
        if (du != nullptr) du[i] = dy[i] * g[i] * s;
        if (dg != nullptr) dg[i] = dy[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
    }
}

// ---------------------------------------------------------------- arithmetic

__global__ void add_kernel(const float* a, const float* b, float* y, long n) {
    GRID_STRIDE(i, n) y[i] = a[i] + b[i];
}
__global__ void mul_kernel(const float* a, const float* b, float* y, long n) {
    GRID_STRIDE(i, n) y[i] = a[i] * b[i];
}
__global__ void scale_kernel(const float* x, float s, float* y, long n) {
    GRID_STRIDE(i, n) y[i] = x[i] * s;
}
// dst += src (gradient accumulation)
__global__ void accumulate_kernel(float* dst, const float* src, long n) {
    GRID_STRIDE(i, n) dst[i] += src[i];
}
__global__ void fill_kernel(float* dst, float value, long n) {
    GRID_STRIDE(i, n) dst[i] = value;
}
// dst[i] = src[0] * scale: the backward of sum (the upstream gradient stays on the device)
__global__ void fill_from_scalar_kernel(float* dst, const float* src, float scale, long n) {
    GRID_STRIDE(i, n) dst[i] = src[0] * scale;
}

constexpr int MAX_DIMS = 8;
// Up to MAX_DIMS dimensions, as passed from Java.
struct Dims {
    int n;
    long size[MAX_DIMS];
    long stride[MAX_DIMS];
};

// y[i] = a[i] + b[offset of i in b], where b's strides are 0 along broadcast dimensions.
__global__ void add_broadcast_kernel(const float* a, const float* b, float* y, long n, Dims shape) {
    GRID_STRIDE(i, n) {
        long rest = i, off = 0;
        for (int k = shape.n - 1; k >= 0; k--) {
            off += (rest % shape.size[k]) * shape.stride[k];
            rest /= shape.size[k];
        }
        y[i] = a[i] + b[off];
    }
}

// out[j] (+)= sum of g over the reduced dimensions, in double: j runs over `kept` (g's
// strides of the kept dimensions), each sum over `reduced` (g's strides of the summed ones).
__global__ void reduce_to_kernel(const float* g, float* out, long m, Dims kept, Dims reduced, long count, bool accumulate) {
    GRID_STRIDE(j, m) {
        long rest = j, base = 0;
        for (int k = kept.n - 1; k >= 0; k--) {
            base += (rest % kept.size[k]) * kept.stride[k];
            rest /= kept.size[k];
        }
        double s = 0;
        for (long c = 0; c < count; c++) {
            long r = c, off = base;
            for (int k = reduced.n - 1; k >= 0; k--) {
                off += (r % reduced.size[k]) * reduced.stride[k];
                r /= reduced.size[k];
            }
            s += g[off];
        }
        out[j] = accumulate ? out[j] + static_cast<float>(s) : static_cast<float>(s);
    }
}

// y[i] = x[offset]: y has shape `out`, out.stride[k] is x's stride of the dimension that
// becomes y's dimension k (a permutation, materialised row-major).
__global__ void permute_kernel(const float* x, float* y, long n, Dims out) {
    GRID_STRIDE(i, n) {
        long rest = i, off = 0;
        for (int k = out.n - 1; k >= 0; k--) {
            off += (rest % out.size[k]) * out.stride[k];
            rest /= out.size[k];
        }
        y[i] = x[off];
    }
}

// Viewing src as [outer, srcRows, inner] and dst as [outer, dstRows, inner]: copies rows
// [srcFrom, srcFrom + rows) of src to rows [dstFrom, dstFrom + rows) of dst (slice, concat,
// and their backward).
__global__ void copy_block_kernel(const float* src, float* dst, long outer, long rows, long inner, long srcRows, long srcFrom,
                                  long dstRows, long dstFrom) {
    const long n = outer * rows * inner;
    GRID_STRIDE(i, n) {
        long k = i % inner, r = (i / inner) % rows, o = i / (inner * rows);
        dst[(o * dstRows + dstFrom + r) * inner + k] = src[(o * srcRows + srcFrom + r) * inner + k];
    }
}

// ---------------------------------------------------------------- image losses

enum RegressionKind { MSE = 0, L1 = 1, SMOOTH_L1 = 2 };

struct RegressionTerm {
    const float* p;
    const float* t;
    int kind;
    __device__ float operator()(long i) const {
        float d = p[i] - t[i];
        if (kind == MSE) return d * d;
        float a = fabsf(d);
        if (kind == L1) return a;
        return a < 1.0f ? 0.5f * d * d : a - 0.5f;  // smooth L1, beta = 1
    }
};

// dp = f'(p - t) * dloss / n, dt = -dp; either may be null
__global__ void regression_backward_kernel(int kind, const float* p, const float* t, long n, const float* dloss, float* dp,
                                           float* dt) {
    const float c = static_cast<float>(static_cast<double>(dloss[0]) / static_cast<double>(n));
    GRID_STRIDE(i, n) {
        float d = p[i] - t[i];
        float f;
        if (kind == MSE) {
            f = 2.0f * d;
        } else if (kind == L1) {
            f = signf(d);
        } else {
            f = fabsf(d) < 1.0f ? d : signf(d);
        }
        float gp = f * c;
        if (dp != nullptr) dp[i] = gp;
        if (dt != nullptr) dt[i] = -gp;
    }
}

constexpr double COSINE_EPS = 1e-8;

// Per row of p, t [rows, D]: cos = p.t / (max(|p|, eps) max(|t|, eps)) (sums in double).
__global__ void cosine_rows_kernel(const float* p, const float* t, long D, float* cos) {
    const float* pr = p + blockIdx.x * D;
    const float* tr = t + blockIdx.x * D;
    double dot = 0, pp = 0, tt = 0;
    for (long j = threadIdx.x; j < D; j += blockDim.x) {
        dot += static_cast<double>(pr[j]) * tr[j];
        pp += static_cast<double>(pr[j]) * pr[j];
        tt += static_cast<double>(tr[j]) * tr[j];
    }
    dot = block_sum(dot);
    pp = block_sum(pp);
    tt = block_sum(tt);
    if (threadIdx.x == 0) cos[blockIdx.x] = static_cast<float>(dot / (fmax(sqrt(pp), COSINE_EPS) * fmax(sqrt(tt), COSINE_EPS)));
}

// loss = 1 - mean(cos): dp = (t / (|p||t|) - cos p / |p|^2) s, dt = (p / (|p||t|) - cos t / |t|^2) s,
// s = -dloss / rows; either may be null.
__global__ void cosine_backward_kernel(const float* p, const float* t, long rows, long D, const float* dloss, float* dp, float* dt) {
    const float* pr = p + blockIdx.x * D;
    const float* tr = t + blockIdx.x * D;
    double dot = 0, pp = 0, tt = 0;
    for (long j = threadIdx.x; j < D; j += blockDim.x) {
        dot += static_cast<double>(pr[j]) * tr[j];
        pp += static_cast<double>(pr[j]) * pr[j];
        tt += static_cast<double>(tr[j]) * tr[j];
    }
    dot = block_sum(dot);
    pp = block_sum(pp);
    tt = block_sum(tt);
    const double pn = fmax(sqrt(pp), COSINE_EPS), tn = fmax(sqrt(tt), COSINE_EPS);
    const double denom = pn * tn, cos = dot / denom, s = -static_cast<double>(dloss[0]) / rows;
    for (long j = threadIdx.x; j < D; j += blockDim.x) {
        if (dp != nullptr) dp[blockIdx.x * D + j] = static_cast<float>((tr[j] / denom - pr[j] * cos / (pn * pn)) * s);
        if (dt != nullptr) dt[blockIdx.x * D + j] = static_cast<float>((pr[j] / denom - tr[j] * cos / (tn * tn)) * s);
    }
}

// ---------------------------------------------------------------- optimizers

// AdamW as AdamW.java / FusedAdamW: w *= decay (1 - lr wd, or 1), then in float, torch's order:
// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; w -= step m / (sqrt(v) / bc2sqrt + eps).
__global__ void adamw_kernel(float* w, const float* g, float* m, float* v, long n, float b1, float c1, float b2, float c2, float eps,
                             float step, float bc, float decay) {
    GRID_STRIDE(i, n) {
        float gi = g[i];
        float mi = m[i] * b1 + gi * c1;
        float vi = v[i] * b2 + gi * gi * c2;
        m[i] = mi;
        v[i] = vi;
        float wi = w[i] * decay;
        w[i] = wi - step * (mi / (sqrtf(vi) / bc + eps));
    }
}

// SGD as Sgd.java: w *= decay; w -= g lr
__global__ void sgd_kernel(float* w, const float* g, long n, float lr, float decay) {
    GRID_STRIDE(i, n) w[i] = w[i] * decay - g[i] * lr;
}

struct Identity {
    const float* x;
    __device__ float operator()(long i) const { return x[i]; }
};
struct Square {
    const float* x;
    __device__ double operator()(long i) const { return static_cast<double>(x[i]) * x[i]; }
};

// ---------------------------------------------------------------- conversion

__global__ void f16_to_f32_kernel(const __half* src, float* dst, long n) {
    GRID_STRIDE(i, n) dst[i] = __half2float(src[i]);
}
__global__ void bf16_to_f32_kernel(const __nv_bfloat16* src, float* dst, long n) {
    GRID_STRIDE(i, n) dst[i] = __bfloat162float(src[i]);
}
__global__ void f32_to_f16_kernel(const float* src, __half* dst, long n) {
    GRID_STRIDE(i, n) dst[i] = __float2half_rn(src[i]);
}
__global__ void f32_to_bf16_kernel(const float* src, __nv_bfloat16* dst, long n) {
    GRID_STRIDE(i, n) dst[i] = __float2bfloat16_rn(src[i]);
}

Dims dims_from(JNIEnv* env, jlongArray sizes, jlongArray strides) {
    Dims d{};
    d.n = sizes == nullptr ? 0 : env->GetArrayLength(sizes);
    if (d.n > MAX_DIMS) d.n = -1;
    if (d.n > 0) {
        env->GetLongArrayRegion(sizes, 0, d.n, d.size);
        env->GetLongArrayRegion(strides, 0, d.n, d.stride);
    }
    return d;
}

}  // namespace

#define LAUNCH(kernel, n, ...)                                  \
    do {                                                        \
        if ((n) <= 0) return;                                   \
        kernel<<<blocks_for(n), BLOCK>>>(__VA_ARGS__);          \
        launch_failed(env, #kernel);                            \
    } while (0)

// ---------------------------------------------------------------- JNI

KERNEL_FN(void, geluForward)(JNIEnv* env, jclass, jlong x, jlong y, jlong n) {
    LAUNCH(gelu_forward_kernel, n, dptr<const float>(x), dptr<float>(y), n);
}
KERNEL_FN(void, geluBackward)(JNIEnv* env, jclass, jlong x, jlong dy, jlong dx, jlong n) {
    LAUNCH(gelu_backward_kernel, n, dptr<const float>(x), dptr<const float>(dy), dptr<float>(dx), n);
}
KERNEL_FN(void, quickGeluForward)(JNIEnv* env, jclass, jlong x, jlong y, jlong n) {
    LAUNCH(quick_gelu_forward_kernel, n, dptr<const float>(x), dptr<float>(y), n);
}
KERNEL_FN(void, quickGeluBackward)(JNIEnv* env, jclass, jlong x, jlong dy, jlong dx, jlong n) {
    LAUNCH(quick_gelu_backward_kernel, n, dptr<const float>(x), dptr<const float>(dy), dptr<float>(dx), n);
}
KERNEL_FN(void, siluForward)(JNIEnv* env, jclass, jlong x, jlong y, jlong n) {
    LAUNCH(silu_forward_kernel, n, dptr<const float>(x), dptr<float>(y), n);
}
KERNEL_FN(void, siluBackward)(JNIEnv* env, jclass, jlong x, jlong dy, jlong dx, jlong n) {
    LAUNCH(silu_backward_kernel, n, dptr<const float>(x), dptr<const float>(dy), dptr<float>(dx), n);
}
KERNEL_FN(void, swigluForward)(JNIEnv* env, jclass, jlong g, jlong u, jlong y, jlong n) {
    LAUNCH(swiglu_forward_kernel, n, dptr<const float>(g), dptr<const float>(u), dptr<float>(y), n);
}
KERNEL_FN(void, swigluBackward)(JNIEnv* env, jclass, jlong g, jlong u, jlong dy, jlong dg, jlong du, jlong n) {
    LAUNCH(swiglu_backward_kernel, n, dptr<const float>(g), dptr<const float>(u), dptr<const float>(dy), dptr<float>(dg),
           dptr<float>(du), n);
}

KERNEL_FN(void, add)(JNIEnv* env, jclass, jlong a, jlong b, jlong y, jlong n) {
    LAUNCH(add_kernel, n, dptr<const float>(a), dptr<const float>(b), dptr<float>(y), n);
}
KERNEL_FN(void, mul)(JNIEnv* env, jclass, jlong a, jlong b, jlong y, jlong n) {
    LAUNCH(mul_kernel, n, dptr<const float>(a), dptr<const float>(b), dptr<float>(y), n);
}
KERNEL_FN(void, scale)(JNIEnv* env, jclass, jlong x, jfloat s, jlong y, jlong n) {
    LAUNCH(scale_kernel, n, dptr<const float>(x), s, dptr<float>(y), n);
}
KERNEL_FN(void, accumulate)(JNIEnv* env, jclass, jlong dst, jlong src, jlong n) {
    LAUNCH(accumulate_kernel, n, dptr<float>(dst), dptr<const float>(src), n);
}
KERNEL_FN(void, fill)(JNIEnv* env, jclass, jlong dst, jfloat value, jlong n) { LAUNCH(fill_kernel, n, dptr<float>(dst), value, n); }
KERNEL_FN(void, fillFromScalar)(JNIEnv* env, jclass, jlong dst, jlong src, jfloat scale, jlong n) {
    LAUNCH(fill_from_scalar_kernel, n, dptr<float>(dst), dptr<const float>(src), scale, n);
}

// y = a + b broadcast: sizes = a's shape, bStrides = b's element strides aligned to a's
// dimensions (0 where b has size 1 or lacks the dimension).
KERNEL_FN(void, addBroadcast)(JNIEnv* env, jclass, jlong a, jlong b, jlong y, jlong n, jlongArray sizes, jlongArray bStrides) {
    Dims d = dims_from(env, sizes, bStrides);
    if (d.n < 0) {
        throw_java(env, "addBroadcast: more than 8 dimensions");
        return;
    }
    LAUNCH(add_broadcast_kernel, n, dptr<const float>(a), dptr<const float>(b), dptr<float>(y), n, d);
}

// out[m] (+)= sums of g: see reduce_to_kernel. count = product of the reduced sizes.
KERNEL_FN(void, reduceTo)(JNIEnv* env, jclass, jlong g, jlong out, jlong m, jlongArray keptSizes, jlongArray keptStrides,
                          jlongArray reducedSizes, jlongArray reducedStrides, jboolean accumulate) {
    Dims kept = dims_from(env, keptSizes, keptStrides), reduced = dims_from(env, reducedSizes, reducedStrides);
    if (kept.n < 0 || reduced.n < 0) {
        throw_java(env, "reduceTo: more than 8 dimensions");
        return;
    }
    long count = 1;
    for (int k = 0; k < reduced.n; k++) count *= reduced.size[k];
    LAUNCH(reduce_to_kernel, m, dptr<const float>(g), dptr<float>(out), m, kept, reduced, count, accumulate == JNI_TRUE);
}

// y = x permuted: sizes = y's shape, strides = x's strides of the dimension each of y's comes from.
KERNEL_FN(void, permute)(JNIEnv* env, jclass, jlong x, jlong y, jlong n, jlongArray sizes, jlongArray strides) {
    Dims d = dims_from(env, sizes, strides);
    if (d.n < 0) {
        throw_java(env, "permute: more than 8 dimensions");
        return;
    }
    LAUNCH(permute_kernel, n, dptr<const float>(x), dptr<float>(y), n, d);
}

KERNEL_FN(void, copyBlock)(JNIEnv* env, jclass, jlong src, jlong dst, jlong outer, jlong rows, jlong inner, jlong srcRows,
                           jlong srcFrom, jlong dstRows, jlong dstFrom) {
    const long n = outer * rows * inner;
    LAUNCH(copy_block_kernel, n, dptr<const float>(src), dptr<float>(dst), outer, rows, inner, srcRows, srcFrom, dstRows, dstFrom);
}

// out[0] = scale * sum(x) (float), summed in double
KERNEL_FN(void, sum)(JNIEnv* env, jclass, jlong x, jlong n, jdouble scale, jlong out) {
    reduce_sum(env, Identity{dptr<const float>(x)}, n, scale, 0.0, dptr<float>(out), nullptr, false, "sum");
}

// out[0] (double) (+)= sum of x^2: the global gradient norm, one parameter at a time
KERNEL_FN(void, sumSquares)(JNIEnv* env, jclass, jlong x, jlong n, jlong out, jboolean accumulate) {
    reduce_sum(env, Square{dptr<const float>(x)}, n, 1.0, 0.0, nullptr, dptr<double>(out), accumulate == JNI_TRUE, "sumSquares");
}

// kind 0 MSE, 1 L1, 2 smooth L1: out[0] = mean over n elements
KERNEL_FN(void, regressionForward)(JNIEnv* env, jclass, jint kind, jlong p, jlong t, jlong n, jlong out) {
    reduce_sum(env, RegressionTerm{dptr<const float>(p), dptr<const float>(t), kind}, n, 1.0 / static_cast<double>(n), 0.0,
               dptr<float>(out), nullptr, false, "regressionForward");
}
KERNEL_FN(void, regressionBackward)(JNIEnv* env, jclass, jint kind, jlong p, jlong t, jlong n, jlong dloss, jlong dp, jlong dt) {
    LAUNCH(regression_backward_kernel, n, kind, dptr<const float>(p), dptr<const float>(t), n, dptr<const float>(dloss),
           dptr<float>(dp), dptr<float>(dt));
}

// out[0] = 1 - mean over rows of cos(p_i, t_i); cosScratch holds `rows` floats
KERNEL_FN(void, cosineForward)(JNIEnv* env, jclass, jlong p, jlong t, jlong rows, jlong D, jlong cosScratch, jlong out) {
    if (rows <= 0) return;
    cosine_rows_kernel<<<static_cast<unsigned int>(rows), BLOCK>>>(dptr<const float>(p), dptr<const float>(t), D,
                                                                    dptr<float>(cosScratch));
    if (launch_failed(env, "cosine_rows_kernel")) return;
    reduce_sum(env, Identity{dptr<const float>(cosScratch)}, rows, -1.0 / static_cast<double>(rows), 1.0, dptr<float>(out),
               nullptr, false, "cosineForward");
}
KERNEL_FN(void, cosineBackward)(JNIEnv* env, jclass, jlong p, jlong t, jlong rows, jlong D, jlong dloss, jlong dp, jlong dt) {
    if (rows <= 0) return;
    cosine_backward_kernel<<<static_cast<unsigned int>(rows), BLOCK>>>(dptr<const float>(p), dptr<const float>(t), rows, D,
                                                                        dptr<const float>(dloss), dptr<float>(dp), dptr<float>(dt));
    launch_failed(env, "cosine_backward_kernel");
}

KERNEL_FN(void, adamW)(JNIEnv* env, jclass, jlong w, jlong g, jlong m, jlong v, jlong n, jdouble beta1, jdouble beta2, jdouble eps,
                       jdouble step, jdouble bc2sqrt, jdouble decay) {
    LAUNCH(adamw_kernel, n, dptr<float>(w), dptr<const float>(g), dptr<float>(m), dptr<float>(v), n, static_cast<float>(beta1),
           static_cast<float>(1.0 - beta1), static_cast<float>(beta2), static_cast<float>(1.0 - beta2), static_cast<float>(eps),
           static_cast<float>(step), static_cast<float>(bc2sqrt), static_cast<float>(decay));
}
KERNEL_FN(void, sgd)(JNIEnv* env, jclass, jlong w, jlong g, jlong n, jdouble lr, jdouble decay) {
    LAUNCH(sgd_kernel, n, dptr<float>(w), dptr<const float>(g), n, static_cast<float>(lr), static_cast<float>(decay));
}

// kind 0 = F16, 1 = BF16
KERNEL_FN(void, toFloat)(JNIEnv* env, jclass, jint kind, jlong src, jlong dst, jlong n) {
    if (kind == 0) {
        LAUNCH(f16_to_f32_kernel, n, dptr<const __half>(src), dptr<float>(dst), n);
    } else {
        LAUNCH(bf16_to_f32_kernel, n, dptr<const __nv_bfloat16>(src), dptr<float>(dst), n);
    }
}
KERNEL_FN(void, fromFloat)(JNIEnv* env, jclass, jint kind, jlong src, jlong dst, jlong n) {
    if (kind == 0) {
        LAUNCH(f32_to_f16_kernel, n, dptr<const float>(src), dptr<__half>(dst), n);
    } else {
        LAUNCH(f32_to_bf16_kernel, n, dptr<const float>(src), dptr<__nv_bfloat16>(dst), n);
    }
}
