package io.github.vdep.models.llava;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.nn.Module;
import io.github.vdep.models.clip.ClipVisionConfig;
import io.github.vdep.models.llama.LlamaConfig;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/** The counts computed from a config equal those of the model built from it, for every variant that changes them. */
class ParameterCountsTest {

    private static void assertCounts(LlavaConfig c) {
        ParameterCounts counts = ParameterCounts.of(c);
        LlavaModel model = LlavaModels.create(c, DataType.FLOAT);
        assertEquals(((Module) model.visionTower()).parameterCount(), counts.visionTower(), "vision tower");
        assertEquals(((Module) model.projector()).parameterCount(), counts.projector(), "projector");
        assertEquals(((Module) model.languageModel()).parameterCount(), counts.languageModel(), "language model");
        assertEquals(model.parameterCount(), counts.total());
    }

    @Test
    void matchTheBuiltModel() {
        LlamaConfig text = LlamaConfig.of(40, 16, 24, 2, 4, 2, 64);
        ClipVisionConfig vision = ClipVisionConfig.of(8, 12, 3, 2, 12, 4);
        assertCounts(LlavaConfig.of(text, vision, 39));
        // grouped-query attention, an explicit head_dim, biases, tied embeddings, other projectors
        LlamaConfig gqa = new LlamaConfig(50, 24, 40, 3, 6, 2, 8, 1e-5, 10000.0, 64, true, "silu", true, 1, null, 0, null, "llama");
        for (String projector : new String[] {"linear", "mlp2x_gelu", "mlp3x_gelu"}) {
            assertCounts(new LlavaConfig(gqa, vision, 49, "gelu", null, "full", projector, true, "llava"));
        }
    }
}
