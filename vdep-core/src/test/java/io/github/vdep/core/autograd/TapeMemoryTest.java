package io.github.vdep.core.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.ops.F;
import io.github.vdep.core.ops.RopeTables;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The tape's memory handling: freed gradients and values never change results. */
class TapeMemoryTest {
    private static INDArray random(long seed, long... shape) {
        return io.github.vdep.core.nn.Init.normal(new SplittableRandom(seed), 0.5, DataType.FLOAT, shape);
    }

    /** A small transformer-like graph touching every primitive a training step uses. */
    private static Tensor graph(List<Tensor> p, INDArray x, int[] targets) {
        Tensor h = F.linear(Tensor.constant(x), p.get(0), p.get(1)); // [2, 4, 8]
        Tensor n = F.rmsNorm(h, p.get(2), 1e-5);
        Tensor q = F.permute(F.reshape(F.linear(n, p.get(3), null), 2, 4, 2, 4), 0, 2, 1, 3);
        Tensor k = F.permute(F.reshape(F.linear(n, p.get(4), null), 2, 4, 1, 4), 0, 2, 1, 3);
        RopeTables rope = RopeTables.compute(4, 10000, 0, 4, DataType.FLOAT);
        Tensor a = F.attention(F.rope(q, rope), F.rope(k, rope), k, true, null, 0.5);
        Tensor o = F.add(h, F.reshape(F.permute(a, 0, 2, 1, 3), 2, 4, 8));
        Tensor m = F.swiglu(F.linear(o, p.get(5), null), F.gelu(F.linear(o, p.get(6), null)));
        Tensor e = F.layerNorm(F.add(o, F.linear(m, p.get(7), null)), p.get(8), p.get(9), 1e-5);
        Tensor flat = F.reshape(e, 8, 8);
        Tensor spliced = F.replaceRows(flat, new int[] {1, 5}, F.gatherRows(flat, new int[] {0, 4}));
        Tensor ce = F.crossEntropy(spliced, targets);
        Tensor mse = F.mse(F.gatherRows(spliced, new int[] {2, 3}), F.detach(F.gatherRows(spliced, new int[] {6, 7})));
        return F.add(ce, F.scale(mse, 0.5));
    }

    private static List<Tensor> params() {
        long[][] shapes = {{8, 3}, {8}, {8}, {8, 8}, {4, 8}, {6, 8}, {6, 8}, {8, 6}, {8}, {8}};
        Tensor[] out = new Tensor[shapes.length];
        for (int i = 0; i < shapes.length; i++) {
            out[i] = Tensor.leaf(random(i + 1, shapes[i]));
        }
        return List.of(out);
    }

    @Test
    void releasingTapeGivesTheSameGradientsAndKeepsTheLoss() {
        INDArray x = random(42, 2, 4, 3);
        int[] targets = {1, 2, 3, 4, 5, 6, 7, 0};
        List<Tensor> plain = params();
        double plainLoss;
        try (Tape tape = Tape.record()) {
            Tensor loss = graph(plain, x, targets);
            tape.backward(loss);
            plainLoss = loss.item();
        }
        List<Tensor> released = params();
        Tensor loss;
        Tensor[] intermediate = new Tensor[1];
        try (Tape tape = Tape.record(true)) {
            intermediate[0] = F.linear(Tensor.constant(x), released.get(0), released.get(1));
            loss = graph(released, x, targets);
            tape.backward(loss);
        }
        assertEquals(plainLoss, loss.item(), 0.0, "the loss back-propagated from stays readable");
        for (int i = 0; i < plain.size(); i++) {
            assertNotNull(released.get(i).grad(), "param " + i);
            assertEquals(0.0, plain.get(i).grad().sub(released.get(i).grad()).amaxNumber().doubleValue(), 0.0, "param " + i);
        }
        // intermediates are freed: reading one afterwards fails loudly instead of returning garbage
        assertTrue(intermediate[0].value().wasClosed());
        assertThrows(RuntimeException.class, () -> intermediate[0].value().sumNumber());
        // parameters and inputs are never freed
        assertEquals(0.0, x.sub(random(42, 2, 4, 3)).amaxNumber().doubleValue(), 0.0, "the input keeps its values");
        for (int i = 0; i < released.size(); i++) {
            assertFalse(released.get(i).value().wasClosed(), "param " + i);
            INDArray fresh = params().get(i).value();
            assertEquals(0.0, released.get(i).value().sub(fresh).amaxNumber().doubleValue(), 0.0, "param " + i + " keeps its values");
        }
    }

