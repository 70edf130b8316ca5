package io.github.vdep.train.infer;

import java.util.Objects;

/**
 * Per-layer attention from the instruction (question) tokens to the image, as extracted by
 * {@link AttentionMapExtractor}.
 *
 * @param keyAttention   for each LLM layer, the attention over all prompt positions (keys),
 *                       averaged over heads and query (instruction) positions: each row is a
 *                       probability distribution and sums to one
 * @param queryPositions the prompt positions averaged over (the question's tokens, or the last
 *                       prompt position when the prompt has no question)
 * @param imageStart     the first image position in the prompt
 * @param numImageTokens the image positions
 * @param gridSize       the side of the patch grid ({@code gridSize^2} patches)
 * @param patchOffset    image positions before the first patch (1 when the features include CLS, else 0)
 */
public record AttentionMaps(double[][] keyAttention, int[] queryPositions, int imageStart, int numImageTokens,
        int gridSize, int patchOffset) {

    /** Validates the components. */
    public AttentionMaps {
        Objects.requireNonNull(keyAttention, "keyAttention");
        Objects.requireNonNull(queryPositions, "queryPositions");
        if (patchOffset + gridSize * gridSize != numImageTokens) {
            throw new IllegalArgumentException(numImageTokens + " image positions do not hold a " + gridSize + "x" + gridSize
                    + " patch grid after " + patchOffset + " leading position(s)");
        }
    }

    /** @return the number of layers */
    public int numLayers() {
        return keyAttention.length;
    }

    /**
     * The attention to the image patches of one layer, on the patch grid (row-major, as the
     * vision tower orders patches). Values are attention probabilities (the mass the instruction
     * tokens put on each patch), not renormalised.
     *
     * @param layer the layer, from 0
     * @return {@code [gridSize][gridSize]}
     */
    public double[][] grid(int layer) {
        double[] row = keyAttention[layer];
        double[][] g = new double[gridSize][gridSize];
        int first = imageStart + patchOffset;
        for (int i = 0; i < gridSize; i++) {
            for (int j = 0; j < gridSize; j++) {
                g[i][j] = row[first + i * gridSize + j];
            }
        }
        return g;
    }

    /**
     * @param layer the layer, from 0
     * @return the total attention mass of the instruction tokens on the image positions
     */
    public double imageMass(int layer) {
        double s = 0;
        for (int k = 0; k < numImageTokens; k++) {
            s += keyAttention[layer][imageStart + k];
        }
        return s;
    }
}
