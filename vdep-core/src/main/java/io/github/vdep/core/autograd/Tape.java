package io.github.vdep.core.autograd;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Reverse-mode automatic differentiation over eager ND4J operations.
 *
 * <p>While a tape is active on the current thread (between {@link #record()} and
 * {@link #close()}), every primitive whose inputs require a gradient appends its backward
 * closure. Recording order is a topological order, so {@link #backward} simply replays the
 * closures in reverse. Outside a tape primitives only compute values (inference mode).
 *
 * <pre>{@code
 * try (Tape tape = Tape.record()) {
 *     Tensor loss = model.loss(batch);
 *     tape.backward(loss);
 * }
 * }</pre>
 */
public final class Tape implements AutoCloseable {
    private static final ThreadLocal<Tape> ACTIVE = new ThreadLocal<>();

    private final Tape previous;
    private final List<Tensor> outputs = new ArrayList<>();
    private final List<Backward> backwards = new ArrayList<>();
    private boolean closed;

    private Tape(Tape previous) {
        this.previous = previous;
    }

    /** Starts recording on this thread; close the tape to stop. */
    public static Tape record() {
        Tape tape = new Tape(ACTIVE.get());
        ACTIVE.set(tape);
        return tape;
    }

    /** The tape recording on this thread, or null. */
    public static Tape active() {
        return ACTIVE.get();
    }

    /** Runs {@code body} with recording suspended (like {@code torch.no_grad()}). */
    public static <T> T noGrad(java.util.function.Supplier<T> body) {
        Tape saved = ACTIVE.get();
        ACTIVE.remove();
        try {
            return body.get();
        } finally {
            if (saved != null) {
                ACTIVE.set(saved);
            }
        }
    }

    /**
     * The entry point for primitives: wraps {@code value} as the primitive's output and, when a
     * tape is recording and any input requires a gradient, records {@code backward}.
     */
    public static Tensor op(INDArray value, Backward backward, Tensor... inputs) {
        Tape tape = ACTIVE.get();
        if (tape == null || !anyRequiresGrad(inputs)) {
            return Tensor.constant(value);
        }
        Tensor out = Tensor.recorded(value);
        tape.outputs.add(out);
        tape.backwards.add(backward);
        return out;
    }

    /** Whether backward work is needed for an op over these inputs right now. */
    public static boolean needsGrad(Tensor... inputs) {
        return ACTIVE.get() != null && anyRequiresGrad(inputs);
    }

    private static boolean anyRequiresGrad(Tensor... inputs) {
        for (Tensor t : inputs) {
            if (t != null && t.requiresGrad()) {
                return true;
            }
        }
        return false;
    }

    /** Number of recorded primitives. */
    public int size() {
        return backwards.size();
    }

    /** Back-propagates from a scalar loss (seed gradient 1). */
    public void backward(Tensor loss) {
        if (loss.value().length() != 1) {
            throw new IllegalArgumentException("backward(loss) needs a scalar; got " + loss);
        }
        backward(loss, loss.value().ulike().assign(1.0));
    }

    /**
     * Back-propagates {@code seed} from {@code output}. Gradients of intermediate tensors are
     * released as soon as they have been propagated, so only leaf (parameter) gradients remain.
     */
    public void backward(Tensor output, INDArray seed) {
        if (!output.requiresGrad()) {
            throw new IllegalArgumentException("the output does not depend on anything that requires a gradient");
        }
        output.accumulateGrad(seed);
        for (int i = backwards.size() - 1; i >= 0; i--) {
            Tensor out = outputs.get(i);
            INDArray g = out.grad();
            if (g != null) {
                backwards.get(i).apply(g);
                out.zeroGrad();
            }
        }
        outputs.clear();
        backwards.clear();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        outputs.clear();
        backwards.clear();
        if (ACTIVE.get() == this) {
            if (previous != null) {
                ACTIVE.set(previous);
            } else {
                ACTIVE.remove();
            }
        }
    }
}
