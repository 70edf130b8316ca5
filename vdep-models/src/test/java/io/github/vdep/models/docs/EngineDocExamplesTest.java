package io.github.vdep.models.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.nn.LayerNorm;
import io.github.vdep.core.nn.Linear;
import io.github.vdep.core.nn.Module;
import io.github.vdep.core.ops.F;
import io.github.vdep.core.testing.GradCheck;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The code shown in docs/engine.md, compiled and checked, so the documentation stays true. */
class EngineDocExamplesTest {

    /** docs/engine.md, "Adding a primitive". */
    static final class MyOps {
        private MyOps() {
        }

        /** tanh(x), elementwise. */
        static Tensor tanh(Tensor x) {
            INDArray y = Transforms.tanh(x.value(), true);          // forward, into a new array
            return Tape.op(y, g -> {                                // g = dLoss/dy, shaped like y
                INDArray dx = y.mul(y).rsubi(1.0).muli(g);          // (1 - y^2) * g
                x.accumulateGradOwned(dx);                          // dx is fresh: hand it over
            }, x);
        }
    }

    /** docs/engine.md, "Writing a module". */
    static final class GatedResidual extends Module {
        private final LayerNorm norm;
        private final Linear gate;
        private final Linear value;

        GatedResidual(int dim, DataType dtype) {
            this.norm = registerModule("norm", new LayerNorm(dim, 1e-5, dtype));
            this.gate = registerModule("gate", new Linear(dim, dim, true, dtype));
            this.value = registerModule("value", new Linear(dim, dim, false, dtype));
        }

        void initialize(long seed) {
            SplittableRandom rng = new SplittableRandom(seed);
            gate.initDefault(rng);
            value.initDefault(rng);
        }

        /** x + silu(gate(norm(x))) * value(norm(x)). */
        Tensor forward(Tensor x) {
            Tensor h = norm.forward(x);
            return F.add(x, F.mul(F.silu(gate.forward(h)), value.forward(h)));
        }
    }

    @Test
    void tanhPrimitiveGradientChecks() {
        Tensor x = GradCheck.leaf(1, 3, 4);
        GradCheck.check("tanh", () -> MyOps.tanh(F.scale(x, 2.0)), List.of(x));
    }

    @Test
    void tanhRecordsOnlyUnderATape() {
        Tensor x = GradCheck.leaf(2, 5);
        assertFalse(MyOps.tanh(x).requiresGrad(), "no tape: a constant");
        try (Tape tape = Tape.record()) {
            Tensor y = MyOps.tanh(x);
            assertTrue(y.requiresGrad());
            assertEquals(1, tape.size());
            assertFalse(MyOps.tanh(Tensor.constant(x.value())).requiresGrad(), "no input needs a gradient: nothing recorded");
            assertEquals(1, tape.size());
        }
    }

    @Test
    void moduleNamesGradientsAndFreezing() {
        GatedResidual block = new GatedResidual(6, DataType.DOUBLE);
        block.initialize(3);
        assertEquals(List.of("norm.weight", "norm.bias", "gate.weight", "gate.bias", "value.weight"), List.copyOf(block.namedParameters().keySet()));

        Tensor x = GradCheck.leaf(4, 2, 3, 6);
        List<Tensor> inputs = new ArrayList<>(block.parameters());
        inputs.add(x);
        GradCheck.check("gated residual", () -> block.forward(x), inputs);

        block.zeroGrad();
        block.children().get("gate").setTrainable(false);
        try (Tape tape = Tape.record()) {
            tape.backward(F.sum(block.forward(x)));
        }
        Parameter gateWeight = block.namedParameters().get("gate.weight");
        assertNull(gateWeight.grad(), "frozen");
        assertNotNull(block.namedParameters().get("value.weight").grad());
        assertNotNull(block.namedParameters().get("norm.weight").grad(), "still reached through the frozen gate");
    }

    @Test
    void detachAndNoGrad() {
        Tensor w = GradCheck.leaf(5, 4);
        try (Tape tape = Tape.record()) {
            Tensor y = F.mul(w, F.detach(w));                       // d/dw = detach(w), not 2w
            tape.backward(F.sum(y));
        }
        assertEquals(0.0, w.grad().sub(w.value()).amaxNumber().doubleValue(), 0.0);
        try (Tape tape = Tape.record()) {
            Tensor y = Tape.noGrad(() -> F.scale(w, 2.0));
            assertFalse(y.requiresGrad());
            assertEquals(0, tape.size());
        }
    }
}
