package io.github.vdep.core.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.testing.GradCheck;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Forward values of primitives against direct computations. */
class PrimitiveValueTest {

    /**
     * A query that sees no key (causal, key 0 padded) gets uniform weights in both precisions,
     * as Hugging Face's finite additive mask gives, on whichever path is active (native kernels,
     * or ND4J with VDEP_NATIVE_KERNELS=0), in both layouts, with finite gradients.
     */
    @Test
    void attentionRowWithoutVisibleKeysIsUniformInFloatAndDouble() {
        for (org.nd4j.linalg.api.buffer.DataType type : new org.nd4j.linalg.api.buffer.DataType[] {
                org.nd4j.linalg.api.buffer.DataType.FLOAT, org.nd4j.linalg.api.buffer.DataType.DOUBLE}) {
            INDArray q = GradCheck.random(9, 1, 2, 4, 8).castTo(type), k = GradCheck.random(10, 1, 2, 4, 8).castTo(type);
            INDArray v = GradCheck.random(11, 1, 2, 4, 8).castTo(type);
            INDArray keyMask = Nd4j.createFromArray(new float[][] {{0, 1, 1, 1}});
            for (boolean tokenMajor : new boolean[] {false, true}) {
                INDArray[] probs = new INDArray[1];
                io.github.vdep.core.autograd.Tensor[] in = {Tensor.leaf(tokenMajor ? q.permute(0, 2, 1, 3).dup('c') : q),
                        Tensor.leaf(tokenMajor ? k.permute(0, 2, 1, 3).dup('c') : k), Tensor.leaf(tokenMajor ? v.permute(0, 2, 1, 3).dup('c') : v)};
                try (io.github.vdep.core.autograd.Tape tape = io.github.vdep.core.autograd.Tape.record()) {
                    Tensor y = tokenMajor ? F.attentionTokenMajor(in[0], in[1], in[2], true, keyMask, 0.3, p -> probs[0] = p.dup())
                            : F.attention(in[0], in[1], in[2], true, keyMask, 0.3, p -> probs[0] = p.dup());
                    tape.backward(F.sum(y));
                }
                String what = type + (tokenMajor ? " token-major" : "") + (F.nativeKernels() ? " native" : " ND4J");
                for (int h = 0; h < 2; h++) {
                    for (int j = 0; j < 4; j++) {
                        assertEquals(0.25, probs[0].getDouble(0, h, 0, j), 1e-7, what);
                    }
                    assertEquals(0.0, probs[0].getDouble(0, h, 2, 0), 0.0, what + ": padded key gets no weight");
                    assertEquals(0.0, probs[0].getDouble(0, h, 2, 3), 0.0, what + ": future key gets no weight");
                }
                for (Tensor t : in) {
                    assertEquals(0, t.grad().neq(t.grad()).castTo(org.nd4j.linalg.api.buffer.DataType.INT32).sumNumber().intValue(), what + ": NaN in a gradient");
                }
            }
        }
    }

    @Test
    void attentionMatchesNaiveLoopWithGroupedHeadsAndMasks() {
        INDArray q = GradCheck.random(1, 2, 4, 3, 2), k = GradCheck.random(2, 2, 2, 3, 2), v = GradCheck.random(3, 2, 2, 3, 2);
        INDArray mask = Nd4j.createFromArray(new double[][] {{1, 1, 1}, {1, 0, 1}});
        INDArray y = F.attention(Tensor.constant(q), Tensor.constant(k), Tensor.constant(v), true, mask, 0.7).value();
        for (int b = 0; b < 2; b++) {
            for (int h = 0; h < 4; h++) {
                int g = h / 2;
                for (int t = 0; t < 3; t++) {
                    double[] w = new double[3];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int s = 0; s <= t; s++) {
                        if (mask.getDouble(b, s) == 0) {
                            w[s] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double dot = 0;
                        for (int d = 0; d < 2; d++) {
                            dot += q.getDouble(b, h, t, d) * k.getDouble(b, g, s, d);
                        }
                        w[s] = dot * 0.7;
                        max = Math.max(max, w[s]);
                    }
                    double z = 0;
                    for (int s = 0; s <= t; s++) {
                        w[s] = Math.exp(w[s] - max);
                        z += w[s];
                    }
                    for (int d = 0; d < 2; d++) {
                        double o = 0;
                        for (int s = 0; s <= t; s++) {
                            o += w[s] / z * v.getDouble(b, g, s, d);
                        }
                        assertEquals(o, y.getDouble(b, h, t, d), 1e-12);
                    }
                }
            }
        }
    }

