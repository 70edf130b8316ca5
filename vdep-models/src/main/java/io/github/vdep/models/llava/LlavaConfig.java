package io.github.vdep.models.llava;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.vdep.models.clip.ClipVisionConfig;
import io.github.vdep.models.hf.CheckpointException;
import io.github.vdep.models.llama.LlamaConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A llava-hf {@code LlavaForConditionalGeneration} config.json. {@code mm_projector_type} (the
 * original LLaVA code's name) extends it for projectors other than {@code mlp2x_gelu}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record LlavaConfig(
        @JsonProperty("text_config") LlamaConfig textConfig,
        @JsonProperty("vision_config") ClipVisionConfig visionConfig,
        @JsonProperty("image_token_index") Integer imageTokenIndex,
        @JsonProperty("projector_hidden_act") String projectorHiddenAct,
        @JsonProperty("vision_feature_layer") JsonNode visionFeatureLayer,
        @JsonProperty("vision_feature_select_strategy") String visionFeatureSelectStrategy,
        @JsonProperty("mm_projector_type") String projectorType,
        @JsonProperty("multimodal_projector_bias") Boolean multimodalProjectorBias,
        @JsonProperty("model_type") String modelType) {

    static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .enable(SerializationFeature.INDENT_OUTPUT);

    public LlavaConfig {
        if (textConfig == null) {
            throw new IllegalArgumentException("config has no text_config");
        }
        if (visionConfig == null) {
            throw new IllegalArgumentException("config has no vision_config");
        }
        imageTokenIndex = imageTokenIndex != null ? imageTokenIndex : 32000;
        projectorHiddenAct = projectorHiddenAct != null ? projectorHiddenAct : "gelu";
        if (visionFeatureLayer == null || visionFeatureLayer.isNull()) {
            visionFeatureLayer = JSON.getNodeFactory().numberNode(-2);
        }
        if (!visionFeatureLayer.isInt()) {
            throw new IllegalArgumentException("vision_feature_layer " + visionFeatureLayer + " is not supported (a single layer index only)");
        }
        visionFeatureSelectStrategy = visionFeatureSelectStrategy != null ? visionFeatureSelectStrategy : "default";
        projectorType = projectorType != null ? projectorType : "mlp2x_gelu";
        multimodalProjectorBias = multimodalProjectorBias != null ? multimodalProjectorBias : true;
        if (!multimodalProjectorBias) {
            throw new IllegalArgumentException("multimodal_projector_bias false is not supported");
        }
        modelType = modelType != null ? modelType : "llava";
    }

    /** A LLaVA-1.5-style config: mlp2x_gelu, layer -2, CLS dropped. */
    public static LlavaConfig of(LlamaConfig text, ClipVisionConfig vision, int imageTokenIndex) {
        return new LlavaConfig(text, vision, imageTokenIndex, "gelu", null, "default", "mlp2x_gelu", true, "llava");
    }

    public int featureLayer() {
        return visionFeatureLayer.asInt();
    }

    /** Image tokens per image (patches, plus CLS with the {@code full} strategy). */
    public int imageSeqLength() {
        return visionConfig.numPatches() + (visionFeatureSelectStrategy.equals("full") ? 1 : 0);
    }

    /** Reads a config.json; errors name the file. */
    public static LlavaConfig read(Path file) {
        JsonNode root = readTree(file);
        String type = root.path("model_type").asText("");
        if (!type.isEmpty() && !type.equals("llava")) {
            throw new CheckpointException(file, "model_type '" + type + "' is not a LLaVA model (expected llava)");
        }
        if (!root.path("text_config").path("model_type").asText("llama").equals("llama")) {
            throw new CheckpointException(file, "text_config model_type '" + root.path("text_config").path("model_type").asText()
                    + "' is not supported (llama only)");
        }
        // e.g. a SigLIP tower (LLaVA-OneVision) would otherwise be read as CLIP and fail later, at its weights
        String visionType = root.path("vision_config").path("model_type").asText("clip_vision_model");
        if (!visionType.equals("clip_vision_model")) {
            throw new CheckpointException(file, "vision_config model_type '" + visionType + "' is not supported (clip_vision_model only)");
        }
        LlavaConfig config;
        try {
            config = JSON.treeToValue(root, LlavaConfig.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new CheckpointException(file, "invalid LLaVA config: " + rootMessage(e), e);
        }
        try {
            ConfigCheck.check(config);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, "invalid LLaVA config: " + e.getMessage(), e);
        }
        return config;
    }

    /** The JSON a llava-hf checkpoint carries (Hugging Face transformers can load it), for float32 weights. */
    public ObjectNode toJson() {
        return toJson("float32");
    }

    /**
     * The JSON a llava-hf checkpoint carries (Hugging Face transformers can load it).
     *
     * @param torchDtype the saved weights' type for {@code torch_dtype}: float32, bfloat16 or float16
     */
    public ObjectNode toJson(String torchDtype) {
        ObjectNode root = JSON.valueToTree(this);
        root.putArray("architectures").add("LlavaForConditionalGeneration");
        root.put("image_seq_length", imageSeqLength());
        root.put("ignore_index", -100);
        root.put("tie_word_embeddings", textConfig.tieWordEmbeddings());
        root.put("torch_dtype", torchDtype);
        ObjectNode text = (ObjectNode) root.get("text_config");
        text.putArray("architectures").add("LlamaForCausalLM");
        text.put("torch_dtype", torchDtype);
        ObjectNode vision = (ObjectNode) root.get("vision_config");
        vision.put("model_type", "clip_vision_model");
        if (text.get("rope_scaling") != null && text.get("rope_scaling").isNull()) {
            text.remove("rope_scaling");
        }
        return root;
    }

    /** Writes {@link #toJson()} to a file. */
    public void write(Path file) throws IOException {
        write(file, "float32");
    }

    /** Writes {@link #toJson(String)} to a file. */
    public void write(Path file, String torchDtype) throws IOException {
        Files.writeString(file, JSON.writeValueAsString(toJson(torchDtype)));
    }

    static JsonNode readTree(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file, "config file not found");
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new CheckpointException(file, "is not valid JSON: " + rootMessage(e), e);
        }
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return m == null ? t.toString() : m.lines().findFirst().orElse(m);
    }
}
