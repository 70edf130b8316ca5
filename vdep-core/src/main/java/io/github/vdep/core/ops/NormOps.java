package io.github.vdep.core.ops;

import io.github.vdep.core.autograd.Buffers;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * RMSNorm (LLaMA) and LayerNorm (CLIP) over the last dimension: one-pass row kernels
 * ({@link RowKernels}) for whole float/double arrays, ND4J array operations otherwise.
 */
final class NormOps {
    private NormOps() {
    }

    /**
     * y = w * x / sqrt(mean(x^2) + eps), as Hugging Face's LlamaRMSNorm. Only the per-row scale
     * is kept for the backward pass (the normalised input is recomputed from the input).
     */
    static Tensor rmsNorm(Tensor x, Tensor w, double eps) {
        long c = x.size(x.rank() - 1);
        Shapes.require(w.rank() == 1 && w.size(0) == c, () -> "rmsNorm: weight " + Shapes.str(w.shape()) + " does not match input " + Shapes.str(x.shape()));
        INDArray x2 = Shapes.rows(x.value());
        if (RowKernels.applies(x2, w.value())) {
            double[] r = new double[(int) x2.size(0)];
            INDArray y = RowKernels.rmsForward(x2, w.value(), eps, r).reshape('c', x.shape());
            if (!Tape.needsGrad(x, w)) {
                return Tape.constantOwned(y);
            }
            return Tape.opOwned(y, g -> {
                INDArray g2 = whole(Shapes.rows(g));
                INDArray[] d = RowKernels.rmsBackward(g2, x2, w.value(), r, x.requiresGrad(), w.requiresGrad());
                if (g2 != g && !g2.isView()) {
                    Buffers.release(g2);
                }
                if (d[1] != null) {
                    w.accumulateGradOwned(d[1]);
                }
                if (d[0] != null) {
                    x.accumulateGradOwned(d[0].reshape('c', x.shape()));
                }
            }, x, w);
        }
        // r = 1 / sqrt(mean(x^2) + eps), one per row
        INDArray sq = x2.mul(x2);
        INDArray r = sq.mean(true, 1).addi(eps);
        Buffers.release(sq);
        Transforms.sqrt(r, false).rdivi(1.0);
        INDArray y = x2.mulColumnVector(r).muliRowVector(w.value()).reshape('c', x.shape());
        if (!Tape.needsGrad(x, w)) {
            Buffers.release(r);
            return Tape.constantOwned(y);
        }
        return Tape.opOwned(y, g -> {
            INDArray g2 = Shapes.rows(g);
            INDArray xhat = x2.mulColumnVector(r);
            if (w.requiresGrad()) {
                INDArray gx = g2.mul(xhat);
                w.accumulateGradOwned(gx.sum(0));
                Buffers.release(gx);
            }
            if (x.requiresGrad()) {
                INDArray gh = g2.mulRowVector(w.value());
                INDArray ghx = gh.mul(xhat);
                INDArray dot = ghx.mean(true, 1);
                Buffers.release(ghx);
                INDArray dx = gh.subi(xhat.muliColumnVector(dot)).muliColumnVector(r);
                Buffers.release(dot);
                x.accumulateGradOwned(dx.reshape('c', x.shape()));
            }
            Buffers.release(xhat, r);
        }, x, w);
    }

    /** y = (x - mean) / sqrt(var + eps) * w + b, biased variance, as torch.nn.LayerNorm. */
    static Tensor layerNorm(Tensor x, Tensor w, Tensor b, double eps) {
        long c = x.size(x.rank() - 1);
        Shapes.require(w.rank() == 1 && w.size(0) == c && b.rank() == 1 && b.size(0) == c,
                () -> "layerNorm: weight " + Shapes.str(w.shape()) + " / bias " + Shapes.str(b.shape()) + " do not match input " + Shapes.str(x.shape()));
        INDArray x2 = Shapes.rows(x.value());
        if (RowKernels.applies(x2, w.value(), b.value())) {
            int n = (int) x2.size(0);
            double[] mean = new double[n];
            double[] rstd = new double[n];
            INDArray y = RowKernels.layerForward(x2, w.value(), b.value(), eps, mean, rstd).reshape('c', x.shape());
            if (!Tape.needsGrad(x, w, b)) {
                return Tape.constantOwned(y);
            }
            return Tape.opOwned(y, g -> {
                INDArray g2 = whole(Shapes.rows(g));
                INDArray[] d = RowKernels.layerBackward(g2, x2, w.value(), mean, rstd, x.requiresGrad(), w.requiresGrad(), b.requiresGrad());
                if (g2 != g && !g2.isView()) {
                    Buffers.release(g2);
                }
                if (d[1] != null) {
                    w.accumulateGradOwned(d[1]);
                }
                if (d[2] != null) {
                    b.accumulateGradOwned(d[2]);
                }
                if (d[0] != null) {
                    x.accumulateGradOwned(d[0].reshape('c', x.shape()));
                }
            }, x, w, b);
        }
        INDArray mu = x2.mean(true, 1);
        INDArray xc = x2.subColumnVector(mu);
        Buffers.release(mu);
        INDArray sq = xc.mul(xc);
        INDArray rstd = sq.mean(true, 1).addi(eps);
        Buffers.release(sq);
        Transforms.sqrt(rstd, false).rdivi(1.0);
        INDArray xhat = xc.muliColumnVector(rstd);
        INDArray y = xhat.mulRowVector(w.value()).addiRowVector(b.value()).reshape('c', x.shape());
        if (!Tape.needsGrad(x, w, b)) {
            Buffers.release(xhat, rstd);
            return Tape.constantOwned(y);
        }
        return Tape.opOwned(y, g -> {
            INDArray g2 = Shapes.rows(g);
            if (w.requiresGrad()) {
                INDArray gx = g2.mul(xhat);
                w.accumulateGradOwned(gx.sum(0));
                Buffers.release(gx);
            }
            if (b.requiresGrad()) {
                b.accumulateGradOwned(g2.sum(0));
            }
            if (x.requiresGrad()) {
                INDArray gh = g2.mulRowVector(w.value());
                INDArray meanG = gh.mean(true, 1);
                INDArray ghx = gh.mul(xhat);
                INDArray meanGx = ghx.mean(true, 1);
                Buffers.release(ghx);
                INDArray dx = gh.subiColumnVector(meanG).subi(xhat.muliColumnVector(meanGx)).muliColumnVector(rstd);
                Buffers.release(meanG, meanGx);
                x.accumulateGradOwned(dx.reshape('c', x.shape()));
            }
            Buffers.release(xhat, rstd);
        }, x, w, b);
    }

    /** {@code a} itself if it is a whole row-major array, else a row-major copy. */
    private static INDArray whole(INDArray a) {
        return Shapes.isWhole(a) ? a : a.dup('c');
    }
}