    @Test
    void attentionProbabilityRowsSumToOne() {
        INDArray q = GradCheck.random(1, 1, 2, 4, 2), k = GradCheck.random(2, 1, 2, 4, 2);
        INDArray[] probs = new INDArray[1];
        F.attention(Tensor.constant(q), Tensor.constant(k), Tensor.constant(k), true, null, 1.0, p -> probs[0] = p.dup());
        assertArrayEquals(new long[] {1, 2, 4, 4}, probs[0].shape());
        INDArray sums = probs[0].sum(3);
        assertEquals(0.0, sums.sub(1.0).amaxNumber().doubleValue(), 1e-12);
        assertEquals(0.0, probs[0].getDouble(0, 1, 0, 3), 0.0, "causal: the first query never sees later keys");
    }

    @Test
    void crossEntropyMatchesLogSoftmax() {
        INDArray logits = Nd4j.createFromArray(new double[][] {{1, 2, 3}, {0, 0, 0}, {5, 1, -1}});
        int[] targets = {2, F.IGNORE_INDEX, 0};
        double expected = ((Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3) + (Math.log(Math.exp(5) + Math.exp(1) + Math.exp(-1)) - 5)) / 2;
        assertEquals(expected, F.crossEntropy(Tensor.constant(logits), targets).item(), 1e-12);
    }

    @Test
    void crossEntropyRejectsTargetOutsideVocabulary() {
        INDArray logits = Nd4j.zeros(2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> F.crossEntropy(Tensor.constant(logits), new int[] {1, 3}));
        assertTrue(e.getMessage().contains("target 3"), e.getMessage());
    }

    @Test
    void regressionLossValues() {
        INDArray p = Nd4j.createFromArray(new double[][] {{1, 0}, {0, 3}});
        INDArray t = Nd4j.createFromArray(new double[][] {{0, 0}, {0, 1}});
        Tensor pt = Tensor.constant(p), tt = Tensor.constant(t);
        assertEquals((1 + 4) / 4.0, RegressionLoss.MSE.apply(pt, tt).item(), 1e-12);
        assertEquals((1 + 2) / 4.0, RegressionLoss.L1.apply(pt, tt).item(), 1e-12);
        assertEquals((0.5 + 1.5) / 4.0, RegressionLoss.SMOOTH_L1.apply(pt, tt).item(), 1e-12);
        // row 0: p=(1,0), t=(0,0) -> clamped norm gives cos 0; row 1: parallel -> cos 1
        assertEquals(1.0 - (0 + 1) / 2.0, RegressionLoss.COSINE.apply(pt, tt).item(), 1e-12);
        // the targets' mean square is 1/4
        assertEquals((1 + 4) / 4.0 / 0.25, RegressionLoss.MSE_RELATIVE.apply(pt, tt).item(), 1e-12);
        // row 0 normalises to (0, 0); row 1 (0, 1) to (-0.5, 0.5) / sqrt(0.5 + 1e-6) (unbiased variance, MAE's eps)
        double s = Math.sqrt(0.5 + 1e-6);
        double expected = (1 + 0 + Math.pow(0.5 / s, 2) + Math.pow(3 - 0.5 / s, 2)) / 4;
        assertEquals(expected, RegressionLoss.MSE_NORMALIZED.apply(pt, tt).item(), 1e-12);
    }

