package io.github.vdep.core.cuda;

/**
 * What {@link CudaBackend} asks of the GPU: the kernels of {@link CudaKernels} and the copies of
 * {@link CudaRuntime}, with the same arguments and meaning (see there). {@link #jni()} is the
 * real one; tests substitute a host emulation so the backend's own logic (shapes, strides,
 * argument order, gradient bookkeeping) runs without a GPU.
 */
public interface CudaApi {
    /** The kernels of libvdepcuda.so. */
    static CudaApi jni() {
        return JniCudaApi.INSTANCE;
    }

    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb, float beta, long c, int ldc);

    void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long strideA, long b, int ldb, long strideB, float beta, long c, int ldc, long strideC, int batch);

    void geluForward(long x, long y, long n);

    void geluBackward(long x, long dy, long dx, long n);

    void quickGeluForward(long x, long y, long n);

    void quickGeluBackward(long x, long dy, long dx, long n);

    void siluForward(long x, long y, long n);

    void siluBackward(long x, long dy, long dx, long n);

    void swigluForward(long g, long u, long y, long n);

    void swigluBackward(long g, long u, long dy, long dg, long du, long n);

    void add(long a, long b, long y, long n);

    void mul(long a, long b, long y, long n);

    void scale(long x, float s, long y, long n);

    void accumulate(long dst, long src, long n);

    void fill(long dst, float value, long n);

    void fillFromScalar(long dst, long src, float scale, long n);

    void addBroadcast(long a, long b, long y, long n, long[] sizes, long[] bStrides);

    void reduceTo(long g, long out, long m, long[] keptSizes, long[] keptStrides, long[] reducedSizes, long[] reducedStrides, boolean accumulate);

    void permute(long x, long y, long n, long[] sizes, long[] strides);

    void copyBlock(long src, long dst, long outer, long rows, long inner, long srcRows, long srcFrom, long dstRows, long dstFrom);

    void sum(long x, long n, double scale, long out);

    void sumSquares(long x, long n, long out, boolean accumulate);

    void toFloat(int kind, long src, long dst, long n);

    void fromFloat(int kind, long src, long dst, long n);

    void regressionForward(int kind, long p, long t, long n, long out);

    void regressionBackward(int kind, long p, long t, long n, long dloss, long dp, long dt);

    void cosineForward(long p, long t, long rows, long d, long cosScratch, long out);

    void cosineBackward(long p, long t, long rows, long d, long dloss, long dp, long dt);

    void crossEntropyForward(long x, int rows, int vocab, long targets, int ignoreIndex, long lse, long rowLoss, double invNorm, long loss);

    void crossEntropyBackward(long x, int rows, int vocab, long targets, int ignoreIndex, long lse, long dloss, double invNorm, long grad);

    void adamW(long w, long g, long m, long v, long n, double beta1, double beta2, double eps, double stepSize, double bc2Sqrt, double decay);

    void sgd(long w, long g, long n, double lr, double decay);

    void rmsForward(long x, long w, long y, long rstd, int rows, int c, double eps);

    void rmsBackward(long g, long x, long w, long rstd, long dx, long dw, int rows, int c, boolean accumulateDw);

    void layerForward(long x, long w, long b, long y, long mean, long rstd, int rows, int c, double eps);

    void layerBackward(long g, long x, long w, long mean, long rstd, long dx, long dw, long db, int rows, int c, boolean accumulateParams);

    void columnSum(long g, long rows, int c, long out, boolean accumulate);

    void rope(long x, long cos, long sin, long y, long rows, int t, int hp, int d, boolean transpose);

    void gatherRows(long src, int c, long idx, long n, long dst);

    void scatterRows(long src, int c, long idx, long n, long dst);

    void zeroRows(long dst, int c, long idx, long n);

    void scatterAddRows(long src, int c, long rows, long offsets, long positions, int distinct, long dst);

    void flashAttentionForward(long q, long k, long v, long keyMask, long lse, long y, int b, int hkv, int rep, int t, int s, int d, boolean causal,
            double scale, boolean tokenMajor);

    void flashAttentionBackward(long q, long k, long v, long keyMask, long y, long lse, long dy, long dq, long dk, long dv, long dRows, int b, int hkv,
            int rep, int t, int s, int d, boolean causal, double scale, boolean tokenMajor);

    void attentionProbabilities(long q, long k, long keyMask, long lse, long probs, int b, int hkv, int rep, int t, int s, int d, boolean causal,
            double scale, boolean tokenMajor);

    void copyToDevice(long dst, long hostSrc, long bytes);

    void copyToHost(long hostDst, long src, long bytes);

    void copyOnDevice(long dst, long src, long bytes);

    void copyBufferToDevice(long dst, java.nio.ByteBuffer buffer, long offset, long bytes);

    void copyDeviceToBuffer(java.nio.ByteBuffer buffer, long offset, long src, long bytes);

    void memset(long dst, int value, long bytes);
}
