package io.github.vdep.core.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static io.github.vdep.core.testing.GradCheck.check;
import static io.github.vdep.core.testing.GradCheck.leaf;

import io.github.vdep.core.autograd.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Finite-difference checks (double precision) of every primitive's backward pass. */
class PrimitiveGradientTest {

    @Test
    void linearWithAndWithoutBias() {
        Tensor x = leaf(1, 2, 3, 4), w = leaf(2, 5, 4), b = leaf(3, 5);
        check("linear", () -> F.linear(x, w, b), List.of(x, w, b));
        check("linear no bias", () -> F.linear(x, w, null), List.of(x, w));
    }

    @Test
    void linearAccumulatesIntoExistingWeightGradient() {
        Tensor x = leaf(1, 3, 4), w = leaf(2, 5, 4);
        // w used twice: the second use accumulates with gemm beta = 1
        check("linear twice", () -> F.add(F.linear(x, w, null), F.linear(F.scale(x, 0.5), w, null)), List.of(x, w));
    }

    @Test
    void embedding() {
        Tensor table = leaf(4, 7, 3);
        INDArray ids = Nd4j.createFromArray(new long[][] {{1, 3, 1}, {6, 0, 3}});
        check("embedding", () -> F.embedding(table, ids), List.of(table));
    }

    @Test
    void norms() {
        Tensor x = leaf(5, 2, 3, 6), w = leaf(6, 6), b = leaf(7, 6);
        check("rmsNorm", () -> F.rmsNorm(x, w, 1e-5), List.of(x, w));
        check("layerNorm", () -> F.layerNorm(x, w, b, 1e-5), List.of(x, w, b));
    }

    @Test
    void rope() {
        Tensor x = leaf(8, 2, 3, 5, 4);
        RopeTables tables = RopeTables.compute(4, 10000.0, 2, 5, DataType.DOUBLE);
        check("rope", () -> F.rope(x, tables), List.of(x));
    }

    @Test
    void attentionVariants() {
        Tensor q = leaf(9, 2, 4, 3, 4), k = leaf(10, 2, 2, 3, 4), v = leaf(11, 2, 2, 3, 4);
        INDArray keyMask = Nd4j.createFromArray(new double[][] {{1, 1, 1}, {1, 1, 0}});
        check("attention causal gqa", () -> F.attention(q, k, v, true, null, 0.5), List.of(q, k, v));
        check("attention full", () -> F.attention(q, k, v, false, null, 0.5), List.of(q, k, v));
        check("attention causal + key mask", () -> F.attention(q, k, v, true, keyMask, 0.5), List.of(q, k, v));
        Tensor kLong = leaf(12, 2, 2, 5, 4), vLong = leaf(13, 2, 2, 5, 4);
        check("attention with cached keys", () -> F.attention(q, kLong, vLong, true, null, 0.5), List.of(q, kLong, vLong));
    }

    @Test
    void activations() {
        Tensor x = leaf(14, 3, 5);
        Tensor y = leaf(15, 3, 5);
        check("gelu", () -> F.gelu(F.scale(x, 3)), List.of(x));
        check("quickGelu", () -> F.quickGelu(F.scale(x, 3)), List.of(x));
        check("silu", () -> F.silu(F.scale(x, 3)), List.of(x));
        check("swiglu", () -> F.swiglu(F.scale(x, 3), y), List.of(x, y));
    }

    @Test
    void arithmetic() {
        Tensor a = leaf(16, 2, 3, 4), b = leaf(17, 2, 3, 4), pos = leaf(18, 3, 4), col = leaf(19, 2, 1, 4);
        check("add", () -> F.add(a, b), List.of(a, b));
        check("add broadcast", () -> F.add(a, pos), List.of(a, pos));
        check("add broadcast size-1", () -> F.add(a, col), List.of(a, col));
        check("mul", () -> F.mul(a, b), List.of(a, b));
        check("scale", () -> F.scale(a, -1.7), List.of(a));
        check("sum", () -> F.sum(a), List.of(a));
    }

    @Test
    void shapes() {
        Tensor a = leaf(20, 2, 3, 4), b = leaf(21, 2, 2, 4);
        check("reshape", () -> F.reshape(a, 6, -1), List.of(a));
        check("permute", () -> F.permute(a, 2, 0, 1), List.of(a));
        check("slice", () -> F.slice(a, 1, 1, 3), List.of(a));
        check("slice last axis", () -> F.slice(a, -1, 0, 2), List.of(a));
        check("concat", () -> F.concat(1, a, b), List.of(a, b));
    }

    @Test
    void rows() {
        Tensor x = leaf(22, 6, 3), src = leaf(23, 2, 3);
        check("gatherRows", () -> F.gatherRows(x, new int[] {4, 0, 4}), List.of(x));
        check("replaceRows", () -> F.replaceRows(x, new int[] {5, 1}, src), List.of(x, src));
    }

    @Test
    void crossEntropyIgnoresMaskedRows() {
        Tensor logits = leaf(24, 2, 3, 5);
        int[] targets = {1, F.IGNORE_INDEX, 4, 0, F.IGNORE_INDEX, 2};
        check("crossEntropy", () -> F.crossEntropy(logits, targets), List.of(logits));
        check("crossEntropy normaliser", () -> F.crossEntropy(logits, targets, F.IGNORE_INDEX, 10), List.of(logits));
    }

    @ParameterizedTest
    @EnumSource(RegressionLoss.class)
    void regressionLosses(RegressionLoss loss) {
        Tensor p = leaf(25, 4, 3), t = leaf(26, 4, 3);
        Tensor pBig = Tensor.leaf(p.value().mul(3));
        if (loss != RegressionLoss.MSE_RELATIVE) {
            check(loss.optionName(), () -> loss.apply(pBig, t), List.of(pBig, t));
        } else {
            // its divisor is detached by definition: the target's gradient is checked below
            check(loss.optionName(), () -> loss.apply(pBig, t), List.of(pBig));
        }
        check(loss.optionName() + " detached target", () -> loss.apply(pBig, F.detach(t)), List.of(pBig));
    }

    @Test
    void relativeMseTreatsItsDivisorAsAConstant() {
        Tensor p = leaf(27, 4, 3), t = leaf(28, 4, 3);
        double meanSquare = t.value().mul(t.value()).meanNumber().doubleValue();
        // the reference, MSE / c for the fixed number c, is itself finite-difference checked
        check("mse / c", () -> F.scale(RegressionLoss.MSE.apply(p, t), 1 / meanSquare), List.of(p, t));
        INDArray[] reference = gradients(() -> F.scale(RegressionLoss.MSE.apply(p, t), 1 / meanSquare), p, t);
        INDArray[] relative = gradients(() -> RegressionLoss.MSE_RELATIVE.apply(p, t), p, t);
        for (int i = 0; i < 2; i++) {
            assertEquals(0.0, reference[i].sub(relative[i]).amaxNumber().doubleValue(), 1e-12);
        }
    }

    private static INDArray[] gradients(java.util.function.Supplier<Tensor> f, Tensor... inputs) {
        for (Tensor x : inputs) {
            x.zeroGrad();
        }
        try (io.github.vdep.core.autograd.Tape tape = io.github.vdep.core.autograd.Tape.record()) {
            tape.backward(f.get());
        }
        INDArray[] g = new INDArray[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            g[i] = inputs[i].grad().dup();
            inputs[i].zeroGrad();
        }
        return g;
    }
}
