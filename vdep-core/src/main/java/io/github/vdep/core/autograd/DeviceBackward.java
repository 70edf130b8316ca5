package io.github.vdep.core.autograd;

import io.github.vdep.core.device.DeviceStorage;

/**
 * The backward half of a primitive computed on a device: given the gradient of the loss with
 * respect to the primitive's output (device memory, owned by the tape: do not keep or release
 * it, but {@link Tensor#accumulateGrad(DeviceStorage)} may take it over), accumulates gradients
 * into the inputs that require them.
 */
@FunctionalInterface
public interface DeviceBackward {
    void apply(DeviceStorage gradOutput);
}
