package io.github.vdep.train.distributed;

/** A data-parallel run cannot start or go on; the message is one line naming the cause (and the rank where it matters). */
public final class DistributedException extends RuntimeException {
    public DistributedException(String message) {
        super(message);
    }

    public DistributedException(String message, Throwable cause) {
        super(message, cause);
    }
}
