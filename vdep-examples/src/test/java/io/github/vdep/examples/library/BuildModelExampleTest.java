package io.github.vdep.examples.library;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.models.clip.ClipVisionConfig;
import io.github.vdep.models.llama.LlamaConfig;
import io.github.vdep.models.llava.LlavaConfig;
import io.github.vdep.models.llava.LlavaModels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

class BuildModelExampleTest {
    @TempDir
    Path dir;

    @Test
    void buildsRunsSavesAndReloadsTheSameModel() throws Exception {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        BuildModelExample.Result r = BuildModelExample.run(dir.resolve("model"), 42, new PrintStream(text, true, StandardCharsets.UTF_8));

        int t = (int) r.inputs().inputIds().size(1);
        assertEquals(1 + 16 + 4, t, "BOS, 16 image tokens, 4 text tokens");
        assertArrayEquals(new long[] {1, t, BuildModelExample.VOCAB}, r.logits().shape());
        assertTrue(Double.isFinite(r.logits().sumNumber().doubleValue()), "finite logits");
        assertTrue(r.nextToken() >= 0 && r.nextToken() < BuildModelExample.VOCAB);
        assertEquals(0.0, r.reloadMaxAbsDiff(), 0.0, "float32 save and load round-trips exactly");
        assertTrue(Files.isRegularFile(r.savedTo().resolve("config.json")));
        assertTrue(Files.isRegularFile(r.savedTo().resolve("model.safetensors")));
        assertTrue(text.toString(StandardCharsets.UTF_8).contains("LLaVA-1.5-7B"));

        BuildModelExample.Result again = BuildModelExample.run(dir.resolve("again"), 42, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertEquals(r.logits(), again.logits(), "the same seed builds the same model and inputs");
    }

    @Test
    void parameterArithmeticMatchesBuiltModels() {
        LlavaConfig tiny = BuildModelExample.tinyConfig();
        assertEquals(LlavaModels.random(tiny, DataType.FLOAT, 1).parameterCount(), BuildModelExample.parameterCounts(tiny).total());
        // grouped-query attention, a 3-layer projector, tied embeddings, CLS kept
        LlavaConfig other = new LlavaConfig(
                new LlamaConfig(50, 48, 96, 3, 6, 2, null, 1e-5, 10000.0, 128, true, "silu", false, 1, null, 0, null, "llama"),
                ClipVisionConfig.of(24, 40, 3, 2, 24, 6), 49, "gelu", null, "full", "mlp3x_gelu", true, "llava");
        assertEquals(LlavaModels.create(other, DataType.FLOAT).parameterCount(), BuildModelExample.parameterCounts(other).total());
    }

    @Test
    void llava15SizesAreTheKnownOnes() {
        // CLIP ViT-L/14-336 vision model: 303.5M; projector 1024*4096+4096+4096*4096+4096; Vicuna-7B with 32064 ids
        BuildModelExample.ParameterCounts p7 = BuildModelExample.parameterCounts(BuildModelExample.llava15(false));
        assertEquals(20_979_712L, p7.projector());
        assertEquals(303_507_456L, p7.vision());
        assertEquals(6_738_415_616L + 2 * 64L * 4096, p7.language());
        BuildModelExample.ParameterCounts p13 = BuildModelExample.parameterCounts(BuildModelExample.llava15(true));
        assertEquals(13_015_864_320L + 2 * 64L * 5120, p13.language());
    }
}
