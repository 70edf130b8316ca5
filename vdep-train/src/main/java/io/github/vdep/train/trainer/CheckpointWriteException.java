package io.github.vdep.train.trainer;

/**
 * A checkpoint could not be written (disk full, output directory not writable). The message names
 * the checkpoint and the checkpoint a {@code --resume} continues from; the partial copy has been
 * removed and the previous checkpoint is intact.
 */
public class CheckpointWriteException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CheckpointWriteException(String message, Throwable cause) {
        super(message, cause);
    }
}
