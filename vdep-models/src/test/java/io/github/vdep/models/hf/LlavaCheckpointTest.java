package io.github.vdep.models.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.llava.LlavaInputs;
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
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Saving and loading whole LLaVA models: llava-hf directories in both key layouts, single-file
 * and sharded, float32 and 16-bit stored weights; building from separate CLIP and LLaMA
 * checkpoints; and the errors bad checkpoints give.
 */
class LlavaCheckpointTest {
    static final int VOCAB = 32;
    static final int IMAGE_TOKEN = 31;
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static LlamaConfig text() {
        return LlamaConfig.of(VOCAB, 16, 24, 2, 4, 2, 64);
    }

    static ClipVisionConfig vision() {
        return ClipVisionConfig.of(8, 16, 2, 2, 8, 4);
    }

    static LlavaConfig config() {
        return LlavaConfig.of(text(), vision(), IMAGE_TOKEN);
    }

    /** Two samples, one image (4 patches) each, the second right-padded. */
    static LlavaInputs batch(int imageToken) {
        int i = imageToken;
        long[][] ids = {{1, i, i, i, i, 5, 6, 7, 8, 9}, {1, 3, 4, i, i, i, i, 10, 0, 0}};
        float[][] mask = {{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1, 1, 0, 0}};
        SplittableRandom rng = new SplittableRandom(5);
        float[] pixels = new float[2 * 3 * 8 * 8];
        for (int k = 0; k < pixels.length; k++) {
            pixels[k] = (float) (rng.nextDouble() * 2 - 1);
        }
        return new LlavaInputs(Nd4j.createFromArray(ids), Nd4j.createFromArray(mask), Nd4j.createFromArray(pixels).reshape(2, 3, 8, 8));
    }

    static INDArray logits(LlavaModel model) {
        return logits(model, IMAGE_TOKEN);
    }

    static INDArray logits(LlavaModel model, int imageToken) {
        return model.forward(batch(imageToken)).logits().value();
    }

    /** Saves a random float32 model and returns it. */
    private LlavaModel saved(Path dir, long seed) throws IOException {
        LlavaModel model = LlavaModels.random(config(), DataType.FLOAT, seed);
        LlavaCheckpoint.save(model, config(), dir);
        return model;
    }

    // ---------------------------------------------------------------- llava-hf round trips

    @Test
    void saveThenLoadGivesIdenticalParametersAndLogits() throws IOException {
        Path dir = tmp.resolve("llava");
        LlavaModel model = saved(dir, 7);

        LlavaCheckpoint.Loaded loaded = LlavaCheckpoint.load(dir);
        assertSameParameters(model, loaded.model());
        assertIdentical("logits", logits(model), logits(loaded.model()));
        assertEquals(config().toJson(), loaded.config().toJson());
        assertEquals(IMAGE_TOKEN, loaded.model().imageTokenIndex());
    }

    @Test
    void savedConfigIsLlavaHf() throws IOException {
        Path dir = tmp.resolve("llava");
        saved(dir, 7);
        JsonNode c = JSON.readTree(dir.resolve("config.json").toFile());
        assertEquals("LlavaForConditionalGeneration", c.get("architectures").get(0).asText());
        assertEquals("llava", c.get("model_type").asText());
        assertEquals(IMAGE_TOKEN, c.get("image_token_index").asInt());
        assertEquals(-2, c.get("vision_feature_layer").asInt());
        assertEquals("default", c.get("vision_feature_select_strategy").asText());
        assertEquals("gelu", c.get("projector_hidden_act").asText());
        assertEquals(4, c.get("image_seq_length").asInt());
        JsonNode t = c.get("text_config");
        assertEquals("llama", t.get("model_type").asText());
        assertEquals(VOCAB, t.get("vocab_size").asInt());
        assertEquals(16, t.get("hidden_size").asInt());
        assertEquals(24, t.get("intermediate_size").asInt());
        assertEquals(2, t.get("num_hidden_layers").asInt());
        assertEquals(4, t.get("num_attention_heads").asInt());
        assertEquals(2, t.get("num_key_value_heads").asInt());
        assertFalse(t.has("rope_scaling"), "a null rope_scaling is left out");
        JsonNode v = c.get("vision_config");
        assertEquals("clip_vision_model", v.get("model_type").asText());
        assertEquals(8, v.get("hidden_size").asInt());
        assertEquals(16, v.get("intermediate_size").asInt());
        assertEquals(2, v.get("num_hidden_layers").asInt());
        assertEquals(8, v.get("image_size").asInt());
        assertEquals(4, v.get("patch_size").asInt());
    }

