package io.github.vdep.core.cuda;

/** {@link CudaApi} on libvdepcuda.so: each call goes straight to its native method. */
final class JniCudaApi implements CudaApi {
    static final JniCudaApi INSTANCE = new JniCudaApi();

    private JniCudaApi() {
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb, float beta, long c, int ldc) {
        CudaKernels.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    @Override
    public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long strideA, long b, int ldb, long strideB, float beta, long c, int ldc, long strideC, int batch) {
        CudaKernels.gemmStridedBatched(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch);
    }

    @Override
    public void geluForward(long x, long y, long n) {
        CudaKernels.geluForward(x, y, n);
    }

    @Override
    public void geluBackward(long x, long dy, long dx, long n) {
        CudaKernels.geluBackward(x, dy, dx, n);
    }

    @Override
    public void quickGeluForward(long x, long y, long n) {
        CudaKernels.quickGeluForward(x, y, n);
    }

    @Override
    public void quickGeluBackward(long x, long dy, long dx, long n) {
        CudaKernels.quickGeluBackward(x, dy, dx, n);
    }

    @Override
    public void siluForward(long x, long y, long n) {
        CudaKernels.siluForward(x, y, n);
    }

    @Override
    public void siluBackward(long x, long dy, long dx, long n) {
        CudaKernels.siluBackward(x, dy, dx, n);
    }

    @Override
    public void swigluForward(long g, long u, long y, long n) {
        CudaKernels.swigluForward(g, u, y, n);
    }

    @Override
    public void swigluBackward(long g, long u, long dy, long dg, long du, long n) {
        CudaKernels.swigluBackward(g, u, dy, dg, du, n);
    }

    @Override
    public void add(long a, long b, long y, long n) {
        CudaKernels.add(a, b, y, n);
    }

    @Override
    public void mul(long a, long b, long y, long n) {
        CudaKernels.mul(a, b, y, n);
    }

    @Override
    public void scale(long x, float s, long y, long n) {
        CudaKernels.scale(x, s, y, n);
    }

    @Override
    public void accumulate(long dst, long src, long n) {
        CudaKernels.accumulate(dst, src, n);
    }

    @Override
    public void fill(long dst, float value, long n) {
        CudaKernels.fill(dst, value, n);
    }

    @Override
    public void fillFromScalar(long dst, long src, float scale, long n) {
        CudaKernels.fillFromScalar(dst, src, scale, n);
    }

    @Override
    public void addBroadcast(long a, long b, long y, long n, long[] sizes, long[] bStrides) {
        CudaKernels.addBroadcast(a, b, y, n, sizes, bStrides);
    }

    @Override
    public void reduceTo(long g, long out, long m, long[] keptSizes, long[] keptStrides, long[] reducedSizes, long[] reducedStrides, boolean accumulate) {
        CudaKernels.reduceTo(g, out, m, keptSizes, keptStrides, reducedSizes, reducedStrides, accumulate);
    }

    @Override
    public void permute(long x, long y, long n, long[] sizes, long[] strides) {
        CudaKernels.permute(x, y, n, sizes, strides);
    }

    @Override
    public void copyBlock(long src, long dst, long outer, long rows, long inner, long srcRows, long srcFrom, long dstRows, long dstFrom) {
        CudaKernels.copyBlock(src, dst, outer, rows, inner, srcRows, srcFrom, dstRows, dstFrom);
    }

    @Override
    public void sum(long x, long n, double scale, long out) {
        CudaKernels.sum(x, n, scale, out);
    }

    @Override
    public void sumSquares(long x, long n, long out, boolean accumulate) {
        CudaKernels.sumSquares(x, n, out, accumulate);
    }

    @Override
    public void toFloat(int kind, long src, long dst, long n) {
        CudaKernels.toFloat(kind, src, dst, n);
    }

    @Override
    public void fromFloat(int kind, long src, long dst, long n) {
        CudaKernels.fromFloat(kind, src, dst, n);
    }

    @Override
    public void regressionForward(int kind, long p, long t, long n, long out) {
        CudaKernels.regressionForward(kind, p, t, n, out);
    }

    @Override
    public void regressionBackward(int kind, long p, long t, long n, long dloss, long dp, long dt) {
        CudaKernels.regressionBackward(kind, p, t, n, dloss, dp, dt);
    }

    @Override
    public void cosineForward(long p, long t, long rows, long d, long cosScratch, long out) {
        CudaKernels.cosineForward(p, t, rows, d, cosScratch, out);
    }

    @Override
    public void cosineBackward(long p, long t, long rows, long d, long dloss, long dp, long dt) {
        CudaKernels.cosineBackward(p, t, rows, d, dloss, dp, dt);
    }

    @Override
    public void crossEntropyForward(long x, int rows, int vocab, long targets, int ignoreIndex, long lse, long rowLoss, double invNorm, long loss) {
        CudaKernels.crossEntropyForward(x, rows, vocab, targets, ignoreIndex, lse, rowLoss, invNorm, loss);
    }

