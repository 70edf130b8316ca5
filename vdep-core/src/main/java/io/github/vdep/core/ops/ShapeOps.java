package io.github.vdep.core.ops;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Reshape, permute, slice and concatenate; outputs are contiguous row-major arrays. A reshape
 * shares its input's memory (it is not an owned value); the others allocate.
 */
final class ShapeOps {
    private ShapeOps() {
    }

    static Tensor reshape(Tensor x, long... shape) {
        long[] s = resolve(shape, x.value().length(), x.shape());
        INDArray y = x.value().reshape('c', s);
        return Tape.op(y, g -> x.accumulateGrad(g.reshape('c', x.shape())), x);
    }

    static Tensor permute(Tensor x, int... dims) {
        Shapes.require(dims.length == x.rank(), () -> "permute: " + dims.length + " dims for a rank-" + x.rank() + " tensor");
        INDArray y = x.value().permute(dims).dup('c');
        int[] inverse = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            inverse[dims[i]] = i;
        }
        return Tape.opOwned(y, g -> x.accumulateGradOwned(g.permute(inverse).dup('c')), x);
    }

    /** x[..., from:to, ...] along {@code axis}. */
    static Tensor slice(Tensor x, int axis, long from, long to) {
        int ax = axis < 0 ? axis + x.rank() : axis;
        Shapes.require(ax >= 0 && ax < x.rank() && 0 <= from && from < to && to <= x.size(ax),
                () -> "slice: [" + from + ", " + to + ") on axis " + axis + " of " + Shapes.str(x.shape()));
        INDArrayIndex[] idx = indices(x.rank(), ax, from, to);
        INDArray y = x.value().get(idx).dup('c');
        return Tape.opOwned(y, g -> {
            INDArray xg = x.grad();
            if (xg != null && Shapes.isWhole(xg)) {
                // add into the slice of the existing gradient: no input-sized temporary per slice
                xg.get(idx).addi(g);
                return;
            }
            INDArray dx = x.value().ulike().assign(0);
            dx.get(idx).assign(g);
            x.accumulateGradOwned(dx);
        }, x);
    }

    static Tensor concat(int axis, Tensor... xs) {
        Shapes.require(xs.length > 0, "concat: nothing to concatenate");
        int ax = axis < 0 ? axis + xs[0].rank() : axis;
        INDArray[] values = new INDArray[xs.length];
        for (int i = 0; i < xs.length; i++) {
            values[i] = xs[i].value();
        }
        INDArray y = Nd4j.concat(ax, values);
        return Tape.opOwned(y, g -> {
            long offset = 0;
            for (Tensor t : xs) {
                long len = t.size(ax);
                if (t.requiresGrad()) {
                    t.accumulateGradOwned(g.get(indices(g.rank(), ax, offset, offset + len)).dup('c'));
                }
                offset += len;
            }
        }, xs);
    }

    static INDArrayIndex[] indices(int rank, int axis, long from, long to) {
        INDArrayIndex[] idx = new INDArrayIndex[rank];
        for (int i = 0; i < rank; i++) {
            idx[i] = i == axis ? NDArrayIndex.interval(from, to) : NDArrayIndex.all();
        }
        return idx;
    }

    private static long[] resolve(long[] shape, long length, long[] from) {
        long[] s = shape.clone();
        int unknown = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                Shapes.require(unknown < 0, () -> "reshape: more than one -1 in " + Shapes.str(shape));
                unknown = i;
            } else {
                known *= s[i];
            }
        }
        if (unknown >= 0) {
            Shapes.require(known > 0 && length % known == 0, () -> "reshape: cannot view " + Shapes.str(from) + " as " + Shapes.str(shape));
            s[unknown] = length / known;
            known *= s[unknown];
        }
        Shapes.require(known == length, () -> "reshape: cannot view " + Shapes.str(from) + " as " + Shapes.str(shape));
        return s;
    }
}
