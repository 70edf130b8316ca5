package io.github.vdep.models.hf;

import static io.github.vdep.models.hf.TensorAssertions.assertCheckpointError;
import static io.github.vdep.models.hf.TensorAssertions.assertSameTensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.vdep.core.llava.LlavaInputs;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.models.llava.LlavaConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * LLaVA's own formats, on fixtures made by scripts/fixtures/make_torch_fixtures.py: the stage-1
 * {@code mm_projector.bin}, the original {@code LlavaLlamaForCausalLM} layout, and saving in it.
 */
class LlavaOriginalCheckpointTest {

    static final Path TINY = TorchCheckpointFileTest.DIR.resolve("tiny");
    static final int VOCAB = 32;

    @TempDir
    Path tmp;

    /** The image token is the appended row, id VOCAB. */
    static LlavaInputs batch() {
        int i = VOCAB;
        long[][] ids = {{1, i, i, i, i, 5, 6, 7}, {1, 3, i, i, i, i, 9, 0}};
        float[][] mask = {{1, 1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1, 0}};
        SplittableRandom rng = new SplittableRandom(4);
        float[] pixels = new float[2 * 3 * 16 * 16];
        for (int k = 0; k < pixels.length; k++) {
            pixels[k] = (float) (rng.nextDouble() * 2 - 1);
        }
        return new LlavaInputs(Nd4j.createFromArray(ids), Nd4j.createFromArray(mask), Nd4j.createFromArray(pixels).reshape(2, 3, 16, 16));
    }

    static void assertSameModel(LlavaModel expected, LlavaModel actual) {
        assertEquals(expected.namedParameters().keySet(), actual.namedParameters().keySet());
        expected.namedParameters().forEach((n, p) -> assertSameTensor(p.value(), actual.namedParameters().get(n).value()));
        assertSameTensor(expected.forward(batch()).logits().value(), actual.forward(batch()).logits().value());
    }

    /** CLIP + Vicuna-style LLaMA + LLaVA's released stage-1 projector: what stage 2 starts from. */
    static LlavaModel fromParts() {
        LlavaModel m = LlavaCheckpoint.fromVisionAndLanguage(TINY.resolve("clip-bin"), TINY.resolve("llama-bin"), "mlp2x_gelu", -2,
                "default", -1, 1, DataType.FLOAT).model();
        ProjectorWeights.load(m, TINY.resolve("mm_projector.bin"));
        return m;
    }

    @Test
    void adapterLoadsTheStage1ProjectorExactly() {
        LlavaModel m = fromParts();
        try (TensorSource adapter = TensorSources.open(TINY.resolve("mm_projector.bin"))) {
            assertSameTensor(adapter.load("model.mm_projector.0.weight"), m.namedParameters().get("multi_modal_projector.linear_1.weight").value());
            assertSameTensor(adapter.load("model.mm_projector.2.bias"), m.namedParameters().get("multi_modal_projector.linear_2.bias").value());
        }
    }

    @Test
    void originalCheckpointEqualsItsParts() {
        assertTrue(LlavaOriginalCheckpoint.isOriginal(TINY.resolve("llava-orig")));
        assertFalse(LlavaOriginalCheckpoint.isOriginal(TINY.resolve("llama-bin")));
        assertEquals("pad", LlavaOriginalCheckpoint.imageAspectRatio(TINY.resolve("llava-orig")));
        LlavaCheckpoint.Loaded orig = LlavaOriginalCheckpoint.load(TINY.resolve("llava-orig"), TINY.resolve("clip-st"), DataType.FLOAT);
        assertEquals(VOCAB, orig.config().imageTokenIndex());
        assertEquals(VOCAB + 1, orig.config().textConfig().vocabSize());
        assertEquals(-2, orig.config().featureLayer());
        assertEquals("default", orig.config().visionFeatureSelectStrategy());
        assertSameModel(fromParts(), orig.model());
    }

