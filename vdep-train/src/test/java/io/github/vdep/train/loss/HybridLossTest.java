package io.github.vdep.train.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.llava.LlavaOutput;
import io.github.vdep.core.ops.F;
import io.github.vdep.core.ops.RegressionLoss;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The hybrid loss against hand computations on a hand-made model output. */
class HybridLossTest {
    // B = 2, T = 4, H = 2; one image of N = 2 patches per sample at positions 1..2
    static final int[][] ROWS = {{1, 2}, {5, 6}};

    static INDArray hidden() {
        double[] h = new double[2 * 4 * 2];
        for (int i = 0; i < h.length; i++) {
            h[i] = 0.1 * i;
        }
        return Nd4j.createFromArray(h).reshape(2, 4, 2);
    }

    static INDArray features() {
        return Nd4j.createFromArray(new double[] {1, 2, 3, 4, -1, 0, 0.5, 0.5}).reshape(2, 2, 2);
    }

    static INDArray labels() {
        return Nd4j.createFromArray(new long[][] {{-100, -100, -100, 1}, {-100, -100, -100, -100}});
    }

    static LlavaOutput output(Tensor hidden, Tensor features) {
        Tensor logits = Tensor.constant(Nd4j.zeros(DataType.DOUBLE, 2, 4, 3));
        return new LlavaOutput(logits, hidden, features, ROWS, Map.of());
    }

    private static double mse(INDArray h, INDArray f, int[] predRows, int[] targetRows) {
        INDArray h2 = h.reshape(8, 2);
        INDArray f2 = f.reshape(4, 2);
        double s = 0;
        for (int i = 0; i < predRows.length; i++) {
            for (int d = 0; d < 2; d++) {
                double diff = h2.getDouble(predRows[i], d) - f2.getDouble(targetRows[i], d);
                s += diff * diff;
            }
        }
        return s / (predRows.length * 2);
    }

    @Test
    void shiftedMseOverAllImageElements() {
        HybridLoss loss = new HybridLoss(ImageLossConfig.DEFAULT);
        LossResult r = loss.compute(output(Tensor.constant(hidden()), Tensor.constant(features())), labels(), new int[] {0, 1}, BatchMode.vdep(2), 0.5);
        // state at p+i-2 predicts v_i: rows 0,1 predict image 0; rows 4,5 predict image 1
        double expected = mse(hidden(), features(), new int[] {0, 1, 4, 5}, new int[] {0, 1, 2, 3});
        assertEquals(expected, r.imageLoss(), 1e-12);
        // text: uniform logits over 3 classes, one supervised target -> log 3
        assertEquals(Math.log(3), r.textLoss(), 1e-12);
        assertEquals(Math.log(3) + 0.5 * expected, r.total().item(), 1e-12);
        assertEquals(1, r.supervisedTokens());
        assertEquals(4, r.imagePairs());
        // the targets' scale: all four feature rows are targets once
        double ms = (1 + 4 + 9 + 16 + 1 + 0 + 0.25 + 0.25) / 8;
        assertEquals(Math.sqrt(ms), r.imageTargetRms(), 1e-12);
    }

    @Test
    void unshiftedComparesImagePositionsThemselves() {
        HybridLoss loss = new HybridLoss(new ImageLossConfig(RegressionLoss.MSE, false, 0, true));
        LossResult r = loss.compute(output(Tensor.constant(hidden()), Tensor.constant(features())), labels(), new int[] {0, 1}, BatchMode.vdep(2), 1);
        assertEquals(mse(hidden(), features(), new int[] {1, 2, 5, 6}, new int[] {0, 1, 2, 3}), r.imageLoss(), 1e-12);
    }

    @Test
    void imageAtSequenceStartDropsItsFirstPair() {
        HybridLoss loss = new HybridLoss(ImageLossConfig.DEFAULT);
        int[][] rows = loss.imagePairs(new int[][] {{0, 1}, {4, 5}}, new int[] {0, 1}, new boolean[] {true, true}, 4);
        assertArrayEquals(new int[] {0, 4}, rows[0]);
        assertArrayEquals(new int[] {1, 3}, rows[1]);
    }

    @Test
    void llavaModeHasNoImageLossAndPerSampleAveragesOverVdepSamples() {
        HybridLoss loss = new HybridLoss(ImageLossConfig.DEFAULT);
        LossResult llava = loss.compute(output(Tensor.constant(hidden()), Tensor.constant(features())), labels(), new int[] {0, 1}, BatchMode.llava(2), 1);
        assertNull(llava.imageLoss());
        assertEquals(llava.textLoss(), llava.total().item(), 0);
        BatchMode mixed = new BatchMode(BatchMode.Kind.MIXED, new boolean[] {false, true});
        LossResult r = loss.compute(output(Tensor.constant(hidden()), Tensor.constant(features())), labels(), new int[] {0, 1}, mixed, 1);
        assertEquals(mse(hidden(), features(), new int[] {4, 5}, new int[] {2, 3}), r.imageLoss(), 1e-12);
        assertEquals(Math.sqrt((1 + 0 + 0.25 + 0.25) / 4), r.imageTargetRms(), 1e-12);
        assertNull(llava.imageTargetRms());
    }

