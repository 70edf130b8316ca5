package io.github.vdep.train.data;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cheap pre-pass over the records before training starts: record shape, speakers, placeholder
 * count and the template's structure, and optionally that image files exist. It neither tokenises
 * nor decodes images, so the loader can still find records bad later (truncation, undecodable
 * images). File-level problems are found earlier still, by {@link DataFiles#read}.
 */
public final class DataValidator {

    private static final Logger LOG = LoggerFactory.getLogger(DataValidator.class);

    private DataValidator() {
    }

    /**
     * Checks every record.
     *
     * @param records     the records
     * @param template    the template they will be rendered with
     * @param onBadRecord {@link OnBadRecord#FAIL} throws at the first bad record;
     *                    {@link OnBadRecord#SKIP} counts them and logs a summary
     * @param imageFolder the image folder to check that image files exist, or null to skip that
     * @return the counts
     * @throws BadRecordException under {@link OnBadRecord#FAIL}, naming the first bad record
     */
    public static ValidationReport validate(List<ConversationRecord> records, ConversationTemplate template,
            OnBadRecord onBadRecord, Path imageFolder) {
        Objects.requireNonNull(records, "records");
        Objects.requireNonNull(template, "template");
        Objects.requireNonNull(onBadRecord, "onBadRecord");
        BadRecordStats bad = new BadRecordStats();
        int usable = 0;
        int withImage = 0;
        for (ConversationRecord record : records) {
            try {
                SampleEncoder.checkStructure(record, template);
                if (imageFolder != null && record.hasImage()) {
                    checkImageExists(record, imageFolder);
                }
                usable++;
                if (record.hasImage()) {
                    withImage++;
                }
            } catch (BadRecordException e) {
                if (onBadRecord == OnBadRecord.FAIL) {
                    throw e;
                }
                bad.record(e);
                LOG.debug("Bad record: {}", e.getMessage());
            }
        }
        ValidationReport report = new ValidationReport(records.size(), usable, withImage, bad);
        if (bad.total() > 0) {
            LOG.warn("Data check ({} template): {}", template.name(), report.summary());
        } else {
            LOG.info("Data check ({} template): {}", template.name(), report.summary());
        }
        return report;
    }

    private static void checkImageExists(ConversationRecord record, Path imageFolder) {
        Path file;
        try {
            file = imageFolder.resolve(record.image());
        } catch (InvalidPathException e) {
            throw new BadRecordException(record.id(), BadRecordReason.MALFORMED,
                    "'image' is not a valid path: " + e.getMessage());
        }
        if (!Files.exists(file)) {
            throw new BadRecordException(record.id(), BadRecordReason.MISSING_IMAGE, file + " does not exist");
        }
    }
}