    @Test
    void savesInLlavasLayoutAndLoadsBack() throws IOException {
        LlavaCheckpoint.Loaded orig = LlavaOriginalCheckpoint.load(TINY.resolve("llava-orig"), TINY.resolve("clip-st"), DataType.FLOAT);
        Path out = tmp.resolve("final");
        String tower = TINY.resolve("clip-st").toAbsolutePath().toString();
        LlavaOriginalCheckpoint.save(orig.model(), orig.config(), out, tower, "pad");
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("LlavaLlamaForCausalLM", cfg.get("architectures").get(0).asText());
        assertEquals(VOCAB, cfg.get("vocab_size").asInt(), "the image row is dropped again");
        assertEquals(tower, cfg.get("mm_vision_tower").asText());
        assertEquals("patch", cfg.get("mm_vision_select_feature").asText());
        assertEquals("mlp2x_gelu", cfg.get("mm_projector_type").asText());
        try (TensorSource st = TensorSources.openDirectory(out); TensorSource fixture = TensorSources.openDirectory(TINY.resolve("llava-orig"))) {
            for (String n : fixture.names()) {
                assertSameTensor(fixture.load(n), st.load(n));
            }
            assertTrue(st.names().contains("model.vision_tower.vision_tower.vision_model.post_layernorm.weight"));
        }
        try (TensorSource adapter = TensorSources.open(out.resolve("mm_projector.bin"))) {
            assertEquals(java.util.Set.of("model.mm_projector.0.weight", "model.mm_projector.0.bias", "model.mm_projector.2.weight",
                    "model.mm_projector.2.bias"), adapter.names());
        }
        // mm_vision_tower is a local directory here, so no CLIP directory needs to be given
        assertSameModel(orig.model(), LlavaOriginalCheckpoint.load(out, null, DataType.FLOAT).model());
    }

    /** --save-layout llava with --save-dtype bf16 and small shards: BF16 shards with their index, bfloat16 torch_dtype, loads back rounded. */
    @Test
    void savesInLlavasLayoutAsBf16Shards() throws IOException {
        LlavaCheckpoint.Loaded orig = LlavaOriginalCheckpoint.load(TINY.resolve("llava-orig"), TINY.resolve("clip-st"), DataType.FLOAT);
        Path out = tmp.resolve("final-bf16");
        String tower = TINY.resolve("clip-st").toAbsolutePath().toString();
        LlavaOriginalCheckpoint.save(orig.model(), orig.config(), out, tower, "pad", new SaveOptions(SafeTensorDtype.BF16, 4096));
        assertEquals("bfloat16", new ObjectMapper().readTree(out.resolve("config.json").toFile()).get("torch_dtype").asText());
        assertTrue(Files.isRegularFile(out.resolve(ShardedSafeTensors.INDEX_FILE_NAME)));
        assertTrue(!Files.exists(out.resolve("model.safetensors")));
        try (TensorSource st = TensorSources.openDirectory(out); TensorSource fixture = TensorSources.openDirectory(TINY.resolve("llava-orig"))) {
            for (String n : fixture.names()) {
                assertEquals(SafeTensorDtype.BF16, st.info(n).dtype(), n);
                float[] want = fixture.load(n).dup('c').data().asFloat();
                float[] got = st.load(n).dup('c').data().asFloat();
                for (int i = 0; i < want.length; i++) {
                    assertEquals(HalfPrecision.bf16BitsToFloat(HalfPrecision.floatToBf16Bits(want[i])), got[i], 0f, n);
                }
            }
        }
        LlavaOriginalCheckpoint.load(out, null, DataType.FLOAT);
    }

    @Test
    void projectorKeysMapLikeLlavasGetW() {
        assertEquals("linear_1.weight", ProjectorWeights.paramName("model.mm_projector.0.weight"));
        assertEquals("linear_2.bias", ProjectorWeights.paramName("mm_projector.2.bias"));
        assertEquals("linear_1.weight", ProjectorWeights.paramName("model.mm_projector.weight"));
        assertEquals("linear_3.weight", ProjectorWeights.paramName("multi_modal_projector.linear_3.weight"));
        assertNull(ProjectorWeights.paramName("model.layers.0.mlp.up_proj.weight"));
        assertEquals("2.weight", LlavaOriginalCheckpoint.projectorKey("mlp2x_gelu", "linear_2.weight"));
        assertEquals("bias", LlavaOriginalCheckpoint.projectorKey("linear", "linear_1.bias"));
    }

