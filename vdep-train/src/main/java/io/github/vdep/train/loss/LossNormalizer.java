package io.github.vdep.train.loss;

/**
 * The weights a batch's loss terms carry in the loss of the step's whole (global) batch. The text
 * loss is a mean over supervised tokens and the image loss a mean over image pairs; when a batch
 * is one shard of a larger one (data parallelism), its mean times
 * {@code localCount / globalCount} summed over the shards is the mean over the whole batch. One
 * process: both weights are 1.
 */
@FunctionalInterface
public interface LossNormalizer {
    /**
     * @param supervisedTokens the batch's supervised text targets
     * @param imagePairs the batch's image-loss pairs (trained or monitored)
     * @return {text weight, image weight}
     */
    double[] weights(long supervisedTokens, long imagePairs);

    /** The batch is the whole batch. */
    LossNormalizer WHOLE = (tokens, pairs) -> new double[] {1, 1};
}
