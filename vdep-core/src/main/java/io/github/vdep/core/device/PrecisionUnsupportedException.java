package io.github.vdep.core.device;

/** A {@link Precision} asked for on a device that cannot run it; the message is one line saying what to pass instead. */
public final class PrecisionUnsupportedException extends UnsupportedOperationException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message one line: why, and the option to use instead
     */
    public PrecisionUnsupportedException(String message) {
        super(message);
    }
}
