package io.github.vdep.train.optim;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Updates trainable parameters from their accumulated gradients. Parameters without a gradient
 * (never reached this step) are left unchanged, as in PyTorch.
 */
public interface Optimizer {
    /** Applies one update with learning rate {@code lr}. */
    void step(double lr);

    /** Optimizer state (moments, step counts) by name, for checkpoints. */
    Map<String, INDArray> state();

    /** Restores {@link #state()}; errors name a missing or mismatched entry. */
    void loadState(Map<String, INDArray> state);

    /** {@code adamw} or {@code sgd}. */
    String name();
}
