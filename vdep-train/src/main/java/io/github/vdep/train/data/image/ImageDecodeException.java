package io.github.vdep.train.data.image;

import java.nio.file.Path;

/**
 * An image file that is missing, unreadable, of an unknown format, truncated or corrupt. The
 * message always names the file.
 */
public class ImageDecodeException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Not serialised: {@link Path} implementations are not serialisable. */
    private final transient Path file;

    /**
     * @param file   the offending file
     * @param reason what went wrong
     * @param cause  the underlying error, may be null
     */
    public ImageDecodeException(Path file, String reason, Throwable cause) {
        super("Cannot decode image " + file + ": " + reason, cause);
        this.file = file;
    }

    /**
     * @param file   the offending file
     * @param reason what went wrong
     */
    public ImageDecodeException(Path file, String reason) {
        this(file, reason, null);
    }

    /** @return the offending file */
    public Path file() {
        return file;
    }
}