    @Test
    void scaleInvariantLossesIgnoreTheTargetsScale() {
        INDArray p = GradCheck.random(31, 5, 6);
        INDArray t = GradCheck.random(32, 5, 6);
        Tensor pt = Tensor.constant(p), tt = Tensor.constant(t);
        // affine change of the target: the normalised targets stay the same up to the eps in sqrt(var + eps) (rows' var ~0.3: ~1e-6 relative)
        INDArray shifted = t.mul(7.0).addi(3.0);
        double normalized = RegressionLoss.MSE_NORMALIZED.apply(pt, tt).item();
        assertEquals(normalized, RegressionLoss.MSE_NORMALIZED.apply(pt, Tensor.constant(shifted)).item(), 1e-5 * normalized);
        assertTrue(Math.abs(RegressionLoss.MSE.apply(pt, Tensor.constant(shifted)).item() - RegressionLoss.MSE.apply(pt, tt).item()) > 1);
        // prediction and target scaled together: the relative MSE is unchanged, the MSE grows by the square
        double relative = RegressionLoss.MSE_RELATIVE.apply(pt, tt).item();
        assertEquals(relative, RegressionLoss.MSE_RELATIVE.apply(Tensor.constant(p.mul(10)), Tensor.constant(t.mul(10))).item(), 1e-9 * relative);
        double mse = RegressionLoss.MSE.apply(pt, tt).item();
        assertEquals(100 * mse, RegressionLoss.MSE.apply(Tensor.constant(p.mul(10)), Tensor.constant(t.mul(10))).item(), 1e-9 * mse);
        assertThrows(IllegalArgumentException.class, () -> RegressionLoss.MSE_NORMALIZED.apply(Tensor.constant(p.getColumn(0).reshape(5, 1)),
                Tensor.constant(t.getColumn(0).reshape(5, 1))));
        assertEquals(RegressionLoss.MSE_NORMALIZED, RegressionLoss.parse("mse-normalized"));
        assertEquals(RegressionLoss.MSE_RELATIVE, RegressionLoss.parse("mse_relative"));
    }

    @Test
    void ropeRotatesPairsByPositionAngle() {
        // one head, head dim 2: position p rotates (x1, x2) by angle p
        INDArray x = Nd4j.createFromArray(new double[] {1, 0, 1, 0}).reshape(1, 1, 2, 2);
        RopeTables tables = RopeTables.compute(2, 10000.0, 0, 2, org.nd4j.linalg.api.buffer.DataType.DOUBLE);
        INDArray y = F.rope(Tensor.constant(x), tables).value();
        assertEquals(1.0, y.getDouble(0, 0, 0, 0), 1e-7);
        assertEquals(0.0, y.getDouble(0, 0, 0, 1), 1e-7);
        assertEquals(Math.cos(1), y.getDouble(0, 0, 1, 0), 1e-7);
        assertEquals(Math.sin(1), y.getDouble(0, 0, 1, 1), 1e-7);
    }

    @Test
    void frozenInputsGetNoGradientAndDetachCutsThePath() {
        Tensor w = GradCheck.leaf(1, 3, 2);
        Tensor frozen = Tensor.constant(GradCheck.random(2, 3, 2));
        Tensor x = GradCheck.leaf(3, 4, 2);
        try (Tape tape = Tape.record()) {
            Tensor y = F.add(F.linear(x, w, null), F.linear(F.detach(x), frozen, null));
            tape.backward(F.sum(y));
        }
        assertNull(frozen.grad());
        // x's gradient comes only through w (the detached path contributes nothing)
        INDArray expected = Nd4j.ones(org.nd4j.linalg.api.buffer.DataType.DOUBLE, 4, 3).mmul(w.value());
        assertEquals(0.0, x.grad().sub(expected).amaxNumber().doubleValue(), 1e-12);
    }

    @Test
    void nothingIsRecordedOutsideATapeOrForConstants() {
        Tensor a = Tensor.constant(Nd4j.ones(2));
        try (Tape tape = Tape.record()) {
            F.add(a, a);
            assertEquals(0, tape.size());
            F.add(GradCheck.leaf(1, 2), a);
            assertEquals(1, tape.size());
        }
        assertNull(Tape.active());
    }

    @Test
    void embeddingGradientCountsEveryRepeatedId() {
        // ND4J's native scatter_add loses updates on repeated indices; the op must not
        Tensor table = Tensor.leaf(Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 3, 8));
        long[] ids = new long[30000];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i % 3 == 2 ? 2 : i % 2;
        }
        try (Tape tape = Tape.record()) {
            tape.backward(F.sum(F.embedding(table, Nd4j.createFromArray(ids).reshape(100, 300))));
        }
        long[] counts = new long[3];
        for (long id : ids) {
            counts[(int) id]++;
        }
        for (int r = 0; r < 3; r++) {
            assertEquals(counts[r], table.grad().getRow(r).minNumber().doubleValue(), 0.0, "row " + r);
            assertEquals(counts[r], table.grad().getRow(r).maxNumber().doubleValue(), 0.0, "row " + r);
        }
    }

    @Test
    void shapeErrorsNameTheShapes() {
        Tensor x = Tensor.constant(Nd4j.zeros(2, 3));
        Tensor w = Tensor.constant(Nd4j.zeros(4, 5));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> F.linear(x, w, null));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 5]"), e.getMessage());
    }
}
