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

    /**
     * Runs {@code body} on {@code a} itself if it is {@link #isWhole whole}, else on a row-major
     * copy that is freed afterwards (for kernels that read an array's memory directly).
     */
    static void withWhole(INDArray a, java.util.function.Consumer<INDArray> body) {
        if (isWhole(a)) {
            body.accept(a);
            return;
        }
        INDArray copy = a.dup('c');
        body.accept(copy);
        io.github.vdep.core.autograd.Buffers.release(copy);
    }

    /** A row-major array with default strides covering its whole buffer (reshapes of it are views of the same memory). */
    static boolean isWhole(INDArray a) {
        if (a.ordering() != 'c' || a.offset() != 0 || !org.nd4j.linalg.api.shape.Shape.hasDefaultStridesForShape(a)) {
            return false;
        }
        org.nd4j.linalg.api.buffer.DataBuffer base = a.data().originalDataBuffer();
        return a.data().length() == a.length() && (base == null || base == a.data() || base.length() == a.length());
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

    /** As {@link #require(boolean, String)}, the message built only on failure (these checks run on every op call). */
    static void require(boolean condition, java.util.function.Supplier<String> message) {
        if (!condition) {
            throw new IllegalArgumentException(message.get());
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