    @Test
    void savedTensorsUseTheOlderLlavaHfKeys() throws IOException {
        Path dir = tmp.resolve("llava");
        LlavaModel model = saved(dir, 7);
        try (SafeTensorsFile file = SafeTensorsFile.open(dir.resolve("model.safetensors"))) {
            assertEquals(model.namedParameters().keySet(), file.names());
            for (String key : List.of("language_model.model.embed_tokens.weight", "language_model.model.layers.1.self_attn.k_proj.weight",
                    "language_model.model.norm.weight", "language_model.lm_head.weight",
                    "vision_tower.vision_model.embeddings.patch_embedding.weight", "vision_tower.vision_model.embeddings.class_embedding",
                    "vision_tower.vision_model.pre_layrnorm.weight", "vision_tower.vision_model.encoder.layers.1.mlp.fc2.bias",
                    "vision_tower.vision_model.post_layernorm.bias", "multi_modal_projector.linear_1.weight",
                    "multi_modal_projector.linear_2.bias")) {
                assertTrue(file.names().contains(key), key);
            }
            for (String key : file.names()) {
                assertTrue(key.startsWith("language_model.model.") || key.equals("language_model.lm_head.weight")
                        || key.startsWith("vision_tower.vision_model.") || key.startsWith("multi_modal_projector."), key);
                assertEquals(SafeTensorDtype.F32, file.info(key).dtype(), key);
            }
            assertArrayEquals(new long[] {8, 3, 4, 4}, file.info("vision_tower.vision_model.embeddings.patch_embedding.weight").shape());
            assertArrayEquals(new long[] {VOCAB, 16}, file.info("language_model.lm_head.weight").shape());
            assertEquals("pt", file.metadata().get("format"));
        }
    }

    @Test
    void loadsTheNewerKeyLayout() throws IOException {
        Path dir = tmp.resolve("llava");
        LlavaModel model = saved(dir, 8);
        Path newer = tmp.resolve("newer");
        Map<String, INDArray> renamed = renamed(readAll(dir.resolve("model.safetensors")), LlavaCheckpointTest::toNewerKey);
        assertTrue(renamed.containsKey("model.language_model.embed_tokens.weight"));
        assertTrue(renamed.containsKey("model.vision_tower.vision_model.embeddings.patch_embedding.weight"));
        assertTrue(renamed.containsKey("model.multi_modal_projector.linear_1.weight"));
        assertTrue(renamed.containsKey("lm_head.weight"));
        SafeTensorsWriter.write(newer.resolve("model.safetensors"), renamed, null);
        Files.copy(dir.resolve("config.json"), newer.resolve("config.json"));

        LlavaModel loaded = LlavaCheckpoint.load(newer).model();
        assertSameParameters(model, loaded);
        assertIdentical("logits", logits(model), logits(loaded));
    }

    @Test
    void loadsAShardedCheckpoint() throws IOException {
        Path dir = tmp.resolve("llava");
        LlavaModel model = saved(dir, 9);
        Path sharded = tmp.resolve("sharded");
        List<Path> shards = SafeTensorsWriter.writeSharded(sharded, readAll(dir.resolve("model.safetensors")), 4096);
        assertTrue(shards.size() > 2, "expected several shards, got " + shards);
        Files.copy(dir.resolve("config.json"), sharded.resolve("config.json"));
        assertFalse(Files.exists(sharded.resolve("model.safetensors")));

        LlavaModel loaded = LlavaCheckpoint.load(sharded).model();
        assertSameParameters(model, loaded);
        assertIdentical("logits", logits(model), logits(loaded));
    }

    @Test
    void loadsAShardedCheckpointInTheNewerLayout() throws IOException {
        Path dir = tmp.resolve("llava");
        LlavaModel model = saved(dir, 10);
        Path sharded = tmp.resolve("sharded");
        SafeTensorsWriter.writeSharded(sharded, renamed(readAll(dir.resolve("model.safetensors")), LlavaCheckpointTest::toNewerKey), 2048);
        Files.copy(dir.resolve("config.json"), sharded.resolve("config.json"));
        assertIdentical("logits", logits(model), logits(LlavaCheckpoint.load(sharded).model()));
    }

