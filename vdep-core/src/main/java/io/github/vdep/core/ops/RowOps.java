package io.github.vdep.core.ops;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Row selection on matrices [N, C]: gathering rows (the image positions whose hidden states the
 * image loss reads) and replacing rows (splicing projected image features into the token
 * embeddings).
 */
final class RowOps {
    private RowOps() {
    }

    static int[] toIndices(INDArray ids) {
        long[] longs = ids.dup('c').reshape(ids.length()).toLongVector();
        int[] out = new int[longs.length];
        for (int i = 0; i < longs.length; i++) {
            out[i] = Math.toIntExact(longs[i]);
        }
        return out;
    }

    static void checkRows(String op, int[] rows, long n) {
        for (int r : rows) {
            if (r < 0 || r >= n) {
                throw new IllegalArgumentException(op + ": row " + r + " is outside [0, " + n + ")");
            }
        }
    }

    /** target[rows[i]] += src[i]. */
    static void scatterAdd(INDArray target, int[] rows, INDArray src) {
        for (int i = 0; i < rows.length; i++) {
            target.getRow(rows[i]).addi(src.getRow(i));
        }
    }

    static Tensor gather(Tensor x, int[] rows) {
        Shapes.require(x.rank() == 2, "gatherRows: needs a matrix, got " + Shapes.str(x.shape()));
        checkRows("gatherRows", rows, x.size(0));
        INDArray y = Nd4j.pullRows(x.value(), 1, rows);
        return Tape.op(y, g -> {
            if (x.requiresGrad()) {
                INDArray dx = x.value().ulike().assign(0);
                scatterAdd(dx, rows, g);
                x.accumulateGradOwned(dx);
            }
        }, x);
    }

    static Tensor replace(Tensor base, int[] rows, Tensor src) {
        Shapes.require(base.rank() == 2 && src.rank() == 2 && base.size(1) == src.size(1),
                "replaceRows: base " + Shapes.str(base.shape()) + " and rows " + Shapes.str(src.shape()) + " must be matrices of equal width");
        Shapes.require(src.size(0) == rows.length, "replaceRows: " + rows.length + " row positions for " + src.size(0) + " rows");
        checkRows("replaceRows", rows, base.size(0));
        boolean[] seen = new boolean[(int) base.size(0)];
        for (int r : rows) {
            Shapes.require(!seen[r], "replaceRows: row " + r + " is replaced twice");
            seen[r] = true;
        }
        INDArray y = base.value().dup('c');
        for (int i = 0; i < rows.length; i++) {
            y.putRow(rows[i], src.value().getRow(i));
        }
        return Tape.op(y, g -> {
            if (base.requiresGrad()) {
                INDArray db = g.dup('c');
                for (int r : rows) {
                    db.getRow(r).assign(0);
                }
                base.accumulateGradOwned(db);
            }
            if (src.requiresGrad()) {
                src.accumulateGradOwned(Nd4j.pullRows(g, 1, rows));
            }
        }, base, src);
    }
}
