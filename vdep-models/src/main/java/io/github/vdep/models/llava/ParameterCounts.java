package io.github.vdep.models.llava;

import io.github.vdep.models.clip.ClipVisionConfig;
import io.github.vdep.models.llama.LlamaConfig;
import io.github.vdep.models.projector.MlpProjector;

/**
 * The parameter counts of the three parts of the LLaVA model a config describes, computed from the
 * config alone (nothing is allocated), for memory estimates before a model is built. They equal
 * {@code parameterCount()} of the built parts ({@code ParameterCountsTest}).
 *
 * @param visionTower the CLIP tower's ({@code vision_tower.**})
 * @param projector the projector's ({@code multi_modal_projector.**})
 * @param languageModel the LLaMA model's, with the LM head unless tied ({@code language_model.**})
 */
public record ParameterCounts(long visionTower, long projector, long languageModel) {

    /** The counts of a config (check it with {@link ConfigCheck} first). */
    public static ParameterCounts of(LlavaConfig c) {
        return new ParameterCounts(vision(c.visionConfig()), projector(c), language(c.textConfig()));
    }

    /** All parameters. */
    public long total() {
        return visionTower + projector + languageModel;
    }

    static long vision(ClipVisionConfig c) {
        long h = c.hiddenSize();
        long i = c.intermediateSize();
        long embeddings = h + h * c.numChannels() * c.patchSize() * c.patchSize() + (c.numPatches() + 1L) * h;
        long layer = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 2 * 2 * h;
        return embeddings + 2 * h + c.numHiddenLayers() * layer + 2 * h;
    }

    static long projector(LlavaConfig c) {
        long in = c.visionConfig().hiddenSize();
        long out = c.textConfig().hiddenSize();
        int depth = MlpProjector.depthOf(c.projectorType());
        return (in * out + out) + (depth - 1) * (out * out + out);
    }

    static long language(LlamaConfig c) {
        long h = c.hiddenSize();
        long q = (long) c.numAttentionHeads() * c.headDim();
        long kv = (long) c.numKeyValueHeads() * c.headDim();
        long attention = h * q + 2 * h * kv + q * h + (c.attentionBias() ? q + 2 * kv + h : 0);
        long mlp = 3 * h * c.intermediateSize();
        long layer = attention + mlp + 2 * h;
        long embeddings = (long) c.vocabSize() * h;
        return embeddings + c.numHiddenLayers() * layer + h + (c.tieWordEmbeddings() ? 0 : embeddings);
    }
}
