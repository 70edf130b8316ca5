package io.github.vdep.core.autograd;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A named, learnable tensor owned by a module. A frozen parameter ({@code trainable == false})
 * requires no gradient: primitives skip its weight-gradient products entirely, which is what
 * makes LLaVA stage 1 (projector only) cheap.
 */
public final class Parameter extends Tensor {
    private final String name;
    private boolean trainable = true;

    public Parameter(String name, INDArray value) {
        super(value, true);
        this.name = name;
    }

    /** The local name within its module (for example {@code weight}). */
    public String name() {
        return name;
    }

    public boolean trainable() {
        return trainable;
    }

    /** Freezes or unfreezes; freezing also drops any gradient held (and frees its memory). */
    public void setTrainable(boolean trainable) {
        this.trainable = trainable;
        if (!trainable) {
            zeroGrad();
            Buffers.release(spare);
            spare = null;
        }
    }

    /**
     * Drops the gradient (the next backward starts from zero). Its memory is kept and reused for
     * the next gradient, so a training loop does not allocate parameter-sized buffers every step:
     * copy a gradient ({@code grad().dup()}) to keep it past this call.
     */
    @Override
    public void zeroGrad() {
        if (grad != null && Tensor.isWholeContiguous(grad) && !grad.wasClosed()) {
            if (spare != null && spare != grad) {
                Buffers.release(spare);
            }
            spare = grad;
        }
        grad = null;
    }

    @Override
    public boolean requiresGrad() {
        return trainable;
    }

    /** Copies {@code newValue} into this parameter (same shape required; dtype converted). */
    public void load(INDArray newValue) {
        if (!Arrays.equals(newValue.shape(), value().shape())) {
            throw new IllegalArgumentException("parameter '" + name + "' has shape " + Arrays.toString(value().shape())
                    + " but the new value has shape " + Arrays.toString(newValue.shape()));
        }
        value().assign(newValue.dataType() == value().dataType() ? newValue : newValue.castTo(value().dataType()));
    }

    @Override
    public String toString() {
        return "Parameter " + name + Arrays.toString(shape()) + (trainable ? "" : " (frozen)");
    }
}
