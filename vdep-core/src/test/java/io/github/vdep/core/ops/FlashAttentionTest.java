package io.github.vdep.core.ops;

import static io.github.vdep.core.testing.GradCheck.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The native FlashAttention-2 path (online softmax forward saving only the log-sum-exp, backward
 * recomputing the probabilities block by block) against the native path that materialises the
 * probabilities, and against ND4J's: output and q, k, v gradients to float32 tolerance. T and S
 * are off the 64-row/64-key blocks, with grouped KV heads, a KV cache (S > T), causal and
 * bidirectional, right and left padding (left padding leaves causal rows with no visible key,
 * which must be uniform as in the reference), in both layouts.
 */
class FlashAttentionTest {

    private static final double TOLERANCE = 2e-6; // relative L2, float32

    @Test
    void flashEqualsTheMaterialisingReference() {
        assumeTrue(NativeKernels.available());
        int b = 3, hkv = 2, rep = 3, d = 20;
        int[][] sizes = {{77, 77}, {70, 131}, {5, 5}, {129, 129}};
        for (int[] size : sizes) {
            int t = size[0], s = size[1];
            float[][] keys = new float[b][s];
            for (float[] row : keys) {
                Arrays.fill(row, 1f);
            }
            for (int j = s - 3; j < s; j++) {
                keys[1][j] = 0; // right padding
            }
            for (int j = 0; j < Math.min(s - t + 2, s); j++) {
                keys[2][j] = 0; // left padding: the first causal queries see no key
            }
            INDArray keyMask = Nd4j.createFromArray(keys);
            for (boolean tokenMajor : new boolean[] {false, true}) {
                long[] qShape = tokenMajor ? new long[] {b, t, hkv * rep, d} : new long[] {b, hkv * rep, t, d};
                long[] kShape = tokenMajor ? new long[] {b, s, hkv, d} : new long[] {b, hkv, s, d};
                INDArray q = floats(60 + t, qShape), k = floats(61 + s, kShape), v = floats(62, kShape), g = floats(63, qShape);
                for (boolean causal : new boolean[] {true, false}) {
                    for (INDArray mask : new INDArray[] {null, keyMask}) {
                        String what = "T=" + t + " S=" + s + " tokenMajor=" + tokenMajor + " causal=" + causal + " mask=" + (mask != null);
                        INDArray[] flash = run(g, (qq, kk, vv) -> AttentionOp.applyFlash(qq, kk, vv, causal, mask, 0.3, rep, tokenMajor), q, k, v);
                        INDArray[] materialised = run(g,
                                (qq, kk, vv) -> AttentionOp.applyMaterialised(qq, kk, vv, causal, mask, 0.3, null, rep, tokenMajor), q, k, v);
                        assertClose(what + " vs materialising native", flash, materialised);
                        if (!tokenMajor) {
                            NativeKernels.setEnabled(false);
                            try {
                                INDArray[] nd4j = run(g, (qq, kk, vv) -> F.attention(qq, kk, vv, causal, mask, 0.3), q, k, v);
                                assertClose(what + " vs ND4J", flash, nd4j);
                            } finally {
                                NativeKernels.setEnabled(true);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void rowWithoutVisibleKeysIsUniformAndItsGradientMatches() {
        assumeTrue(NativeKernels.available());
        // causal with keys 0 and 1 padded: queries 0 and 1 see no key, so their output is the mean of all values
        INDArray q = floats(70, 1, 2, 5, 8), k = floats(71, 1, 1, 5, 8), v = floats(72, 1, 1, 5, 8), g = floats(73, 1, 2, 5, 8);
        INDArray keyMask = Nd4j.createFromArray(new float[][] {{0, 0, 1, 1, 1}});
        INDArray[] flash = run(g, (qq, kk, vv) -> AttentionOp.applyFlash(qq, kk, vv, true, keyMask, 0.5, 2, false), q, k, v);
        INDArray mean = v.mean(2).reshape(8);
        for (int h = 0; h < 2; h++) {
            for (int i = 0; i < 2; i++) {
                assertEquals(0.0, flash[0].get(org.nd4j.linalg.indexing.NDArrayIndex.point(0), org.nd4j.linalg.indexing.NDArrayIndex.point(h),
                        org.nd4j.linalg.indexing.NDArrayIndex.point(i), org.nd4j.linalg.indexing.NDArrayIndex.all()).sub(mean).amaxNumber().doubleValue(),
                        1e-6, "head " + h + " query " + i);
            }
        }
        INDArray[] materialised = run(g, (qq, kk, vv) -> AttentionOp.applyMaterialised(qq, kk, vv, true, keyMask, 0.5, null, 2, false), q, k, v);
        assertClose("uniform rows", flash, materialised);
    }

    @Test
    void trainingTakesFlashForLargeProbabilitiesAndTheSinkKeepsThem() {
        assumeTrue(NativeKernels.available());
        // without a sink and with probabilities of at least FLASH_MIN_PROBABILITY_BYTES (here
        // 1 x 4 x 1024 x 1024 floats = 16 MiB), F.attention takes the flash path (bit-identical to
        // applyFlash); with a sink it materialises the probabilities, which sum to 1 per row, and
        // gives the same output
        int t = 1024;
        assertTrue(4L * t * t * Float.BYTES >= AttentionOp.FLASH_MIN_PROBABILITY_BYTES);
        INDArray q = floats(80, 1, 4, t, 16), k = floats(81, 1, 2, t, 16), v = floats(82, 1, 2, t, 16), g = floats(83, 1, 4, t, 16);
        INDArray[] viaF = run(g, (qq, kk, vv) -> F.attention(qq, kk, vv, true, null, 0.25), q, k, v);
        INDArray[] flash = run(g, (qq, kk, vv) -> AttentionOp.applyFlash(qq, kk, vv, true, null, 0.25, 2, false), q, k, v);
        for (int i = 0; i < viaF.length; i++) {
            assertEquals(0.0, viaF[i].sub(flash[i]).amaxNumber().doubleValue(), 0.0, "result " + i);
        }
        INDArray[] probs = new INDArray[1];
        Tensor y = F.attention(Tensor.leaf(q), Tensor.leaf(k), Tensor.leaf(v), true, null, 0.25, p -> probs[0] = p.dup());
        assertEquals(0.0, probs[0].sum(3).subi(1).amaxNumber().doubleValue(), 1e-5);
        double err = y.value().sub(flash[0]).norm2Number().doubleValue() / flash[0].norm2Number().doubleValue();
        assertTrue(err <= TOLERANCE, "sink path output: relative L2 error " + err);
    }

    @Test
    void smallProbabilitiesTakeTheMaterialisingKernels() {
        assumeTrue(NativeKernels.available());
        INDArray q = floats(84, 2, 4, 67, 16), k = floats(85, 2, 2, 67, 16), v = floats(86, 2, 2, 67, 16), g = floats(87, 2, 4, 67, 16);
        INDArray[] viaF = run(g, (qq, kk, vv) -> F.attention(qq, kk, vv, true, null, 0.25), q, k, v);
        INDArray[] materialised = run(g, (qq, kk, vv) -> AttentionOp.applyMaterialised(qq, kk, vv, true, null, 0.25, null, 2, false), q, k, v);
        for (int i = 0; i < viaF.length; i++) {
            assertEquals(0.0, viaF[i].sub(materialised[i]).amaxNumber().doubleValue(), 0.0, "result " + i);
        }
    }

    @FunctionalInterface
    private interface Attention {
        Tensor apply(Tensor q, Tensor k, Tensor v);
    }

    private static void assertClose(String what, INDArray[] actual, INDArray[] expected) {
        String[] names = {"output", "dq", "dk", "dv"};
        for (int i = 0; i < actual.length; i++) {
            assertTrue(Arrays.equals(actual[i].shape(), expected[i].shape()), what + " " + names[i] + " shape");
            double scale = expected[i].norm2Number().doubleValue();
            double err = actual[i].sub(expected[i]).norm2Number().doubleValue();
            assertTrue(scale > 0, what + " " + names[i] + " is all zero");
            assertTrue(err <= TOLERANCE * scale, what + " " + names[i] + ": relative L2 error " + err / scale);
            double maxErr = actual[i].sub(expected[i]).amaxNumber().doubleValue();
            assertTrue(maxErr <= 1e-5 * Math.max(1, expected[i].amaxNumber().doubleValue()), what + " " + names[i] + ": max error " + maxErr);
        }
    }

    private static INDArray[] run(INDArray g, Attention f, INDArray q, INDArray k, INDArray v) {
        Tensor lq = Tensor.leaf(q.dup()), lk = Tensor.leaf(k.dup()), lv = Tensor.leaf(v.dup());
        INDArray[] out = new INDArray[4];
        try (Tape tape = Tape.record()) {
            Tensor y = f.apply(lq, lk, lv);
            out[0] = y.value().dup();
            tape.backward(y, g);
        }
        out[1] = lq.grad().dup();
        out[2] = lk.grad().dup();
        out[3] = lv.grad().dup();
        return out;
    }

    private static INDArray floats(long seed, long... shape) {
        return random(seed, shape).castTo(DataType.FLOAT);
    }
}
