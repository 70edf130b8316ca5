package io.github.vdep.train.data;

/** Why a record cannot be used; {@link #label()} is the key in {@link BadRecordStats#byReason()}. */
public enum BadRecordReason {
    /** The record's JSON does not have the record shape (see {@link ConversationRecord#defect()}), or a turn's speaker is unknown. */
    MALFORMED("malformed record"),
    /** The number of {@code <image>} placeholders in the text is not 1 for a record with an image, 0 without. */
    PLACEHOLDER_MISMATCH("placeholder count mismatch"),
    /** The conversation does not fit the template (turn count, alternation, placeholder position). */
    TEMPLATE_STRUCTURE("template structure"),
    /** Truncation to the maximum length cuts into or removes the image's placeholder run. */
    IMAGE_TRUNCATED("image placeholder truncated"),
    /** No token is supervised (after truncation). */
    NOTHING_SUPERVISED("nothing supervised after truncation"),
    /** The image file does not exist. */
    MISSING_IMAGE("missing image file"),
    /** The image file exists but cannot be decoded, or its pixels cannot be processed. */
    UNDECODABLE_IMAGE("undecodable image"),
    /** The image's header declares more pixels than the limit ({@code --max-image-pixels}); it is not decoded. */
    IMAGE_TOO_LARGE("image too large"),
    /** The tokenizer failed on the record's text. */
    TOKENIZATION("tokenization failed"),
    /** Preparing the record failed otherwise (an unexpected error naming the record). */
    PREPARATION_FAILED("preparation failed");

    private final String label;

    BadRecordReason(String label) {
        this.label = label;
    }

    /** @return the human-readable reason, e.g. {@code "missing image file"} */
    public String label() {
        return label;
    }
}
