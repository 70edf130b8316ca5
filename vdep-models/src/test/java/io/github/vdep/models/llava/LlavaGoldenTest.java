package io.github.vdep.models.llava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.llava.LlavaInputs;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.llava.LlavaOutput;
import io.github.vdep.core.ops.F;
import io.github.vdep.models.hf.LlavaCheckpoint;
import io.github.vdep.models.hf.SafeTensorsFile;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Parity with a hand-written PyTorch reference (scripts/golden/make_llava_golden.py), in the
 * pattern of llm.c's test_gpt2: a tiny llava-hf checkpoint, an input batch with an image in each
 * sample and right padding, and the reference logits, hidden states, image features, losses and
 * every parameter gradient, matched in float32 to a relative error of 1e-4.
 */
class LlavaGoldenTest {
    static final Path DIR = Path.of("src/test/resources/golden/llava-tiny");
    static final double TOLERANCE = 1e-4;

    static SafeTensorsFile inputs;
    static SafeTensorsFile expected;
    static LlavaModel model;

    @BeforeAll
    static void load() {
        inputs = SafeTensorsFile.open(DIR.resolve("inputs.safetensors"));
        expected = SafeTensorsFile.open(DIR.resolve("outputs.safetensors"));
        model = LlavaCheckpoint.load(DIR).model();
    }

    @AfterAll
    static void close() {
        inputs.close();
        expected.close();
    }

    private static LlavaInputs batch() {
        return new LlavaInputs(inputs.load("input_ids"), inputs.load("attention_mask"), inputs.load("pixel_values"));
    }

    @Test
    void forwardMatchesReference() {
        LlavaOutput out = model.forward(batch());
        assertClose("logits", expected.load("logits"), out.logits().value());
        assertClose("hidden_states", expected.load("hidden_states"), out.hidden().value());
        assertClose("image_features", expected.load("image_features"), out.imageFeatures().value());
        Tensor features = model.visionTower().encode(inputs.load("pixel_values"));
        assertClose("vision_features", expected.load("vision_features"), features.value());
    }

    @Test
    void vdepLossAndAllGradientsMatchReference() {
        double alpha = inputs.load("alpha").getDouble(0);
        model.zeroGrad();
        double[] losses;
        try (Tape tape = Tape.record()) {
            LlavaOutput out = model.forward(batch());
            Tensor text = textLoss(out);
            Tensor image = imageLoss(out);
            Tensor loss = F.add(text, F.scale(image, alpha));
            losses = new double[] {text.item(), image.item(), loss.item()};
            tape.backward(loss);
        }
        assertEquals(expected.load("text_loss").getDouble(0), losses[0], 1e-4 * Math.abs(losses[0]), "text_loss");
        assertEquals(expected.load("image_loss").getDouble(0), losses[1], 1e-4 * Math.abs(losses[1]), "image_loss");
        assertEquals(expected.load("loss").getDouble(0), losses[2], 1e-4 * Math.abs(losses[2]), "loss");
        assertGradients("grad.");
    }

    @Test
    void textOnlyGradientsMatchReference() {
        model.zeroGrad();
        try (Tape tape = Tape.record()) {
            tape.backward(textLoss(model.forward(batch())));
        }
        assertGradients("llava_grad.");
    }

    private static void assertGradients(String prefix) {
        int compared = 0;
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            INDArray ref = expected.load(prefix + e.getKey());
            INDArray got = e.getValue().grad();
            if (got == null) {
                // never reached (layers after the selected vision feature layer): the reference must be zero
                assertTrue(ref.amaxNumber().doubleValue() < 1e-7, e.getKey() + " got no gradient but the reference has " + ref.amaxNumber());
            } else {
                assertClose(prefix + e.getKey(), ref, got);
            }
            compared++;
        }
        assertEquals(80, compared);
    }

    /** Causal LM cross-entropy: logits at t against labels at t+1. */
    static Tensor textLoss(LlavaOutput out) {
        long[] labels = inputs.load("labels").dup('c').reshape(-1).toLongVector();
        int t = (int) out.logits().size(1);
        int[] targets = new int[labels.length];
        for (int i = 0; i < labels.length; i++) {
            targets[i] = (i % t == t - 1) ? F.IGNORE_INDEX : (int) labels[i + 1];
        }
        return F.crossEntropy(out.logits(), targets);
    }

    /** Next-embedding MSE: hidden state at p+i-2 predicts the (detached) image feature v_i. */
    static Tensor imageLoss(LlavaOutput out) {
        int[] rows = Arrays.stream(out.imageRows()).flatMapToInt(Arrays::stream).map(r -> r - 1).toArray();
        long h = out.hidden().size(2);
        Tensor hidden = F.reshape(out.hidden(), -1, h);
        Tensor pred = F.gatherRows(hidden, rows);
        Tensor target = F.detach(F.reshape(out.imageFeatures(), -1, h));
        return F.mse(pred, target);
    }

    static void assertClose(String what, INDArray ref, INDArray got) {
        assertEquals(Arrays.toString(ref.shape()), Arrays.toString(got.shape()), what + " shape");
        double scale = ref.amaxNumber().doubleValue();
        double err = ref.castTo(got.dataType()).sub(got).amaxNumber().doubleValue();
        double rel = scale == 0 ? err : err / scale;
        assertTrue(rel <= TOLERANCE || err < 1e-7, what + ": max abs error " + err + " relative to max |ref| " + scale + " = " + rel);
    }
}
