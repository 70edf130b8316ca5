package io.github.vdep.core.ops;

import io.github.vdep.core.autograd.Checkpoint;
import io.github.vdep.core.autograd.Tensor;
import java.util.Arrays;
import java.util.function.UnaryOperator;

/**
 * An LM head followed by the cross-entropy, over chunks of rows, so that the [rows, vocab] logits
 * never exist in full: each chunk's logits are computed, reduced to the chunk's loss and freed;
 * the backward pass computes them again chunk by chunk ({@link Checkpoint}) and frees each
 * chunk's logits and their gradient before the next. The cost is one more LM-head product in the
 * forward direction.
 *
 * <p>Equality with the unchunked {@code F.crossEntropy(head(states), targets)}: each row's logits,
 * softmax, logit gradient and input-row gradient are computed by the same primitives with the
 * same normaliser; they would be equal if the matrix product gave a row the same value in any
 * block of rows, which OpenBLAS does not, so they agree to float32 rounding. Two sums are also
 * split by chunk: the loss (a float32 partial loss per chunk, added up) and the head weight's
 * gradient (a sum over rows, accumulated chunk by chunk). With one chunk it is the unchunked
 * computation.
 */
public final class ChunkedCrossEntropy {
    /** Rows per chunk by default: 128 MiB of float32 logits per chunk at a 32000-token vocabulary. */
    public static final int DEFAULT_CHUNK_ROWS = 1024;

    private ChunkedCrossEntropy() {
    }

    /**
     * The mean cross-entropy over the supervised rows of {@code head(states)}.
     *
     * @param states [rows, hidden]
     * @param head the LM head: [n, hidden] -> [n, vocab] (a module's forward, reading its parameters)
     * @param targets one per row; {@link F#IGNORE_INDEX} rows are not supervised
     * @param chunkRows rows per chunk; 0 (or at least {@code rows}) computes all logits at once
     */
    public static Tensor apply(Tensor states, UnaryOperator<Tensor> head, int[] targets, int chunkRows) {
        Shapes.require(states.rank() == 2, () -> "chunked crossEntropy: states must be [rows, hidden], got " + Shapes.str(states.shape()));
        long rows = states.size(0);
        Shapes.require(targets.length == rows, () -> "chunked crossEntropy: " + targets.length + " targets for " + rows + " rows");
        Shapes.require(chunkRows >= 0, () -> "chunked crossEntropy: chunk rows must be >= 0, got " + chunkRows);
        int supervised = 0;
        for (int t : targets) {
            if (t != F.IGNORE_INDEX) {
                supervised++;
            }
        }
        if (chunkRows == 0 || rows <= chunkRows || supervised == 0) {
            return F.crossEntropy(head.apply(states), targets);
        }
        // every chunk divides by the whole count, so each row's gradient scale is the unchunked one
        double normalizer = supervised;
        Tensor total = null;
        for (long from = 0; from < rows; from += chunkRows) {
            long start = from;
            long end = Math.min(rows, from + chunkRows);
            int[] chunkTargets = Arrays.copyOfRange(targets, (int) start, (int) end);
            if (Arrays.stream(chunkTargets).allMatch(t -> t == F.IGNORE_INDEX)) {
                continue; // adds nothing to the loss or to any gradient
            }
            Tensor part = Checkpoint.run(() -> F.crossEntropy(head.apply(F.slice(states, 0, start, end)), chunkTargets, F.IGNORE_INDEX, normalizer));
            total = total == null ? part : F.add(total, part);
        }
        return total;
    }
}
