package io.github.vdep.core.ops;

import io.github.vdep.core.autograd.Buffers;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import java.util.Arrays;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Distances between predicted and target embeddings [..., D], reduced to a scalar. Both inputs
 * may require gradients (a detached target simply does not).
 */
public enum RegressionLoss {
    /** Mean squared error over all elements. */
    MSE,
    /** Mean absolute error over all elements. */
    L1,
    /** Huber-style smooth L1 with beta = 1 (PyTorch's SmoothL1Loss), mean over all elements. */
    SMOOTH_L1,
    /** 1 - cosine similarity per row, mean over rows (norms clamped at 1e-8 as PyTorch does). */
    COSINE,
    /**
     * MSE against targets normalised per row (per token) to zero mean and unit variance, as MAE's
     * {@code norm_pix_loss}: {@code t' = (t - mean(t)) / sqrt(var(t) + 1e-6)} with the unbiased
     * variance over the last dimension. Unchanged when a row of the target is scaled or shifted;
     * when the target requires a gradient, it flows through the normalisation too.
     */
    MSE_NORMALIZED,
    /**
     * MSE divided by the mean square of the target over all elements, the divisor treated as a
     * constant (detached, floored at 1e-12): the MSE relative to the targets' scale, so scaling
     * prediction and target together leaves it unchanged. A target that requires a gradient gets
     * the MSE's gradient divided by that constant, not the derivative of the divisor.
     */
    MSE_RELATIVE;

    private static final double COSINE_EPS = 1e-8;
    /** MAE's norm_pix_loss epsilon, added to the per-row variance. */
    public static final double NORMALIZED_EPS = 1e-6;
    /** The floor of {@link #MSE_RELATIVE}'s divisor. */
    public static final double RELATIVE_FLOOR = 1e-12;

    /** Parses {@code mse | l1 | smooth_l1 | cosine | mse_normalized | mse_relative} ({@code -} may stand for {@code _}). */
    public static RegressionLoss parse(String name) {
        for (RegressionLoss l : values()) {
            if (l.name().equalsIgnoreCase(name.replace('-', '_'))) {
                return l;
            }
        }
        throw new IllegalArgumentException("unknown image loss '" + name + "'; expected mse, l1, smooth_l1, cosine, mse_normalized or mse_relative");
    }

    /** The option name, e.g. {@code smooth_l1}. */
    public String optionName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The loss of {@code pred} against {@code target} (same shape), as a scalar tensor of shape [1],
     * computed by the backend of their device.
     */
    public Tensor apply(Tensor pred, Tensor target) {
        return io.github.vdep.core.backend.Backends.of(optionName() + " loss", pred, target).regressionLoss(this, pred, target);
    }

    /** The CPU implementation of {@link #apply}. */
    Tensor compute(Tensor pred, Tensor target) {
        if (!Arrays.equals(pred.shape(), target.shape())) {
            throw new IllegalArgumentException(optionName() + " loss: prediction " + Arrays.toString(pred.shape())
                    + " and target " + Arrays.toString(target.shape()) + " differ");
        }
        if (this == COSINE) {
            return cosine(pred, target);
        }
        if (this == MSE_NORMALIZED) {
            return normalizedMse(pred, target);
        }
        INDArray diff = pred.value().sub(target.value());
        long n = diff.length();
        return switch (this) {
            case MSE -> {
                INDArray sq = diff.mul(diff);
                double loss = sq.sumNumber().doubleValue() / n;
                Buffers.release(sq);
                yield elementwise(pred, target, loss, diff.muli(2.0 / n));
            }
            case L1 -> elementwise(pred, target, Transforms.abs(diff, true).sumNumber().doubleValue() / n, Transforms.sign(diff, true).divi(n));
            case SMOOTH_L1 -> smoothL1(pred, target, diff);
            case MSE_RELATIVE -> {
                double norm = target.value().norm2Number().doubleValue();
                double meanSquare = Math.max(RELATIVE_FLOOR, norm * norm / n);
                INDArray sq = diff.mul(diff);
                double loss = sq.sumNumber().doubleValue() / n / meanSquare;
                Buffers.release(sq);
                yield elementwise(pred, target, loss, diff.muli(2.0 / n / meanSquare));
            }
            default -> throw new IllegalStateException(optionName());
        };
    }

