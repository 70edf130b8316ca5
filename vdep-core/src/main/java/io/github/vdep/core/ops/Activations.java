package io.github.vdep.core.ops;

import io.github.vdep.core.autograd.Buffers;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Elementwise activations with exact derivatives. Saved intermediates are freed at the end of
 * the backward pass (or at once when no gradient is needed).
 */
final class Activations {
    private static final double INV_SQRT2 = 1.0 / Math.sqrt(2.0);
    private static final double INV_SQRT_2PI = 1.0 / Math.sqrt(2.0 * Math.PI);
    private static final double QUICK_GELU_K = 1.702;

    private Activations() {
    }

    /** Exact GELU: 0.5 x (1 + erf(x / sqrt 2)) (PyTorch's default, LLaVA's projector). */
    static Tensor gelu(Tensor x) {
        INDArray v = x.value();
        INDArray cdf = Nd4j.exec(new Erf(v.mul(INV_SQRT2))).addi(1.0).muli(0.5);
        INDArray y = v.mul(cdf);
        if (!Tape.needsGrad(x)) {
            Buffers.release(cdf);
            return Tape.constantOwned(y);
        }
        return Tape.opOwned(y, g -> {
            // d/dx = Phi(x) + x phi(x)
            INDArray pdf = Transforms.exp(v.mul(v).muli(-0.5), false).muli(INV_SQRT_2PI);
            x.accumulateGradOwned(pdf.muli(v).addi(cdf).muli(g));
            Buffers.release(cdf);
        }, x);
    }

    /** CLIP's quick_gelu: x * sigmoid(1.702 x). */
    static Tensor quickGelu(Tensor x) {
        INDArray v = x.value();
        if (NativeKernels.usable(v)) {
            INDArray y = Buffers.allocate(v.dataType(), v.shape());
            NativeKernels.quickGeluForward(v, y);
            if (!Tape.needsGrad(x)) {
                return Tape.constantOwned(y);
            }
            return Tape.opOwned(y, g -> {
                INDArray dx = Buffers.allocate(v.dataType(), v.shape());
                Shapes.withWhole(g, gg -> NativeKernels.quickGeluBackward(v, gg, dx));
                x.accumulateGradOwned(dx);
            }, x);
        }
        INDArray s = Transforms.sigmoid(v.mul(QUICK_GELU_K), false);
        INDArray y = v.mul(s);
        if (!Tape.needsGrad(x)) {
            Buffers.release(s);
            return Tape.constantOwned(y);
        }
        return Tape.opOwned(y, g -> {
            // s + 1.702 x s (1 - s)
            INDArray d = s.rsub(1.0).muli(s).muli(v).muli(QUICK_GELU_K).addi(s);
            x.accumulateGradOwned(d.muli(g));
            Buffers.release(s);
        }, x);
    }

    /** SiLU: x * sigmoid(x). */
    static Tensor silu(Tensor x) {
        INDArray v = x.value();
        INDArray s = Transforms.sigmoid(v, true);
        INDArray y = v.mul(s);
        if (!Tape.needsGrad(x)) {
            Buffers.release(s);
            return Tape.constantOwned(y);
        }
        return Tape.opOwned(y, g -> {
            x.accumulateGradOwned(siluGrad(v, s).muli(g));
            Buffers.release(s);
        }, x);
    }

    /**
     * SwiGLU gate of LLaMA's MLP: silu(gate) * up, fused so the intermediate is not recorded.
     * Only sigmoid(gate) is kept for the backward pass (silu(gate) is recomputed from it).
     */
    static Tensor swiglu(Tensor gate, Tensor up) {
        Shapes.require(java.util.Arrays.equals(gate.shape(), up.shape()), () -> "swiglu: gate " + Shapes.str(gate.shape()) + " and up " + Shapes.str(up.shape()) + " differ");
        INDArray gv = gate.value();
        if (NativeKernels.usable(gv, up.value())) {
            return swigluNative(gate, up);
        }
        INDArray s = Transforms.sigmoid(gv, true);
        INDArray y = gv.mul(s).muli(up.value());
        if (!Tape.needsGrad(gate, up)) {
            Buffers.release(s);
            return Tape.constantOwned(y);
        }
        return Tape.opOwned(y, g -> {
            if (up.requiresGrad()) {
                up.accumulateGradOwned(gv.mul(s).muli(g));
            }
            if (gate.requiresGrad()) {
                gate.accumulateGradOwned(siluGrad(gv, s).muli(up.value()).muli(g));
            }
            Buffers.release(s);
        }, gate, up);
    }

    /** SwiGLU in one native pass each way; sigmoid(gate) is recomputed in the backward, not kept. */
    private static Tensor swigluNative(Tensor gate, Tensor up) {
        INDArray gv = gate.value();
        INDArray uv = up.value();
        INDArray y = Buffers.allocate(gv.dataType(), gv.shape());
        NativeKernels.swigluForward(gv, uv, y);
        if (!Tape.needsGrad(gate, up)) {
            return Tape.constantOwned(y);
        }
        return Tape.opOwned(y, g -> {
            INDArray dg = gate.requiresGrad() ? Buffers.allocate(gv.dataType(), gv.shape()) : null;
            INDArray du = up.requiresGrad() ? Buffers.allocate(gv.dataType(), gv.shape()) : null;
            Shapes.withWhole(g, gg -> NativeKernels.swigluBackward(gv, uv, gg, dg, du));
            if (du != null) {
                up.accumulateGradOwned(du);
            }
            if (dg != null) {
                gate.accumulateGradOwned(dg);
            }
        }, gate, up);
    }

    /** d silu / dx = s (1 + x (1 - s)), as a fresh array. */
    private static INDArray siluGrad(INDArray x, INDArray s) {
        return s.rsub(1.0).muli(x).addi(1.0).muli(s);
    }
}
