package io.github.vdep.models.hf;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A checkpoint file could not be read or written: missing, truncated, malformed, or inconsistent
 * with what the caller asked for.
 *
 * <p>The message always starts with the file, and names the tensor when one is involved, e.g.
 * {@code "model.safetensors: tensor 'x.weight' data_offsets [0, 40] exceed the file's data section
 * (32 bytes); the file is truncated or corrupt"}.
 */
public class CheckpointException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Path objects are not serializable; the message keeps the information anyway. */
    private final transient Path file;
    private final String tensor;

    /**
     * Creates an error about a whole file.
     *
     * @param file the file concerned
     * @param detail what is wrong, phrased to follow {@code "<file>: "}
     */
    public CheckpointException(Path file, String detail) {
        this(file, null, detail, null);
    }

    /**
     * Creates an error about a whole file, caused by another exception.
     *
     * @param file the file concerned
     * @param detail what is wrong, phrased to follow {@code "<file>: "}
     * @param cause the underlying error
     */
    public CheckpointException(Path file, String detail, Throwable cause) {
        this(file, null, detail, cause);
    }

    /**
     * Creates an error about one tensor of a file.
     *
     * @param file the file concerned
     * @param tensor the tensor name, or {@code null} when no tensor is involved
     * @param detail what is wrong, phrased to follow {@code "<file>: tensor '<name>' "}
     */
    public CheckpointException(Path file, String tensor, String detail) {
        this(file, tensor, detail, null);
    }

    /**
     * Creates an error about one tensor of a file, caused by another exception.
     *
     * @param file the file concerned
     * @param tensor the tensor name, or {@code null} when no tensor is involved
     * @param detail what is wrong, phrased to follow {@code "<file>: tensor '<name>' "}
     * @param cause the underlying error, or {@code null}
     */
    public CheckpointException(Path file, String tensor, String detail, Throwable cause) {
        super(format(file, tensor, detail), cause);
        this.file = file;
        this.tensor = tensor;
    }

    /**
     * Returns the file the error is about.
     *
     * @return the file; {@code null} only after deserialization
     */
    public Path file() {
        return file;
    }

    /**
     * Returns the tensor the error is about, if any.
     *
     * @return the tensor name, or empty for file-level errors
     */
    public Optional<String> tensor() {
        return Optional.ofNullable(tensor);
    }

    private static String format(Path file, String tensor, String detail) {
        StringBuilder sb = new StringBuilder();
        sb.append(file == null ? "<unknown file>" : file.toString()).append(": ");
        if (tensor != null) {
            sb.append("tensor '").append(tensor).append("' ");
        }
        return sb.append(detail).toString();
    }
}
