package io.github.vdep.train.data;

import java.util.List;
import java.util.Objects;

/**
 * One record of a LLaVA data file:
 * {@code {"id": "...", "image": "00453/004539375.jpg", "conversations": [{"from": "human", "value": "..."}, ...]}}.
 *
 * <p>Reading never fails for a structurally odd record: a record whose JSON cannot be mapped
 * onto this shape (no {@code conversations}, a turn without a string {@code from} or
 * {@code value}, a non-string {@code image}) is kept with a non-null {@code defect} and is
 * reported as a bad record ("malformed record") when it is validated or encoded.
 *
 * @param id            the record's id, or its 0-based index in the file when it has none
 * @param image         the image path relative to the image folder, or null for a text-only record
 * @param conversations the turns, in order (empty when {@code defect} is set)
 * @param defect        why the record is malformed, or null when it is well-formed
 */
public record ConversationRecord(String id, String image, List<Turn> conversations, String defect) {

    /** Validates and freezes the components. */
    public ConversationRecord {
        Objects.requireNonNull(id, "id");
        conversations = conversations == null ? List.of() : List.copyOf(conversations);
    }

    /**
     * A well-formed record.
     *
     * @param id            the record's id
     * @param image         the image path relative to the image folder, or null for a text-only record
     * @param conversations the turns
     */
    public ConversationRecord(String id, String image, List<Turn> conversations) {
        this(id, image, Objects.requireNonNull(conversations, "conversations"), null);
    }

    /** @return whether the record names an image */
    public boolean hasImage() {
        return image != null;
    }

    /** @return whether the record could not be mapped onto the record shape */
    public boolean isMalformed() {
        return defect != null;
    }
}
