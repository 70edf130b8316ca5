package io.github.vdep.core.ops;

import io.github.vdep.core.autograd.Buffers;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.AddOp;
import org.nd4j.linalg.factory.Nd4j;

/** Addition (with broadcasting of the second operand), products and scaling. */
final class Arithmetic {
    private Arithmetic() {
    }

    /** a + b, where b may broadcast to a's shape (numpy rules: trailing dims, or size 1). */
    static Tensor add(Tensor a, Tensor b) {
        INDArray y;
        if (Arrays.equals(a.shape(), b.shape())) {
            INDArray av = a.value(), bv = b.value();
            if (av.dataType() == bv.dataType() && Shapes.isWhole(av) && Shapes.isWhole(bv)) {
                // into an uninitialised buffer: ND4J would zero-fill the new array first
                y = Buffers.allocate(av.dataType(), av.shape());
                Nd4j.exec(new AddOp(av, bv, y));
            } else {
                y = av.add(bv);
            }
        } else {
            checkBroadcast(a.shape(), b.shape());
            y = a.value().add(b.value());
            Shapes.require(Arrays.equals(y.shape(), a.shape()), () -> "add: " + Shapes.str(b.shape()) + " does not broadcast to " + Shapes.str(a.shape()));
        }
        return Tape.opOwned(y, g -> {
            a.accumulateGrad(g);
            if (b.requiresGrad()) {
                if (Arrays.equals(g.shape(), b.shape())) {
                    b.accumulateGrad(g);
                } else {
                    b.accumulateGradOwned(Shapes.reduceTo(g, b.shape()));
                }
            }
        }, a, b);
    }

    /** Elementwise a * b (same shape). */
    static Tensor mul(Tensor a, Tensor b) {
        Shapes.require(Arrays.equals(a.shape(), b.shape()), () -> "mul: shapes " + Shapes.str(a.shape()) + " and " + Shapes.str(b.shape()) + " differ");
        INDArray y = a.value().mul(b.value());
        return Tape.opOwned(y, g -> {
            if (a.requiresGrad()) {
                a.accumulateGradOwned(g.mul(b.value()));
            }
            if (b.requiresGrad()) {
                b.accumulateGradOwned(g.mul(a.value()));
            }
        }, a, b);
    }

    /** s * x for a constant s. */
    static Tensor scale(Tensor x, double s) {
        INDArray y = x.value().mul(s);
        return Tape.opOwned(y, g -> x.accumulateGradOwned(g.mul(s)), x);
    }

    /** Sum of all elements, as a scalar of shape [1]. */
    static Tensor sum(Tensor x) {
        INDArray y = x.value().sum().reshape(1);
        return Tape.opOwned(y, g -> x.accumulateGradOwned(x.value().ulike().assign(g.getDouble(0))), x);
    }

    private static void checkBroadcast(long[] a, long[] b) {
        Shapes.require(b.length <= a.length, () -> "add: " + Shapes.str(b) + " does not broadcast to " + Shapes.str(a));
        int off = a.length - b.length;
        for (int i = 0; i < b.length; i++) {
            Shapes.require(b[i] == a[off + i] || b[i] == 1, () -> "add: " + Shapes.str(b) + " does not broadcast to " + Shapes.str(a));
        }
    }
}
