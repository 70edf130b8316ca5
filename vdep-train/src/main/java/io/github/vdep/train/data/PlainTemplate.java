package io.github.vdep.train.data;

import java.util.List;

/**
 * LLaVA's {@code plain} template ({@code preprocess_plain}), used for stage 1 (pretraining the
 * projector on captions): the record must have exactly two turns with {@code <image>} in the
 * first; the first turn's text is replaced by the placeholder, and the prompt is
 * {@code "<image>" + answer + "\n"}. Tokens: BOS, the image, the answer's tokens, the newline's
 * tokens; the answer and the newline are supervised.
 */
public final class PlainTemplate implements ConversationTemplate {

    /** The template. */
    public static final PlainTemplate INSTANCE = new PlainTemplate();
    /** The separator appended to the answer ({@code conv_llava_plain.sep}). */
    public static final String SEPARATOR = "\n";

    private PlainTemplate() {
    }

    @Override
    public String name() {
        return "plain";
    }

    @Override
    public RenderedConversation render(ConversationRecord record) {
        List<Turn> turns = record.conversations();
        if (turns.size() != 2) {
            throw new BadRecordException(record.id(), BadRecordReason.TEMPLATE_STRUCTURE,
                    "the plain template needs exactly 2 turns, got " + turns.size());
        }
        if (!turns.get(0).value().contains(IMAGE_PLACEHOLDER)) {
            throw new BadRecordException(record.id(), BadRecordReason.TEMPLATE_STRUCTURE,
                    "the plain template needs " + IMAGE_PLACEHOLDER + " in the first turn"
                            + (record.hasImage() ? "" : " (and an image)"));
        }
        String text = IMAGE_PLACEHOLDER + turns.get(1).value() + SEPARATOR;
        return new RenderedConversation(text, List.of(new TextSpan(IMAGE_PLACEHOLDER.length(), text.length())));
    }

    @Override
    public String toString() {
        return name();
    }
}
