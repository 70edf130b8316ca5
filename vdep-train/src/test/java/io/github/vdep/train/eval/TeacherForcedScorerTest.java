package io.github.vdep.train.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.llava.LlavaInputs;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.train.infer.TinyLlava;
import io.github.vdep.train.infer.TokenSampler;
import io.github.vdep.train.loss.HybridLoss;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Teacher-forced statistics against the model's own training loss. */
class TeacherForcedScorerTest {

    @Test
    void perplexityIsExpOfTheModelsOwnTextLoss() {
        LlavaModel model = TinyLlava.model(DataType.DOUBLE, 11);
        int t = 30;
        long[][] ids = new long[2][t];
        long[][] labels = new long[2][t];
        SplittableRandom rng = new SplittableRandom(5);
        for (int b = 0; b < 2; b++) {
            for (int i = 0; i < t; i++) {
                boolean image = i >= 2 && i < 18;
                ids[b][i] = image ? TinyLlava.IMAGE_TOKEN : 5 + rng.nextInt(90);
                labels[b][i] = image || i < 20 + 3 * b ? -100 : ids[b][i];
            }
        }
        INDArray pixels = Nd4j.rand(DataType.DOUBLE, 2, 3, TinyLlava.IMAGE_SIZE, TinyLlava.IMAGE_SIZE);
        LlavaInputs inputs = new LlavaInputs(Nd4j.createFromArray(ids), null, pixels);
        INDArray labelArray = Nd4j.createFromArray(labels);

        TokenStats stats = new TeacherForcedScorer(model).score(inputs, labelArray);
        assertEquals(10 + 7, stats.tokens());

        INDArray logits = model.forward(inputs).logits().value();
        double loss = HybridLoss.textLoss(io.github.vdep.core.autograd.Tensor.constant(logits), labelArray).item();
        assertEquals(loss, stats.meanNll(), 1e-10);
        assertEquals(Math.exp(loss), stats.perplexity(), 1e-9);

        long correct = 0;
        for (int b = 0; b < 2; b++) {
            for (int i = 0; i + 1 < t; i++) {
                if (labels[b][i + 1] != -100) {
                    double[] row = logits.get(NDArrayIndex.point(b), NDArrayIndex.point(i), NDArrayIndex.all()).toDoubleVector();
                    correct += TokenSampler.argmax(row) == labels[b][i + 1] ? 1 : 0;
                }
            }
        }
        assertEquals(correct, stats.correct());
        assertEquals(correct / 17.0, stats.accuracy(), 0);
    }

    @Test
    void statsAddUpAcrossBatches() {
        TokenStats a = new TokenStats(3, 1, 6.0);
        TokenStats b = new TokenStats(1, 1, 2.0);
        TokenStats sum = a.plus(b);
        assertEquals(4, sum.tokens());
        assertEquals(0.5, sum.accuracy(), 0);
        assertEquals(Math.exp(2.0), sum.perplexity(), 1e-12);
        assertTrue(Double.isNaN(TokenStats.EMPTY.perplexity()));
    }
}
