package io.github.vdep.core.ops;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Shape helpers shared by the primitives. */
final class Shapes {
    private Shapes() {
    }

    /** Views (or copies, if not contiguous) {@code x} as a matrix [prod(leading dims), last dim]. */
    static INDArray rows(INDArray x) {
        long last = x.size(x.rank() - 1);
        return x.reshape('c', x.length() / last, last);
    }

    /** {@code shape} with its last dimension replaced. */
    static long[] withLast(long[] shape, long last) {
        long[] s = shape.clone();
        s[s.length - 1] = last;
        return s;
    }

    static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    static String str(long[] shape) {
        return Arrays.toString(shape);
    }

    /** Sums {@code g} down to {@code shape} (the inverse of numpy-style broadcasting). */
    static INDArray reduceTo(INDArray g, long[] shape) {
        if (Arrays.equals(g.shape(), shape)) {
            return g;
        }
        int lead = g.rank() - shape.length;
        INDArray r = g;
        if (lead > 0) {
            int[] dims = new int[lead];
            for (int i = 0; i < lead; i++) {
                dims[i] = i;
            }
            r = r.sum(dims);
        }
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 1 && r.size(i) != 1) {
                r = r.sum(true, i);
            }
        }
        return r.reshape(shape);
    }
}
