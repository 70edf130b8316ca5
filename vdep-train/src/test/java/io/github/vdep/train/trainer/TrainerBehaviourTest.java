package io.github.vdep.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.train.data.Batch;
import io.github.vdep.train.optim.LrSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Resume, checkpoints, metrics and the handling of non-finite steps, on the golden fixture. */
class TrainerBehaviourTest {
    @TempDir
    Path tmp;

    private static TrainConfig config(Path out, long steps, long saveEvery, boolean resume) {
        TrainConfig.Builder b = TrainConfig.defaults(Stage.PRETRAIN, steps, out).toBuilder();
        b.lr = 1e-2;
        b.batchSize = 2;
        b.saveEvery = saveEvery;
        b.resume = resume;
        b.lrSchedule = LrSchedule.Kind.COSINE;
        b.warmupRatio = 0.25;
        return b.build();
    }

    @Test
    void killAndResumeGivesTheSameWeightsAsAnUninterruptedRun() throws Exception {
        LlavaModel straight = GoldenFixture.model();
        new Trainer(straight, config(tmp.resolve("a"), 4, 0, false), GoldenFixture.repeating(), TrainingListener.NONE).run();

        // the interrupted run dies after step 3 (one step past its step-2 checkpoint)
        Path out = tmp.resolve("b");
        LlavaModel first = GoldenFixture.model();
        TrainConfig interrupted = config(out, 4, 2, false);
        RuntimeException crash = assertThrows(RuntimeException.class, () -> new Trainer(first, interrupted, GoldenFixture.repeating(), new TrainingListener() {
            @Override
            public void onStep(StepMetrics m) {
                if (m.step() == 3) {
                    throw new IllegalStateException("simulated crash");
                }
            }
        }).run());
        assertEquals("simulated crash", crash.getMessage());
        LlavaModel resumed = GoldenFixture.model();
        TrainerState state = new Trainer(resumed, config(out, 4, 2, true), GoldenFixture.repeating(), TrainingListener.NONE).run();
        assertEquals(4, state.step());
        assertEquals(8, state.position().consumed());
        for (Map.Entry<String, Parameter> e : straight.namedParameters().entrySet()) {
            INDArray b = resumed.namedParameters().get(e.getKey()).value();
            assertEquals(0.0, e.getValue().value().sub(b).amaxNumber().doubleValue(), 0.0, e.getKey());
        }
        // metrics.jsonl reads as one run: steps 1..4 once each (step 3 of the crashed run was dropped)
        List<Long> steps = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            steps.add(new ObjectMapper().readTree(line).get("step").asLong());
        }
        assertEquals(List.of(1L, 2L, 3L, 4L), steps);
    }

    @Test
    void metricsHoldTheDocumentedFields() throws Exception {
        Path out = tmp.resolve("m");
        new Trainer(GoldenFixture.model(), config(out, 2, 0, false), GoldenFixture.repeating(), TrainingListener.NONE).run();
        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(2, lines.size());
        JsonNode first = new ObjectMapper().readTree(lines.get(0));
        for (String f : List.of("step", "mode", "loss", "text_loss", "image_loss", "image_target_rms", "lr", "grad_norm", "tokens", "step_seconds")) {
            assertTrue(first.has(f), "metrics.jsonl lacks " + f);
        }
        assertEquals("vdep", first.get("mode").asText());
        assertTrue(first.get("image_loss").isNumber());
        assertTrue(first.get("image_target_rms").asDouble() > 0);
        JsonNode second = new ObjectMapper().readTree(lines.get(1));
        assertEquals("llava", second.get("mode").asText());
        assertTrue(second.get("image_loss").isNull());
        assertTrue(second.get("image_target_rms").isNull());
        assertEquals(0.0, first.get("lr").asDouble(), 0.0, "warmup: the first step runs at lr 0, as Hugging Face's scheduler");
        assertEquals(24 + 22, first.get("tokens").asLong(), "non-padding tokens of the batch");
        assertTrue(Files.isRegularFile(out.resolve("checkpoints/step-00000002/trainer_state.json")));
        assertEquals("step-00000002", Files.readString(out.resolve("checkpoints/latest")));
    }

    @Test
    void nonFiniteStepsAreSkippedAndTheRunStopsAfterTheLimit() throws Exception {
        LlavaModel model = GoldenFixture.model();
        Map<String, INDArray> before = new java.util.LinkedHashMap<>();
        model.namedParameters().forEach((k, p) -> before.put(k, p.value().dup()));
        BatchSource poisoned = from -> new Iterator<>() {
            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Batch next() {
                Batch b = GoldenFixture.batch(2);
                INDArray pixels = b.pixelValues().dup();
                pixels.putScalar(0, Double.NaN);
                return new Batch(b.inputIds(), b.attentionMask(), b.labels(), pixels, b.imageSample(), b.sampleIds(), b.position());
            }
        };
        TrainConfig.Builder b = config(tmp.resolve("nan"), 5, 0, false).toBuilder();
        b.maxBadSteps = 2;
        List<StepMetrics> seen = new ArrayList<>();
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> new Trainer(model, b.build(), poisoned, new TrainingListener() {
            @Override
            public void onStep(StepMetrics m) {
                seen.add(m);
            }
        }).run());
        assertTrue(e.getMessage().contains("3 steps"), e.getMessage());
        assertEquals(2, seen.size());
        assertTrue(seen.get(0).skipped() && seen.get(1).skipped());
        model.namedParameters().forEach((k, p) -> assertEquals(0.0, before.get(k).sub(p.value()).amaxNumber().doubleValue(), 0.0,
                "a skipped step must not change the weights: " + k));
        assertFalse(Files.exists(tmp.resolve("nan/checkpoints/latest")));
    }

    @Test
    void trainablePatternsAndStages() {
        LlavaModel model = GoldenFixture.model();
        Map<String, Parameter> pre = TrainableSelector.apply(model, Stage.PRETRAIN.patterns());
        assertEquals(4, pre.size());
        assertTrue(pre.keySet().stream().allMatch(n -> n.startsWith("multi_modal_projector.")));
        Map<String, Parameter> some = TrainableSelector.apply(model, List.of("language_model.model.layers.*.mlp.**"));
        assertEquals(6, some.size());
        assertThrows(IllegalArgumentException.class, () -> TrainableSelector.apply(model, List.of("no_such.**")));
        assertEquals(80, TrainableSelector.apply(model, Stage.FULL.patterns()).size());
    }
}
