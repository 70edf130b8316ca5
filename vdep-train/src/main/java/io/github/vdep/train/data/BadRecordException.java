package io.github.vdep.train.data;

import java.util.Objects;

/**
 * A record that cannot be used. Under {@link OnBadRecord#SKIP} it is counted and dropped; under
 * {@link OnBadRecord#FAIL} it stops the run, and the message names the record's id and the reason.
 */
public class BadRecordException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String id;
    private final String reason;
    private final String detail;

    /**
     * @param id     the record's id
     * @param reason why it cannot be used (the key it is counted under)
     */
    public BadRecordException(String id, String reason) {
        this(id, reason, null, null);
    }

    /**
     * @param id     the record's id
     * @param reason why it cannot be used
     * @param detail what exactly is wrong
     */
    public BadRecordException(String id, BadRecordReason reason, String detail) {
        this(id, reason.label(), detail, null);
    }

    /**
     * @param id     the record's id
     * @param reason why it cannot be used
     * @param detail what exactly is wrong
     * @param cause  the underlying error, may be null
     */
    public BadRecordException(String id, BadRecordReason reason, String detail, Throwable cause) {
        this(id, reason.label(), detail, cause);
    }

    private BadRecordException(String id, String reason, String detail, Throwable cause) {
        super(message(id, reason, detail), cause);
        this.id = Objects.requireNonNull(id, "id");
        this.reason = Objects.requireNonNull(reason, "reason");
        this.detail = detail;
    }

    private static String message(String id, String reason, String detail) {
        return "Bad record '" + id + "': " + reason + (detail == null || detail.isEmpty() ? "" : ": " + detail);
    }

    /** @return the record's id */
    public String id() {
        return id;
    }

    /** @return the reason, e.g. {@code "missing image file"} (see {@link BadRecordReason#label()}) */
    public String reason() {
        return reason;
    }

    /** @return what exactly is wrong, or null */
    public String detail() {
        return detail;
    }
}
