package io.github.vdep.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.llava.LlavaOutput;
import io.github.vdep.train.data.Batch;
import io.github.vdep.train.loss.BatchMode;
import io.github.vdep.train.loss.HybridLoss;
import io.github.vdep.train.loss.ImageLossConfig;
import io.github.vdep.train.loss.LossResult;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The training step's text loss applies the LM head only where the next token is supervised:
 * loss and every parameter gradient must equal those of the full logits.
 */
class SupervisedRowsLossTest {

    @Test
    void lossAndGradientsEqualTheFullLogitsPath() {
        LlavaModel model = GoldenFixture.model();
        Batch batch = GoldenFixture.batch(0);
        HybridLoss loss = new HybridLoss(ImageLossConfig.DEFAULT);
        Map<String, INDArray> full = new LinkedHashMap<>();
        Map<String, INDArray> rows = new LinkedHashMap<>();
        double fullLoss = run(model, batch, loss, true, full);
        double rowsLoss = run(model, batch, loss, false, rows);
        assertEquals(fullLoss, rowsLoss, 1e-6 * Math.abs(fullLoss));
        assertEquals(full.keySet(), rows.keySet());
        for (String name : full.keySet()) {
            INDArray a = full.get(name);
            INDArray b = rows.get(name);
            double scale = Math.max(a.norm2Number().doubleValue(), 1e-12);
            double err = a.sub(b).norm2Number().doubleValue();
            // absolute floor: attention key biases have an exactly zero gradient (softmax ignores a
            // constant per row), so their float values are rounding noise of about 1e-7
            assertTrue(err <= 1e-5 * scale + 1e-6, name + ": L2 error " + err + " against norm " + scale);
        }
        assertTrue(full.get("language_model.lm_head.weight") != null || full.get("language_model.model.embed_tokens.weight") != null,
                "the LM head's weight must be among the compared gradients");
    }

    @Test
    void noSupervisedTokenGivesZeroTextLoss() {
        LlavaModel model = GoldenFixture.model();
        Batch batch = GoldenFixture.batch(0);
        INDArray ignored = batch.labels().dup().assign(-100);
        try (Tape tape = Tape.record()) {
            LlavaOutput out = model.forward(batch.inputs(), new HybridLoss(ImageLossConfig.DEFAULT).decodeOptions(), false);
            assertNull(out.logits());
            LossResult r = new HybridLoss(ImageLossConfig.DEFAULT).compute(out, model.languageModel(), ignored, batch.imageSample(),
                    BatchMode.llava(2), 1.0, false);
            assertEquals(0.0, r.textLoss(), 0.0);
            tape.backward(r.total());
        }
        model.zeroGrad();
    }

    private static double run(LlavaModel model, Batch batch, HybridLoss loss, boolean fullLogits, Map<String, INDArray> grads) {
        model.zeroGrad();
        double value;
        try (Tape tape = Tape.record()) {
            LlavaOutput out = model.forward(batch.inputs(), loss.decodeOptions(), fullLogits);
            LossResult r = fullLogits
                    ? loss.compute(out, batch.labels(), batch.imageSample(), BatchMode.vdep(2), 0.5)
                    : loss.compute(out, model.languageModel(), batch.labels(), batch.imageSample(), BatchMode.vdep(2), 0.5, false);
            assertNotNull(r.imageLoss());
            value = r.total().item();
            tape.backward(r.total());
        }
        for (Map.Entry<String, Parameter> p : model.namedParameters().entrySet()) {
            if (p.getValue().grad() != null) {
                grads.put(p.getKey(), p.getValue().grad().dup());
            }
        }
        model.zeroGrad();
        return value;
    }
}
