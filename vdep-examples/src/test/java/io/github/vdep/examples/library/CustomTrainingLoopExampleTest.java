package io.github.vdep.examples.library;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CustomTrainingLoopExampleTest {
    @TempDir
    Path dir;

    @Test
    void theHandWrittenLoopTrainsTheProjectorAndLowersTheLoss() {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        CustomTrainingLoopExample.Result r = CustomTrainingLoopExample.run(dir, 10, 7, new PrintStream(text, true, StandardCharsets.UTF_8));

        assertEquals(List.of("vdep", "llava", "vdep", "llava"), r.modes().subList(0, 4), "1:1 alternating, VDEP first");
        for (int i = 0; i < r.modes().size(); i++) {
            if (r.modes().get(i).equals("vdep")) {
                assertNotNull(r.imageLosses().get(i), "VDEP steps compute the image loss");
                assertTrue(Double.isFinite(r.imageLosses().get(i)));
            } else {
                assertNull(r.imageLosses().get(i), "LLaVA steps do not");
            }
        }
        assertTrue(r.projectorGradNorm() > 0, "gradients reach the projector: " + r.projectorGradNorm());
        assertEquals(0, r.visionGradients(), "the frozen vision tower gets no gradient");
        assertTrue(r.heldLossAfter() < 0.8 * r.heldLossBefore(),
                "training lowers the text loss of a fixed batch: " + r.heldLossBefore() + " -> " + r.heldLossAfter());
        assertTrue(text.toString(StandardCharsets.UTF_8).contains("step  10"));
    }
}
