package io.github.vdep.core.autograd;

import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.device.DeviceStorage;
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
 * <p>Memory: the gradient of each intermediate tensor is freed as soon as it has been
 * propagated (a {@link Backward} must not keep the array it is given). A tape made with
 * {@link #record(boolean) record(true)} also frees the values of intermediate tensors once the
 * backward pass is past them (all but the tensor back-propagated from), so a training step
 * leaves only parameters, their gradients and that loss behind; read any other outputs before
 * calling {@link #backward}.
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

    /** The gradient being propagated by a backward pass on this thread (see {@link #adopt}). */
    private static final ThreadLocal<Tape> PROPAGATING = new ThreadLocal<>();

    private final Tape previous;
    private final boolean releaseValues;
    private final List<Tensor> outputs = new ArrayList<>();
    /** {@link Backward}s for CPU outputs, {@link DeviceBackward}s for device outputs. */
    private final List<Object> backwards = new ArrayList<>();
    /** Whether each output's value is an array the primitive allocated (safe to free). */
    private final List<Boolean> owned = new ArrayList<>();
    private boolean closed;
    private INDArray propagating;
    private DeviceStorage propagatingOnDevice;
    private boolean adopted;

    private Tape(Tape previous, boolean releaseValues) {
        this.previous = previous;
        this.releaseValues = releaseValues;
    }

    /** Starts recording on this thread; close the tape to stop. */
    public static Tape record() {
        return record(false);
    }

    /**
     * Starts recording; with {@code releaseValues} the backward pass also frees the values of the
     * intermediate tensors it has passed (see the class description): for training steps that
     * only read the loss afterwards.
     */
    public static Tape record(boolean releaseValues) {
        Tape tape = new Tape(ACTIVE.get(), releaseValues);
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
        return op(value, false, backward, inputs);
    }

    /**
     * As {@link #op(INDArray, Backward, Tensor...)} for a primitive whose output {@code value} is
     * an array it allocated itself (or a full reshape of one), shared with nothing else: a tape
     * recording with {@code releaseValues} frees it once the backward pass is past it.
     */
    public static Tensor opOwned(INDArray value, Backward backward, Tensor... inputs) {
        return op(value, true, backward, inputs);
    }

    /**
     * The output of a primitive that needs no gradient here, wrapping an array the primitive
     * allocated: a constant, whose memory an enclosing {@link ValueScope} may free.
     */
    public static Tensor constantOwned(INDArray value) {
        ValueScope.track(value);
        return Tensor.constant(value);
    }

    private static Tensor op(INDArray value, boolean ownsValue, Backward backward, Tensor... inputs) {
        Tape tape = ACTIVE.get();
        if (tape == null || !anyRequiresGrad(inputs)) {
            if (ownsValue) {
                ValueScope.track(value);
            }
            return Tensor.constant(value);
        }
        Tensor out = Tensor.recorded(value);
        tape.outputs.add(out);
        tape.backwards.add(backward);
        tape.owned.add(ownsValue);
        return out;
    }

    /**
     * The entry point for primitives computed on a device: wraps {@code value}, device memory the
     * primitive allocated and hands over, as the output and, when a tape is recording and any
     * input requires a gradient, records {@code backward}. A tape recording with
     * {@code releaseValues} releases the value once the backward pass is past it; an unrecorded
     * output is tracked by an enclosing {@link ValueScope}.
     */
    public static Tensor op(DeviceStorage value, DeviceBackward backward, Tensor... inputs) {
        Tape tape = ACTIVE.get();
        if (tape == null || !anyRequiresGrad(inputs)) {
            return constantOwned(value);
        }
        Tensor out = Tensor.recorded(value);
        tape.outputs.add(out);
        tape.backwards.add(backward);
        tape.owned.add(true);
        return out;
    }

    /** A device primitive's output that needs no gradient: a constant an enclosing {@link ValueScope} may release. */
    public static Tensor constantOwned(DeviceStorage value) {
        ValueScope.track(value);
        return Tensor.constant(value);
    }

    /**
     * For {@link Checkpoint}: appends an output whose backward is {@code backward} to this tape,
     * whatever its inputs (the segment behind it was found to need a gradient).
     */
    Tensor append(INDArray value, boolean ownsValue, Backward backward) {
        Tensor out = Tensor.recorded(value);
        outputs.add(out);
        backwards.add(backward);
        owned.add(ownsValue);
        return out;
    }

    /** As {@link #append(INDArray, boolean, Backward)} for a device output (always owned). */
    Tensor append(DeviceStorage value, DeviceBackward backward) {
        Tensor out = Tensor.recorded(value);
        outputs.add(out);
        backwards.add(backward);
        owned.add(true);
        return out;
    }

    /** What {@link #discardExcept} found about the tensor it keeps. */
    enum Kept {
        /** not an output of this tape (nothing recorded produced it) */
        NOT_RECORDED,
        /** a recorded output whose value its primitive allocated */
        OWNED,
        /** a recorded output whose value shares memory with something else (a view) */
        BORROWED
    }

    /**
     * For {@link Checkpoint}: forgets everything recorded and frees every value a primitive
     * allocated, except {@code keep}'s (and any memory it shares). Says whether {@code keep} was
     * recorded here and whether its value is owned.
     */
    Kept discardExcept(Tensor keep) {
        Kept kept = Kept.NOT_RECORDED;
        for (int i = 0; i < outputs.size(); i++) {
            Tensor out = outputs.get(i);
            if (out == keep) {
                kept = owned.get(i) ? Kept.OWNED : Kept.BORROWED;
                continue;
            }
            if (!owned.get(i)) {
                continue;
            }
            if (out.onCpu()) {
                if (!keep.onCpu() || !Buffers.sharesMemory(out.value(), keep.value())) {
                    Buffers.release(out.value());
                }
            } else if (keep.onCpu() || !out.storage().sharesMemoryWith(keep.storage())) {
                out.storage().release();
            }
        }
        outputs.clear();
        backwards.clear();
        owned.clear();
        return kept;
    }

    /**
     * For {@link Checkpoint}: back-propagates the gradient the enclosing backward closure was
     * given ({@code seed} on the host or {@code deviceSeed} on the device, borrowed) from
     * {@code output}, then frees {@code output}'s value too when its primitive allocated it.
     */
    void backwardRecomputed(Tensor output, INDArray seed, DeviceStorage deviceSeed) {
        int i = outputs.lastIndexOf(output);
        boolean ownsOutput = i >= 0 && owned.get(i);
        backwardFrom(output, seed, deviceSeed);
        if (ownsOutput) {
            if (output.onCpu()) {
                Buffers.release(output.value());
            } else {
                output.storage().release();
            }
        }
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
        long n = 1;
        for (long d : loss.shape()) {
            n *= d;
        }
        if (n != 1) {
            throw new IllegalArgumentException("backward(loss) needs a scalar; got " + loss);
        }
        if (!loss.onCpu()) {
            backwardFrom(loss, null, Backends.device(loss.device()).full(loss.shape(), loss.dataType(), 1.0));
            return;
        }
        backward(loss, loss.value().ulike().assign(1.0));
    }

    /**
     * Back-propagates {@code seed} from {@code output}. Gradients of intermediate tensors are
     * released as soon as they have been propagated, so only leaf (parameter) gradients remain.
     */
    public void backward(Tensor output, INDArray seed) {
        if (!output.onCpu()) {
            // an explicit host seed for a device output: uploaded once
            backwardFrom(output, null, Backends.device(output.device()).upload(seed, output.dataType()));
            return;
        }
        backwardFrom(output, seed, null);
    }

    /** The backward pass from a seed on the host ({@code seed}) or on the output's device ({@code deviceSeed}, owned). */
    private void backwardFrom(Tensor output, INDArray seed, DeviceStorage deviceSeed) {
        if (!output.requiresGrad()) {
            if (deviceSeed != null) {
                deviceSeed.release();
            }
            throw new IllegalArgumentException("the output does not depend on anything that requires a gradient");
        }
        if (deviceSeed != null) {
            output.accumulateGradOwned(deviceSeed);
        } else {
            output.accumulateGrad(seed);
        }
        Tape outer = PROPAGATING.get();
        PROPAGATING.set(this);
        try {
            for (int i = backwards.size() - 1; i >= 0; i--) {
                Tensor out = outputs.get(i);
                if (out.onCpu()) {
                    INDArray g = out.grad;
                    if (g != null) {
                        propagating = g;
                        adopted = false;
                        ((Backward) backwards.get(i)).apply(g);
                        out.zeroGrad();
                        if (!adopted) {
                            Buffers.release(g);
                        }
                        propagating = null;
                    }
                    // every consumer of this value has run its backward: only the caller could still want it
                    if (releaseValues && owned.get(i) && out != output) {
                        Buffers.release(out.value());
                    }
                } else {
                    DeviceStorage g = out.deviceGrad;
                    if (g != null) {
                        propagatingOnDevice = g;
                        adopted = false;
                        ((DeviceBackward) backwards.get(i)).apply(g);
                        out.zeroGrad();
                        if (!adopted) {
                            g.release();
                        }
                        propagatingOnDevice = null;
                    }
                    if (releaseValues && out != output) {
                        out.storage().release();
                    }
                }
            }
        } finally {
            propagating = null;
            propagatingOnDevice = null;
            if (outer != null) {
                PROPAGATING.set(outer);
            } else {
                PROPAGATING.remove();
            }
            outputs.clear();
            backwards.clear();
            owned.clear();
        }
    }

    /**
     * Called by {@link Tensor} when {@code g} is about to become a tensor's gradient buffer:
     * true if {@code g} is (a full reshape of) the gradient the running backward closure was
     * given. The first such call takes it over (the tape then does not free it); later calls
     * get false, as does any other array, and the tensor copies.
     */
    static boolean adopt(INDArray g) {
        Tape tape = PROPAGATING.get();
        if (tape == null || tape.propagating == null || !sharesBuffer(g, tape.propagating)) {
            return false;
        }
        if (tape.adopted || g.isView() && !isFullReshape(g, tape.propagating)) {
            return false;
        }
        tape.adopted = true;
        return true;
    }

    /** As {@link #adopt(INDArray)} for the device gradient the running backward closure was given (the same storage object). */
    static boolean adopt(DeviceStorage g) {
        Tape tape = PROPAGATING.get();
        if (tape == null || tape.propagatingOnDevice != g || tape.adopted) {
            return false;
        }
        tape.adopted = true;
        return true;
    }

    /** Whether {@code g} is the device gradient being propagated (so must not be released or owned twice). */
    static boolean isPropagating(DeviceStorage g) {
        Tape tape = PROPAGATING.get();
        return tape != null && tape.propagatingOnDevice == g;
    }

    /** Whether {@code g} shares memory with the gradient being propagated (so must not be freed or owned twice). */
    static boolean isPropagating(INDArray g) {
        Tape tape = PROPAGATING.get();
        return tape != null && tape.propagating != null && sharesBuffer(g, tape.propagating);
    }

    private static boolean sharesBuffer(INDArray a, INDArray b) {
        return Buffers.sharesMemory(a, b);
    }

    private static boolean isFullReshape(INDArray view, INDArray base) {
        return view.length() == base.length() && Tensor.isWholeContiguous(view);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        outputs.clear();
        backwards.clear();
        owned.clear();
        if (ACTIVE.get() == this) {
            if (previous != null) {
                ACTIVE.set(previous);
            } else {
                ACTIVE.remove();
            }
        }
    }
}
