package io.github.vdep.models.clip;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The fields of a Hugging Face {@code CLIPVisionConfig} that the vision tower uses; missing
 * fields take Hugging Face's defaults.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ClipVisionConfig(
        @JsonProperty("hidden_size") Integer hiddenSize,
        @JsonProperty("intermediate_size") Integer intermediateSize,
        @JsonProperty("num_hidden_layers") Integer numHiddenLayers,
        @JsonProperty("num_attention_heads") Integer numAttentionHeads,
        @JsonProperty("num_channels") Integer numChannels,
        @JsonProperty("image_size") Integer imageSize,
        @JsonProperty("patch_size") Integer patchSize,
        @JsonProperty("layer_norm_eps") Double layerNormEps,
        @JsonProperty("hidden_act") String hiddenAct,
        @JsonProperty("projection_dim") Integer projectionDim,
        @JsonProperty("model_type") String modelType) {

    public ClipVisionConfig {
        hiddenSize = hiddenSize != null ? hiddenSize : 768;
        intermediateSize = intermediateSize != null ? intermediateSize : 3072;
        numHiddenLayers = numHiddenLayers != null ? numHiddenLayers : 12;
        numAttentionHeads = numAttentionHeads != null ? numAttentionHeads : 12;
        numChannels = numChannels != null ? numChannels : 3;
        imageSize = imageSize != null ? imageSize : 224;
        patchSize = patchSize != null ? patchSize : 32;
        layerNormEps = layerNormEps != null ? layerNormEps : 1e-5;
        hiddenAct = hiddenAct != null ? hiddenAct : "quick_gelu";
        projectionDim = projectionDim != null ? projectionDim : 512;
        modelType = modelType != null ? modelType : "clip_vision_model";
        // out-of-range sizes are reported by ConfigCheck, which names the field; no division by zero here
        if (numAttentionHeads > 0 && hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("vision hidden_size " + hiddenSize + " is not divisible by num_attention_heads " + numAttentionHeads);
        }
        if (patchSize > 0 && imageSize % patchSize != 0) {
            throw new IllegalArgumentException("vision image_size " + imageSize + " is not divisible by patch_size " + patchSize);
        }
        if (!hiddenAct.equals("quick_gelu") && !hiddenAct.equals("gelu")) {
            throw new IllegalArgumentException("unsupported vision hidden_act '" + hiddenAct + "' (quick_gelu or gelu)");
        }
    }

    /** A config with the given sizes and Hugging Face defaults elsewhere. */
    public static ClipVisionConfig of(int hiddenSize, int intermediateSize, int layers, int heads, int imageSize, int patchSize) {
        return new ClipVisionConfig(hiddenSize, intermediateSize, layers, heads, 3, imageSize, patchSize, 1e-5, "quick_gelu", hiddenSize, null);
    }

    /** openai/clip-vit-large-patch14-336, LLaVA-1.5's tower. */
    public static ClipVisionConfig vitLarge336() {
        return new ClipVisionConfig(1024, 4096, 24, 16, 3, 336, 14, 1e-5, "quick_gelu", 768, null);
    }

    public int gridSize() {
        return imageSize / patchSize;
    }

    public int numPatches() {
        return gridSize() * gridSize();
    }

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }
}
