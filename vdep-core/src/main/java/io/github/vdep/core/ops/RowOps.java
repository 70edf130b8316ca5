package io.github.vdep.core.ops;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Row selection on matrices [N, C]: gathering rows (the image positions whose hidden states the
 * image loss reads) and replacing rows (splicing projected image features into the token
 * embeddings). Each is one native op per call: a loop of per-row views costs about 0.1-0.3 ms a
 * row in ND4J, which made the embedding backward of a 1024-token batch take hundreds of ms.
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

    /**
     * target[rows[i]] += src[i]. ND4J's scatter_add runs indices in parallel without locking and
     * loses updates when an index repeats (measured: 1 of 100,000), so repeated rows are first
     * summed here and the native op only ever sees distinct indices.
     */
    static void scatterAdd(INDArray target, int[] rows, INDArray src) {
        Map<Integer, Integer> slot = new HashMap<>();
        int[] unique = new int[rows.length];
        int[] slotOf = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            Integer s = slot.get(rows[i]);
            if (s == null) {
                s = slot.size();
                slot.put(rows[i], s);
                unique[s] = rows[i];
            }
            slotOf[i] = s;
        }
        int u = slot.size();
        INDArray updates = u == rows.length ? src : sumRows(src, slotOf, u);
        int[] indices = u == rows.length ? rows : java.util.Arrays.copyOf(unique, u);
        Nd4j.exec(DynamicCustomOp.builder("scatter_add").addInputs(target, Nd4j.createFromArray(indices), updates)
                .addOutputs(target).build());
    }

    /** Rows of src summed into u slots: out[slotOf[i]] += src[i]. */
    private static INDArray sumRows(INDArray src, int[] slotOf, int u) {
        int c = (int) src.size(1);
        if (src.dataType() == DataType.DOUBLE) {
            double[] s = src.dup('c').data().asDouble();
            double[] acc = new double[u * c];
            for (int i = 0; i < slotOf.length; i++) {
                int a = slotOf[i] * c;
                int b = i * c;
                for (int j = 0; j < c; j++) {
                    acc[a + j] += s[b + j];
                }
            }
            return Nd4j.createFromArray(acc).reshape(u, c);
        }
        float[] s = src.castTo(DataType.FLOAT).dup('c').data().asFloat();
        float[] acc = new float[u * c];
        for (int i = 0; i < slotOf.length; i++) {
            int a = slotOf[i] * c;
            int b = i * c;
            for (int j = 0; j < c; j++) {
                acc[a + j] += s[b + j];
            }
        }
        return Nd4j.createFromArray(acc).reshape(u, c).castTo(src.dataType());
    }

    /** target[rows[i]] = src[i] for distinct rows. */
    private static void scatterUpdate(INDArray target, int[] rows, INDArray src) {
        Nd4j.exec(DynamicCustomOp.builder("scatter_upd").addInputs(target, Nd4j.createFromArray(rows), src).addOutputs(target).build());
    }

    static Tensor gather(Tensor x, int[] rows) {
        Shapes.require(x.rank() == 2, () -> "gatherRows: needs a matrix, got " + Shapes.str(x.shape()));
        checkRows("gatherRows", rows, x.size(0));
        INDArray y = Nd4j.pullRows(x.value(), 1, rows);
        return Tape.opOwned(y, g -> {
            if (x.requiresGrad()) {
                INDArray dx = x.value().ulike().assign(0);
                scatterAdd(dx, rows, g);
                x.accumulateGradOwned(dx);
            }
        }, x);
    }

    static Tensor replace(Tensor base, int[] rows, Tensor src) {
        Shapes.require(base.rank() == 2 && src.rank() == 2 && base.size(1) == src.size(1),
                () -> "replaceRows: base " + Shapes.str(base.shape()) + " and rows " + Shapes.str(src.shape()) + " must be matrices of equal width");
        Shapes.require(src.size(0) == rows.length, () -> "replaceRows: " + rows.length + " row positions for " + src.size(0) + " rows");
        checkRows("replaceRows", rows, base.size(0));
        boolean[] seen = new boolean[(int) base.size(0)];
        for (int r : rows) {
            Shapes.require(!seen[r], () -> "replaceRows: row " + r + " is replaced twice");
            seen[r] = true;
        }
        INDArray y = base.value().dup('c');
        if (rows.length > 0) {
            scatterUpdate(y, rows, src.value().castTo(y.dataType()).dup('c'));
        }
        return Tape.opOwned(y, g -> {
            if (base.requiresGrad()) {
                INDArray db = g.dup('c');
                if (rows.length > 0) {
                    scatterUpdate(db, rows, Nd4j.zeros(db.dataType(), rows.length, db.size(1)));
                }
                base.accumulateGradOwned(db);
            }
            if (src.requiresGrad()) {
                src.accumulateGradOwned(Nd4j.pullRows(g, 1, rows));
            }
        }, base, src);
    }
}
