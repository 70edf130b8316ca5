package io.github.vdep.examples.library;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.nn.Module;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CustomVisionEncoderExampleTest {

    @Test
    void oneStepReachesTheCustomEncoderThroughTheFrozenLanguageModel() {
        CustomVisionEncoderExample.Result r = CustomVisionEncoderExample.run(7);

        assertTrue(Double.isFinite(r.loss()), "loss " + r.loss());
        // a freshly initialised LM predicts roughly uniformly over the 64-token vocabulary
        assertEquals(Math.log(CustomVisionEncoderExample.VOCAB), r.loss(), 0.5);

        Map<String, Parameter> params = r.model().namedParameters();
        for (String name : new String[] {"vision_tower.proj.weight", "vision_tower.proj.bias", "vision_tower.position_embedding",
                "multi_modal_projector.linear_1.weight", "multi_modal_projector.linear_2.bias"}) {
            Parameter p = params.get(name);
            assertNotNull(p, name + " is registered");
            assertNotNull(p.grad(), name + " got a gradient");
            assertTrue(p.grad().amaxNumber().doubleValue() > 0, name + " got a non-zero gradient");
        }
        assertTrue(r.encoder().proj().weight().grad().amaxNumber().doubleValue() > 0);
        Module language = (Module) r.model().languageModel();
        language.parameters().forEach(p -> {
            assertTrue(!p.trainable(), p + " is frozen");
            assertNull(p.grad(), p + " is frozen");
        });
        assertTrue(r.lossAfterStep() < r.loss(), "one SGD step lowers the loss: " + r.loss() + " -> " + r.lossAfterStep());
    }
}