    /** A loss whose gradient with respect to pred is {@code dPred} (and minus that for the target). */
    private static Tensor elementwise(Tensor pred, Tensor target, double loss, INDArray dPred) {
        INDArray y = Nd4j.scalar(pred.dataType(), loss).reshape(1);
        if (!Tape.needsGrad(pred, target)) {
            Buffers.release(dPred);
            return Tape.constantOwned(y);
        }
        return Tape.opOwned(y, g -> {
            INDArray d = dPred.mul(g.getDouble(0));
            Buffers.release(dPred);
            if (target.requiresGrad()) {
                target.accumulateGradOwned(d.neg());
            }
            pred.accumulateGradOwned(d);
        }, pred, target);
    }

    private static Tensor smoothL1(Tensor pred, Tensor target, INDArray diff) {
        long n = diff.length();
        INDArray abs = Transforms.abs(diff, true);
        INDArray small = abs.lt(1.0).castTo(diff.dataType());
        INDArray large = small.rsub(1.0);
        // 0.5 d^2 where |d| < 1, |d| - 0.5 elsewhere
        double loss = diff.mul(diff).muli(0.5).muli(small).addi(abs.sub(0.5).muli(large)).sumNumber().doubleValue() / n;
        INDArray grad = diff.mul(small).addi(Transforms.sign(diff, true).muli(large)).divi(n);
        return elementwise(pred, target, loss, grad);
    }

    private static Tensor cosine(Tensor pred, Tensor target) {
        INDArray p = Shapes.rows(pred.value());
        INDArray t = Shapes.rows(target.value());
        long rows = p.size(0);
        INDArray pn = clamp(p.norm2(true, 1));
        INDArray tn = clamp(t.norm2(true, 1));
        INDArray dot = p.mul(t).sum(true, 1);
        INDArray denom = pn.mul(tn);
        INDArray cos = dot.div(denom);
        double loss = 1.0 - cos.sumNumber().doubleValue() / rows;
        INDArray y = Nd4j.scalar(pred.dataType(), loss).reshape(1);
        return Tape.op(y, g -> {
            double scale = -g.getDouble(0) / rows;
            // d cos / dp = t / (|p||t|) - cos p / |p|^2 (exact where the norms are not clamped)
            if (pred.requiresGrad()) {
                INDArray dp = t.divColumnVector(denom).subi(p.mulColumnVector(cos.div(pn.mul(pn)))).muli(scale);
                pred.accumulateGradOwned(dp.reshape('c', pred.shape()));
            }
            if (target.requiresGrad()) {
                INDArray dt = p.divColumnVector(denom).subi(t.mulColumnVector(cos.div(tn.mul(tn)))).muli(scale);
                target.accumulateGradOwned(dt.reshape('c', target.shape()));
            }
        }, pred, target);
    }

    /**
     * MSE against the per-row normalised target t'. Backward through the normalisation (when the
     * target requires a gradient), with g = dL/dt' and sigma = sqrt(var + eps):
     * dL/dt = (g - mean(g)) / sigma - t' * sum(g * t') / (sigma * (D - 1)).
     */
    private static Tensor normalizedMse(Tensor pred, Tensor target) {
        INDArray t = Shapes.rows(target.value());
        long d = t.size(1);
        if (d < 2) {
            throw new IllegalArgumentException("mse_normalized loss: rows of " + d + " element(s) have no variance; need at least 2");
        }
        INDArray centred = t.subColumnVector(t.mean(true, 1));
        INDArray sigma = Transforms.sqrt(centred.mul(centred).sum(true, 1).divi(d - 1).addi(NORMALIZED_EPS), false);
        INDArray normalized = centred.divColumnVector(sigma).reshape('c', target.shape());
        INDArray diff = pred.value().sub(normalized);
        long n = diff.length();
        double loss = diff.mul(diff).sumNumber().doubleValue() / n;
        INDArray y = Nd4j.scalar(pred.dataType(), loss).reshape(1);
        if (!Tape.needsGrad(pred, target)) {
            return Tape.constantOwned(y);
        }
        INDArray dPred = diff.muli(2.0 / n);
        return Tape.opOwned(y, g -> {
            INDArray dp = dPred.mul(g.getDouble(0));
            if (target.requiresGrad()) {
                INDArray gn = Shapes.rows(dp).neg();
                INDArray tn = Shapes.rows(normalized);
                INDArray proj = gn.mul(tn).sum(true, 1).divi(d - 1);
                INDArray dt = gn.subColumnVector(gn.mean(true, 1)).subi(tn.mulColumnVector(proj)).diviColumnVector(sigma);
                target.accumulateGradOwned(dt.reshape('c', target.shape()));
            }
            pred.accumulateGradOwned(dp);
        }, pred, target);
    }

    private static INDArray clamp(INDArray norms) {
        return Transforms.max(norms, COSINE_EPS, false);
    }
}
