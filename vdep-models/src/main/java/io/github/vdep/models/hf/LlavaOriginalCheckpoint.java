package io.github.vdep.models.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.nn.Module;
import io.github.vdep.models.clip.ClipVisionConfig;
import io.github.vdep.models.llama.LlamaConfig;
import io.github.vdep.models.llava.LlavaConfig;
import io.github.vdep.models.llava.LlavaModels;
import io.github.vdep.models.projector.MlpProjector;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checkpoints in the layout of the original LLaVA code base ({@code LlavaLlamaForCausalLM}, e.g.
 * {@code liuhaotian/llava-v1.5-7b}): a LLaMA config with LLaVA's {@code mm_*} fields, weights
 * {@code model.embed_tokens/layers/norm.*}, {@code lm_head.weight} and
 * {@code model.mm_projector.{0,2}.*}, and the vision tower named by {@code mm_vision_tower}.
 *
 * <p>Config fields honoured: {@code mm_vision_select_layer} (the feature layer),
 * {@code mm_vision_select_feature} ({@code patch} → strategy {@code default}, {@code cls_patch} →
 * {@code full}), {@code mm_projector_type} ({@code linear} when absent, as in LLaVA),
 * {@code mm_hidden_size} (checked against the tower), {@code image_aspect_ratio} (see
 * {@link #imageAspectRatio(Path)}); {@code mm_use_im_start_end} and {@code mm_use_im_patch_token}
 * must be false (LLaVA-1.5's setting): the extra tokens they add are not supported.
 *
 * <p>LLaVA marks image positions with the id -200, which has no embedding row; vdep needs a real
 * id, so on loading the vocabulary grows by one row (the image token, initialised to the mean
 * row, as {@code --image-token-index -1} does), and on saving that row is dropped again.
 */
public final class LlavaOriginalCheckpoint {
    private static final Logger LOG = LoggerFactory.getLogger(LlavaOriginalCheckpoint.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The tower of LLaVA-1.5, written to mm_vision_tower when no other is known. */
    public static final String DEFAULT_TOWER = "openai/clip-vit-large-patch14-336";
    /** Where LLaVA keeps the tower's weights when a checkpoint includes them. */
    static final String TOWER_PREFIX = "model.vision_tower.vision_tower.";
    static final String PROJECTOR_PREFIX = "model.mm_projector.";

    private LlavaOriginalCheckpoint() {
    }

    /**
     * Returns whether a directory holds an original LLaVA checkpoint: its config.json names
     * {@code LlavaLlamaForCausalLM} or has {@code mm_vision_tower}.
     *
     * @param dir a checkpoint directory
     * @return true for the original layout, false otherwise (including when config.json is missing)
     */
    public static boolean isOriginal(Path dir) {
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            return false;
        }
        JsonNode root = LlavaCheckpoint.readJson(file);
        for (JsonNode a : root.path("architectures")) {
            if (a.asText().equals("LlavaLlamaForCausalLM")) {
                return true;
            }
        }
        return root.has("mm_vision_tower");
    }

    /**
     * Returns the tower location named by the config ({@code mm_vision_tower}).
     *
     * @param dir an original LLaVA checkpoint directory
     * @return the hub id or path, or null when absent
     */
    public static String visionTower(Path dir) {
        JsonNode v = LlavaCheckpoint.readJson(dir.resolve("config.json")).get("mm_vision_tower");
        return v == null || v.isNull() ? null : v.asText();
    }

    /**
     * Returns LLaVA's {@code image_aspect_ratio} ({@code pad} in LLaVA-1.5).
     *
     * @param dir an original LLaVA checkpoint directory
     * @return the value, or null when absent
     */
    public static String imageAspectRatio(Path dir) {
        JsonNode v = LlavaCheckpoint.readJson(dir.resolve("config.json")).get("image_aspect_ratio");
        return v == null || v.isNull() ? null : v.asText();
    }

    /**
     * The vdep config of an original LLaVA checkpoint, read and checked without loading any weights
     * (for example to estimate a run's memory first).
     *
     * @param dir the checkpoint directory
     * @param clipDir a local CLIP checkpoint directory for the tower, or null (see {@link #load})
     * @throws CheckpointException naming the file and field when something does not fit
     */
    public static LlavaConfig readConfig(Path dir, Path clipDir) {
        Path configFile = dir.resolve("config.json");
        JsonNode root = LlavaCheckpoint.readJson(configFile);
        for (String flag : new String[] {"mm_use_im_start_end", "mm_use_im_patch_token"}) {
            if (root.path(flag).asBoolean(false)) {
                throw new CheckpointException(configFile, flag + " is true: LLaVA's extra image start/end/patch tokens are not"
                        + " supported (LLaVA-1.5 sets it false)");
            }
        }
        String feature = root.path("mm_vision_select_feature").asText("patch");
        String strategy = switch (feature) {
            case "patch" -> "default";
            case "cls_patch" -> "full";
            default -> throw new CheckpointException(configFile, "mm_vision_select_feature '" + feature
                    + "' is not one of patch, cls_patch");
        };
        int layer = root.path("mm_vision_select_layer").asInt(-2);
        String projectorType = root.path("mm_projector_type").asText("linear");
        try {
            MlpProjector.depthOf(projectorType);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(configFile, "mm_projector_type: " + e.getMessage(), e);
        }
        Path towerDir = towerDirectory(configFile, root, clipDir);
        ObjectNode textNode = root.deepCopy();
        textNode.put("model_type", "llama");
        LlamaConfig text;
        try {
            text = JSON.treeToValue(textNode, LlamaConfig.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new CheckpointException(configFile, "invalid LLaMA fields: " + e.getMessage(), e);
        }
        ClipVisionConfig vision = LlavaCheckpoint.readVisionConfig(towerDir.resolve("config.json"));
        if (root.has("mm_hidden_size") && root.get("mm_hidden_size").asInt() != vision.hiddenSize()) {
            throw new CheckpointException(configFile, "mm_hidden_size " + root.get("mm_hidden_size").asInt()
                    + " differs from the hidden size " + vision.hiddenSize() + " of the tower in " + towerDir);
        }
        int vocab = text.vocabSize();
        LlavaConfig config = new LlavaConfig(LlavaCheckpoint.withVocab(text, vocab + 1), vision, vocab, "gelu",
                JSON.getNodeFactory().numberNode(layer), strategy, projectorType, true, "llava");
        return config;
    }

    /**
     * Loads an original LLaVA checkpoint.
     *
     * @param dir the checkpoint directory (config.json with safetensors or {@code .bin} weights)
     * @param clipDir a local CLIP checkpoint directory for the tower; null to use
     *        {@code mm_vision_tower} when that is a local directory
     * @param dtype the parameter type
     * @return the model and its vdep config (image token = the old vocabulary size)
     * @throws CheckpointException naming the file and field or tensor when something does not fit
     */
    public static LlavaCheckpoint.Loaded load(Path dir, Path clipDir, DataType dtype) {
        LlavaConfig config = readConfig(dir, clipDir);
        Path configFile = dir.resolve("config.json");
        int vocab = config.imageTokenIndex();
        Path towerDir = towerDirectory(configFile, LlavaCheckpoint.readJson(configFile), clipDir);
        LlavaModel model;
        try {
            model = LlavaModels.create(config, dtype);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(configFile, "invalid LLaVA config: " + e.getMessage(), e);
        }
        Map<String, Parameter> towerParams = ((Module) model.visionTower()).namedParameters();
        Map<String, Parameter> projectorParams = ((Module) model.projector()).namedParameters();
        try (TensorSource source = TensorSources.openDirectory(dir)) {
            boolean towerInside = source.names().stream().anyMatch(n -> n.startsWith(TOWER_PREFIX));
            Map<String, Parameter> language = new LinkedHashMap<>(((Module) model.languageModel()).namedParameters());
            Set<String> grown = LlavaCheckpoint.loadGrown(language, source, vocab);
            LlavaCheckpoint.loadParams(language, source, n -> n.startsWith(PROJECTOR_PREFIX) || n.startsWith(TOWER_PREFIX)
                    || grown.contains(n) ? null : n, true);
            LlavaCheckpoint.loadParams(projectorParams, source, n -> n.startsWith(PROJECTOR_PREFIX) ? ProjectorWeights.paramName(n) : null, true);
            if (towerInside) {
                LlavaCheckpoint.loadParams(towerParams, source, n -> n.startsWith(TOWER_PREFIX) ? n.substring(TOWER_PREFIX.length()) : null, true);
            }
            if (!towerInside) {
                try (TensorSource clip = TensorSources.openDirectory(towerDir)) {
                    LlavaCheckpoint.loadParams(towerParams, clip, n -> n.startsWith("vision_model.") ? n : null, true);
                }
            }
            LOG.info("loaded original LLaVA checkpoint {} (tower {} from {})", dir, towerInside ? "weights" : "config and weights",
                    towerInside ? dir : towerDir);
        }
        return new LlavaCheckpoint.Loaded(model, config);
    }

    private static Path towerDirectory(Path configFile, JsonNode root, Path clipDir) {
        if (clipDir != null) {
            return clipDir;
        }
        String tower = root.path("mm_vision_tower").asText(null);
        if (tower != null && Files.isDirectory(Path.of(tower))) {
            return Path.of(tower);
        }
        throw new CheckpointException(configFile, "mm_vision_tower '" + tower + "' is not a local directory; give the"
                + " CLIP checkpoint directory of the tower (vdep train: --vision DIR)");
    }

    /**
     * Saves in the original layout: config.json ({@code LlavaLlamaForCausalLM} with the
     * {@code mm_*} fields), {@code model.safetensors} (float32; the tower included under
     * {@code model.vision_tower.vision_tower.*}, which LLaVA's loader skips before loading the
     * tower from {@code mm_vision_tower}), and {@code mm_projector.bin} with the projector alone,
     * as LLaVA's stage 1 writes it for {@code --pretrain_mm_mlp_adapter}.
     *
     * @param model the model
     * @param config its config
     * @param dir the output directory
     * @param visionTower the value for {@code mm_vision_tower} (a hub id or a local CLIP directory)
     * @param imageAspectRatio the value for {@code image_aspect_ratio} ({@code pad} or {@code square})
     * @throws IOException if writing fails
     */
    public static void save(LlavaModel model, LlavaConfig config, Path dir, String visionTower, String imageAspectRatio) throws IOException {
        save(model, config, dir, visionTower, imageAspectRatio, SaveOptions.DEFAULT);
    }

    /**
     * Saves in the original layout as {@link #save(LlavaModel, LlavaConfig, Path, String, String)}
     * does, with the weights in {@code options}' type and shards ({@code model.safetensors}, or
     * {@code model-0000k-of-0000n.safetensors} with their index, as {@code save_pretrained} writes
     * them) and {@code torch_dtype} set accordingly. {@code mm_projector.bin} stays float32.
     *
     * @param options the saved floating-point type and the shard size
     * @throws IOException if writing fails
     */
    public static void save(LlavaModel model, LlavaConfig config, Path dir, String visionTower, String imageAspectRatio, SaveOptions options)
            throws IOException {
        Files.createDirectories(dir);
        LlamaConfig text = config.textConfig();
        int vocab = text.vocabSize();
        // vdep's image row stands for LLaVA's id -200, which has no row: drop it when it is the last one
        boolean dropImageRow = config.imageTokenIndex() != null && config.imageTokenIndex() == vocab - 1;
        int savedVocab = dropImageRow ? vocab - 1 : vocab;
        Map<String, INDArray> tensors = new java.util.LinkedHashMap<>();
        ((Module) model.languageModel()).namedParameters().forEach((name, p) -> {
            INDArray v = float32(p.value());
            if (dropImageRow && (name.equals("model.embed_tokens.weight") || name.equals("lm_head.weight"))) {
                v = v.get(NDArrayIndex.interval(0, savedVocab), NDArrayIndex.all()).dup('c');
            }
            tensors.put(name, v);
        });
        Map<String, INDArray> projector = new TreeMap<>();
        MlpProjector mlp = (MlpProjector) model.projector();
        mlp.namedParameters().forEach((name, p) -> projector.put(PROJECTOR_PREFIX + projectorKey(mlp.type(), name), float32(p.value())));
        tensors.putAll(projector);
        ((Module) model.visionTower()).namedParameters().forEach((name, p) -> tensors.put(TOWER_PREFIX + name, float32(p.value())));
        SafeTensorsWriter.writePretrained(dir, tensors, options);
        TorchCheckpointWriter.write(dir.resolve("mm_projector.bin"), projector);

        ObjectNode root = JSON.valueToTree(LlavaCheckpoint.withVocab(text, savedVocab));
        if (root.get("rope_scaling") != null && root.get("rope_scaling").isNull()) {
            root.remove("rope_scaling");
        }
        root.putArray("architectures").add("LlavaLlamaForCausalLM");
        root.put("model_type", "llava_llama");
        root.put("torch_dtype", options.torchDtype());
        root.put("mm_vision_tower", visionTower);
        root.put("mm_hidden_size", config.visionConfig().hiddenSize());
        root.put("mm_vision_select_layer", config.featureLayer());
        root.put("mm_vision_select_feature", "full".equals(config.visionFeatureSelectStrategy()) ? "cls_patch" : "patch");
        root.put("mm_projector_type", mlp.type());
        root.put("image_aspect_ratio", imageAspectRatio);
        root.put("mm_use_im_start_end", false);
        root.put("mm_use_im_patch_token", false);
        root.put("mm_patch_merge_type", "flat");
        root.put("tune_mm_mlp_adapter", false);
        root.put("freeze_mm_mlp_adapter", false);
        Path tmp = dir.resolve("config.json.tmp");
        JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), root);
        Files.move(tmp, dir.resolve("config.json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** vdep's {@code linear_K.weight} as LLaVA names it: Sequential index 2(K-1), or bare for {@code linear}. */
    static String projectorKey(String type, String name) {
        int dot = name.indexOf('.');
        int k = Integer.parseInt(name.substring("linear_".length(), dot));
        return type.equals("linear") ? name.substring(dot + 1) : (2 * (k - 1)) + name.substring(dot);
    }

    private static INDArray float32(INDArray v) {
        return v.dataType() == DataType.FLOAT ? v : v.castTo(DataType.FLOAT);
    }
}
