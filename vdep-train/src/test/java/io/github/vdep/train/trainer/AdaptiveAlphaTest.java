package io.github.vdep.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.models.hf.CheckpointException;
import io.github.vdep.train.optim.LrSchedule;
import io.github.vdep.train.schedule.AlphaSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The adaptive alpha policies inside the trainer: what gradnorm applies, and exact resume with policy state. */
class AdaptiveAlphaTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path tmp;

    private static TrainConfig config(Path out, Stage stage, String alpha, long steps, long saveEvery, boolean resume) {
        TrainConfig.Builder b = TrainConfig.defaults(stage, steps, out).toBuilder();
        b.alpha = AlphaSchedule.parse(alpha);
        b.optimizer = "sgd";
        b.lr = 0.1;
        b.gradClip = 0;
        b.warmupRatio = 0;
        b.lrSchedule = LrSchedule.Kind.CONSTANT;
        b.batchSize = 2;
        b.saveEvery = saveEvery;
        b.resume = resume;
        return b.build();
    }

    private static List<JsonNode> metrics(Path out) throws Exception {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            lines.add(JSON.readTree(line));
        }
        return lines;
    }

    private static LlavaModel train(Path out, Stage stage, String alpha, long steps) throws Exception {
        LlavaModel model = GoldenFixture.model();
        new Trainer(model, config(out, stage, alpha, steps, 0, false), GoldenFixture.repeating(), TrainingListener.NONE).run();
        return model;
    }

    @Test
    void gradNormAppliesTheGradientOfTextPlusAlphaTimesImage() throws Exception {
        LlavaModel balanced = train(tmp.resolve("g"), Stage.FINETUNE, "gradnorm:0.5", 1);
        JsonNode m = metrics(tmp.resolve("g")).get(0);
        double text = m.get("grad_norm_text").asDouble();
        double image = m.get("grad_norm_image").asDouble();
        double alpha = m.get("alpha").asDouble();
        assertTrue(text > 0 && image > 0, m.toString());
        assertEquals(0.5 * text / image, alpha, 1e-12 * alpha, "the first measurement sets alpha");
        assertEquals(m.get("text_loss").asDouble() + alpha * m.get("image_loss").asDouble(), m.get("loss").asDouble(), 1e-6);

        // one ordinary step with that alpha as a constant: the same update, up to float rounding
        LlavaModel joint = train(tmp.resolve("c"), Stage.FINETUNE, Double.toString(alpha), 1);
        LlavaModel start = GoldenFixture.model();
        for (Map.Entry<String, Parameter> e : joint.namedParameters().entrySet()) {
            INDArray b = balanced.namedParameters().get(e.getKey()).value();
            INDArray update = e.getValue().value().sub(start.namedParameters().get(e.getKey()).value());
            double diff = e.getValue().value().sub(b).amaxNumber().doubleValue();
            assertTrue(diff <= 1e-5 * Math.max(1e-3, update.amaxNumber().doubleValue()), e.getKey() + ": " + diff);
        }
    }

    @Test
    void theTextGradientNormIsThatOfTheTextLossAlone() throws Exception {
        // pretrain: only the projector trains, and both losses reach all of it
        train(tmp.resolve("g"), Stage.PRETRAIN, "gradnorm:1", 1);
        train(tmp.resolve("t"), Stage.PRETRAIN, "0", 1);
        double text = metrics(tmp.resolve("g")).get(0).get("grad_norm_text").asDouble();
        double alone = metrics(tmp.resolve("t")).get(0).get("grad_norm").asDouble();
        assertEquals(alone, text, 1e-5 * alone);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ratio:0.5:0.3", "gradnorm:0.5"})
    void killAndResumeGivesTheSameAlphasAndWeights(String alpha) throws Exception {
        LlavaModel straight = train(tmp.resolve("a"), Stage.FINETUNE, alpha, 5);

        Path out = tmp.resolve("b");
        LlavaModel first = GoldenFixture.model();
        assertThrows(IllegalStateException.class, () -> new Trainer(first, config(out, Stage.FINETUNE, alpha, 5, 2, false), GoldenFixture.repeating(),
                new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics m) {
                        if (m.step() == 4) {
                            throw new IllegalStateException("simulated crash");
                        }
                    }
                }).run());
        JsonNode saved = JSON.readTree(out.resolve("checkpoints/step-00000002/trainer_state.json").toFile());
        assertTrue(saved.path("alpha_policy").has("alpha"), saved.toString());
        LlavaModel resumed = GoldenFixture.model();
        new Trainer(resumed, config(out, Stage.FINETUNE, alpha, 5, 2, true), GoldenFixture.repeating(), TrainingListener.NONE).run();

        List<JsonNode> a = metrics(tmp.resolve("a"));
        List<JsonNode> b = metrics(out);
        assertEquals(5, b.size());
        for (int i = 0; i < 5; i++) {
            assertEquals(a.get(i).get("alpha").asDouble(), b.get(i).get("alpha").asDouble(), 0.0, "alpha at step " + (i + 1));
            assertEquals(a.get(i).get("loss").asDouble(), b.get(i).get("loss").asDouble(), 0.0, "loss at step " + (i + 1));
        }
        // the policy moved alpha: VDEP steps 1, 3 and 5 observed different values
        assertNotEquals(a.get(2).get("alpha").asDouble(), a.get(4).get("alpha").asDouble());
        for (Map.Entry<String, Parameter> e : straight.namedParameters().entrySet()) {
            INDArray r = resumed.namedParameters().get(e.getKey()).value();
            assertEquals(0.0, e.getValue().value().sub(r).amaxNumber().doubleValue(), 0.0, e.getKey());
        }
    }

    @Test
    void resumingAnAdaptivePolicyFromACheckpointWithoutItsStateIsRefused() throws Exception {
        Path out = tmp.resolve("r");
        new Trainer(GoldenFixture.model(), config(out, Stage.PRETRAIN, "1.0", 2, 1, false), GoldenFixture.repeating(), TrainingListener.NONE).run();
        CheckpointException e = assertThrows(CheckpointException.class, () -> new Trainer(GoldenFixture.model(),
                config(out, Stage.PRETRAIN, "ratio:1", 3, 1, true), GoldenFixture.repeating(), TrainingListener.NONE).run());
        assertTrue(e.getMessage().contains("trainer_state.json") && e.getMessage().contains("--alpha ratio"), e.getMessage());
    }
}
