package io.github.vdep.core.autograd;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A value in the computation graph: an eager ND4J array plus, when it takes part in a recorded
 * computation, the gradient that {@link Tape#backward} accumulates into it.
 *
 * <p>Tensors are created by primitives ({@code io.github.vdep.core.ops.F}) or wrap inputs with
 * {@link #constant}. A tensor that does not require a gradient never gets a gradient buffer, and
 * primitives skip the work of computing one for it.
 */
public class Tensor {
    private final INDArray value;
    private final boolean requiresGrad;
    /** Lazily allocated; owned by this tensor (never a view of another tensor's array). */
    protected INDArray grad;
    /** Memory of a dropped gradient, reused for the next one (parameters keep it across steps). */
    protected INDArray spare;

    protected Tensor(INDArray value, boolean requiresGrad) {
        this.value = value;
        this.requiresGrad = requiresGrad;
    }

    /** Wraps an array that needs no gradient (inputs, targets, frozen data). */
    public static Tensor constant(INDArray value) {
        return new Tensor(value, false);
    }

    /** Wraps an array as a leaf whose gradient is wanted (used by tests and custom inputs). */
    public static Tensor leaf(INDArray value) {
        return new Tensor(value, true);
    }

    /** Internal: the output of a recorded primitive. */
    static Tensor recorded(INDArray value) {
        return new Tensor(value, true);
    }

    public INDArray value() {
        return value;
    }

    /** Whether backward propagates a gradient into this tensor. */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** The accumulated gradient, or null if none has reached this tensor. */
    public INDArray grad() {
        return grad;
    }

    public long[] shape() {
        return value.shape();
    }

    public long size(int dim) {
        return value.size(dim);
    }

    public int rank() {
        return value.rank();
    }

    public DataType dataType() {
        return value.dataType();
    }

    /** Reads a scalar tensor (a loss) as a double. */
    public double item() {
        if (value.length() != 1) {
            throw new IllegalStateException("item() needs a single-element tensor, got shape " + Arrays.toString(shape()));
        }
        return value.getDouble(0);
    }

    /**
     * Adds {@code g} into this tensor's gradient. The array is copied when it becomes the buffer,
     * so callers may pass views or arrays they will reuse. No-op when no gradient is required.
     * (The gradient a backward closure was handed is the one exception: it becomes the buffer
     * without a copy, since the tape would free it next.)
     */
    public void accumulateGrad(INDArray g) {
        if (!requiresGrad()) {
            return;
        }
        checkGradShape(g);
        if (grad == null) {
            if (Tape.adopt(g)) {
                install(g);
            } else {
                INDArray buffer = takeSpare();
                grad = buffer != null ? buffer.assign(g) : g.dup('c');
            }
        } else {
            grad.addi(g);
        }
    }

    /**
     * Like {@link #accumulateGrad} but takes ownership of {@code g}: for freshly allocated arrays
     * the caller does not keep. It becomes the buffer when there is none (copied only if it is
     * not a whole contiguous array), and is freed once added in otherwise.
     */
    public void accumulateGradOwned(INDArray g) {
        boolean shared = Tape.isPropagating(g);
        if (!requiresGrad()) {
            if (!shared) {
                Buffers.release(g);
            }
            return;
        }
        checkGradShape(g);
        if (grad == null) {
            if (shared) {
                // the closure handed over the gradient it was given: take it over, or copy
                if (Tape.adopt(g)) {
                    install(g);
                } else {
                    INDArray buffer = takeSpare();
                    grad = buffer != null ? buffer.assign(g) : g.dup('c');
                }
            } else if (isWholeContiguous(g)) {
                install(g);
            } else {
                INDArray buffer = takeSpare();
                grad = buffer != null ? buffer.assign(g) : g.dup('c');
                Buffers.release(g);
            }
        } else {
            grad.addi(g);
            if (!shared) {
                Buffers.release(g);
            }
        }
    }

    /** A row-major array covering its whole buffer (a fresh array, or a full reshape of one). */
    static boolean isWholeContiguous(INDArray a) {
        if (a.ordering() != 'c' || a.offset() != 0 || !org.nd4j.linalg.api.shape.Shape.hasDefaultStridesForShape(a)) {
            return false;
        }
        org.nd4j.linalg.api.buffer.DataBuffer base = a.data().originalDataBuffer();
        return a.data().length() == a.length() && (base == null || base == a.data() || base.length() == a.length());
    }

    /**
     * The gradient buffer, allocated as zeros if absent: lets primitives accumulate in place
     * (for example a gemm with beta = 1) instead of allocating a temporary.
     */
    public INDArray gradBuffer() {
        if (grad == null) {
            INDArray buffer = takeSpare();
            grad = buffer != null ? buffer.assign(0) : value.ulike().assign(0);
        }
        return grad;
    }

    /**
     * For primitives that write a whole gradient at once (a gemm straight into the buffer): the
     * gradient buffer. If there was no gradient yet ({@link #grad()} was null before the call),
     * its contents are undefined and the caller must overwrite all of it (gemm with beta = 0);
     * otherwise it holds the gradient so far and the caller must add to it (beta = 1).
     */
    public INDArray gradBufferForOverwrite() {
        if (grad == null) {
            INDArray buffer = takeSpare();
            grad = buffer != null ? buffer : org.nd4j.linalg.factory.Nd4j.createUninitialized(value.dataType(), value.shape());
        }
        return grad;
    }

    /** Makes a fresh array the gradient buffer (any spare memory is then not needed). */
    private void install(INDArray g) {
        grad = g;
        if (spare != null) {
            Buffers.release(spare);
            spare = null;
        }
    }

    private INDArray takeSpare() {
        INDArray s = spare;
        spare = null;
        return s;
    }

    /** Drops the gradient (the next backward starts from zero). */
    public void zeroGrad() {
        grad = null;
    }

    private void checkGradShape(INDArray g) {
        if (!Arrays.equals(g.shape(), value.shape())) {
            throw new IllegalStateException("gradient shape " + Arrays.toString(g.shape())
                    + " does not match tensor shape " + Arrays.toString(value.shape()));
        }
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape()) + "(" + dataType() + (requiresGrad() ? ", grad" : "") + ")";
    }
}
