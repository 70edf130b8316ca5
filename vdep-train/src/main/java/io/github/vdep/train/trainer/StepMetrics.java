package io.github.vdep.train.trainer;

import io.github.vdep.core.backend.MemoryUse;

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
 * @param textGradNorm the text loss's gradient norm on the parameters both losses reach, where
 *     the {@code gradnorm} alpha policy measured it this step; else null
 * @param imageGradNorm the (unweighted) image loss's gradient norm on the same parameters, or null
 * @param memory the training device's memory at the end of the step, its peak taken over the step
 *     ({@code Backend.memoryUse()}); null where not measured
 */
public record StepMetrics(long step, long totalSteps, String mode, double loss, double textLoss, Double imageLoss, Double imageTargetRms, double alpha, double lr,
        double gradNorm, long tokens, double stepSeconds, int epoch, boolean skipped, double commSeconds, Double textGradNorm, Double imageGradNorm,
        MemoryUse memory) {

    /** A step's record without a memory measurement. */
    public StepMetrics(long step, long totalSteps, String mode, double loss, double textLoss, Double imageLoss, Double imageTargetRms, double alpha,
            double lr, double gradNorm, long tokens, double stepSeconds, int epoch, boolean skipped, double commSeconds, Double textGradNorm,
            Double imageGradNorm) {
        this(step, totalSteps, mode, loss, textLoss, imageLoss, imageTargetRms, alpha, lr, gradNorm, tokens, stepSeconds, epoch, skipped, commSeconds,
                textGradNorm, imageGradNorm, null);
    }

    /** A one-process step's record without gradient-balance measurements. */
    public StepMetrics(long step, long totalSteps, String mode, double loss, double textLoss, Double imageLoss, Double imageTargetRms, double alpha,
            double lr, double gradNorm, long tokens, double stepSeconds, int epoch, boolean skipped) {
        this(step, totalSteps, mode, loss, textLoss, imageLoss, imageTargetRms, alpha, lr, gradNorm, tokens, stepSeconds, epoch, skipped, 0, null, null);
    }

    /** A step without gradient-balance measurements. */
    public StepMetrics(long step, long totalSteps, String mode, double loss, double textLoss, Double imageLoss, Double imageTargetRms, double alpha,
            double lr, double gradNorm, long tokens, double stepSeconds, int epoch, boolean skipped, double commSeconds) {
        this(step, totalSteps, mode, loss, textLoss, imageLoss, imageTargetRms, alpha, lr, gradNorm, tokens, stepSeconds, epoch, skipped, commSeconds,
                null, null);
    }

    /** A one-process step's record. */
    public StepMetrics(long step, long totalSteps, String mode, double loss, double textLoss, Double imageLoss, Double imageTargetRms, double alpha,
            double lr, double gradNorm, long tokens, double stepSeconds, int epoch, boolean skipped, Double textGradNorm, Double imageGradNorm) {
        this(step, totalSteps, mode, loss, textLoss, imageLoss, imageTargetRms, alpha, lr, gradNorm, tokens, stepSeconds, epoch, skipped, 0,
                textGradNorm, imageGradNorm);
    }
}
