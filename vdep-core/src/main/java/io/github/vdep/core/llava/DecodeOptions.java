package io.github.vdep.core.llava;

import java.util.Set;
import java.util.function.BiConsumer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What a decoder pass should keep besides the final hidden states.
 *
 * @param keepLayers block indices k (1-based: k = output of block k) whose outputs to return
 * @param attentionSink null, or receives (layer index from 0, probabilities [B, H, T, S]) per layer
 */
public record DecodeOptions(Set<Integer> keepLayers, BiConsumer<Integer, INDArray> attentionSink) {
    /** Only the final hidden states. */
    public static final DecodeOptions DEFAULT = new DecodeOptions(Set.of(), null);

    public DecodeOptions {
        keepLayers = Set.copyOf(keepLayers);
    }
}
