package io.github.vdep.core.ops;

import io.github.vdep.core.autograd.Buffers;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * y = x W^T + b over the last dimension, with W in PyTorch layout [out, in]. Uses gemm with
 * transpose flags (no transposed copies); input, weight and bias gradients are accumulated in
 * place where a buffer exists (gemm with beta = 1), and skipped entirely for frozen parameters.
 */
final class LinearOp {
    private LinearOp() {
    }

    static Tensor apply(Tensor x, Tensor w, Tensor b) {
        long in = x.size(x.rank() - 1);
        Shapes.require(w.rank() == 2 && w.size(1) == in, () -> "linear: input " + Shapes.str(x.shape())
                + " does not match weight " + Shapes.str(w.shape()) + " ([out, in])");
        long out = w.size(0);
        Shapes.require(b == null || (b.rank() == 1 && b.size(0) == out), () -> "linear: bias " + (b == null ? "" : Shapes.str(b.shape()))
                + " does not match weight " + Shapes.str(w.shape()));
        INDArray x2 = Shapes.rows(x.value());
        INDArray y2 = Buffers.allocate(x2.dataType(), x2.size(0), out);
        if (b != null && NativeKernels.usable(y2, b.value())) {
            // as PyTorch's addmm: the bias in every row, and the product added onto it (no separate pass over y)
            NativeKernels.fillRows(b.value(), y2);
            Gemm.gemm(x2, w.value(), y2, false, true, 1.0, 1.0);
        } else {
            Gemm.gemm(x2, w.value(), y2, false, true, 1.0, 0.0);
            if (b != null) {
                y2.addiRowVector(b.value());
            }
        }
        long[] outShape = Shapes.withLast(x.shape(), out);
        INDArray y = y2.reshape('c', outShape);
        return Tape.opOwned(y, g -> {
            INDArray g2 = Shapes.rows(g);
            if (x.requiresGrad()) {
                INDArray xg = x.grad();
                if (xg != null && Shapes.isWhole(xg)) {
                    // e.g. a residual stream that already holds the other branch's gradient
                    Gemm.gemm(g2, w.value(), Shapes.rows(xg), false, false, 1.0, 1.0);
                } else {
                    INDArray dx = Buffers.allocate(g2.dataType(), g2.size(0), in);
                    Gemm.gemm(g2, w.value(), dx, false, false, 1.0, 0.0);
                    x.accumulateGradOwned(dx.reshape('c', x.shape()));
                }
            }
            if (w.requiresGrad()) {
                // straight into the (reused) gradient buffer: overwrite if it is new, else accumulate
                boolean accumulate = w.grad() != null;
                Gemm.gemm(g2, x2, w.gradBufferForOverwrite(), true, false, 1.0, accumulate ? 1.0 : 0.0);
            }
            if (b != null && b.requiresGrad()) {
                b.accumulateGradOwned(g2.sum(0));
            }
        }, x, w, b);
    }
}
