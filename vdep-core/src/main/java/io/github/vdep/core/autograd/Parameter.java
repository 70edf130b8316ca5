package io.github.vdep.core.autograd;

import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.device.DeviceStorage;
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
            releaseDeviceGrad();
        }
    }

    /**
     * Drops the gradient (the next backward starts from zero). Its memory is kept and reused for
     * the next gradient, so a training loop does not allocate parameter-sized buffers every step:
     * copy a gradient ({@code grad().dup()}) to keep it past this call.
     */
    @Override
    public void zeroGrad() {
        releaseDeviceGrad();
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

    /** A device gradient is the parameter's own: dropping it returns the memory to the allocator. */
    private void releaseDeviceGrad() {
        if (deviceGrad != null) {
            deviceGrad.release();
            deviceGrad = null;
        }
    }

    /**
     * Copies {@code newValue} into this parameter (same shape required; dtype converted). On a
     * device the host array is uploaded and converted there (checkpoints load straight to the
     * parameter's device).
     */
    public void load(INDArray newValue) {
        if (!Arrays.equals(newValue.shape(), shape())) {
            throw new IllegalArgumentException("parameter '" + name + "' has shape " + Arrays.toString(shape())
                    + " but the new value has shape " + Arrays.toString(newValue.shape()));
        }
        if (!onCpu()) {
            Device device = device();
            replaceData(null, Backends.device(device).upload(newValue, dataType()));
            return;
        }
        value().assign(newValue.dataType() == value().dataType() ? newValue : newValue.castTo(value().dataType()));
    }

    /**
     * Moves this parameter's data to {@code device} in place (the module keeps the same
     * parameter object, as PyTorch's {@code module.to} does): an explicit copy, after which the old
     * memory is released. Gradients are dropped. Nothing happens if it is there already.
     */
    public void moveTo(Device device) {
        if (device.equals(device())) {
            return;
        }
        Tensor moved = to(device);
        if (moved.onCpu()) {
            replaceData(moved.value(), null);
        } else {
            DeviceStorage s = moved.storage();
            replaceData(null, s);
        }
    }

    @Override
    public String toString() {
        return "Parameter " + name + Arrays.toString(shape()) + (trainable ? "" : " (frozen)");
    }
}
