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
 */
public record LossResult(Tensor total, double textLoss, Double imageLoss, long supervisedTokens, long imagePairs, Double imageTargetRms) {
}
