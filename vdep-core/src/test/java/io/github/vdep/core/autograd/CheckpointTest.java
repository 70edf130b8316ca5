package io.github.vdep.core.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.ops.F;
import io.github.vdep.core.ops.RopeTables;
import io.github.vdep.core.testing.GradCheck;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Activation recomputation: the same values and bit-identical gradients, with less kept. */
class CheckpointTest {
    private static INDArray random(long seed, long... shape) {
        return io.github.vdep.core.nn.Init.normal(new SplittableRandom(seed), 0.5, DataType.FLOAT, shape);
    }

    private static List<Tensor> params(DataType dtype) {
        long[][] shapes = {{8}, {8, 8}, {4, 8}, {12, 8}, {12, 8}, {8, 12}};
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < shapes.length; i++) {
            out.add(Tensor.leaf(random(i + 10, shapes[i]).castTo(dtype)));
        }
        return out;
    }

    /** A pre-norm transformer block: attention (grouped KV, RoPE, causal) and a SwiGLU MLP, each residual. */
    private static Tensor block(List<Tensor> p, Tensor x) {
        Tensor n = F.rmsNorm(x, p.get(0), 1e-5);
        RopeTables rope = RopeTables.compute(4, 10000, 0, 5, x.dataType());
        Tensor q = F.ropeTokenMajor(F.reshape(F.linear(n, p.get(1), null), 2, 5, 2, 4), rope);
        Tensor k = F.ropeTokenMajor(F.reshape(F.linear(n, p.get(2), null), 2, 5, 1, 4), rope);
        Tensor v = F.reshape(F.linear(n, p.get(2), null), 2, 5, 1, 4);
        Tensor a = F.reshape(F.attentionTokenMajor(q, k, v, true, null, 0.5, null), 2, 5, 8);
        Tensor h = F.add(x, a);
        Tensor m = F.swiglu(F.linear(h, p.get(3), null), F.linear(h, p.get(4), null));
        return F.add(h, F.linear(m, p.get(5), null));
    }

    /**
     * Three blocks, the middle one's input also read outside it (as the VDEP image loss reads a
     * block's output), then a loss; {@code wrap} checkpoints each block or not.
     */
    private static Tensor model(List<Tensor> p, Tensor x, UnaryOperator<java.util.function.Supplier<Tensor>> wrap) {
        Tensor h = x;
        Tensor kept = null;
        for (int i = 0; i < 3; i++) {
            Tensor in = h;
            h = wrap.apply(() -> block(p, in)).get();
            if (i == 0) {
                kept = h;
            }
        }
        Tensor flat = F.reshape(h, 10, 8);
        Tensor ce = F.crossEntropy(flat, new int[] {1, 2, 3, -100, 5, 6, 7, 0, 1, 2});
        Tensor side = F.sum(F.mul(kept, kept));
        return F.add(ce, F.scale(side, 0.01));
    }

    private static UnaryOperator<java.util.function.Supplier<Tensor>> plain() {
        return s -> s;
    }

    private static UnaryOperator<java.util.function.Supplier<Tensor>> checkpointed() {
        return s -> {
            Tensor y = Checkpoint.run(s);
            return () -> y;
        };
    }

    private static List<float[]> gradients(boolean recompute, boolean releaseValues, boolean inputGrad) {
        List<Tensor> p = params(DataType.FLOAT);
        Tensor x = inputGrad ? Tensor.leaf(random(3, 2, 5, 8)) : Tensor.constant(random(3, 2, 5, 8));
        List<float[]> out = new ArrayList<>();
        try (Tape tape = Tape.record(releaseValues)) {
            Tensor loss = model(p, x, recompute ? checkpointed() : plain());
            out.add(loss.value().toFloatVector());
            tape.backward(loss);
        }
        for (Tensor t : p) {
            out.add(t.grad().dup().reshape(t.grad().length()).toFloatVector());
        }
        if (inputGrad) {
            out.add(x.grad().dup().reshape(x.grad().length()).toFloatVector());
        }
        return out;
    }

    @Test
    void gradientsAreBitIdenticalToThoseWithoutRecomputation() {
        for (boolean release : new boolean[] {false, true}) {
            for (boolean inputGrad : new boolean[] {false, true}) {
                List<float[]> plain = gradients(false, release, inputGrad);
                List<float[]> recomputed = gradients(true, release, inputGrad);
                assertEquals(plain.size(), recomputed.size());
                for (int i = 0; i < plain.size(); i++) {
                    // assertArrayEquals on float[] compares bit patterns: exact equality
                    assertArrayEquals(plain.get(i), recomputed.get(i), (i == 0 ? "loss" : "gradient " + i) + " (releaseValues " + release
                            + ", input gradient " + inputGrad + ")");
                }
            }
        }
    }

    @Test
    void finiteDifferencesAgreeThroughCheckpointedSegments() {
        List<Tensor> p = params(DataType.DOUBLE);
        Tensor x = GradCheck.leaf(3, 2, 5, 8);
        List<Tensor> inputs = new ArrayList<>(p);
        inputs.add(x);
        GradCheck.check("checkpointed blocks", () -> model(p, x, checkpointed()), inputs, 1e-6, 1e-6, 12);
    }

    @Test
    void nestedCheckpointsGiveTheSameGradients() {
        List<Tensor> p = params(DataType.FLOAT);
        Tensor x = Tensor.leaf(random(3, 2, 5, 8));
        float[] plain;
        try (Tape tape = Tape.record()) {
            tape.backward(F.sum(block(p, block(p, x))));
        }
        plain = p.get(1).grad().dup().reshape(64).toFloatVector();
        for (Tensor t : p) {
            t.zeroGrad();
        }
        try (Tape tape = Tape.record(true)) {
            Tensor y = Checkpoint.run(() -> {
                Tensor inner = Checkpoint.run(() -> block(p, x));
                return block(p, inner);
            });
            tape.backward(F.sum(y));
        }
        assertArrayEquals(plain, p.get(1).grad().dup().reshape(64).toFloatVector());
    }

    @Test
    void forwardKeepsOnlyTheOutputAndRecordsOneStep() {
        List<Tensor> p = params(DataType.FLOAT);
        Tensor x = Tensor.leaf(random(3, 2, 5, 8));
        try (Tape tape = Tape.record()) {
            Tensor plain = block(p, x);
            int plainSteps = tape.size();
            Tensor y = Checkpoint.run(() -> block(p, x));
            assertEquals(plainSteps + 1, tape.size(), "the checkpointed block is one step on the tape");
            assertTrue(plainSteps > 10);
            assertArrayEquals(plain.value().dup().reshape(80).toFloatVector(), y.value().dup().reshape(80).toFloatVector());
            assertTrue(y.requiresGrad());
        }
    }

    @Test
    void frozenSegmentOrNoTapeJustRuns() {
        List<Tensor> p = params(DataType.FLOAT);
        List<Tensor> frozen = new ArrayList<>();
        for (Tensor t : p) {
            frozen.add(Tensor.constant(t.value()));
        }
        Tensor x = Tensor.constant(random(3, 2, 5, 8));
        try (Tape tape = Tape.record()) {
            Tensor y = Checkpoint.run(() -> block(frozen, x));
            assertFalse(y.requiresGrad());
            assertEquals(0, tape.size());
        }
        Tensor y = Checkpoint.run(() -> block(p, x));
        assertFalse(y.requiresGrad(), "outside a tape nothing is recorded");
        assertNotNull(y.value());
    }
}
