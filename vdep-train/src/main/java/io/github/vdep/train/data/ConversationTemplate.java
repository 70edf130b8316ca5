package io.github.vdep.train.data;

/**
 * Lays out a conversation record as one prompt text and marks which characters are supervised,
 * as LLaVA's {@code preprocess_*} functions do before tokenisation. The
 * {@link SampleEncoder} then tokenises the text around the {@code <image>} placeholder.
 *
 * <p>Implementations are immutable and thread-safe.
 */
public interface ConversationTemplate {

    /** The image placeholder in record texts, LLaVA's {@code DEFAULT_IMAGE_TOKEN}. */
    String IMAGE_PLACEHOLDER = "<image>";

    /** @return the template's name, as accepted by {@link Templates#byName} */
    String name();

    /**
     * Renders a record. The record is already known to be well-formed (speakers are
     * {@code human}/{@code gpt}) and to hold as many placeholders as it has images.
     *
     * @param record the record
     * @return the prompt text and its supervised ranges
     * @throws BadRecordException with {@link BadRecordReason#TEMPLATE_STRUCTURE} if the
     *                            conversation does not fit the template
     */
    RenderedConversation render(ConversationRecord record);

    /**
     * Checks that a tokenizer suits this template (for example, that it recognises the
     * separators the template writes as special tokens).
     *
     * @param tokenizer the tokenizer
     * @throws IllegalArgumentException if it does not
     */
    default void checkTokenizer(TextTokenizer tokenizer) {
    }
}
