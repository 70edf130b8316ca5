package io.github.vdep.core.ops;

import static io.github.vdep.core.testing.GradCheck.check;
import static io.github.vdep.core.testing.GradCheck.leaf;
import static io.github.vdep.core.testing.GradCheck.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The native kernels ({@link NativeKernels}) against ND4J's implementation of the same
 * primitives (float, outputs and every gradient), by finite differences in double precision, and
 * for thread-count independence (bit-identical results with one thread and with several). Shapes
 * are chosen off the kernels' block sizes (8 elements, 4 x 16 tiles) so the edge code runs too.
 */
class NativeKernelsTest {

    @AfterEach
    void restore() {
        NativeKernels.setEnabled(true);
    }

    @Test
    void libraryLoadsWhereverItWasBuilt() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        boolean built = NativeKernels.class.getResource("/native/linux-x86_64/libvdepkernels.so") != null;
        boolean off = "false".equals(System.getProperty("vdep.native")) || "0".equals(System.getenv("VDEP_NATIVE_KERNELS"));
        assumeTrue(built && os.contains("linux") && !off, "library not built here");
        assertTrue(NativeKernels.available(), "libvdepkernels.so is in the jar but did not load: " + NativeKernels.status());
    }

    @Test
    void statusSaysLoadedOrWhyNot() {
        if (NativeKernels.available()) {
            assertEquals("loaded", NativeKernels.status());
            NativeKernels.setEnabled(false);
            assertTrue(NativeKernels.status().contains("turned off"), NativeKernels.status());
        } else {
            String status = NativeKernels.status();
            assertTrue(status.startsWith("not loaded: ") && status.length() > "not loaded: ".length() && !status.contains("\n"), status);
        }
    }

    @Test
    void attentionMatchesNd4j() {
        assumeTrue(NativeKernels.available());
        // GQA (6 query heads on 2 KV heads), T and d off the tile sizes, and a cache (S > T)
        INDArray q = floats(1, 3, 6, 21, 24);
        INDArray k = floats(2, 3, 2, 27, 24);
        INDArray v = floats(3, 3, 2, 27, 24);
        INDArray g = floats(4, 3, 6, 21, 24);
        float[][] keys = new float[3][27];
        for (float[] row : keys) {
            java.util.Arrays.fill(row, 1f);
        }
        keys[1][25] = 0;
        keys[2][0] = 0; // left padding
        INDArray keyMask = Nd4j.createFromArray(keys);
        for (boolean causal : new boolean[] {true, false}) {
            for (INDArray mask : new INDArray[] {null, keyMask}) {
                String what = "attention causal=" + causal + " mask=" + (mask != null);
                compare(what, g, in -> F.attention(in.get(0), in.get(1), in.get(2), causal, mask, 0.2), q, k, v);
            }
        }
        // square, no cache, the LLaMA case
        INDArray q2 = floats(5, 2, 4, 33, 16);
        INDArray k2 = floats(6, 2, 4, 33, 16);
        INDArray v2 = floats(7, 2, 4, 33, 16);
        compare("attention square", floats(8, 2, 4, 33, 16),
                in -> F.attention(in.get(0), in.get(1), in.get(2), true, null, 0.25), q2, k2, v2);
    }

    @Test
    void tokenMajorFormsMatchTheHeadsMajorOnes() {
        assumeTrue(NativeKernels.available());
        // q [B, T, H, d], k/v [B, S, Hkv, d]: against the heads-major primitive on transposed inputs, natively and on ND4J
        INDArray q = floats(40, 3, 21, 6, 24);
        INDArray k = floats(41, 3, 27, 2, 24);
        INDArray v = floats(42, 3, 27, 2, 24);
        INDArray g = floats(43, 3, 21, 6, 24);
        INDArray keyMask = Nd4j.ones(DataType.FLOAT, 3, 27);
        keyMask.putScalar(1, 3, 0);
        for (boolean on : new boolean[] {true, false}) {
            for (boolean causal : new boolean[] {true, false}) {
                NativeKernels.setEnabled(on);
                INDArray[] tokenMajor = run(g, in -> F.attentionTokenMajor(in.get(0), in.get(1), in.get(2), causal, keyMask, 0.3, null), q, k, v);
                INDArray[] headsMajor = run(g, in -> F.permute(F.attention(F.permute(in.get(0), 0, 2, 1, 3), F.permute(in.get(1), 0, 2, 1, 3),
                        F.permute(in.get(2), 0, 2, 1, 3), causal, keyMask, 0.3), 0, 2, 1, 3), q, k, v);
                NativeKernels.setEnabled(true);
                for (int i = 0; i < tokenMajor.length; i++) {
                    double err = tokenMajor[i].sub(headsMajor[i]).norm2Number().doubleValue() / headsMajor[i].norm2Number().doubleValue();
                    assertTrue(err <= 1e-6, "native=" + on + " causal=" + causal + " result " + i + ": relative error " + err);
                }
            }
        }
        INDArray x = floats(44, 3, 33, 5, 20);
        INDArray gx = floats(45, 3, 33, 5, 20);
        RopeTables tables = RopeTables.compute(20, 10000.0, 2, 33, DataType.FLOAT);
        for (boolean on : new boolean[] {true, false}) {
            NativeKernels.setEnabled(on);
            INDArray[] tokenMajor = run(gx, in -> F.ropeTokenMajor(in.get(0), tables), x);
            INDArray[] headsMajor = run(gx, in -> F.permute(F.rope(F.permute(in.get(0), 0, 2, 1, 3), tables), 0, 2, 1, 3), x);
            NativeKernels.setEnabled(true);
            for (int i = 0; i < tokenMajor.length; i++) {
                assertEquals(0.0, tokenMajor[i].sub(headsMajor[i]).amaxNumber().doubleValue(), 1e-6, "rope native=" + on + " result " + i);
            }
        }
    }

    @Test
    void causalBandSkipsOnlyZeroProducts() {
        assumeTrue(NativeKernels.available());
        // the banded kernels (causal products skipped) against the full ones: the same numbers, for
        // square attention and a cache (S > T), heads-major and token-major, rows off the tile sizes
        int b = 2, hkv = 2, rep = 3, d = 20;
        for (int s : new int[] {37, 45}) {
            int t = 37;
            for (boolean tokenMajor : new boolean[] {false, true}) {
                long[] qShape = tokenMajor ? new long[] {b, t, hkv * rep, d} : new long[] {b, hkv * rep, t, d};
                long[] kShape = tokenMajor ? new long[] {b, s, hkv, d} : new long[] {b, hkv, s, d};
                INDArray q = floats(50, qShape), k = floats(51, kShape), v = floats(52, kShape), dy = floats(53, qShape);
                INDArray[][] out = new INDArray[2][];
                for (int banded = 0; banded < 2; banded++) {
                    INDArray probs = Nd4j.create(DataType.FLOAT, b, hkv, (long) rep * t, s);
                    INDArray y = Nd4j.create(DataType.FLOAT, qShape), dq = Nd4j.create(DataType.FLOAT, qShape);
                    INDArray dk = Nd4j.create(DataType.FLOAT, kShape), dv = Nd4j.create(DataType.FLOAT, kShape);
                    boolean band = banded == 1;
                    NativeKernels.attentionForward(q, k, v, null, probs, y, b, hkv, rep, t, s, d, true, band, 0.3, tokenMajor);
                    NativeKernels.attentionBackward(q, k, v, probs, dy, dq, dk, dv, b, hkv, rep, t, s, d, band, 0.3, tokenMajor);
                    out[banded] = new INDArray[] {y, probs, dq, dk, dv};
                }
                for (int i = 0; i < out[0].length; i++) {
                    assertArrayEquals(out[0][i].data().asFloat(), out[1][i].data().asFloat(), 0f,
                            "S=" + s + " tokenMajor=" + tokenMajor + " result " + i + " differs with the band");
                }
            }
        }
        INDArray padded = Nd4j.ones(DataType.FLOAT, 2, 6);
        assertTrue(NativeKernels.causalBand(true, padded, 2, 4, 6));
        padded.putScalar(1, 0, 0);
        padded.putScalar(1, 1, 0);
        assertTrue(NativeKernels.causalBand(true, padded, 2, 4, 6), "query 0 still sees key 2");
        padded.putScalar(1, 2, 0);
        assertFalse(NativeKernels.causalBand(true, padded, 2, 4, 6), "query 0 of batch 1 sees no key");
        assertFalse(NativeKernels.causalBand(false, null, 2, 4, 6));
    }

    @Test
    void attentionRowWithoutVisibleKeysIsUniform() {
        assumeTrue(NativeKernels.available());
        // causal, and key 0 padded: query 0 sees no key. Both paths give a uniform row (HF's finite mask).
        INDArray q = floats(9, 1, 2, 4, 8);
        INDArray k = floats(10, 1, 2, 4, 8);
        INDArray v = floats(11, 1, 2, 4, 8);
        INDArray keyMask = Nd4j.createFromArray(new float[][] {{0, 1, 1, 1}});
        INDArray[] probs = new INDArray[1];
        F.attention(Tensor.leaf(q), Tensor.leaf(k), Tensor.leaf(v), true, keyMask, 0.3, p -> probs[0] = p.dup());
        for (int h = 0; h < 2; h++) {
            for (int j = 0; j < 4; j++) {
                assertEquals(0.25, probs[0].getDouble(0, h, 0, j), 1e-7);
            }
            assertEquals(0.0, probs[0].getDouble(0, h, 2, 0), 0.0, "padded key gets no weight");
            assertEquals(0.0, probs[0].getDouble(0, h, 2, 3), 0.0, "future key gets no weight");
        }
    }

    @Test
    void elementwiseAndLossMatchNd4j() {
        assumeTrue(NativeKernels.available());
        // 70,003 elements: not a multiple of 8, and split over threads
        INDArray a = floats(12, 7, 10001).muli(4);
        INDArray b = floats(13, 7, 10001);
        INDArray g = floats(14, 7, 10001);
        compare("swiglu", g, in -> F.swiglu(in.get(0), in.get(1)), a, b);
        compare("quickGelu", g, in -> F.quickGelu(in.get(0)), a);
        // the bias written into the output rows and the product added by the gemm
        compare("linear with bias", floats(18, 2, 9, 13), in -> F.linear(in.get(0), in.get(1), in.get(2)),
                floats(19, 2, 9, 11), floats(20, 13, 11), floats(21, 13));

        INDArray x = floats(15, 3, 5, 33, 20);
        RopeTables tables = RopeTables.compute(20, 10000.0, 0, 33, DataType.FLOAT);
        compare("rope", floats(16, 3, 5, 33, 20), in -> F.rope(in.get(0), tables), x);

        INDArray logits = floats(17, 37, 1003).muli(5);
        int[] targets = new int[37];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = i % 4 == 1 ? F.IGNORE_INDEX : (i * 97) % 1003;
        }
        compare("crossEntropy", Nd4j.scalar(DataType.FLOAT, 1.5f).reshape(1), in -> F.crossEntropy(in.get(0), targets), logits);
        int[] none = new int[37];
        java.util.Arrays.fill(none, F.IGNORE_INDEX);
        compare("crossEntropy without targets", Nd4j.scalar(DataType.FLOAT, 1f).reshape(1), in -> F.crossEntropy(in.get(0), none), logits);
    }

    @Test
    void gradientsInDoublePrecision() {
        assumeTrue(NativeKernels.available());
        Tensor q = leaf(20, 2, 4, 5, 6), k = leaf(21, 2, 2, 7, 6), v = leaf(22, 2, 2, 7, 6);
        INDArray keyMask = Nd4j.createFromArray(new double[][] {{1, 1, 1, 1, 1, 1, 1}, {1, 1, 0, 1, 1, 1, 0}});
        check("native attention, cache and key mask", () -> F.attention(q, k, v, true, keyMask, 0.4), List.of(q, k, v));
        check("native attention, bidirectional", () -> F.attention(q, k, v, false, null, 0.4), List.of(q, k, v));
        // token-major: q [B, T, H, d], k/v [B, S, Hkv, d]
        Tensor qt = leaf(27, 2, 5, 4, 6), kt = leaf(28, 2, 7, 2, 6), vt = leaf(29, 2, 7, 2, 6);
        check("native attention, token-major", () -> F.attentionTokenMajor(qt, kt, vt, true, keyMask, 0.4, null), List.of(qt, kt, vt));
        // FlashAttention-2 directly (F takes it only for large probabilities)
        check("native flash attention, cache and key mask", () -> AttentionOp.applyFlash(q, k, v, true, keyMask, 0.4, 2, false), List.of(q, k, v));
        check("native flash attention, bidirectional", () -> AttentionOp.applyFlash(q, k, v, false, null, 0.4, 2, false), List.of(q, k, v));
        check("native flash attention, token-major", () -> AttentionOp.applyFlash(qt, kt, vt, true, keyMask, 0.4, 2, true), List.of(qt, kt, vt));
        Tensor rt = leaf(30, 2, 5, 3, 6);
        RopeTables tables5 = RopeTables.compute(6, 10000.0, 1, 5, DataType.DOUBLE);
        check("native rope, token-major", () -> F.ropeTokenMajor(rt, tables5), List.of(rt));
        Tensor x = leaf(23, 3, 11), y = leaf(24, 3, 11);
        check("native swiglu", () -> F.swiglu(F.scale(x, 3), y), List.of(x, y));
        check("native quickGelu", () -> F.quickGelu(F.scale(x, 3)), List.of(x));
        Tensor r = leaf(25, 2, 3, 5, 6);
        RopeTables tables = RopeTables.compute(6, 10000.0, 3, 5, DataType.DOUBLE);
        check("native rope", () -> F.rope(r, tables), List.of(r));
        Tensor logits = leaf(26, 5, 9);
        int[] targets = {3, F.IGNORE_INDEX, 8, 0, 2};
        check("native crossEntropy", () -> F.crossEntropy(F.scale(logits, 2), targets), List.of(logits));
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        assumeTrue(NativeKernels.available());
        INDArray q = floats(30, 4, 4, 40, 32);
        INDArray k = floats(31, 4, 2, 40, 32);
        INDArray v = floats(32, 4, 2, 40, 32);
        INDArray g = floats(33, 4, 4, 40, 32);
        INDArray a = floats(34, 9, 10001);
        INDArray ga = floats(35, 9, 10001);
        INDArray logits = floats(36, 200, 517);
        int[] targets = new int[200];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = (i * 31) % 517;
        }
        INDArray xn = floats(37, 300, 45), gn = floats(38, 300, 45), wn = floats(39, 45), bn = floats(40, 45);
        int threads = Nd4j.getEnvironment().maxThreads();
        assumeTrue(threads > 1 && Runtime.getRuntime().availableProcessors() > 1, "one thread only");
        List<INDArray[]> runs = new ArrayList<>();
        try {
            for (int t : new int[] {1, threads}) {
                Nd4j.getEnvironment().setMaxThreads(t);
                List<INDArray> all = new ArrayList<>();
                all.addAll(List.of(run(g, in -> F.attention(in.get(0), in.get(1), in.get(2), true, null, 0.2), q, k, v)));
                all.addAll(List.of(run(ga, in -> F.swiglu(in.get(0), in.get(1)), a, ga)));
                all.addAll(List.of(run(Nd4j.scalar(DataType.FLOAT, 1f).reshape(1), in -> F.crossEntropy(in.get(0), targets), logits)));
                all.addAll(List.of(run(gn, in -> F.rmsNorm(in.get(0), in.get(1), 1e-5), xn, wn)));
                all.addAll(List.of(run(gn, in -> F.layerNorm(in.get(0), in.get(1), in.get(2), 1e-5), xn, wn, bn)));
                runs.add(all.toArray(new INDArray[0]));
            }
        } finally {
            Nd4j.getEnvironment().setMaxThreads(threads);
        }
        for (int i = 0; i < runs.get(0).length; i++) {
            assertArrayEquals(runs.get(0)[i].dup().data().asFloat(), runs.get(1)[i].dup().data().asFloat(), "result " + i + " differs between 1 and " + threads + " threads");
        }
    }

    /** A seeded random float array, entries uniform in (-1, 1). */
    private static INDArray floats(long seed, long... shape) {
        return random(seed, shape).castTo(DataType.FLOAT);
    }

    /** Output and input gradients of f with the native kernels and with ND4J's, to 1e-5 relative L2. */
    private static void compare(String what, INDArray g, Function<List<Tensor>, Tensor> f, INDArray... inputs) {
        NativeKernels.setEnabled(true);
        INDArray[] fast = run(g, f, inputs);
        NativeKernels.setEnabled(false);
        INDArray[] reference = run(g, f, inputs);
        NativeKernels.setEnabled(true);
        for (int i = 0; i < fast.length; i++) {
            String name = i == 0 ? "output" : "gradient of input " + (i - 1);
            double scale = reference[i].norm2Number().doubleValue();
            double err = fast[i].sub(reference[i]).norm2Number().doubleValue();
            assertTrue(err == 0 || err <= 1e-5 * scale, what + " " + name + ": relative L2 error " + err / scale);
        }
    }

    private static INDArray[] run(INDArray g, Function<List<Tensor>, Tensor> f, INDArray... inputs) {
        List<Tensor> leaves = new ArrayList<>();
        for (INDArray in : inputs) {
            leaves.add(Tensor.leaf(in.dup()));
        }
        INDArray[] out = new INDArray[1 + inputs.length];
        try (Tape tape = Tape.record()) {
            Tensor y = f.apply(leaves);
            out[0] = y.value().dup();
            tape.backward(y, g);
        }
        for (int i = 0; i < leaves.size(); i++) {
            INDArray grad = leaves.get(i).grad();
            out[1 + i] = grad == null ? Nd4j.zeros(inputs[i].dataType(), inputs[i].shape()) : grad.dup();
        }
        return out;
    }
}
