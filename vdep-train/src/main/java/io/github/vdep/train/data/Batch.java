package io.github.vdep.train.data;

import io.github.vdep.core.llava.LlavaInputs;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A collated, right-padded training batch. Image placeholders are expanded in {@code inputIds}
 * (each image fills {@code numPatches} consecutive positions holding the image token id), in the
 * order of {@code pixelValues}.
 *
 * @param inputIds [B, T] INT64 token ids (padding positions hold the pad id)
 * @param attentionMask [B, T] INT64, 1 for real tokens, 0 for padding
 * @param labels [B, T] INT64, the token id where supervised, -100 elsewhere (BOS, prompt, image, padding)
 * @param pixelValues [numImages, 3, H, W] FLOAT, or null when no sample has an image
 * @param imageSample for each image, the index of the sample (row of inputIds) it belongs to
 * @param sampleIds the records' ids, one per sample
 * @param position where the data stream stands after this batch (for exact resume)
 */
public record Batch(INDArray inputIds, INDArray attentionMask, INDArray labels, INDArray pixelValues,
        int[] imageSample, List<String> sampleIds, DataPosition position) {

    public int size() {
        return (int) inputIds.size(0);
    }

    public int length() {
        return (int) inputIds.size(1);
    }

    /** The model inputs of this batch. */
    public LlavaInputs inputs() {
        return new LlavaInputs(inputIds, attentionMask, pixelValues);
    }

    /** Number of supervised label positions (labels != -100). */
    public long supervisedTokens() {
        return labels.neq(-100).castTo(org.nd4j.linalg.api.buffer.DataType.LONG).sumNumber().longValue();
    }
}
