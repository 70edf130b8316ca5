package io.github.vdep.train.infer;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.llava.DecodeOptions;
import io.github.vdep.core.llava.LlavaInputs;
import io.github.vdep.core.llava.LlavaModel;
import java.util.Objects;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Extracts, for each LLM layer, how much the instruction tokens attend to each image patch: one
 * forward pass over the prompt with {@link DecodeOptions#attentionSink()}, the probabilities
 * {@code [1, heads, T, T]} of the instruction rows averaged over heads and rows.
 *
 * <p>The instruction rows are the question's tokens ({@link Prompt#questionStart()} ..
 * {@link Prompt#questionEnd()}); a prompt without a question (the {@code plain} template) uses
 * its last position, the one that predicts the first answer token. Runs without recording.
 */
public final class AttentionMapExtractor {

    private final LlavaModel model;

    /**
     * @param model the model
     */
    public AttentionMapExtractor(LlavaModel model) {
        this.model = Objects.requireNonNull(model, "model");
    }

    /**
     * @param prompt      a prompt with an image
     * @param pixelValues its processed image, {@code [1, 3, H, W]} or {@code [3, H, W]}
     * @return the per-layer attention maps
     * @throws IllegalArgumentException if the prompt has no image or the image positions do not
     *                                  form a square patch grid
     */
    public AttentionMaps extract(Prompt prompt, INDArray pixelValues) {
        Objects.requireNonNull(prompt, "prompt");
        if (!prompt.hasImage()) {
            throw new IllegalArgumentException("attention maps need a prompt with an image");
        }
        int n = prompt.numImageTokens();
        int g = (int) Math.round(Math.sqrt(n));
        int offset = 0;
        if (g * g != n) {
            g = (int) Math.round(Math.sqrt(n - 1));
            offset = 1; // CLS first ("full" feature strategy)
            if (g * g != n - 1) {
                throw new IllegalArgumentException(n + " image tokens do not form a square patch grid");
            }
        }
        int[] queries = queryPositions(prompt);
        LlavaInputs inputs = prompt.toInputs(pixelValues);
        double[][] rows = new double[model.languageModel().numLayers()][];
        DecodeOptions options = new DecodeOptions(Set.of(), (layer, probs) -> rows[layer] = meanRow(probs, queries));
        Tape.noGrad(() -> model.forward(inputs, options, false));
        return new AttentionMaps(rows, queries, prompt.imageStart(), n, g, offset);
    }

    static int[] queryPositions(Prompt prompt) {
        if (!prompt.hasQuestion()) {
            return new int[] {prompt.length() - 1};
        }
        int[] q = new int[prompt.questionEnd() - prompt.questionStart()];
        for (int i = 0; i < q.length; i++) {
            q[i] = prompt.questionStart() + i;
        }
        return q;
    }

    /** probs [1, H, T, S]: the mean over heads and the given query rows, [S], in double. */
    static double[] meanRow(INDArray probs, int[] queries) {
        long heads = probs.size(1);
        long s = probs.size(3);
        double[] acc = new double[(int) s];
        for (int q : queries) {
            // [H, S] for this query, summed over heads
            INDArray rows = probs.get(NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.point(q), NDArrayIndex.all());
            double[] sum = rows.sum(0).toDoubleVector();
            for (int k = 0; k < s; k++) {
                acc[k] += sum[k];
            }
        }
        double norm = heads * (double) queries.length;
        for (int k = 0; k < s; k++) {
            acc[k] /= norm;
        }
        return acc;
    }
}
