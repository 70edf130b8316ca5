package io.github.vdep.core.ops;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
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
        Shapes.require(targets.length == n, "crossEntropy: " + targets.length + " targets for " + n + " rows of logits " + Shapes.str(logits.shape()));
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (targets[i] == ignoreIndex) {
                continue;
            }
            Shapes.require(targets[i] >= 0 && targets[i] < vocab, "crossEntropy: target " + targets[i] + " at row " + i + " is outside [0, " + vocab + ")");
            count++;
        }
        double norm = normalizer > 0 ? normalizer : count;
        INDArray max = l2.max(true, 1);
        INDArray e = Transforms.exp(l2.subColumnVector(max), false);
        INDArray sum = e.sum(true, 1);
        double[] lse = Transforms.log(sum, true).addi(max).toDoubleVector();
        double total = 0;
        for (int i = 0; i < n; i++) {
            if (targets[i] != ignoreIndex) {
                total += lse[i] - l2.getDouble(i, targets[i]);
            }
        }
        double loss = count == 0 ? 0.0 : total / norm;
        INDArray y = Nd4j.scalar(logits.dataType(), loss).reshape(1);
        final int supervised = count;
        return Tape.op(y, g -> {
            if (supervised == 0) {
                return;
            }
            double scale = g.getDouble(0) / norm;
            // softmax - onehot on supervised rows, zero elsewhere
            INDArray p = e.diviColumnVector(sum);
            INDArray rowScale = Nd4j.create(logits.dataType(), n, 1);
            for (int i = 0; i < n; i++) {
                if (targets[i] != ignoreIndex) {
                    p.putScalar(i, targets[i], p.getDouble(i, targets[i]) - 1.0);
                    rowScale.putScalar(i, 0, scale);
                }
            }
            logits.accumulateGradOwned(p.muliColumnVector(rowScale).reshape('c', logits.shape()));
        }, logits);
    }
}