    @Test
    void monitoredImageLossIsReportedButNotTrainedOn() {
        HybridLoss loss = new HybridLoss(ImageLossConfig.DEFAULT);
        LossResult r = loss.compute(output(Tensor.constant(hidden()), Tensor.constant(features())), labels(), new int[] {0, 1}, BatchMode.llava(2), 1, true);
        assertEquals(mse(hidden(), features(), new int[] {0, 1, 4, 5}, new int[] {0, 1, 2, 3}), r.imageLoss(), 1e-12);
        assertEquals(r.textLoss(), r.total().item(), 0, "LLaVA mode: the total is the text loss alone");
        assertEquals(0, r.imagePairs());
    }

    @Test
    void detachedTargetGetsNoGradientFromTheImageLoss() {
        for (boolean detach : new boolean[] {true, false}) {
            Tensor h = Tensor.leaf(hidden());
            Tensor f = Tensor.leaf(features());
            HybridLoss loss = new HybridLoss(new ImageLossConfig(RegressionLoss.MSE, true, 0, detach));
            try (Tape tape = Tape.record()) {
                LossResult r = loss.compute(output(h, f), labels(), new int[] {0, 1}, BatchMode.vdep(2), 1);
                tape.backward(r.total());
            }
            assertNotNull(h.grad());
            if (detach) {
                assertNull(f.grad(), "detached target: no gradient into the projector output through the target");
            } else {
                // d/dv of mean (h - v)^2 = -2 (h - v) / n over the 8 elements
                double expected = -2 * (hidden().getDouble(0, 0, 0) - features().getDouble(0, 0, 0)) / 8;
                assertEquals(expected, f.grad().getDouble(0, 0, 0), 1e-12);
            }
        }
    }

    @Test
    void chosenBlockOutputIsUsedInsteadOfFinalNorm() {
        HybridLoss loss = new HybridLoss(new ImageLossConfig(RegressionLoss.L1, true, 1, true));
        assertTrue(loss.decodeOptions().keepLayers().contains(1));
        INDArray block = hidden().mul(-1);
        LlavaOutput out = new LlavaOutput(Tensor.constant(Nd4j.zeros(DataType.DOUBLE, 2, 4, 3)), Tensor.constant(hidden()),
                Tensor.constant(features()), ROWS, Map.of(1, Tensor.constant(block)));
        LossResult r = loss.compute(out, labels(), new int[] {0, 1}, BatchMode.vdep(2), 1);
        INDArray pred = block.reshape(8, 2);
        INDArray f = features().reshape(4, 2);
        int[] pr = {0, 1, 4, 5};
        double s = 0;
        for (int i = 0; i < 4; i++) {
            for (int d = 0; d < 2; d++) {
                s += Math.abs(pred.getDouble(pr[i], d) - f.getDouble(i, d));
            }
        }
        assertEquals(s / 8, r.imageLoss(), 1e-12);
    }

    @Test
    void textLossShiftsLabels() {
        INDArray logits = Nd4j.createFromArray(new double[] {0, 0, 5, 0, 5, 0}).reshape(1, 2, 3);
        INDArray labels = Nd4j.createFromArray(new long[][] {{-100, 1}});
        // position 0 predicts label 1 with logits (0, 0, 5)
        double expected = Math.log(2 + Math.exp(5)) - 0;
        assertEquals(expected, HybridLoss.textLoss(Tensor.constant(logits), labels).item(), 1e-12);
    }

    @Test
    void ignoredLabelsDoNotCount() {
        // position 0 predicts label[1] = IGNORE_INDEX (ignored), position 1 predicts label[2] = 2
        INDArray labels = Nd4j.createFromArray(new long[][] {{0, F.IGNORE_INDEX, 2}});
        INDArray logits = Nd4j.createFromArray(new double[] {0, 0, 5, 1, 2, 3, 0, 0, 0}).reshape(1, 3, 3);
        double expected = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3;
        assertEquals(expected, HybridLoss.textLoss(Tensor.constant(logits), labels).item(), 1e-12);
        logits.putScalar(new long[] {0, 0, 0}, 100);
        assertEquals(expected, HybridLoss.textLoss(Tensor.constant(logits), labels).item(), 1e-12,
                "changing the logits of an ignored position changes nothing");
    }
}
