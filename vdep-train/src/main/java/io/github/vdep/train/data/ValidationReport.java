package io.github.vdep.train.data;

import java.util.Objects;

/**
 * The result of {@link DataValidator#validate}.
 *
 * @param records   records checked
 * @param usable    records that passed every check
 * @param withImage usable records with an image
 * @param bad       the records that failed, per reason
 */
public record ValidationReport(int records, int usable, int withImage, BadRecordStats bad) {

    /** Rejects a null stats object. */
    public ValidationReport {
        Objects.requireNonNull(bad, "bad");
    }

    /** @return e.g. {@code "1000 records: 998 usable (990 with an image); 2 bad records skipped: ..."} */
    public String summary() {
        return records + " records: " + usable + " usable (" + withImage + " with an image); " + bad.summary();
    }
}
