package io.github.vdep.train.loss;

import io.github.vdep.core.ops.RegressionLoss;

/**
 * How VDEP's image loss is computed.
 *
 * @param distance mse (default), l1, smooth_l1 or cosine
 * @param shift true (default): the hidden state at p+i-2 predicts v_i (next-embedding
 *        prediction); false: the state at p+i-1 (the image position itself) is compared with v_i
 * @param hiddenLayer 0 (default): the final-norm hidden states (the LM head's input); k > 0: the
 *        output of decoder block k
 * @param detachTarget true (default): no gradient flows through the target v; false only for the ablation
 */
public record ImageLossConfig(RegressionLoss distance, boolean shift, int hiddenLayer, boolean detachTarget) {
    /** The method's defaults: MSE, shifted, final norm, detached target. */
    public static final ImageLossConfig DEFAULT = new ImageLossConfig(RegressionLoss.MSE, true, 0, true);

    public ImageLossConfig {
        if (distance == null) {
            throw new IllegalArgumentException("image loss distance is required");
        }
        if (hiddenLayer < 0) {
            throw new IllegalArgumentException("hidden layer must be 0 (final norm) or a block index >= 1, got " + hiddenLayer);
        }
    }

    public ImageLossConfig withDistance(RegressionLoss d) {
        return new ImageLossConfig(d, shift, hiddenLayer, detachTarget);
    }
}
