package io.github.vdep.core.autograd;

import io.github.vdep.core.device.DeviceStorage;
import java.util.function.Supplier;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Activation recomputation (PyTorch's {@code torch.utils.checkpoint}, Hugging Face's gradient
 * checkpointing): a segment of primitives whose intermediate values are not kept for the
 * backward pass but computed again when it gets there.
 *
 * <p>{@link #run} runs the segment once under a private tape, frees every value its primitives
 * allocated except the output, and records one step on the active tape. When the backward pass
 * reaches that step it runs the segment again under a fresh tape (which frees values as it goes,
 * like {@link Tape#record(boolean) record(true)}), back-propagates the output's gradient through
 * it, and frees the recomputed output. The segment's primitives accumulate straight into the
 * gradients of the tensors the segment reads (its inputs, parameters), at the point of the
 * backward pass where they would have run without recomputation and in the same order, so the
 * gradients are bit-identical to those of the plain segment whenever its forward is
 * deterministic.
 *
 * <p>The segment is a closure; it must:
 * <ul>
 *   <li>compute the same values every time it runs (no unseeded randomness, no reading state that
 *       changes between the forward and the backward pass, no in-place change of its inputs);</li>
 *   <li>let no value other than its output escape (it is freed);</li>
 *   <li>read only tensors that stay alive until the backward pass (its inputs and parameters;
 *       the tape keeps an input alive until the backward pass is past its consumers).</li>
 * </ul>
 * With no tape recording, or when nothing in the segment requires a gradient, it just runs once.
 */
public final class Checkpoint {
    private Checkpoint() {
    }

    /** Runs {@code segment} keeping only its output, to be recomputed in the backward pass (see the class description). */
    public static Tensor run(Supplier<Tensor> segment) {
        Tape outer = Tape.active();
        if (outer == null) {
            return segment.get();
        }
        Tensor y;
        Tape.Kept kept;
        // recorded as it would be without recomputation, so the values are exactly those of the plain segment
        try (Tape forward = Tape.record()) {
            y = segment.get();
            kept = forward.discardExcept(y);
        }
        if (kept == Tape.Kept.NOT_RECORDED) {
            return y; // nothing in the segment needs a gradient (or it returned an input as it is)
        }
        if (y.onCpu()) {
            return outer.append(y.value(), kept == Tape.Kept.OWNED, g -> recompute(segment, g, null));
        }
        return outer.append(y.storage(), g -> recompute(segment, null, g));
    }

    private static void recompute(Supplier<Tensor> segment, INDArray g, DeviceStorage deviceG) {
        try (Tape tape = Tape.record(true)) {
            Tensor y = segment.get();
            if (!y.requiresGrad()) {
                throw new IllegalStateException("Checkpoint: the recomputed segment no longer depends on anything that requires a gradient;"
                        + " a checkpointed segment must compute the same thing every time it runs");
            }
            tape.backwardRecomputed(y, g, deviceG);
        }
    }
}
