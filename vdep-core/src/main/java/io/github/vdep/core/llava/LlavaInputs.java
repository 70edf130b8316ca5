package io.github.vdep.core.llava;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A batch for the LLaVA model. Image placeholders are already expanded: each image occupies
 * {@code numPatches} consecutive positions holding the image token id, images in the order of
 * {@code pixelValues}.
 *
 * @param inputIds [B, T] integer token ids
 * @param attentionMask [B, T] with 1 for real tokens and 0 for padding, or null (all real)
 * @param pixelValues [numImages, C, H, W], or null for a text-only batch
 */
public record LlavaInputs(INDArray inputIds, INDArray attentionMask, INDArray pixelValues) {
    public LlavaInputs {
        if (inputIds == null || inputIds.rank() != 2) {
            throw new IllegalArgumentException("inputIds must be [batch, length]");
        }
        if (attentionMask != null && !java.util.Arrays.equals(attentionMask.shape(), inputIds.shape())) {
            throw new IllegalArgumentException("attentionMask " + java.util.Arrays.toString(attentionMask.shape())
                    + " does not match inputIds " + java.util.Arrays.toString(inputIds.shape()));
        }
        if (pixelValues != null && pixelValues.rank() != 4) {
            throw new IllegalArgumentException("pixelValues must be [numImages, channels, height, width], got "
                    + java.util.Arrays.toString(pixelValues.shape()));
        }
    }

    public int batchSize() {
        return (int) inputIds.size(0);
    }

    public int length() {
        return (int) inputIds.size(1);
    }
}
