package io.github.vdep.core.cuda;

/**
 * The kernels of {@code libvdepcuda.so} (sources in {@code vdep-core/src/main/cuda}), called
 * with device addresses of contiguous row-major FP32 arrays ({@code long}s from
 * {@link CudaAllocator}). Sizes are in elements. All work is queued on the device's default
 * stream; a failed launch throws {@link CudaException}, and an error during execution surfaces
 * at the next synchronising call. An address of 0 means "not wanted" where a method says so.
 *
 * <p>Callers check shapes; these methods do not. Only the CUDA backend calls them.
 * Accumulation orders differ from the CPU kernels, so results agree with them to float
 * rounding (checked by {@code vdep selfcheck --device cuda}), not bit for bit.
 */
public final class CudaKernels {
    private CudaKernels() {
    }

    // ---------------------------------------------------------------- matrix products (runtime.cu, cuBLAS)

    /** Row-major C[M x N] = alpha op(A) op(B) + beta C; lda, ldb, ldc are row strides (op = transpose when set). */
    public static native void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb,
            float beta, long c, int ldc);

    /** {@link #gemm} for {@code batch} products whose operands are strideA/B/C elements apart. */
    public static native void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
            long strideA, long b, int ldb, long strideB, float beta, long c, int ldc, long strideC, int batch);

    // ---------------------------------------------------------------- activations (elementwise.cu)

    /** Exact (erf) GELU. */
    public static native void geluForward(long x, long y, long n);

    public static native void geluBackward(long x, long dy, long dx, long n);

    /** x sigmoid(1.702 x). */
    public static native void quickGeluForward(long x, long y, long n);

    public static native void quickGeluBackward(long x, long dy, long dx, long n);

    public static native void siluForward(long x, long y, long n);

    public static native void siluBackward(long x, long dy, long dx, long n);

    /** y = silu(g) u. */
    public static native void swigluForward(long g, long u, long y, long n);

    /** dg and du may be 0. */
    public static native void swigluBackward(long g, long u, long dy, long dg, long du, long n);

    // ---------------------------------------------------------------- arithmetic and layout

    public static native void add(long a, long b, long y, long n);

    public static native void mul(long a, long b, long y, long n);

    /** y = s x (y may be x). */
    public static native void scale(long x, float s, long y, long n);

    /** dst += src. */
    public static native void accumulate(long dst, long src, long n);

    public static native void fill(long dst, float value, long n);

    /** dst[i] = src[0] * scale (src a device scalar). */
    public static native void fillFromScalar(long dst, long src, float scale, long n);

    /**
     * y = a + b broadcast: {@code sizes} is a's shape, {@code bStrides} b's element strides
     * aligned to a's dimensions, 0 where b is broadcast (at most 8 dimensions).
     */
    public static native void addBroadcast(long a, long b, long y, long n, long[] sizes, long[] bStrides);

    /**
     * out[j] (+)= sum of g over the reduced dimensions (in double): j runs over the kept
     * dimensions ({@code keptSizes}, with g's strides {@code keptStrides}), the sum over the
     * reduced ones; m = product of keptSizes.
     */
    public static native void reduceTo(long g, long out, long m, long[] keptSizes, long[] keptStrides, long[] reducedSizes,
            long[] reducedStrides, boolean accumulate);

    /** y (shape {@code sizes}, row-major) [i] = x at the offset given by {@code strides}: x's stride of each of y's dimensions. */
    public static native void permute(long x, long y, long n, long[] sizes, long[] strides);

    /**
     * Viewing src as [outer, srcRows, inner] and dst as [outer, dstRows, inner], copies rows
     * [srcFrom, srcFrom + rows) of src to [dstFrom, dstFrom + rows) of dst: slice, concat and their backward.
     */
    public static native void copyBlock(long src, long dst, long outer, long rows, long inner, long srcRows, long srcFrom, long dstRows,
            long dstFrom);

    /** out[0] = scale * sum(x), summed in double. */
    public static native void sum(long x, long n, double scale, long out);

    /** Double out[0] (+)= sum of x^2, summed in double: the global gradient norm. */
    public static native void sumSquares(long x, long n, long out, boolean accumulate);

    /** kind 0 = F16, 1 = BF16: dst (float) = src converted. */
    public static native void toFloat(int kind, long src, long dst, long n);

    /** kind 0 = F16, 1 = BF16: dst = src (float) rounded to nearest even. */
    public static native void fromFloat(int kind, long src, long dst, long n);

    // ---------------------------------------------------------------- losses

    /** kind 0 = MSE, 1 = L1, 2 = smooth L1 (beta 1): out[0] = the mean over n elements. */
    public static native void regressionForward(int kind, long p, long t, long n, long out);

    /** dp = f'(p - t) dloss[0] / n, dt = -dp (either may be 0). */
    public static native void regressionBackward(int kind, long p, long t, long n, long dloss, long dp, long dt);

    /** out[0] = 1 - mean over rows of cos(p_i, t_i) (norms clamped at 1e-8); cosScratch holds {@code rows} floats. */
    public static native void cosineForward(long p, long t, long rows, long d, long cosScratch, long out);

    public static native void cosineBackward(long p, long t, long rows, long d, long dloss, long dp, long dt);

    /**
     * Per row of x [N, V]: lse (N floats) and rowLoss = lse - x[target] (0 at ignored rows, N
     * floats); loss[0] = sum(rowLoss) * invNorm. targets: N device ints.
     */
    public static native void crossEntropyForward(long x, int rows, int vocab, long targets, int ignoreIndex, long lse, long rowLoss,
            double invNorm, long loss);

    /** grad = (softmax(x) - onehot(target)) dloss[0] invNorm on supervised rows, 0 elsewhere. */
    public static native void crossEntropyBackward(long x, int rows, int vocab, long targets, int ignoreIndex, long lse, long dloss,
            double invNorm, long grad);

    // ---------------------------------------------------------------- optimizers

    /** AdamW as FusedAdamW (float, torch's order) after w *= decay (1 - lr wd, or 1). */
    public static native void adamW(long w, long g, long m, long v, long n, double beta1, double beta2, double eps, double stepSize,
            double bc2Sqrt, double decay);

    /** w = w decay - g lr. */
    public static native void sgd(long w, long g, long n, double lr, double decay);

    // ---------------------------------------------------------------- rows (rows.cu)

    /** y = x r w; rstd: N doubles written (r per row). */
    public static native void rmsForward(long x, long w, long y, long rstd, int rows, int c, double eps);

    /** dx (0: not wanted) overwritten; dw (0: not wanted) overwritten or accumulated. */
    public static native void rmsBackward(long g, long x, long w, long rstd, long dx, long dw, int rows, int c, boolean accumulateDw);

    /** mean and rstd: N doubles each, written. */
    public static native void layerForward(long x, long w, long b, long y, long mean, long rstd, int rows, int c, double eps);

    public static native void layerBackward(long g, long x, long w, long mean, long rstd, long dx, long dw, long db, int rows, int c,
            boolean accumulateParams);

    /** out[j] (+)= sum over rows of g[i, j] (double): a bias gradient. */
    public static native void columnSum(long g, long rows, int c, long out, boolean accumulate);

    /**
     * Rotary embedding (rotate-half) of rows of x [rows, d]; row r is at position (r / hp) % T of
     * cos, sin [T, d]; hp = 1 for [B, H, T, d], H for [B, T, H, d]. transpose: the backward.
     */
    public static native void rope(long x, long cos, long sin, long y, long rows, int t, int hp, int d, boolean transpose);

    /** dst[i] = src[idx[i]], rows of c floats; idx: n device ints. */
    public static native void gatherRows(long src, int c, long idx, long n, long dst);

    /** dst[idx[i]] = src[i] (distinct idx). */
    public static native void scatterRows(long src, int c, long idx, long n, long dst);

    public static native void zeroRows(long dst, int c, long idx, long n);

    /**
     * dst[rows[u]] += sum of src[positions[k]], k in [offsets[u], offsets[u + 1]), for u below
     * {@code distinct}; no atomics, so the result is reproducible (see {@link RowGroups}).
     */
    public static native void scatterAddRows(long src, int c, long rows, long offsets, long positions, int distinct, long dst);

    // ---------------------------------------------------------------- attention (attention.cu)

    /**
     * FlashAttention-2's forward: softmax(q k^T scale + masks) v with grouped KV heads, without
     * copying K or V and without the [T, S] probabilities. Heads-major q, y [B, H, T, d], k, v
     * [B, Hkv, S, d], or token-major q, y [B, T, H, d], k, v [B, S, Hkv, d]; y and lse [B, H, T]
     * (each query row's log-sum-exp, +inf for a row with no visible key) written; keyMask float
     * [B, S] (0 at padding) or 0; S >= T, the queries being the last T positions.
     */
    public static native void flashAttentionForward(long q, long k, long v, long keyMask, long lse, long y, int b, int hkv, int rep, int t,
            int s, int d, boolean causal, double scale, boolean tokenMajor);

    /**
     * Its backward from dy, y and lse: dq, dk, dv (each 0 when not wanted) overwritten; dRows is
     * scratch [B, H, T] for D = rowsum(dy * y).
     */
    public static native void flashAttentionBackward(long q, long k, long v, long keyMask, long y, long lse, long dy, long dq, long dk,
            long dv, long dRows, int b, int hkv, int rep, int t, int s, int d, boolean causal, double scale, boolean tokenMajor);

    /** The probabilities [B, H, T, S] recomputed from q, k and the forward's lse (attention maps). */
    public static native void attentionProbabilities(long q, long k, long keyMask, long lse, long probs, int b, int hkv, int rep, int t, int s,
            int d, boolean causal, double scale, boolean tokenMajor);
}