    /** Custom primitives: handing the incoming gradient on as if it were fresh must still be correct. */
    @Test
    void customOpsMayPassTheirGradientOn() {
        Function<Tensor, Tensor> identityOwned = t -> Tape.op(t.value().dup(), g -> t.accumulateGradOwned(g), t);
        Function<Tensor, Tensor> identityCopy = t -> Tape.op(t.value().dup(), g -> t.accumulateGrad(g), t);
        Function<Tensor, Tensor> twice = t -> Tape.op(t.value().mul(2), g -> {
            t.accumulateGradOwned(g); // the same array handed to two places
            t.accumulateGradOwned(g);
        }, t);
        for (boolean release : new boolean[] {false, true}) {
            Tensor w = Tensor.leaf(random(7, 3, 5));
            Tensor in = Tensor.constant(random(8, 4, 5));
            try (Tape tape = Tape.record(release)) {
                Tensor y = F.linear(in, w, null); // [4, 3]
                Tensor z = F.add(identityOwned.apply(y), twice.apply(identityCopy.apply(y)));
                tape.backward(F.sum(F.mul(z, Tensor.constant(random(9, 4, 3)))));
            }
            // d/dy of sum(r * (y + 2y)) = 3r; dW = (3r)^T in
            INDArray expected = random(9, 4, 3).mul(3).transpose().mmul(random(8, 4, 5));
            assertEquals(0.0, expected.sub(w.grad()).amaxNumber().doubleValue(), 1e-5, "release " + release);
        }
    }

    @Test
    void buffersReleaseOnlyWhatTheyOwn() {
        INDArray a = Nd4j.rand(DataType.FLOAT, 4, 6);
        INDArray view = a.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2), org.nd4j.linalg.indexing.NDArrayIndex.all());
        Buffers.release(view); // a partial view: left alone
        assertTrue(a.sumNumber().doubleValue() > 0);
        INDArray b = Nd4j.rand(DataType.FLOAT, 4, 6);
        INDArray whole = b.reshape('c', 2, 12);
        Buffers.release(whole); // a full reshape frees the array it reshapes
        assertTrue(b.wasClosed());
        Buffers.release(whole); // twice: no-op
        Buffers.release((INDArray) null);
    }

    @Test
    void largeBuffersAreRecycled() {
        long rows = Buffers.POOL_MIN_BYTES / 4 / 1024;
        INDArray a = Buffers.allocate(DataType.FLOAT, rows, 1024).assign(1);
        org.nd4j.linalg.api.buffer.DataBuffer memory = owner(a);
        Buffers.release(a);
        INDArray b = Buffers.allocate(DataType.FLOAT, 1024, rows); // same length, other shape
        assertTrue(owner(b) == memory, "the released buffer is handed out again");
        b.assign(2);
        assertEquals(2.0 * rows * 1024, b.sumNumber().doubleValue(), 0.0);
        INDArray small = Buffers.allocate(DataType.FLOAT, 3, 4);
        Buffers.release(small);
        assertTrue(small.wasClosed(), "small buffers are simply freed");
        Buffers.release(b);
    }

    private static org.nd4j.linalg.api.buffer.DataBuffer owner(INDArray a) {
        return a.data().originalDataBuffer() != null ? a.data().originalDataBuffer() : a.data();
    }
}
