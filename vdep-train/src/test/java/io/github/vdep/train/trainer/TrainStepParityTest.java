package io.github.vdep.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.models.hf.SafeTensorsFile;
import io.github.vdep.train.optim.LrSchedule;
import io.github.vdep.train.schedule.AlphaSchedule;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Two training steps (VDEP then LLaVA mode, finetune stage, clipping at 1.0) against the PyTorch
 * reference of scripts/golden/make_train_golden.py: per-step losses, gradient norms and the final
 * weights match to 1e-4 relative, for SGD and AdamW.
 */
class TrainStepParityTest {
    @TempDir
    Path out;

    @ParameterizedTest
    @ValueSource(strings = {"sgd", "adamw"})
    void twoStepsMatchPyTorch(String optimizer) throws Exception {
        LlavaModel model = GoldenFixture.model();
        TrainConfig.Builder b = TrainConfig.defaults(Stage.FINETUNE, 2, out).toBuilder();
        b.optimizer = optimizer;
        b.lr = optimizer.equals("sgd") ? 0.05 : 1e-3;
        b.weightDecay = optimizer.equals("sgd") ? 0.0 : 0.1;
        b.lrSchedule = LrSchedule.Kind.CONSTANT;
        b.warmupRatio = 0;
        b.gradClip = 1.0;
        b.batchSize = 2;
        b.alpha = AlphaSchedule.constant(GoldenFixture.alpha());
        List<StepMetrics> steps = new ArrayList<>();
        Trainer trainer = new Trainer(model, b.build(), GoldenFixture.repeating(), new TrainingListener() {
            @Override
            public void onStep(StepMetrics m) {
                steps.add(m);
            }
        });
        trainer.run();

        try (SafeTensorsFile ref = SafeTensorsFile.open(GoldenFixture.TRAIN_STEPS)) {
            INDArray loss = ref.load(optimizer + ".loss");
            INDArray text = ref.load(optimizer + ".text_loss");
            INDArray norm = ref.load(optimizer + ".grad_norm");
            assertEquals("vdep", steps.get(0).mode());
            assertEquals("llava", steps.get(1).mode());
            for (int i = 0; i < 2; i++) {
                assertRel("loss step " + (i + 1), loss.getDouble(i), steps.get(i).loss());
                assertRel("text loss step " + (i + 1), text.getDouble(i), steps.get(i).textLoss());
                assertRel("grad norm step " + (i + 1), norm.getDouble(i), steps.get(i).gradNorm());
            }
            assertRel("image loss step 1", ref.load(optimizer + ".image_loss").getDouble(0), steps.get(0).imageLoss());
            assertNull(steps.get(1).imageLoss());
            int compared = 0;
            for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
                if (!e.getValue().trainable()) {
                    assertTrue(e.getKey().startsWith("vision_tower."), e.getKey() + " should train in the finetune stage");
                    continue;
                }
                INDArray expected = ref.load(optimizer + "." + e.getKey());
                INDArray got = e.getValue().value();
                // Relative error in the L2 sense, plus a bound on every element. AdamW's first steps move
                // each weight by about lr * sign(g): where |g| is near eps, float32 rounding of g changes
                // the update noticeably (PyTorch's own float32 run lands 6.2e-5 from the float64
                // reference there), so the elementwise bound is 2e-4 absolute rather than relative.
                double rel = expected.sub(got).norm2Number().doubleValue() / expected.norm2Number().doubleValue();
                double maxErr = expected.sub(got).amaxNumber().doubleValue();
                assertTrue(rel <= 1e-4, e.getKey() + ": relative L2 error " + rel);
                assertTrue(maxErr <= 2e-4, e.getKey() + ": max abs error " + maxErr);
                compared++;
            }
            assertEquals(25, compared);
        }
    }

    private static void assertRel(String what, double expected, double actual) {
        assertEquals(expected, actual, 1e-4 * Math.abs(expected), what);
    }
}
