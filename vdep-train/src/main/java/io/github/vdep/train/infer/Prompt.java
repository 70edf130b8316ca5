package io.github.vdep.train.infer;

import io.github.vdep.core.llava.LlavaInputs;
import java.util.Arrays;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A tokenised generation prompt: BOS, the template's text up to the assistant's turn, the image
 * placeholder expanded to {@code numImageTokens} image token ids.
 *
 * @param text           the rendered prompt text (with the {@code <image>} placeholder)
 * @param inputIds       the token ids
 * @param imageStart     the first image position, or -1 without an image
 * @param numImageTokens the image positions ({@code numPatches}), 0 without an image
 * @param questionStart  the first position of the question's tokens (-1 when the prompt holds no
 *                       question, as with the {@code plain} template)
 * @param questionEnd    one past the question's last position (-1 without a question)
 */
public record Prompt(String text, int[] inputIds, int imageStart, int numImageTokens, int questionStart, int questionEnd) {

    /** Validates the components. */
    public Prompt {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(inputIds, "inputIds");
        if (imageStart >= 0 && imageStart + numImageTokens > inputIds.length) {
            throw new IllegalArgumentException("image positions " + imageStart + ".." + (imageStart + numImageTokens)
                    + " exceed the prompt's " + inputIds.length + " tokens");
        }
        if (questionStart > questionEnd || questionEnd > inputIds.length) {
            throw new IllegalArgumentException("invalid question positions [" + questionStart + ", " + questionEnd + ")");
        }
    }

    /** @return the number of tokens */
    public int length() {
        return inputIds.length;
    }

    /** @return whether the prompt holds an image */
    public boolean hasImage() {
        return imageStart >= 0;
    }

    /** @return whether the question's token positions are known */
    public boolean hasQuestion() {
        return questionStart >= 0 && questionEnd > questionStart;
    }

    /**
     * The model inputs of this prompt.
     *
     * @param pixelValues the processed image {@code [1, 3, H, W]} (or {@code [3, H, W]}), or null
     *                    for a prompt without an image
     * @return a batch of one unpadded sequence
     * @throws IllegalArgumentException if an image is given to a prompt without one, or missing
     */
    public LlavaInputs toInputs(INDArray pixelValues) {
        if (hasImage() != (pixelValues != null)) {
            throw new IllegalArgumentException(hasImage() ? "the prompt has an image placeholder but no image was given"
                    : "an image was given but the prompt has no image placeholder");
        }
        long[][] ids = new long[1][inputIds.length];
        for (int i = 0; i < inputIds.length; i++) {
            ids[0][i] = inputIds[i];
        }
        INDArray pixels = pixelValues == null || pixelValues.rank() == 4 ? pixelValues
                : pixelValues.reshape(1, pixelValues.size(0), pixelValues.size(1), pixelValues.size(2));
        return new LlavaInputs(Nd4j.createFromArray(ids), null, pixels);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Prompt p && text.equals(p.text) && Arrays.equals(inputIds, p.inputIds) && imageStart == p.imageStart
                && numImageTokens == p.numImageTokens && questionStart == p.questionStart && questionEnd == p.questionEnd;
    }

    @Override
    public int hashCode() {
        return Objects.hash(text, Arrays.hashCode(inputIds), imageStart, numImageTokens, questionStart, questionEnd);
    }

    @Override
    public String toString() {
        return "Prompt[length=" + inputIds.length + ", image=" + imageStart + "+" + numImageTokens + ", question=["
                + questionStart + ", " + questionEnd + ")]";
    }
}
