package io.github.vdep.core.ops;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/** RMSNorm (LLaMA) and LayerNorm (CLIP) over the last dimension. */
final class NormOps {
    private NormOps() {
    }

    /** y = w * x / sqrt(mean(x^2) + eps), as Hugging Face's LlamaRMSNorm. */
    static Tensor rmsNorm(Tensor x, Tensor w, double eps) {
        long c = x.size(x.rank() - 1);
        Shapes.require(w.rank() == 1 && w.size(0) == c, "rmsNorm: weight " + Shapes.str(w.shape()) + " does not match input " + Shapes.str(x.shape()));
        INDArray x2 = Shapes.rows(x.value());
        // r = 1 / sqrt(mean(x^2) + eps), one per row
        INDArray r = x2.mul(x2).mean(true, 1).addi(eps);
        Transforms.sqrt(r, false).rdivi(1.0);
        INDArray xhat = x2.mulColumnVector(r);
        INDArray y = xhat.mulRowVector(w.value()).reshape('c', x.shape());
        return Tape.op(y, g -> {
            INDArray g2 = Shapes.rows(g);
            if (w.requiresGrad()) {
                w.accumulateGradOwned(g2.mul(xhat).sum(0));
            }
            if (x.requiresGrad()) {
                INDArray gh = g2.mulRowVector(w.value());
                INDArray dot = gh.mul(xhat).mean(true, 1);
                INDArray dx = gh.subi(xhat.mulColumnVector(dot)).muliColumnVector(r);
                x.accumulateGradOwned(dx.reshape('c', x.shape()));
            }
        }, x, w);
    }

    /** y = (x - mean) / sqrt(var + eps) * w + b, biased variance, as torch.nn.LayerNorm. */
    static Tensor layerNorm(Tensor x, Tensor w, Tensor b, double eps) {
        long c = x.size(x.rank() - 1);
        Shapes.require(w.rank() == 1 && w.size(0) == c && b.rank() == 1 && b.size(0) == c,
                "layerNorm: weight " + Shapes.str(w.shape()) + " / bias " + Shapes.str(b.shape()) + " do not match input " + Shapes.str(x.shape()));
        INDArray x2 = Shapes.rows(x.value());
        INDArray mu = x2.mean(true, 1);
        INDArray xc = x2.subColumnVector(mu);
        INDArray rstd = xc.mul(xc).mean(true, 1).addi(eps);
        Transforms.sqrt(rstd, false).rdivi(1.0);
        INDArray xhat = xc.muliColumnVector(rstd);
        INDArray y = xhat.mulRowVector(w.value()).addiRowVector(b.value()).reshape('c', x.shape());
        return Tape.op(y, g -> {
            INDArray g2 = Shapes.rows(g);
            if (w.requiresGrad()) {
                w.accumulateGradOwned(g2.mul(xhat).sum(0));
            }
            if (b.requiresGrad()) {
                b.accumulateGradOwned(g2.sum(0));
            }
            if (x.requiresGrad()) {
                INDArray gh = g2.mulRowVector(w.value());
                INDArray meanG = gh.mean(true, 1);
                INDArray meanGx = gh.mul(xhat).mean(true, 1);
                INDArray dx = gh.subiColumnVector(meanG).subi(xhat.mulColumnVector(meanGx)).muliColumnVector(rstd);
                x.accumulateGradOwned(dx.reshape('c', x.shape()));
            }
        }, x, w, b);
    }
}