    @Override
    public void crossEntropyBackward(long x, int rows, int vocab, long targets, int ignoreIndex, long lse, long dloss, double invNorm, long grad) {
        CudaKernels.crossEntropyBackward(x, rows, vocab, targets, ignoreIndex, lse, dloss, invNorm, grad);
    }

    @Override
    public void adamW(long w, long g, long m, long v, long n, double beta1, double beta2, double eps, double stepSize, double bc2Sqrt, double decay) {
        CudaKernels.adamW(w, g, m, v, n, beta1, beta2, eps, stepSize, bc2Sqrt, decay);
    }

    @Override
    public void sgd(long w, long g, long n, double lr, double decay) {
        CudaKernels.sgd(w, g, n, lr, decay);
    }

    @Override
    public void rmsForward(long x, long w, long y, long rstd, int rows, int c, double eps) {
        CudaKernels.rmsForward(x, w, y, rstd, rows, c, eps);
    }

    @Override
    public void rmsBackward(long g, long x, long w, long rstd, long dx, long dw, int rows, int c, boolean accumulateDw) {
        CudaKernels.rmsBackward(g, x, w, rstd, dx, dw, rows, c, accumulateDw);
    }

    @Override
    public void layerForward(long x, long w, long b, long y, long mean, long rstd, int rows, int c, double eps) {
        CudaKernels.layerForward(x, w, b, y, mean, rstd, rows, c, eps);
    }

    @Override
    public void layerBackward(long g, long x, long w, long mean, long rstd, long dx, long dw, long db, int rows, int c, boolean accumulateParams) {
        CudaKernels.layerBackward(g, x, w, mean, rstd, dx, dw, db, rows, c, accumulateParams);
    }

    @Override
    public void columnSum(long g, long rows, int c, long out, boolean accumulate) {
        CudaKernels.columnSum(g, rows, c, out, accumulate);
    }

    @Override
    public void rope(long x, long cos, long sin, long y, long rows, int t, int hp, int d, boolean transpose) {
        CudaKernels.rope(x, cos, sin, y, rows, t, hp, d, transpose);
    }

    @Override
    public void gatherRows(long src, int c, long idx, long n, long dst) {
        CudaKernels.gatherRows(src, c, idx, n, dst);
    }

    @Override
    public void scatterRows(long src, int c, long idx, long n, long dst) {
        CudaKernels.scatterRows(src, c, idx, n, dst);
    }

    @Override
    public void zeroRows(long dst, int c, long idx, long n) {
        CudaKernels.zeroRows(dst, c, idx, n);
    }

    @Override
    public void scatterAddRows(long src, int c, long rows, long offsets, long positions, int distinct, long dst) {
        CudaKernels.scatterAddRows(src, c, rows, offsets, positions, distinct, dst);
    }

    @Override
    public void flashAttentionForward(long q, long k, long v, long keyMask, long lse, long y, int b, int hkv, int rep, int t, int s, int d,
            boolean causal, double scale, boolean tokenMajor) {
        CudaKernels.flashAttentionForward(q, k, v, keyMask, lse, y, b, hkv, rep, t, s, d, causal, scale, tokenMajor);
    }

    @Override
    public void flashAttentionBackward(long q, long k, long v, long keyMask, long y, long lse, long dy, long dq, long dk, long dv, long dRows, int b,
            int hkv, int rep, int t, int s, int d, boolean causal, double scale, boolean tokenMajor) {
        CudaKernels.flashAttentionBackward(q, k, v, keyMask, y, lse, dy, dq, dk, dv, dRows, b, hkv, rep, t, s, d, causal, scale, tokenMajor);
    }

    @Override
    public void attentionProbabilities(long q, long k, long keyMask, long lse, long probs, int b, int hkv, int rep, int t, int s, int d,
            boolean causal, double scale, boolean tokenMajor) {
        CudaKernels.attentionProbabilities(q, k, keyMask, lse, probs, b, hkv, rep, t, s, d, causal, scale, tokenMajor);
    }

    @Override
    public void copyToDevice(long dst, long hostSrc, long bytes) {
        CudaRuntime.copyToDevice(dst, hostSrc, bytes);
    }

    @Override
    public void copyToHost(long hostDst, long src, long bytes) {
        CudaRuntime.copyToHost(hostDst, src, bytes);
    }

    @Override
    public void copyOnDevice(long dst, long src, long bytes) {
        CudaRuntime.copyOnDevice(dst, src, bytes);
    }

    @Override
    public void copyBufferToDevice(long dst, java.nio.ByteBuffer buffer, long offset, long bytes) {
        CudaRuntime.copyBufferToDevice(dst, buffer, offset, bytes);
    }

    @Override
    public void copyDeviceToBuffer(java.nio.ByteBuffer buffer, long offset, long src, long bytes) {
        CudaRuntime.copyDeviceToBuffer(buffer, offset, src, bytes);
    }

    @Override
    public void memset(long dst, int value, long bytes) {
        CudaRuntime.memset(dst, value, bytes);
    }
}
