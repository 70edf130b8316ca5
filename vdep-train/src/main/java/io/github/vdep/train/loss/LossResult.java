package io.github.vdep.train.loss;

import io.github.vdep.core.autograd.Tensor;

/**
 * @param total the loss to back-propagate
 * @param textLoss the text cross-entropy
 * @param imageLoss the (unweighted) image loss, or null when the batch's mode does not compute it
 * @param supervisedTokens text targets counted by the cross-entropy
 * @param imagePairs (prediction, target) embedding pairs counted by the image loss
 * @param imageTargetRms root mean square of the image loss's targets (the projector's embeddings),
 *     or null with {@code imageLoss}: the scale against which the image loss is read, since the
 *     targets move while the projector trains
 * @param textWeight the weight of {@code textLoss} in {@code total} (1, or this shard's share of a global batch; see {@link LossNormalizer})
 * @param imageWeight the weight of {@code imageLoss} in {@code total}, besides alpha
 */
public record LossResult(Tensor total, double textLoss, Double imageLoss, long supervisedTokens, long imagePairs, Double imageTargetRms,
        double textWeight, double imageWeight) {

    /** A whole batch's result: both weights 1. */
    public LossResult(Tensor total, double textLoss, Double imageLoss, long supervisedTokens, long imagePairs, Double imageTargetRms) {
        this(total, textLoss, imageLoss, supervisedTokens, imagePairs, imageTargetRms, 1, 1);
    }
}
