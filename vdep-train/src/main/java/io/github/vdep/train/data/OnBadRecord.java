package io.github.vdep.train.data;

/** What happens to a record that cannot be used (see {@link BadRecordReason}). */
public enum OnBadRecord {
    /** Drop it, log a warning with its id and the reason, and count it in {@link BadRecordStats}. */
    SKIP,
    /** Stop: a {@link BadRecordException} naming the record and the reason reaches the caller. */
    FAIL
}