    @ParameterizedTest
    @EnumSource(value = SafeTensorDtype.class, names = {"F16", "BF16"})
    void loadsHalfPrecisionWeightsAsRoundedFloat32(SafeTensorDtype stored) throws IOException {
        Path dir = tmp.resolve("llava");
        LlavaModel model = saved(dir, 11);
        Path half = tmp.resolve("half");
        SafeTensorsWriter.write(half.resolve("model.safetensors"), readAll(dir.resolve("model.safetensors")), null, stored);
        Files.copy(dir.resolve("config.json"), half.resolve("config.json"));
        try (SafeTensorsFile file = SafeTensorsFile.open(half.resolve("model.safetensors"))) {
            assertEquals(stored, file.info("language_model.lm_head.weight").dtype());
        }

        LlavaModel loaded = LlavaCheckpoint.load(half).model();
        int changed = 0;
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            Parameter p = loaded.namedParameters().get(e.getKey());
            assertEquals(DataType.FLOAT, p.dataType(), e.getKey());
            float[] original = flat(e.getValue().value());
            float[] expected = new float[original.length];
            for (int i = 0; i < original.length; i++) {
                expected[i] = stored == SafeTensorDtype.F16
                        ? HalfPrecision.f16BitsToFloat(HalfPrecision.floatToF16Bits(original[i]))
                        : HalfPrecision.bf16BitsToFloat(HalfPrecision.floatToBf16Bits(original[i]));
            }
            assertArrayEquals(expected, flat(p.value()), e.getKey());
            if (!Arrays.equals(original, expected)) {
                changed++;
            }
        }
        assertTrue(changed > 0, "rounding to " + stored + " should change some weights");
        INDArray ref = logits(model);
        INDArray got = logits(loaded);
        double rel = ref.sub(got).amaxNumber().doubleValue() / ref.amaxNumber().doubleValue();
        assertTrue(rel < 0.05, stored + " logits drift " + rel);
    }

    @Test
    void loadsIntoDoublePrecision() throws IOException {
        Path dir = tmp.resolve("llava");
        LlavaModel model = saved(dir, 12);
        LlavaModel loaded = LlavaCheckpoint.load(dir, DataType.DOUBLE).model();
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            Parameter p = loaded.namedParameters().get(e.getKey());
            assertEquals(DataType.DOUBLE, p.dataType());
            assertArrayEquals(flat(e.getValue().value()), flat(p.value()), e.getKey());
        }
    }

    // ---------------------------------------------------------------- CLIP + LLaMA

    /** A source model whose tower and language model are written as separate checkpoints. */
    private record Sources(LlavaModel model, Path clipVision, Path clipFull, Path llama) {
        Map<String, Parameter> tower() {
            return ((Module) model.visionTower()).namedParameters();
        }

        Map<String, Parameter> language() {
            return ((Module) model.languageModel()).namedParameters();
        }
    }

    private Sources sources() throws IOException {
        LlavaModel model = LlavaModels.random(config(), DataType.FLOAT, 21);
        Map<String, INDArray> tower = values(((Module) model.visionTower()).namedParameters());
        Map<String, INDArray> language = values(((Module) model.languageModel()).namedParameters());
        assertTrue(tower.keySet().stream().allMatch(k -> k.startsWith("vision_model.")));
        assertTrue(language.containsKey("model.embed_tokens.weight") && language.containsKey("lm_head.weight"));

        // CLIPVisionModel: top-level vision fields, vision_model.* tensors (plus the position_ids buffer older exports carry)
        Path clipVision = tmp.resolve("clip-vision");
        ObjectNode vc = visionConfigJson();
        vc.putArray("architectures").add("CLIPVisionModel");
        writeJson(clipVision.resolve("config.json"), vc);
        Map<String, INDArray> visionTensors = new TreeMap<>(tower);
        visionTensors.put("vision_model.embeddings.position_ids", Nd4j.createFromArray(new long[][] {{0, 1, 2, 3, 4}}));
        SafeTensorsWriter.write(clipVision.resolve("model.safetensors"), visionTensors, null);

        // CLIPModel: vision_config nested, plus text tower, projections and logit_scale that must be ignored
        Path clipFull = tmp.resolve("clip-full");
        ObjectNode full = JSON.createObjectNode();
        full.putArray("architectures").add("CLIPModel");
        full.put("model_type", "clip");
        full.put("projection_dim", 8);
        ObjectNode textConfig = full.putObject("text_config");
        textConfig.put("model_type", "clip_text_model");
        textConfig.put("hidden_size", 12);
        textConfig.put("vocab_size", 40);
        full.set("vision_config", visionConfigJson());
        writeJson(clipFull.resolve("config.json"), full);
        Map<String, INDArray> fullTensors = new TreeMap<>(tower);
        fullTensors.put("text_model.embeddings.token_embedding.weight", Nd4j.rand(DataType.FLOAT, 40, 12));
        fullTensors.put("text_model.final_layer_norm.weight", Nd4j.ones(DataType.FLOAT, 12));
        fullTensors.put("visual_projection.weight", Nd4j.rand(DataType.FLOAT, 8, 8));
        fullTensors.put("text_projection.weight", Nd4j.rand(DataType.FLOAT, 8, 12));
        fullTensors.put("logit_scale", Nd4j.scalar(2.6592f));
        SafeTensorsWriter.write(clipFull.resolve("model.safetensors"), fullTensors, null);

        // LlamaForCausalLM
        Path llama = tmp.resolve("llama");
        writeJson(llama.resolve("config.json"), llamaConfigJson());
        SafeTensorsWriter.write(llama.resolve("model.safetensors"), language, null);
        return new Sources(model, clipVision, clipFull, llama);
    }

    static ObjectNode visionConfigJson() {
        ObjectNode v = JSON.createObjectNode();
        v.put("model_type", "clip_vision_model");
        v.put("hidden_size", 8);
        v.put("intermediate_size", 16);
        v.put("num_hidden_layers", 2);
        v.put("num_attention_heads", 2);
        v.put("num_channels", 3);
        v.put("image_size", 8);
        v.put("patch_size", 4);
        v.put("layer_norm_eps", 1e-5);
        v.put("hidden_act", "quick_gelu");
        v.put("projection_dim", 8);
        return v;
    }

    static ObjectNode llamaConfigJson() {
        ObjectNode t = JSON.createObjectNode();
        t.putArray("architectures").add("LlamaForCausalLM");
        t.put("model_type", "llama");
        t.put("vocab_size", VOCAB);
        t.put("hidden_size", 16);
        t.put("intermediate_size", 24);
        t.put("num_hidden_layers", 2);
        t.put("num_attention_heads", 4);
        t.put("num_key_value_heads", 2);
        t.put("rms_norm_eps", 1e-5);
        t.put("max_position_embeddings", 64);
        t.put("tie_word_embeddings", false);
        t.put("hidden_act", "silu");
        t.putNull("rope_scaling");
        t.put("torch_dtype", "float16");
        return t;
    }

    private static LlavaCheckpoint.Loaded build(Path clip, Path llama, int imageToken, long seed) {
        return LlavaCheckpoint.fromVisionAndLanguage(clip, llama, "mlp2x_gelu", -2, "default", imageToken, seed, DataType.FLOAT);
    }

    @Test
    void buildsFromClipVisionModelAndLlama() throws IOException {
        Sources s = sources();
        LlavaCheckpoint.Loaded built = build(s.clipVision(), s.llama(), IMAGE_TOKEN, 42);
        LlavaModel model = built.model();
        assertSameValues(s.tower(), ((Module) model.visionTower()).namedParameters());
        assertSameValues(s.language(), ((Module) model.languageModel()).namedParameters());
        assertEquals(IMAGE_TOKEN, model.imageTokenIndex());
        assertEquals(IMAGE_TOKEN, built.config().imageTokenIndex());
        assertEquals(VOCAB, built.config().textConfig().vocabSize());
        assertEquals(-2, built.config().featureLayer());
        assertEquals("mlp2x_gelu", built.config().projectorType());

        MlpProjector expected = new MlpProjector("mlp2x_gelu", 8, 16, "gelu", DataType.FLOAT);
        expected.initialize(42);
        assertSameValues(expected.namedParameters(), ((Module) model.projector()).namedParameters());

        // the whole model (tower and LM from the sources, projector new) gives the source model's outputs once its projector matches
        ((Module) s.model().projector()).namedParameters().forEach((n, p) -> p.load(expected.namedParameters().get(n).value()));
        assertIdentical("logits", logits(s.model()), logits(model));
    }

    @Test
    void buildsFromAFullClipModelIgnoringItsTextTower() throws IOException {
        Sources s = sources();
        LlavaModel fromFull = build(s.clipFull(), s.llama(), IMAGE_TOKEN, 42).model();
        LlavaModel fromVision = build(s.clipVision(), s.llama(), IMAGE_TOKEN, 42).model();
        assertSameValues(s.tower(), ((Module) fromFull.visionTower()).namedParameters());
        assertSameParameters(fromVision, fromFull);
    }

    @Test
    void projectorIsSeeded() throws IOException {
        Sources s = sources();
        Map<String, Parameter> a = ((Module) build(s.clipVision(), s.llama(), IMAGE_TOKEN, 1).model().projector()).namedParameters();
        Map<String, Parameter> b = ((Module) build(s.clipVision(), s.llama(), IMAGE_TOKEN, 1).model().projector()).namedParameters();
        Map<String, Parameter> c = ((Module) build(s.clipVision(), s.llama(), IMAGE_TOKEN, 2).model().projector()).namedParameters();
        assertSameValues(a, b);
        for (String name : a.keySet()) {
            assertFalse(Arrays.equals(flat(a.get(name).value()), flat(c.get(name).value())), name + " should differ between seeds");
        }
        // PyTorch's nn.Linear default: uniform within +-1/sqrt(fan_in)
        assertTrue(a.get("linear_1.weight").value().amaxNumber().doubleValue() <= 1 / Math.sqrt(8) + 1e-7);
        assertTrue(a.get("linear_2.weight").value().amaxNumber().doubleValue() <= 1 / Math.sqrt(16) + 1e-7);
    }

    @Test
    void imageTokenMinusOneGrowsTheVocabularyByAMeanRow() throws IOException {
        Sources s = sources();
        LlavaCheckpoint.Loaded built = build(s.clipVision(), s.llama(), -1, 3);
        LlavaModel model = built.model();
        assertEquals(VOCAB, model.imageTokenIndex());
        assertEquals(VOCAB, built.config().imageTokenIndex());
        assertEquals(VOCAB + 1, built.config().textConfig().vocabSize());
        assertEquals(VOCAB + 1, model.languageModel().vocabSize());
        Map<String, Parameter> lm = ((Module) model.languageModel()).namedParameters();
        for (String name : List.of("model.embed_tokens.weight", "lm_head.weight")) {
            INDArray grown = lm.get(name).value();
            INDArray original = s.language().get(name).value();
            assertArrayEquals(new long[] {VOCAB + 1, 16}, grown.shape(), name);
            assertArrayEquals(flat(original), flat(grown.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, VOCAB),
                    org.nd4j.linalg.indexing.NDArrayIndex.all())), name + " old rows");
            assertArrayEquals(flat(original.mean(0)), flat(grown.getRow(VOCAB)), 1e-7f, name + " new row = mean of the old rows");
        }
        // every other language-model parameter arrives unchanged
        s.language().forEach((name, p) -> {
            if (!name.equals("model.embed_tokens.weight") && !name.equals("lm_head.weight")) {
                assertArrayEquals(flat(p.value()), flat(lm.get(name).value()), name);
            }
        });
        // the new id works as the image placeholder
        INDArray out = logits(model, VOCAB);
        assertArrayEquals(new long[] {2, 10, VOCAB + 1}, out.shape());
    }

    @Test
    void buildsWithOtherProjectorsAndFeatureLayers() throws IOException {
        Sources s = sources();
        LlavaModel linear = LlavaCheckpoint.fromVisionAndLanguage(s.clipVision(), s.llama(), "linear", -1, "full", IMAGE_TOKEN, 5, DataType.FLOAT).model();
        assertEquals(List.of("linear_1.weight", "linear_1.bias"), List.copyOf(((Module) linear.projector()).namedParameters().keySet()));
        assertEquals(5, linear.visionTower().numPatches(), "full keeps CLS");
        LlavaModel deep = LlavaCheckpoint.fromVisionAndLanguage(s.clipVision(), s.llama(), "mlp3x_gelu", 1, "default", IMAGE_TOKEN, 5, DataType.FLOAT).model();
        assertEquals(6, ((Module) deep.projector()).namedParameters().size());
    }

    // ---------------------------------------------------------------- errors

    @Test
    void missingTensor() throws IOException {
        Path dir = rewritten(t -> t.remove("language_model.model.norm.weight"));
        CheckpointException e = assertCheckpointError(dir.resolve("model.safetensors"), "language_model.model.norm.weight",
                () -> LlavaCheckpoint.load(dir), "missing tensor");
        assertNotNull(e);
    }

    @Test
    void unexpectedTensor() throws IOException {
        Path dir = rewritten(t -> t.put("language_model.model.layers.0.mlp.extra_proj.weight", Nd4j.zeros(DataType.FLOAT, 2, 2)));
        assertCheckpointError(dir.resolve("model.safetensors"), "language_model.model.layers.0.mlp.extra_proj.weight",
                () -> LlavaCheckpoint.load(dir), "unexpected tensor");
    }

    @Test
    void emptyWeightsFileIsNamed() throws IOException {
        Path dir = rewritten(Map::clear);
        assertCheckpointError(dir.resolve("model.safetensors"), "language_model.lm_head.weight", () -> LlavaCheckpoint.load(dir), "missing tensor");
    }

    @Test
    void missingAndUnexpectedTensorsInAShardedCheckpoint() throws IOException {
        Path dir = tmp.resolve("llava");
        saved(dir, 7);
        Map<String, INDArray> tensors = readAll(dir.resolve("model.safetensors"));
        Files.delete(dir.resolve("model.safetensors"));
        tensors.remove("multi_modal_projector.linear_2.bias");
        SafeTensorsWriter.writeSharded(dir, tensors, 4096);
        // a missing tensor is in no shard: the index names the checkpoint
        assertCheckpointError(dir.resolve(ShardedSafeTensors.INDEX_FILE_NAME), "multi_modal_projector.linear_2.bias",
                () -> LlavaCheckpoint.load(dir), "missing tensor");

        tensors.put("multi_modal_projector.linear_2.bias", Nd4j.zeros(DataType.FLOAT, 16));
        tensors.put("vision_tower.vision_model.extra.weight", Nd4j.zeros(DataType.FLOAT, 2));
        List<Path> shards = SafeTensorsWriter.writeSharded(dir, tensors, 4096);
        Path holder;
        try (TensorSource source = TensorSources.openDirectory(dir)) {
            holder = source.fileOf("vision_tower.vision_model.extra.weight");
        }
        assertTrue(shards.contains(holder));
        assertCheckpointError(holder, "vision_tower.vision_model.extra.weight", () -> LlavaCheckpoint.load(dir), "unexpected tensor");
    }

    @Test
    void shapeMismatchAgainstTheConfig() throws IOException {
        Path dir = rewritten(t -> t.put("multi_modal_projector.linear_1.weight", Nd4j.zeros(DataType.FLOAT, 16, 9)));
        assertCheckpointError(dir.resolve("model.safetensors"), "multi_modal_projector.linear_1.weight",
                () -> LlavaCheckpoint.load(dir), "has shape [16, 9] but the config gives [16, 8]");
    }

    @Test
    void shapeMismatchInTheNewerLayoutNamesTheFileKey() throws IOException {
        Path dir = tmp.resolve("llava");
        saved(dir, 7);
        Map<String, INDArray> t = renamed(readAll(dir.resolve("model.safetensors")), LlavaCheckpointTest::toNewerKey);
        t.put("lm_head.weight", Nd4j.zeros(DataType.FLOAT, VOCAB + 1, 16));
        SafeTensorsWriter.write(dir.resolve("model.safetensors"), t, null);
        assertCheckpointError(dir.resolve("model.safetensors"), "lm_head.weight", () -> LlavaCheckpoint.load(dir),
                "has shape [33, 16] but the config gives [32, 16]");
    }

    @Test
    void truncatedWeights() throws IOException {
        Path dir = tmp.resolve("llava");
        saved(dir, 7);
        Path file = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 16));
        CheckpointException e = assertThrows(CheckpointException.class, () -> LlavaCheckpoint.load(dir));
        assertEquals(file, e.file());
        assertTrue(e.tensor().isPresent(), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("'" + e.tensor().get() + "'")
                && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void corruptHeader() throws IOException {
        Path dir = tmp.resolve("llava");
        saved(dir, 7);
        Path file = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(file);
        bytes[8] = 'x'; // the opening brace of the JSON header
        Files.write(file, bytes);
        assertCheckpointError(file, null, () -> LlavaCheckpoint.load(dir), "header is not valid JSON");
    }

    @Test
    void missingWeights() throws IOException {
        Path dir = tmp.resolve("llava");
        saved(dir, 7);
        Files.delete(dir.resolve("model.safetensors"));
        assertCheckpointError(dir, null, () -> LlavaCheckpoint.load(dir), "contains none of model.safetensors, model.safetensors.index.json, pytorch_model.bin");
    }

    @Test
    void missingConfig() throws IOException {
        Path dir = tmp.resolve("llava");
        saved(dir, 7);
        Files.delete(dir.resolve("config.json"));
        assertCheckpointError(dir.resolve("config.json"), null, () -> LlavaCheckpoint.load(dir), "config file not found");
    }

    @Test
    void malformedConfig() throws IOException {
        Path dir = tmp.resolve("llava");
        saved(dir, 7);
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"llava\", \"text_config\": {");
        assertCheckpointError(dir.resolve("config.json"), null, () -> LlavaCheckpoint.load(dir), "is not valid JSON");
    }

    @Test
    void unsupportedModelType() throws IOException {
        Path dir = withConfig(c -> c.put("model_type", "qwen2_vl"));
        assertCheckpointError(dir.resolve("config.json"), null, () -> LlavaCheckpoint.load(dir), "model_type 'qwen2_vl'", "not a LLaVA model");
    }

    @Test
    void unsupportedTextModelType() throws IOException {
        Path dir = withConfig(c -> ((ObjectNode) c.get("text_config")).put("model_type", "mistral"));
        assertCheckpointError(dir.resolve("config.json"), null, () -> LlavaCheckpoint.load(dir), "text_config model_type 'mistral'", "not supported");
    }

    @Test
    void unsupportedVisionModelType() throws IOException {
        Path dir = withConfig(c -> ((ObjectNode) c.get("vision_config")).put("model_type", "siglip_vision_model"));
        assertCheckpointError(dir.resolve("config.json"), null, () -> LlavaCheckpoint.load(dir), "vision_config model_type 'siglip_vision_model'",
                "not supported");
    }

    @Test
    void unsupportedRopeScaling() throws IOException {
        Path dir = withConfig(c -> ((ObjectNode) c.get("text_config")).putObject("rope_scaling").put("type", "linear").put("factor", 2.0));
        assertCheckpointError(dir.resolve("config.json"), null, () -> LlavaCheckpoint.load(dir), "rope_scaling", "not supported");
    }

    @Test
    void missingTextConfig() throws IOException {
        Path dir = withConfig(c -> c.remove("text_config"));
        assertCheckpointError(dir.resolve("config.json"), null, () -> LlavaCheckpoint.load(dir), "no text_config");
    }

    @Test
    void visionFeatureLayerOutOfRange() throws IOException {
        Path dir = withConfig(c -> c.put("vision_feature_layer", 3));
        assertCheckpointError(dir.resolve("config.json"), null, () -> LlavaCheckpoint.load(dir), "vision_feature_layer 3", "2-layer vision tower");
        Path neg = withConfig(c -> c.put("vision_feature_layer", -4));
        assertCheckpointError(neg.resolve("config.json"), null, () -> LlavaCheckpoint.load(neg), "vision_feature_layer -4");
        Path list = withConfig(c -> c.putArray("vision_feature_layer").add(-2).add(-1));
        assertCheckpointError(list.resolve("config.json"), null, () -> LlavaCheckpoint.load(list), "a single layer index only");
    }

    /** Absurd config values are reported as the file and field, before anything is allocated. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({
        "text_config, hidden_size, 1000000000, text_config.hidden_size 1000000000",
        "text_config, num_hidden_layers, -2, text_config.num_hidden_layers -2",
        "text_config, num_hidden_layers, 0, text_config.num_hidden_layers 0",
        "text_config, num_attention_heads, 0, text_config.num_attention_heads 0",
        "text_config, num_key_value_heads, 3, num_attention_heads 4 is not a multiple of num_key_value_heads 3",
        "text_config, num_key_value_heads, 8, num_attention_heads 4 is not a multiple of num_key_value_heads 8",
        "text_config, intermediate_size, -1, text_config.intermediate_size -1",
        "text_config, vocab_size, 0, text_config.vocab_size 0",
        "text_config, max_position_embeddings, 0, text_config.max_position_embeddings 0",
        "text_config, rms_norm_eps, -1, text_config.rms_norm_eps",
        "vision_config, hidden_size, 1000000000, vision_config.hidden_size 1000000000",
        "vision_config, num_hidden_layers, -1, vision_config.num_hidden_layers -1",
        "vision_config, num_attention_heads, 0, vision_config.num_attention_heads 0",
        "vision_config, image_size, 0, vision_config.image_size 0",
        "vision_config, image_size, 100000, vision_config.image_size 100000",
        "vision_config, patch_size, 0, vision_config.patch_size 0",
        "vision_config, patch_size, 16, image_size 8 is not divisible by patch_size 16",
        "vision_config, num_channels, 4, vision_config.num_channels 4",
        ", image_token_index, 32, image_token_index 32 is outside the vocabulary",
        ", image_token_index, -5, image_token_index -5 is outside the vocabulary",
    })
    void absurdConfigValuesNameTheFileAndField(String section, String field, String value, String expected) throws IOException {
        JsonNode parsed = JSON.readTree(value);
        Path dir = withConfig(c -> {
            ObjectNode node = section == null ? c : (ObjectNode) c.get(section);
            node.set(field, parsed);
        });
        assertCheckpointError(dir.resolve("config.json"), null, () -> LlavaCheckpoint.load(dir), expected);
    }

    @Test
    void absurdSourceConfigsAreNamedWhenBuildingFromClipAndLlama() throws IOException {
        Sources s = sources();
        Path llamaConfig = s.llama().resolve("config.json");
        ObjectNode text = (ObjectNode) JSON.readTree(llamaConfig.toFile());
        text.put("hidden_size", 1_000_000_000);
        writeJson(llamaConfig, text);
        assertCheckpointError(llamaConfig, null, () -> LlavaCheckpoint.fromVisionAndLanguage(s.clipVision(), s.llama(), "mlp2x_gelu", -2,
                "default", IMAGE_TOKEN, 1, DataType.FLOAT), "hidden_size 1000000000");
        Path clipConfig = s.clipVision().resolve("config.json");
        ObjectNode vision = (ObjectNode) JSON.readTree(clipConfig.toFile());
        vision.put("num_hidden_layers", -3);
        writeJson(clipConfig, vision);
        assertCheckpointError(clipConfig, null, () -> LlavaCheckpoint.combinedConfig(s.clipVision(), s.llama(), "mlp2x_gelu", -2,
                "default", IMAGE_TOKEN), "num_hidden_layers -3");
    }

    @Test
    void unknownProjectorType() throws IOException {
        Path dir = withConfig(c -> c.put("mm_projector_type", "resampler"));
        assertCheckpointError(dir.resolve("config.json"), null, () -> LlavaCheckpoint.load(dir), "unknown projector type 'resampler'");
    }

    @Test
    void badArgumentsOrSourcesWhenBuildingFromClipAndLlama() throws IOException {
        Sources s = sources();
        IllegalArgumentException projector = assertThrows(IllegalArgumentException.class, () -> LlavaCheckpoint.fromVisionAndLanguage(
                s.clipVision(), s.llama(), "qformer", -2, "default", IMAGE_TOKEN, 1, DataType.FLOAT));
        assertTrue(projector.getMessage().contains("unknown projector type 'qformer'"), projector.getMessage());
        IllegalArgumentException layer = assertThrows(IllegalArgumentException.class, () -> LlavaCheckpoint.fromVisionAndLanguage(
                s.clipVision(), s.llama(), "mlp2x_gelu", 7, "default", IMAGE_TOKEN, 1, DataType.FLOAT));
        assertTrue(layer.getMessage().contains("vision_feature_layer 7"), layer.getMessage());

        // the CLIP tower may not hold the wrong kind of model, nor the LLaMA directory another architecture
        ObjectNode siglip = visionConfigJson().put("model_type", "siglip_vision_model");
        writeJson(s.clipVision().resolve("config.json"), siglip);
        assertCheckpointError(s.clipVision().resolve("config.json"), null, () -> build(s.clipVision(), s.llama(), IMAGE_TOKEN, 1),
                "model_type 'siglip_vision_model'");
        writeJson(s.llama().resolve("config.json"), llamaConfigJson().put("model_type", "mistral"));
        assertCheckpointError(s.llama().resolve("config.json"), null, () -> build(s.clipFull(), s.llama(), IMAGE_TOKEN, 1), "model_type 'mistral'");
        ObjectNode scaled = llamaConfigJson();
        scaled.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0);
        writeJson(s.llama().resolve("config.json"), scaled);
        assertCheckpointError(s.llama().resolve("config.json"), null, () -> build(s.clipFull(), s.llama(), IMAGE_TOKEN, 1), "rope_scaling");
        Files.delete(s.llama().resolve("config.json"));
        assertCheckpointError(s.llama().resolve("config.json"), null, () -> build(s.clipFull(), s.llama(), IMAGE_TOKEN, 1), "config file not found");
    }

    @Test
    void missingVisionOrLanguageTensorsWhenBuilding() throws IOException {
        Sources s = sources();
        Map<String, INDArray> vision = readAll(s.clipVision().resolve("model.safetensors"));
        vision.remove("vision_model.encoder.layers.1.self_attn.q_proj.bias");
        SafeTensorsWriter.write(s.clipVision().resolve("model.safetensors"), vision, null);
        assertCheckpointError(s.clipVision().resolve("model.safetensors"), "vision_model.encoder.layers.1.self_attn.q_proj.bias",
                () -> build(s.clipVision(), s.llama(), IMAGE_TOKEN, 1), "missing tensor");

        Map<String, INDArray> language = readAll(s.llama().resolve("model.safetensors"));
        language.put("model.embed_tokens.weight", Nd4j.zeros(DataType.FLOAT, VOCAB, 12));
        SafeTensorsWriter.write(s.llama().resolve("model.safetensors"), language, null);
        assertCheckpointError(s.llama().resolve("model.safetensors"), "model.embed_tokens.weight",
                () -> build(s.clipFull(), s.llama(), IMAGE_TOKEN, 1), "has shape [32, 12]");
        assertCheckpointError(s.llama().resolve("model.safetensors"), "model.embed_tokens.weight",
                () -> build(s.clipFull(), s.llama(), -1, 1), "has shape [32, 12]");
    }

    // ---------------------------------------------------------------- helpers

    /** A saved checkpoint whose tensors were edited by {@code edit}. */
    private Path rewritten(Consumer<Map<String, INDArray>> edit) throws IOException {
        Path dir = tmp.resolve("llava");
        saved(dir, 7);
        Map<String, INDArray> tensors = readAll(dir.resolve("model.safetensors"));
        edit.accept(tensors);
        SafeTensorsWriter.write(dir.resolve("model.safetensors"), tensors, null);
        return dir;
    }

    private int configs;

    /** A saved checkpoint whose config.json was edited by {@code edit}. */
    private Path withConfig(Consumer<ObjectNode> edit) throws IOException {
        Path dir = tmp.resolve("llava-" + configs++);
        saved(dir, 7);
        ObjectNode c = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
        edit.accept(c);
        writeJson(dir.resolve("config.json"), c);
        return dir;
    }

    static void writeJson(Path file, JsonNode json) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json));
    }

    static CheckpointException assertCheckpointError(Path file, String tensor, Executable call, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, call);
        String m = e.getMessage();
        assertEquals(file, e.file(), m);
        assertTrue(m.startsWith(file.toString() + ": "), "the message names the file: " + m);
        if (tensor != null) {
            assertEquals(tensor, e.tensor().orElse(null), m);
            assertTrue(m.contains("'" + tensor + "'"), "the message names the tensor: " + m);
        }
        for (String f : fragments) {
            assertTrue(m.contains(f), "expected '" + f + "' in: " + m);
        }
        return e;
    }

    static String toNewerKey(String key) {
        if (key.startsWith("language_model.model.")) {
            return "model.language_model." + key.substring("language_model.model.".length());
        }
        if (key.equals("language_model.lm_head.weight")) {
            return "lm_head.weight";
        }
        assertTrue(key.startsWith("vision_tower.") || key.startsWith("multi_modal_projector."), key);
        return "model." + key;
    }

    static Map<String, INDArray> readAll(Path file) {
        Map<String, INDArray> out = new TreeMap<>();
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            for (String name : f.names()) {
                out.put(name, f.load(name));
            }
        }
        return out;
    }

    static Map<String, INDArray> renamed(Map<String, INDArray> tensors, Function<String, String> rename) {
        Map<String, INDArray> out = new TreeMap<>();
        tensors.forEach((k, v) -> assertNull(out.put(rename.apply(k), v), "two keys renamed to " + rename.apply(k)));
        return out;
    }

    static Map<String, INDArray> values(Map<String, Parameter> params) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        params.forEach((k, p) -> out.put(k, p.value()));
        return out;
    }

    static float[] flat(INDArray a) {
        return a.castTo(DataType.FLOAT).dup('c').reshape(a.length()).toFloatVector();
    }

    static void assertSameParameters(LlavaModel expected, LlavaModel actual) {
        assertSameValues(expected.namedParameters(), actual.namedParameters());
    }

    static void assertSameValues(Map<String, Parameter> expected, Map<String, Parameter> actual) {
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()));
        expected.forEach((name, p) -> {
            assertArrayEquals(p.shape(), actual.get(name).shape(), name);
            assertArrayEquals(flat(p.value()), flat(actual.get(name).value()), name);
        });
    }

    static void assertIdentical(String what, INDArray expected, INDArray actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        assertArrayEquals(flat(expected), flat(actual), what);
    }
}
