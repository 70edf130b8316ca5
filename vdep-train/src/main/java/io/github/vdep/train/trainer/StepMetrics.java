package io.github.vdep.train.trainer;

/**
 * One optimizer step's record, written as a line of metrics.jsonl.
 *
 * @param mode vdep, llava or mixed
 * @param imageLoss null when no image loss was computed
 * @param imageTargetRms root mean square of the image loss's targets (the projector's
 *     embeddings), null with {@code imageLoss}
 * @param gradNorm global gradient norm before clipping
 * @param tokens non-padding tokens processed
 * @param skipped true when the step was not applied (non-finite loss or gradient)
 */
public record StepMetrics(long step, long totalSteps, String mode, double loss, double textLoss, Double imageLoss, Double imageTargetRms, double alpha, double lr,
        double gradNorm, long tokens, double stepSeconds, int epoch, boolean skipped) {
}