    @Test
    void mismatchedAdaptersAndConfigsAreClearErrors() throws IOException {
        Path adapter = TINY.resolve("mm_projector.bin");
        LlavaModel linear = LlavaCheckpoint.fromVisionAndLanguage(TINY.resolve("clip-st"), TINY.resolve("llama-st"), "linear", -2,
                "default", -1, 1, DataType.FLOAT).model();
        assertCheckpointError(adapter, "model.mm_projector.2.bias", () -> ProjectorWeights.load(linear, adapter),
                "projector type differs");
        LlavaModel deep = LlavaCheckpoint.fromVisionAndLanguage(TINY.resolve("clip-st"), TINY.resolve("llama-st"), "mlp3x_gelu", -2,
                "default", -1, 1, DataType.FLOAT).model();
        assertCheckpointError(adapter, null, () -> ProjectorWeights.load(deep, adapter), "lacks projector parameter(s) [linear_3.bias");
        Path llama = TINY.resolve("llama-st/model.safetensors");
        assertCheckpointError(llama, null, () -> ProjectorWeights.load(deep, llama), "holds no projector weights");

        // a projector of the wrong width
        Path narrow = tmp.resolve("narrow.bin");
        TorchCheckpointWriter.write(narrow, new java.util.TreeMap<>(java.util.Map.of(
                "model.mm_projector.0.weight", Nd4j.zeros(16, 8), "model.mm_projector.0.bias", Nd4j.zeros(16),
                "model.mm_projector.2.weight", Nd4j.zeros(16, 16), "model.mm_projector.2.bias", Nd4j.zeros(16))));
        assertCheckpointError(narrow, "model.mm_projector.0.weight", () -> ProjectorWeights.load(fromParts(), narrow),
                "has shape [16, 8] but the model's projector needs [16, 16]");

        Path dir = copyOriginal("startend");
        editConfig(dir, c -> c.put("mm_use_im_start_end", true));
        assertCheckpointError(dir.resolve("config.json"), null, () -> LlavaOriginalCheckpoint.load(dir, TINY.resolve("clip-st"), DataType.FLOAT),
                "mm_use_im_start_end is true");
        Path noTower = copyOriginal("notower");
        assertCheckpointError(noTower.resolve("config.json"), null, () -> LlavaOriginalCheckpoint.load(noTower, null, DataType.FLOAT),
                "mm_vision_tower 'openai/clip-vit-large-patch14-336' is not a local directory", "--vision");
        Path hidden = copyOriginal("hidden");
        editConfig(hidden, c -> c.put("mm_hidden_size", 1024));
        assertCheckpointError(hidden.resolve("config.json"), null, () -> LlavaOriginalCheckpoint.load(hidden, TINY.resolve("clip-st"), DataType.FLOAT),
                "mm_hidden_size 1024 differs from the hidden size 16");
    }

    /** The checkpoint written by TorchCheckpointWriter round-trips through the reader. */
    @Test
    void writerOutputReadsBack() throws IOException {
        Path f = tmp.resolve("w.bin");
        java.util.Map<String, org.nd4j.linalg.api.ndarray.INDArray> t = new java.util.LinkedHashMap<>();
        t.put("a", Nd4j.createFromArray(new float[][] {{1, 2, 3}, {4, 5, 6}}));
        t.put("s", Nd4j.scalar(2.5f));
        t.put("h", Nd4j.createFromArray(0.5f, -1f).castTo(DataType.HALF));
        TorchCheckpointWriter.write(f, t);
        try (TorchCheckpointFile r = TorchCheckpointFile.open(f)) {
            assertSameTensor(t.get("a"), r.load("a"));
            assertSameTensor(t.get("s"), r.load("s"));
            assertSameTensor(t.get("h").castTo(DataType.FLOAT), r.load("h"));
        }
    }

    private Path copyOriginal(String name) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        try (var files = Files.list(TINY.resolve("llava-orig"))) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.copy(p, dir.resolve(p.getFileName()));
            }
        }
        return dir;
    }

    private static void editConfig(Path dir, java.util.function.Consumer<ObjectNode> edit) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode c = (ObjectNode) json.readTree(dir.resolve("config.json").toFile());
        edit.accept(c);
        json.writeValue(dir.resolve("config.json").toFile(), c);
    }
}
