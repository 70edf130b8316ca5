package io.github.vdep.models.llava;

import io.github.vdep.models.clip.ClipVisionConfig;
import io.github.vdep.models.llama.LlamaConfig;
import io.github.vdep.models.projector.MlpProjector;

/**
 * Range and consistency checks of model configs, run before anything is allocated, so that an
 * absurd {@code config.json} value is reported as that field instead of as an allocation failure
 * or a weights mismatch later. Each failure is an {@link IllegalArgumentException} whose message
 * starts with the field's JSON path (e.g. {@code text_config.hidden_size}); callers prefix the file.
 *
 * <p>The bounds are far above any published LLaVA, LLaMA or CLIP model (LLaMA-3 405B: hidden 16384,
 * 126 layers, vocabulary 128256; CLIP ViT-bigG: hidden 1664, 48 layers) and far below what would
 * overflow the sizes the models compute with {@code int}.
 */
public final class ConfigCheck {
    /** Largest hidden size accepted. */
    public static final int MAX_HIDDEN = 1 << 16;
    /** Largest MLP intermediate size accepted. */
    public static final int MAX_INTERMEDIATE = 1 << 18;
    /** Largest layer count accepted. */
    public static final int MAX_LAYERS = 1024;
    /** Largest attention head count accepted. */
    public static final int MAX_HEADS = 1024;
    /** Largest vocabulary accepted. */
    public static final int MAX_VOCAB = 1 << 22;
    /** Largest context length accepted. */
    public static final int MAX_POSITIONS = 1 << 24;
    /** Largest image side accepted. */
    public static final int MAX_IMAGE_SIZE = 8192;

    private ConfigCheck() {
    }

    /** Checks a whole LLaVA config (text, vision, projector and the image token). */
    public static void check(LlavaConfig c) {
        checkText(c.textConfig(), "text_config.");
        checkVision(c.visionConfig(), "vision_config.");
        int vocab = c.textConfig().vocabSize();
        if (c.imageTokenIndex() < 0 || c.imageTokenIndex() >= vocab) {
            throw new IllegalArgumentException("image_token_index " + c.imageTokenIndex() + " is outside the vocabulary [0, " + vocab
                    + ") of text_config.vocab_size");
        }
        try {
            MlpProjector.depthOf(c.projectorType());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("mm_projector_type: " + e.getMessage(), e);
        }
        if (MlpProjector.depthOf(c.projectorType()) > MAX_LAYERS) {
            throw new IllegalArgumentException("mm_projector_type '" + c.projectorType() + "' has more than " + MAX_LAYERS + " layers");
        }
        int layers = c.visionConfig().numHiddenLayers();
        int f = c.featureLayer();
        if (f < -(layers + 1) || f > layers) {
            throw new IllegalArgumentException("vision_feature_layer " + f + " is outside the " + (layers + 1)
                    + " hidden states of a " + layers + "-layer vision tower (vision_config.num_hidden_layers)");
        }
    }

    /** Checks a LLaMA config; {@code prefix} is the fields' JSON path prefix ("" for a standalone config.json). */
    public static void checkText(LlamaConfig c, String prefix) {
        range(prefix + "vocab_size", c.vocabSize(), 1, MAX_VOCAB);
        range(prefix + "hidden_size", c.hiddenSize(), 1, MAX_HIDDEN);
        range(prefix + "intermediate_size", c.intermediateSize(), 1, MAX_INTERMEDIATE);
        range(prefix + "num_hidden_layers", c.numHiddenLayers(), 1, MAX_LAYERS);
        range(prefix + "num_attention_heads", c.numAttentionHeads(), 1, Math.min(MAX_HEADS, c.hiddenSize()));
        range(prefix + "num_key_value_heads", c.numKeyValueHeads(), 1, c.numAttentionHeads());
        if (c.numAttentionHeads() % c.numKeyValueHeads() != 0) {
            throw new IllegalArgumentException(prefix + "num_attention_heads " + c.numAttentionHeads() + " is not a multiple of "
                    + prefix + "num_key_value_heads " + c.numKeyValueHeads());
        }
        range(prefix + "head_dim", c.headDim(), 2, MAX_HIDDEN);
        if ((long) c.headDim() * c.numAttentionHeads() > MAX_HIDDEN) {
            throw new IllegalArgumentException(prefix + "head_dim " + c.headDim() + " x num_attention_heads " + c.numAttentionHeads()
                    + " exceeds " + MAX_HIDDEN);
        }
        range(prefix + "max_position_embeddings", c.maxPositionEmbeddings(), 1, MAX_POSITIONS);
        positive(prefix + "rms_norm_eps", c.rmsNormEps());
        positive(prefix + "rope_theta", c.ropeTheta());
    }

    /** Checks a CLIP vision config; {@code prefix} as for {@link #checkText}. */
    public static void checkVision(ClipVisionConfig c, String prefix) {
        range(prefix + "hidden_size", c.hiddenSize(), 1, MAX_HIDDEN);
        range(prefix + "intermediate_size", c.intermediateSize(), 1, MAX_INTERMEDIATE);
        range(prefix + "num_hidden_layers", c.numHiddenLayers(), 1, MAX_LAYERS);
        range(prefix + "num_attention_heads", c.numAttentionHeads(), 1, Math.min(MAX_HEADS, c.hiddenSize()));
        if (c.hiddenSize() % c.numAttentionHeads() != 0) {
            throw new IllegalArgumentException(prefix + "hidden_size " + c.hiddenSize() + " is not divisible by " + prefix
                    + "num_attention_heads " + c.numAttentionHeads());
        }
        range(prefix + "num_channels", c.numChannels(), 3, 3);
        range(prefix + "image_size", c.imageSize(), 1, MAX_IMAGE_SIZE);
        range(prefix + "patch_size", c.patchSize(), 1, c.imageSize());
        if (c.imageSize() % c.patchSize() != 0) {
            throw new IllegalArgumentException(prefix + "image_size " + c.imageSize() + " is not divisible by " + prefix + "patch_size "
                    + c.patchSize());
        }
        positive(prefix + "layer_norm_eps", c.layerNormEps());
    }

    private static void range(String field, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(field + " " + value + " is outside [" + min + ", " + max + "]");
        }
    }

    private static void positive(String field, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(field + " " + value + " must be a positive finite number");
        }
    }
}
