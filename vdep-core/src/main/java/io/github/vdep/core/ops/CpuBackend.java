package io.github.vdep.core.ops;

import io.github.vdep.core.autograd.Buffers;
import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.backend.Backend;
import io.github.vdep.core.backend.MemoryUse;
import io.github.vdep.core.backend.ProcessMemory;
import io.github.vdep.core.device.Device;
import java.util.function.Consumer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.floating.Sqrt;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The primitives on the CPU, over ND4J arrays. Each op class makes the one choice between vdep's
 * native kernels ({@link NativeKernels}, where they loaded and take the arrays) and its ND4J
 * implementation.
 */
public final class CpuBackend implements Backend {
    /** The only instance. */
    public static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public String description() {
        return "cpu (ND4J " + Nd4j.getBackend().getClass().getSimpleName() + "; native kernels " + NativeKernels.status() + ")";
    }

    /** The process's resident set size ({@link MemoryUse#PROCESS_RSS}): on the CPU, tensors are ordinary process memory. */
    @Override
    public MemoryUse memoryUse() {
        return ProcessMemory.use();
    }

    @Override
    public void resetPeakMemory() {
        ProcessMemory.resetPeak();
    }

    @Override
    public Tensor linear(Tensor x, Tensor w, Tensor b) {
        return LinearOp.apply(x, w, b);
    }

    @Override
    public Tensor embedding(Tensor table, INDArray ids) {
        return EmbeddingOp.apply(table, ids);
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor weight, double eps) {
        return NormOps.rmsNorm(x, weight, eps);
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        return NormOps.layerNorm(x, weight, bias, eps);
    }

    @Override
    public Tensor rope(Tensor x, RopeTables tables) {
        return RotaryOp.apply(x, tables.cos(), tables.sin());
    }

    @Override
    public Tensor ropeTokenMajor(Tensor x, RopeTables tables) {
        return RotaryOp.applyTokenMajor(x, tables.cos(), tables.sin());
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, boolean causal, INDArray keyMask, double scale, Consumer<INDArray> probs) {
        return AttentionOp.apply(q, k, v, causal, keyMask, scale, probs);
    }

    @Override
    public Tensor attentionTokenMajor(Tensor q, Tensor k, Tensor v, boolean causal, INDArray keyMask, double scale, Consumer<INDArray> probs) {
        return AttentionOp.applyTokenMajor(q, k, v, causal, keyMask, scale, probs);
    }

    @Override
    public Tensor gelu(Tensor x) {
        return Activations.gelu(x);
    }

    @Override
    public Tensor quickGelu(Tensor x) {
        return Activations.quickGelu(x);
    }

    @Override
    public Tensor silu(Tensor x) {
        return Activations.silu(x);
    }

    @Override
    public Tensor swiglu(Tensor gate, Tensor up) {
        return Activations.swiglu(gate, up);
    }

    @Override
    public Tensor add(Tensor a, Tensor b) {
        return Arithmetic.add(a, b);
    }

    @Override
    public Tensor mul(Tensor a, Tensor b) {
        return Arithmetic.mul(a, b);
    }

    @Override
    public Tensor scale(Tensor x, double s) {
        return Arithmetic.scale(x, s);
    }

    @Override
    public Tensor sum(Tensor x) {
        return Arithmetic.sum(x);
    }

    @Override
    public Tensor reshape(Tensor x, long... shape) {
        return ShapeOps.reshape(x, shape);
    }

    @Override
    public Tensor permute(Tensor x, int... dims) {
        return ShapeOps.permute(x, dims);
    }

    @Override
    public Tensor slice(Tensor x, int axis, long from, long to) {
        return ShapeOps.slice(x, axis, from, to);
    }

    @Override
    public Tensor concat(int axis, Tensor... xs) {
        return ShapeOps.concat(axis, xs);
    }

    @Override
    public Tensor gatherRows(Tensor x, int[] rows) {
        return RowOps.gather(x, rows);
    }

    @Override
    public Tensor replaceRows(Tensor base, int[] rows, Tensor src) {
        return RowOps.replace(base, rows, src);
    }

    @Override
    public Tensor detach(Tensor x) {
        return Detach.apply(x);
    }

    @Override
    public Tensor crossEntropy(Tensor logits, int[] targets, int ignoreIndex, double normalizer) {
        return CrossEntropyOp.apply(logits, targets, ignoreIndex, normalizer);
    }

    @Override
    public Tensor regressionLoss(RegressionLoss kind, Tensor pred, Tensor target) {
        return kind.compute(pred, target);
    }

    @Override
    public Tensor zerosLike(Tensor like) {
        return Tensor.constant(like.value().ulike().assign(0));
    }

    @Override
    public void adamW(Parameter p, Tensor m, Tensor v, double beta1, double beta2, double eps, double lr, double weightDecay, long step) {
        INDArray w = p.value();
        INDArray g = p.grad();
        INDArray mt = m.value();
        INDArray vt = v.value();
        if (weightDecay != 0) {
            w.muli(1.0 - lr * weightDecay);
        }
        double bc1 = 1.0 - Math.pow(beta1, step);
        double bc2 = 1.0 - Math.pow(beta2, step);
        if (NativeKernels.adamWUpdate(w, g, mt, vt, beta1, beta2, eps, lr / bc1, Math.sqrt(bc2))) {
            return; // one vectorised native pass
        }
        if (FusedAdamW.applies(w, g, mt, vt)) {
            // one pass over w, g, m, v instead of ten array operations
            FusedAdamW.update(w, g, mt, vt, beta1, beta2, eps, lr / bc1, Math.sqrt(bc2));
            return;
        }
        // other layouts or types: in place, through one scratch array
        INDArray s = w.ulike();
        mt.muli(beta1).addi(g.mul(1.0 - beta1, s));
        vt.muli(beta2).addi(g.mul(g, s).muli(1.0 - beta2));
        // denom = sqrt(v) / sqrt(bc2) + eps; p -= (lr / bc1) * m / denom
        Nd4j.exec(new Sqrt(vt, s));
        s.divi(Math.sqrt(bc2)).addi(eps);
        w.subi(s.rdivi(mt).muli(lr / bc1));
        Buffers.release(s);
    }

    @Override
    public void sgd(Parameter p, double lr, double weightDecay) {
        if (weightDecay != 0) {
            p.value().muli(1.0 - lr * weightDecay);
        }
        INDArray step = p.grad().mul(lr);
        p.value().subi(step);
        Buffers.release(step);
    }

    @Override
    public double gradSquaredSum(Parameter p) {
        double n = p.grad().norm2Number().doubleValue();
        return n * n;
    }

    @Override
    public void scaleGrad(Parameter p, double factor) {
        p.grad().muli(factor);
    }
}
