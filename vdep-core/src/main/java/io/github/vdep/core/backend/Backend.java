package io.github.vdep.core.backend;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.ops.RegressionLoss;
import io.github.vdep.core.ops.RopeTables;
import java.util.function.Consumer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The implementation of every primitive and optimizer update on one device. {@code F}, the
 * losses and the optimizers pick a backend with {@link Backends#of} from their inputs' device (the
 * single dispatch point) and call it; nothing else branches on the device or on which kernels
 * are loaded.
 *
 * <p>Each primitive has the contract of the {@code F} method of the same name (shapes, dtypes,
 * errors) and records its own backward pass: a CPU implementation through
 * {@code Tape.op(INDArray, Backward, ...)}, a device one through
 * {@code Tape.op(DeviceStorage, DeviceBackward, ...)}. All tensor arguments are on
 * {@link #device()}. Integer data (ids, targets, rows, key masks) and rotary tables come as host
 * arrays; a device backend uploads (and may cache) them. The probabilities hook of attention
 * receives a host array.
 */
public interface Backend {
    /** The device this backend computes on. */
    Device device();

    /** One line for {@code vdep info} and logs, for example {@code cpu (native kernels)}. */
    String description();

    /**
     * This device's memory in use now and at its peak since the last {@link #resetPeakMemory()}
     * (see {@link MemoryUse} for what each device measures).
     */
    MemoryUse memoryUse();

    /** Starts the peak of {@link #memoryUse()} again from the current use (for a peak per training step). */
    void resetPeakMemory();

    // ---- primitives (see F for each contract) ----

    Tensor linear(Tensor x, Tensor w, Tensor b);

    Tensor embedding(Tensor table, INDArray ids);

    Tensor rmsNorm(Tensor x, Tensor weight, double eps);

    Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, double eps);

    Tensor rope(Tensor x, RopeTables tables);

    Tensor ropeTokenMajor(Tensor x, RopeTables tables);

    Tensor attention(Tensor q, Tensor k, Tensor v, boolean causal, INDArray keyMask, double scale, Consumer<INDArray> probs);

    Tensor attentionTokenMajor(Tensor q, Tensor k, Tensor v, boolean causal, INDArray keyMask, double scale, Consumer<INDArray> probs);

    Tensor gelu(Tensor x);

    Tensor quickGelu(Tensor x);

    Tensor silu(Tensor x);

    Tensor swiglu(Tensor gate, Tensor up);

    Tensor add(Tensor a, Tensor b);

    Tensor mul(Tensor a, Tensor b);

    Tensor scale(Tensor x, double s);

    Tensor sum(Tensor x);

    Tensor reshape(Tensor x, long... shape);

    Tensor permute(Tensor x, int... dims);

    Tensor slice(Tensor x, int axis, long from, long to);

    Tensor concat(int axis, Tensor... xs);

    Tensor gatherRows(Tensor x, int[] rows);

    Tensor replaceRows(Tensor base, int[] rows, Tensor src);

    Tensor detach(Tensor x);

    Tensor crossEntropy(Tensor logits, int[] targets, int ignoreIndex, double normalizer);

    /** The image losses: {@code kind}'s distance of pred from target (equal shapes), a [1] tensor. */
    Tensor regressionLoss(RegressionLoss kind, Tensor pred, Tensor target);

    // ---- optimizer support (parameters and their state on this device) ----

    /** Zeros shaped and typed like {@code like}, on this device (optimizer moments). */
    Tensor zerosLike(Tensor like);

    /**
     * One AdamW update of {@code p} from its gradient, in torch.optim.AdamW's order: decoupled
     * weight decay (p *= 1 - lr * weightDecay, when weightDecay != 0), then m = b1 m + (1 - b1) g;
     * v = b2 v + (1 - b2) g^2; p -= (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps) with
     * bc = 1 - beta^step. {@code m} and {@code v} are updated in place.
     */
    void adamW(Parameter p, Tensor m, Tensor v, double beta1, double beta2, double eps, double lr, double weightDecay, long step);

    /** p *= 1 - lr * weightDecay (when weightDecay != 0), then p -= lr * grad. */
    void sgd(Parameter p, double lr, double weightDecay);

    /** The sum of squares of {@code p}'s gradient, in double precision (for the global norm). */
    double gradSquaredSum(Parameter p);

    /** Multiplies {@code p}'s gradient by {@code factor} in place (gradient clipping). */
    void scaleGrad(Parameter p, double factor);
}
