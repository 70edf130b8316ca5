package io.github.vdep.core.autograd;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The backward half of a primitive: given the gradient of the loss with respect to the
 * primitive's output, accumulates gradients into the inputs that require them.
 */
@FunctionalInterface
public interface Backward {
    void apply(INDArray gradOutput);
}
