package io.github.vdep.core.ops;

import io.github.vdep.core.autograd.Buffers;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Softmax cross-entropy of logits [..., V] against integer targets, ignoring targets equal to
 * the ignore index. The loss is summed over the supervised rows and divided by a normaliser
 * (by default their count, i.e. the mean PyTorch's {@code cross_entropy} gives).
 */
final class CrossEntropyOp {
    private CrossEntropyOp() {
    }

    static Tensor apply(Tensor logits, int[] targets, int ignoreIndex, double normalizer) {
        INDArray l2 = Shapes.rows(logits.value());
        long n = l2.size(0);
        long vocab = l2.size(1);
        Shapes.require(targets.length == n, () -> "crossEntropy: " + targets.length + " targets for " + n + " rows of logits " + Shapes.str(logits.shape()));
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (targets[i] == ignoreIndex) {
                continue;
            }
            if (targets[i] < 0 || targets[i] >= vocab) {
                throw new IllegalArgumentException("crossEntropy: target " + targets[i] + " at row " + i + " is outside [0, " + vocab + ")");
            }
            count++;
        }
        double norm = normalizer > 0 ? normalizer : count;
        if (NativeKernels.usable(l2)) {
            return applyNative(logits, l2, targets, ignoreIndex, norm, count);
        }
        INDArray max = l2.max(true, 1);
        INDArray e = Buffers.allocate(l2.dataType(), n, vocab).assign(l2).subiColumnVector(max);
        Transforms.exp(e, false);
        INDArray sum = e.sum(true, 1);
        INDArray lseArray = Transforms.log(sum, true).addi(max);
        double[] lse = lseArray.toDoubleVector();
        Buffers.release(lseArray, max);
        INDArray y = loss(logits, l2, lse, targets, ignoreIndex, norm, count);
        final int supervised = count;
        if (!Tape.needsGrad(logits)) {
            Buffers.release(e, sum);
            return Tape.constantOwned(y);
        }
        return Tape.opOwned(y, g -> {
            if (supervised == 0) {
                Buffers.release(e, sum);
                return;
            }
            // softmax - onehot on supervised rows, zero elsewhere
            INDArray p = e.diviColumnVector(sum);
            double[] scales = rowScales(targets, ignoreIndex, g.getDouble(0) / norm);
            subtractOneAtTargets(p, targets, ignoreIndex);
            INDArray rowScale = Nd4j.createFromArray(scales).reshape(n, 1).castTo(logits.dataType());
            logits.accumulateGradOwned(p.muliColumnVector(rowScale).reshape('c', logits.shape()));
            Buffers.release(rowScale, sum);
        }, logits);
    }

    /** Log-sum-exp in one native pass; the backward recomputes the softmax from it instead of keeping it. */
    private static Tensor applyNative(Tensor logits, INDArray l2, int[] targets, int ignoreIndex, double norm, int count) {
        double[] lse = NativeKernels.logSumExpRows(l2);
        INDArray y = loss(logits, l2, lse, targets, ignoreIndex, norm, count);
        if (!Tape.needsGrad(logits)) {
            return Tape.constantOwned(y);
        }
        return Tape.opOwned(y, g -> {
            if (count == 0) {
                return;
            }
            double[] scales = rowScales(targets, ignoreIndex, g.getDouble(0) / norm);
            INDArray grad = Buffers.allocate(l2.dataType(), l2.shape());
            NativeKernels.crossEntropyGradRows(l2, lse, scales, targets, grad);
            logits.accumulateGradOwned(grad.reshape('c', logits.shape()));
        }, logits);
    }

    /** The loss [1]: sum over supervised rows of lse - logit at the target, over norm (0 without any). */
    private static INDArray loss(Tensor logits, INDArray l2, double[] lse, int[] targets, int ignoreIndex, double norm, int count) {
        double total = 0;
        double[] picked = picked(l2, targets, ignoreIndex);
        for (int i = 0; i < targets.length; i++) {
            if (targets[i] != ignoreIndex) {
                total += lse[i] - picked[i];
            }
        }
        return Nd4j.scalar(logits.dataType(), count == 0 ? 0.0 : total / norm).reshape(1);
    }

    /** {@code scale} at supervised rows, 0 at ignored ones. */
    private static double[] rowScales(int[] targets, int ignoreIndex, double scale) {
        double[] scales = new double[targets.length];
        for (int i = 0; i < targets.length; i++) {
            if (targets[i] != ignoreIndex) {
                scales[i] = scale;
            }
        }
        return scales;
    }

    /** logits[i, targets[i]] for supervised rows (0 elsewhere), read in one pass. */
    private static double[] picked(INDArray l2, int[] targets, int ignoreIndex) {
        int n = targets.length;
        long vocab = l2.size(1);
        double[] out = new double[n];
        if (Shapes.isWhole(l2) && l2.dataType() == DataType.FLOAT) {
            java.nio.FloatBuffer b = l2.data().asNioFloat();
            for (int i = 0; i < n; i++) {
                if (targets[i] != ignoreIndex) {
                    out[i] = b.get((int) (i * vocab + targets[i]));
                }
            }
        } else if (Shapes.isWhole(l2) && l2.dataType() == DataType.DOUBLE) {
            java.nio.DoubleBuffer b = l2.data().asNioDouble();
            for (int i = 0; i < n; i++) {
                if (targets[i] != ignoreIndex) {
                    out[i] = b.get((int) (i * vocab + targets[i]));
                }
            }
        } else {
            for (int i = 0; i < n; i++) {
                if (targets[i] != ignoreIndex) {
                    out[i] = l2.getDouble(i, targets[i]);
                }
            }
        }
        return out;
    }

    /** p[i, targets[i]] -= 1 on supervised rows. */
    private static void subtractOneAtTargets(INDArray p, int[] targets, int ignoreIndex) {
        long vocab = p.size(1);
        if (Shapes.isWhole(p) && p.dataType() == DataType.FLOAT && p.length() <= Integer.MAX_VALUE) {
            java.nio.FloatBuffer b = p.data().asNioFloat();
            for (int i = 0; i < targets.length; i++) {
                if (targets[i] != ignoreIndex) {
                    int k = (int) (i * vocab + targets[i]);
                    b.put(k, b.get(k) - 1f);
                }
            }
        } else if (Shapes.isWhole(p) && p.dataType() == DataType.DOUBLE && p.length() <= Integer.MAX_VALUE) {
            java.nio.DoubleBuffer b = p.data().asNioDouble();
            for (int i = 0; i < targets.length; i++) {
                if (targets[i] != ignoreIndex) {
                    int k = (int) (i * vocab + targets[i]);
                    b.put(k, b.get(k) - 1.0);
                }
            }
        } else {
            for (int i = 0; i < targets.length; i++) {
                if (targets[i] != ignoreIndex) {
                    p.putScalar(i, targets[i], p.getDouble(i, targets[i]) - 1.0);
                }
            }
        }
    }
}
