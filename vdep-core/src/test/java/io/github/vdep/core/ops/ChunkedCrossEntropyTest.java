package io.github.vdep.core.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.testing.GradCheck;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The LM head and cross-entropy in chunks of rows against all logits at once. */
class ChunkedCrossEntropyTest {
    private static final int ROWS = 37;
    private static final int HIDDEN = 24;
    private static final int VOCAB = 300;

    private static int[] targets() {
        SplittableRandom r = new SplittableRandom(5);
        int[] t = new int[ROWS];
        for (int i = 0; i < ROWS; i++) {
            t[i] = i % 7 == 3 ? F.IGNORE_INDEX : r.nextInt(VOCAB);
        }
        return t;
    }

    private record Run(double loss, INDArray dx, INDArray dw) {
    }

    private static Run run(int chunkRows, boolean nativeKernels) {
        boolean before = NativeKernels.setEnabled(nativeKernels);
        try {
            Tensor x = Tensor.leaf(io.github.vdep.core.nn.Init.normal(new SplittableRandom(1), 1.0, DataType.FLOAT, ROWS, HIDDEN));
            Tensor w = Tensor.leaf(io.github.vdep.core.nn.Init.normal(new SplittableRandom(2), 0.3, DataType.FLOAT, VOCAB, HIDDEN));
            double loss;
            try (Tape tape = Tape.record(true)) {
                Tensor l = ChunkedCrossEntropy.apply(x, h -> F.linear(h, w, null), targets(), chunkRows);
                loss = l.item();
                tape.backward(F.scale(l, 0.5));
            }
            return new Run(loss, x.grad(), w.grad());
        } finally {
            NativeKernels.setEnabled(before);
        }
    }

    @Test
    void lossAndGradientsMatchTheUnchunkedPath() {
        for (boolean nativeKernels : new boolean[] {true, false}) {
            Run full = run(0, nativeKernels);
            for (int chunk : new int[] {1, 5, 16, 36}) {
                Run c = run(chunk, nativeKernels);
                String what = "chunk " + chunk + (nativeKernels ? " (native kernels)" : " (ND4J)");
                // the per-chunk float32 partial losses are rounded and added up
                assertEquals(full.loss(), c.loss(), 1e-6 * full.loss(), what + ": loss");
                // each row's logits and softmax are the unchunked ones: the input gradient rows agree to float32 rounding
                assertClose(full.dx(), c.dx(), 1e-6, what + ": input gradient");
                // a sum over rows split by chunk: float32 summation tolerance
                assertClose(full.dw(), c.dw(), 1e-5, what + ": weight gradient");
            }
            Run whole = run(ROWS, nativeKernels);
            assertEquals(full.loss(), whole.loss(), 0.0, "one chunk is the unchunked path");
            assertArrayEquals(full.dw().dup().reshape(VOCAB * HIDDEN).toFloatVector(), whole.dw().dup().reshape(VOCAB * HIDDEN).toFloatVector());
        }
    }

    private static void assertClose(INDArray expected, INDArray actual, double rel, String what) {
        double scale = expected.norm2Number().doubleValue();
        double err = expected.sub(actual).norm2Number().doubleValue();
        assertTrue(err <= rel * scale, what + ": L2 error " + err + " against norm " + scale);
    }

    @Test
    void chunkedGradientsPassFiniteDifferences() {
        Tensor x = GradCheck.leaf(1, 9, 6);
        Tensor w = GradCheck.leaf(2, 11, 6);
        int[] t = {1, 2, F.IGNORE_INDEX, 4, 5, 6, 7, F.IGNORE_INDEX, 0};
        GradCheck.check("chunked LM head cross-entropy", () -> ChunkedCrossEntropy.apply(x, h -> F.linear(h, w, null), t, 2), List.of(x, w));
    }

    @Test
    void badChunkSizeIsOneLine() {
        Tensor x = Tensor.constant(io.github.vdep.core.nn.Init.normal(new SplittableRandom(1), 1.0, DataType.FLOAT, 3, 4));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ChunkedCrossEntropy.apply(x, h -> h, new int[] {0, 1, 2}, -1));
        assertTrue(e.getMessage().contains("chunk rows"), e.getMessage());
        assertNotEquals(-1, e.getMessage().indexOf("-1"));
    }
}
