package io.github.vdep.train.data;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * One tokenised training sample: BOS, the prompt's tokens with each image placeholder expanded to
 * {@code numPatches} copies of the image token id, truncated to the maximum length.
 *
 * @param id        the record's id
 * @param inputIds  token ids
 * @param labels    the token id where supervised, {@link #IGNORE_INDEX} elsewhere (BOS, prompt,
 *                  image positions)
 * @param hasImage  whether the sample has an image
 * @param imagePath the image file (image folder + the record's {@code image}), or null
 */
public record EncodedSample(String id, int[] inputIds, int[] labels, boolean hasImage, Path imagePath) {

    /** The label of positions that are not trained on. */
    public static final int IGNORE_INDEX = -100;

    /** Validates the components. */
    public EncodedSample {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(inputIds, "inputIds");
        Objects.requireNonNull(labels, "labels");
        if (labels.length != inputIds.length) {
            throw new IllegalArgumentException("labels (" + labels.length + ") and inputIds (" + inputIds.length
                    + ") differ in length");
        }
    }

    /** @return the number of tokens */
    public int length() {
        return inputIds.length;
    }

    /** @return the number of supervised positions */
    public int supervisedCount() {
        int n = 0;
        for (int l : labels) {
            if (l != IGNORE_INDEX) {
                n++;
            }
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EncodedSample s && id.equals(s.id) && Arrays.equals(inputIds, s.inputIds)
                && Arrays.equals(labels, s.labels) && hasImage == s.hasImage && Objects.equals(imagePath, s.imagePath);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, Arrays.hashCode(inputIds), Arrays.hashCode(labels), hasImage, imagePath);
    }

    @Override
    public String toString() {
        return "EncodedSample[id=" + id + ", length=" + inputIds.length + ", supervised=" + supervisedCount()
                + ", image=" + imagePath + "]";
    }
}
