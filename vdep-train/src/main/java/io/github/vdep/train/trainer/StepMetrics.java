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
 * @param commSeconds seconds of the step spent in collective operations (0 in one process);
 *     {@code tokens} are then those of all ranks
 */
public record StepMetrics(long step, long totalSteps, String mode, double loss, double textLoss, Double imageLoss, Double imageTargetRms, double alpha, double lr,
        double gradNorm, long tokens, double stepSeconds, int epoch, boolean skipped, double commSeconds) {

    /** A one-process step's record. */
    public StepMetrics(long step, long totalSteps, String mode, double loss, double textLoss, Double imageLoss, Double imageTargetRms, double alpha,
            double lr, double gradNorm, long tokens, double stepSeconds, int epoch, boolean skipped) {
        this(step, totalSteps, mode, loss, textLoss, imageLoss, imageTargetRms, alpha, lr, gradNorm, tokens, stepSeconds, epoch, skipped, 0);
    }
}
