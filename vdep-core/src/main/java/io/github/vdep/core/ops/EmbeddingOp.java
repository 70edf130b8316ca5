package io.github.vdep.core.ops;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Row lookup in an embedding table [V, C]; ids of any shape give [...ids shape, C]. */
final class EmbeddingOp {
    private EmbeddingOp() {
    }

    static Tensor apply(Tensor table, INDArray ids) {
        long vocab = table.size(0);
        long dim = table.size(1);
        int[] idx = RowOps.toIndices(ids);
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= vocab) {
                throw new IllegalArgumentException("embedding: token id " + idx[i] + " at flat position " + i
                        + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        INDArray rows = Nd4j.pullRows(table.value(), 1, idx);
        long[] shape = new long[ids.rank() + 1];
        System.arraycopy(ids.shape(), 0, shape, 0, ids.rank());
        shape[ids.rank()] = dim;
        INDArray y = rows.reshape('c', shape);
        return Tape.opOwned(y, g -> {
            if (table.requiresGrad()) {
                RowOps.scatterAdd(table.gradBuffer(), idx, Shapes.rows(g));
            }
        }, table);
    }
}
