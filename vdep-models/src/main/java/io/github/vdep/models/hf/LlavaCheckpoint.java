package io.github.vdep.models.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.nn.Module;
import io.github.vdep.models.clip.ClipVisionConfig;
import io.github.vdep.models.llama.LlamaConfig;
import io.github.vdep.models.llava.ConfigCheck;
import io.github.vdep.models.llava.LlavaConfig;
import io.github.vdep.models.llava.LlavaModels;
import io.github.vdep.models.projector.MlpProjector;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads and saves LLaVA models in Hugging Face layouts: llava-hf directories (both the older
 * {@code language_model.model.*} and the newer {@code model.language_model.*} key layouts), or a
 * CLIP checkpoint plus a LLaMA checkpoint with a freshly initialised projector. Every checkpoint
 * tensor must map to a parameter and every parameter must be present with the configured shape;
 * anything else is a {@link CheckpointException} naming the file and the tensor.
 */
public final class LlavaCheckpoint {
    private static final Logger LOG = LoggerFactory.getLogger(LlavaCheckpoint.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Buffers some exporters save that are not parameters. */
    private static final List<String> IGNORED_SUFFIXES = List.of("position_ids", "rotary_emb.inv_freq");

    private LlavaCheckpoint() {
    }

    /** A loaded model and its config. */
    public record Loaded(LlavaModel model, LlavaConfig config) {
    }

    /** Loads a llava-hf directory (config.json + safetensors) in float32. */
    public static Loaded load(Path dir) {
        return load(dir, DataType.FLOAT);
    }

    /** Loads a llava-hf directory; weights are converted to {@code dtype}. */
    public static Loaded load(Path dir, DataType dtype) {
        Path configFile = dir.resolve("config.json");
        LlavaConfig config = LlavaConfig.read(configFile);
        LlavaModel model;
        try {
            model = LlavaModels.create(config, dtype);
        } catch (IllegalArgumentException e) {
            // settings that parse but describe no buildable model (feature layer out of range, unknown projector type)
            throw new CheckpointException(configFile, "invalid LLaVA config: " + e.getMessage(), e);
        }
        try (TensorSource source = TensorSources.openDirectory(dir)) {
            boolean newer = source.names().stream().anyMatch(n -> n.startsWith("model.language_model.") || n.startsWith("model.vision_tower."));
            loadInto(model, source, newer ? LlavaCheckpoint::fromNewerLayout : UnaryOperator.identity(), true);
        }
        LOG.info("loaded LLaVA checkpoint {} ({} parameters)", dir, model.parameterCount());
        return new Loaded(model, config);
    }

    /**
     * Builds a LLaVA model from a CLIP checkpoint directory ({@code CLIPVisionModel} or full
     * {@code CLIPModel}: only {@code vision_model.*} is used) and a LLaMA checkpoint directory,
     * with a new projector initialised from {@code seed}.
     *
     * @param imageTokenIndex the image placeholder id; -1 appends one to the vocabulary
     *        (the embedding table and LM head grow by a row, initialised to the mean of the others)
     */
    public static Loaded fromVisionAndLanguage(Path clipDir, Path llamaDir, String projectorType, int featureLayer,
            String selectStrategy, int imageTokenIndex, long seed, DataType dtype) {
        LlavaConfig config = combinedConfig(clipDir, llamaDir, projectorType, featureLayer, selectStrategy, imageTokenIndex);
        boolean grow = imageTokenIndex < 0;
        int vocab = config.textConfig().vocabSize() - (grow ? 1 : 0);
        LlavaModel model = LlavaModels.create(config, dtype);
        Module tower = (Module) model.visionTower();
        Module language = (Module) model.languageModel();
        try (TensorSource source = TensorSources.openDirectory(clipDir)) {
            Map<String, Parameter> params = tower.namedParameters();
            loadParams(params, source, n -> n.startsWith("vision_model.") ? n : null, true);
        }
        try (TensorSource source = TensorSources.openDirectory(llamaDir)) {
            Map<String, Parameter> params = new LinkedHashMap<>(language.namedParameters());
            java.util.Set<String> grown = grow ? loadGrown(params, source, vocab) : java.util.Set.of();
            loadParams(params, source, n -> grown.contains(n) ? null : n, true);
        }
        ((MlpProjector) model.projector()).initialize(seed);
        LOG.info("built LLaVA from {} + {} with a new {} projector (seed {})", clipDir, llamaDir, projectorType, seed);
        return new Loaded(model, config);
    }

    /**
     * The config {@link #fromVisionAndLanguage} builds its model from, read and checked
     * ({@link ConfigCheck}) without allocating anything.
     *
     * @throws CheckpointException naming the config file and field that is out of range
     * @throws IllegalArgumentException if the options given (projector type, feature layer, image token) do not fit the configs
     */
    public static LlavaConfig combinedConfig(Path clipDir, Path llamaDir, String projectorType, int featureLayer, String selectStrategy,
            int imageTokenIndex) {
        ClipVisionConfig vision = readVisionConfig(clipDir.resolve("config.json"));
        LlamaConfig text = readLlamaConfig(llamaDir.resolve("config.json"));
        int vocab = text.vocabSize();
        boolean grow = imageTokenIndex < 0;
        LlamaConfig finalText = grow ? withVocab(text, vocab + 1) : text;
        LlavaConfig config = new LlavaConfig(finalText, vision, grow ? vocab : imageTokenIndex, "gelu",
                JSON.getNodeFactory().numberNode(featureLayer), selectStrategy, projectorType, true, "llava");
        try {
            ConfigCheck.check(config);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--vision " + clipDir + " with --llm " + llamaDir + ": " + e.getMessage(), e);
        }
        return config;
    }

    /**
     * Saves as a llava-hf directory (config.json + model.safetensors, older key layout,
     * float32 in 5GB shards: {@link SaveOptions#DEFAULT}), written atomically file by file.
     */
    public static void save(LlavaModel model, LlavaConfig config, Path dir) throws IOException {
        save(model, config, dir, SaveOptions.DEFAULT);
    }

    /**
     * Saves as a llava-hf directory as {@code save_pretrained} does: config.json with
     * {@code torch_dtype} set to the saved type, and the weights in the model's parameter order as
     * {@code model.safetensors}, or as {@code model-0000k-of-0000n.safetensors} shards with
     * {@code model.safetensors.index.json} when they exceed the shard size
     * ({@link SafeTensorsWriter#writePretrained}). Device parameters are copied to the host first.
     *
     * @param model the model
     * @param config its config
     * @param dir the output directory; weight files of an earlier save there are replaced
     * @param options the saved floating-point type and the shard size
     * @throws IOException if writing fails
     */
    public static void save(LlavaModel model, LlavaConfig config, Path dir, SaveOptions options) throws IOException {
        Files.createDirectories(dir);
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        model.namedParameters().forEach((name, p) -> {
            INDArray host = p.to(io.github.vdep.core.device.Device.CPU).value(); // a copy only for device parameters
            tensors.put(name, host.dataType() == DataType.FLOAT ? host : host.castTo(DataType.FLOAT));
        });
        SafeTensorsWriter.writePretrained(dir, tensors, options);
        Path tmp = dir.resolve("config.json.tmp");
        config.write(tmp, options.torchDtype());
        Files.move(tmp, dir.resolve("config.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Loads parameter values from a checkpoint, mapping its keys with {@code rename} (null = skip). */
    static void loadInto(Module model, TensorSource source, UnaryOperator<String> rename, boolean strict) {
        loadParams(model.namedParameters(), source, rename, strict);
    }

    static void loadParams(Map<String, Parameter> params, TensorSource source, UnaryOperator<String> rename, boolean strict) {
        Map<String, String> mapped = new LinkedHashMap<>();
        TreeSet<String> unexpected = new TreeSet<>();
        for (String key : source.names()) {
            String name = rename.apply(key);
            if (name == null || IGNORED_SUFFIXES.stream().anyMatch(key::endsWith)) {
                continue;
            }
            if (params.containsKey(name)) {
                mapped.put(name, key);
            } else {
                unexpected.add(key);
            }
        }
        if (strict && !unexpected.isEmpty()) {
            throw new CheckpointException(source.fileOf(unexpected.first()), unexpected.first(),
                    "unexpected tensor(s) not in the model: " + abbreviate(unexpected));
        }
        TreeSet<String> missing = new TreeSet<>(params.keySet());
        missing.removeAll(mapped.keySet());
        if (!missing.isEmpty()) {
            throw new CheckpointException(checkpointFile(source), missing.first(), "missing tensor(s): " + abbreviate(missing));
        }
        for (Map.Entry<String, String> e : mapped.entrySet()) {
            Parameter p = params.get(e.getKey());
            String key = e.getValue();
            TensorInfo info = source.info(key);
            if (!Arrays.equals(info.shape(), p.shape())) {
                throw new CheckpointException(source.fileOf(key), key, "has shape " + Arrays.toString(info.shape())
                        + " but the config gives " + Arrays.toString(p.shape()));
            }
            p.load(source.load(key, p.dataType()));
        }
    }

    /** The file that describes a whole checkpoint: the index of a sharded one, else the single file. */
    private static Path checkpointFile(TensorSource source) {
        if (source instanceof ShardedSafeTensors sharded) {
            return sharded.indexFile();
        }
        if (source instanceof SafeTensorsFile single) {
            return single.path();
        }
        if (source instanceof TorchCheckpointFile torch) {
            return torch.path();
        }
        return source.names().isEmpty() ? null : source.fileOf(source.names().iterator().next());
    }

    /** Embedding and LM head with one extra row: loaded into the first rows, the new row the mean. */
    static java.util.Set<String> loadGrown(Map<String, Parameter> params, TensorSource source, int vocab) {
        java.util.Set<String> loaded = new java.util.HashSet<>();
        for (String name : List.of("model.embed_tokens.weight", "lm_head.weight")) {
            Parameter p = params.get(name);
            if (p == null || !source.names().contains(name)) {
                continue;
            }
            INDArray old = source.load(name, p.dataType());
            if (old.rank() != 2 || old.size(0) != vocab || old.size(1) != p.size(1)) {
                throw new CheckpointException(source.fileOf(name), name, "has shape " + Arrays.toString(old.shape())
                        + " but the config gives [" + vocab + ", " + p.size(1) + "]");
            }
            p.value().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, vocab), org.nd4j.linalg.indexing.NDArrayIndex.all()).assign(old);
            p.value().getRow(vocab).assign(old.mean(0));
            params.remove(name);
            loaded.add(name);
        }
        return loaded;
    }

    private static String fromNewerLayout(String key) {
        if (key.startsWith("model.language_model.")) {
            return "language_model.model." + key.substring("model.language_model.".length());
        }
        if (key.startsWith("lm_head.")) {
            return "language_model." + key;
        }
        if (key.startsWith("model.vision_tower.")) {
            return key.substring("model.".length());
        }
        if (key.startsWith("model.multi_modal_projector.")) {
            return key.substring("model.".length());
        }
        return key;
    }

    static ClipVisionConfig readVisionConfig(Path file) {
        JsonNode root = readJson(file);
        JsonNode node = root.has("vision_config") ? root.get("vision_config") : root;
        String type = node.path("model_type").asText("clip_vision_model");
        if (!type.equals("clip_vision_model") && !type.equals("clip")) {
            throw new CheckpointException(file, "model_type '" + type + "' is not a CLIP vision model");
        }
        String prefix = root.has("vision_config") ? "vision_config." : "";
        try {
            ClipVisionConfig config = JSON.treeToValue(node, ClipVisionConfig.class);
            ConfigCheck.checkVision(config, prefix);
            return config;
        } catch (IOException | IllegalArgumentException e) {
            throw new CheckpointException(file, "invalid CLIP vision config: " + e.getMessage(), e);
        }
    }

    private static LlamaConfig readLlamaConfig(Path file) {
        JsonNode root = readJson(file);
        String type = root.path("model_type").asText("llama");
        if (!type.equals("llama")) {
            throw new CheckpointException(file, "model_type '" + type + "' is not supported (llama only)");
        }
        try {
            LlamaConfig config = JSON.treeToValue(root, LlamaConfig.class);
            ConfigCheck.checkText(config, "");
            return config;
        } catch (IOException | IllegalArgumentException e) {
            throw new CheckpointException(file, "invalid LLaMA config: " + e.getMessage(), e);
        }
    }

    static LlamaConfig withVocab(LlamaConfig c, int vocab) {
        return new LlamaConfig(vocab, c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(), c.numAttentionHeads(), c.numKeyValueHeads(),
                c.headDim(), c.rmsNormEps(), c.ropeTheta(), c.maxPositionEmbeddings(), c.tieWordEmbeddings(), c.hiddenAct(), c.attentionBias(),
                c.bosTokenId(), c.eosTokenId(), c.padTokenId(), c.ropeScaling(), c.modelType());
    }

    static JsonNode readJson(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file, "config file not found");
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new CheckpointException(file, "is not valid JSON: " + e.getMessage(), e);
        }
    }

    private static String abbreviate(java.util.Collection<String> names) {
        List<String> list = names.stream().limit(5).toList();
        return String.join(", ", list) + (names.size() > 5 ? " ... (" + names.size() + " in all)" : "");
    }
}
