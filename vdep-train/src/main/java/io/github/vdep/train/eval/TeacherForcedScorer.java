package io.github.vdep.train.eval;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.llava.LlavaInputs;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.ops.F;
import java.util.Arrays;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Teacher-forced scoring: one forward pass over the reference sequence; the logits at position t
 * are scored against the label at t + 1 wherever it is not {@code -100}, as the training text
 * loss does. {@code exp(}{@link TokenStats#meanNll()}{@code )} over a batch is therefore
 * {@code exp} of the model's own text loss.
 */
public final class TeacherForcedScorer {

    private final LlavaModel model;

    /**
     * @param model the model
     */
    public TeacherForcedScorer(LlavaModel model) {
        this.model = Objects.requireNonNull(model, "model");
    }

    /**
     * @param inputs a batch
     * @param labels [B, T] label ids, -100 where not supervised
     * @return the statistics over the supervised tokens
     */
    public TokenStats score(LlavaInputs inputs, INDArray labels) {
        INDArray logits = Tape.noGrad(() -> model.forward(inputs).logits().to(io.github.vdep.core.device.Device.CPU).value());
        return score(logits, labels);
    }

    /**
     * @param logits [B, T, vocab]
     * @param labels [B, T], -100 where not supervised
     * @return the statistics of the shifted predictions (logits at t against the label at t + 1)
     */
    public static TokenStats score(INDArray logits, INDArray labels) {
        if (logits.rank() != 3 || labels.rank() != 2 || logits.size(0) != labels.size(0) || logits.size(1) != labels.size(1)) {
            throw new IllegalArgumentException("logits " + Arrays.toString(logits.shape()) + " do not match labels "
                    + Arrays.toString(labels.shape()));
        }
        int b = (int) labels.size(0);
        int t = (int) labels.size(1);
        long vocab = logits.size(2);
        long[] flat = labels.dup('c').reshape(labels.length()).toLongVector();
        int[] rows = new int[flat.length];
        int[] targets = new int[flat.length];
        int n = 0;
        for (int i = 0; i < b; i++) {
            for (int j = 0; j + 1 < t; j++) {
                long label = flat[i * t + j + 1];
                if (label == F.IGNORE_INDEX) {
                    continue;
                }
                if (label < 0 || label >= vocab) {
                    throw new IllegalArgumentException("label " + label + " at [" + i + ", " + (j + 1) + "] is outside the vocabulary [0, " + vocab + ")");
                }
                rows[n] = i * t + j;
                targets[n] = (int) label;
                n++;
            }
        }
        if (n == 0) {
            return TokenStats.EMPTY;
        }
        INDArray picked = Nd4j.pullRows(logits.reshape('c', (long) b * t, vocab), 1, Arrays.copyOf(rows, n)).castTo(DataType.DOUBLE);
        long correct = 0;
        double nll = 0;
        for (int k = 0; k < n; k++) {
            double[] row = picked.getRow(k).toDoubleVector();
            int best = 0;
            double max = row[0];
            for (int v = 1; v < row.length; v++) {
                if (row[v] > max) {
                    max = row[v];
                    best = v;
                }
            }
            double z = 0;
            for (double v : row) {
                z += Math.exp(v - max);
            }
            nll += max + Math.log(z) - row[targets[k]];
            if (best == targets[k]) {
                correct++;
            }
        }
        return new TokenStats(n, correct, nll);
    }
}
