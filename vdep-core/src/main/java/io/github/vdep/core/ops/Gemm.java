package io.github.vdep.core.ops;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * C = alpha op(A) op(B) + beta C for matrices. On ND4J's CPU backend, for whole row-major float
 * or double arrays, this calls OpenBLAS's {@code cblas_?gemm} directly: the same library (and
 * threads) that {@code Nd4j.gemm} ends in, without the operation set-up around it, which costs
 * 60 to 290 microseconds a call at LLaVA's layer sizes (measured on 520 x 128 x 128 to
 * 1024 x 688 x 256 products, docs/performance.md). Anything else goes through {@code Nd4j.gemm}.
 */
final class Gemm {
    private static final Logger LOG = LoggerFactory.getLogger(Gemm.class);
    private static final boolean DIRECT = direct();
    /** Products that took the direct OpenBLAS path (tests check that it runs). */
    private static final java.util.concurrent.atomic.LongAdder DIRECT_CALLS = new java.util.concurrent.atomic.LongAdder();

    private Gemm() {
    }

    private static boolean direct() {
        if (!Nd4j.getBackend().getClass().getName().contains(".cpu.")) {
            return false;
        }
        try {
            Class.forName("org.bytedeco.openblas.global.openblas_nolapack");
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            LOG.debug("OpenBLAS bindings not available ({}); gemm goes through ND4J", e.toString());
            return false;
        }
    }

    /**
     * c = alpha op(a) op(b) + beta c, op transposing when asked; c [M, N] must exist (with
     * beta = 0 its contents are ignored).
     */
    static void gemm(INDArray a, INDArray b, INDArray c, boolean transA, boolean transB, double alpha, double beta) {
        if (!DIRECT || !wholeMatrices(a, b, c)) {
            Nd4j.gemm(a, b, c, transA, transB, alpha, beta);
            return;
        }
        int m = (int) c.size(0);
        int n = (int) c.size(1);
        int k = (int) (transA ? a.size(0) : a.size(1));
        Shapes.require((transA ? a.size(1) : a.size(0)) == m && (transB ? b.size(1) : b.size(0)) == k && (transB ? b.size(0) : b.size(1)) == n,
                () -> "gemm: " + Shapes.str(a.shape()) + (transA ? "^T" : "") + " x " + Shapes.str(b.shape()) + (transB ? "^T" : "")
                        + " does not give " + Shapes.str(c.shape()));
        if (m == 0 || n == 0) {
            return;
        }
        DIRECT_CALLS.increment();
        int lda = (int) a.size(1);
        int ldb = (int) b.size(1);
        int ta = transA ? openblasTrans() : openblasNoTrans();
        int tb = transB ? openblasTrans() : openblasNoTrans();
        if (c.dataType() == DataType.FLOAT) {
            org.bytedeco.openblas.global.openblas_nolapack.cblas_sgemm(org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor, ta, tb, m, n,
                    k, (float) alpha, new FloatPointer(a.data().addressPointer()), lda, new FloatPointer(b.data().addressPointer()), ldb,
                    (float) beta, new FloatPointer(c.data().addressPointer()), n);
        } else {
            org.bytedeco.openblas.global.openblas_nolapack.cblas_dgemm(org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor, ta, tb, m, n,
                    k, alpha, new DoublePointer(a.data().addressPointer()), lda, new DoublePointer(b.data().addressPointer()), ldb, beta,
                    new DoublePointer(c.data().addressPointer()), n);
        }
        java.lang.ref.Reference.reachabilityFence(new Object[] {a, b, c}); // their memory is read above
    }

    /** Whether whole float/double matrices go straight to OpenBLAS on this backend. */
    static boolean directAvailable() {
        return DIRECT;
    }

    /** How many products have taken the direct OpenBLAS path so far. */
    static long directCalls() {
        return DIRECT_CALLS.sum();
    }

    private static int openblasTrans() {
        return org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;
    }

    private static int openblasNoTrans() {
        return org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
    }

    private static boolean wholeMatrices(INDArray a, INDArray b, INDArray c) {
        DataType t = c.dataType();
        if (t != DataType.FLOAT && t != DataType.DOUBLE) {
            return false;
        }
        for (INDArray x : new INDArray[] {a, b, c}) {
            if (x.rank() != 2 || x.dataType() != t || !Shapes.isWhole(x) || x.size(0) > Integer.MAX_VALUE || x.size(1) > Integer.MAX_VALUE
                    || x.length() == 0) {
                return false;
            }
        }
        return true;
    }
}
