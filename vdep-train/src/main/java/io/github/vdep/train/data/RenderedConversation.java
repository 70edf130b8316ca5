package io.github.vdep.train.data;

import java.util.List;
import java.util.Objects;

/**
 * A conversation laid out as one prompt text by a {@link ConversationTemplate}, before
 * tokenisation.
 *
 * @param text       the prompt, with the {@code <image>} placeholder where the image goes
 * @param supervised the character ranges whose tokens are trained on (the assistant's answers),
 *                   in order
 */
public record RenderedConversation(String text, List<TextSpan> supervised) {

    /** Validates and freezes the components. */
    public RenderedConversation {
        Objects.requireNonNull(text, "text");
        supervised = List.copyOf(supervised);
        for (TextSpan s : supervised) {
            if (s.end() > text.length()) {
                throw new IllegalArgumentException("Span " + s + " exceeds the text length " + text.length());
            }
        }
    }

    /**
     * @param start a token's first character
     * @param end   one past its last character
     * @return whether the token is supervised
     */
    public boolean isSupervised(int start, int end) {
        for (TextSpan s : supervised) {
            if (s.covers(start, end)) {
                return true;
            }
        }
        return false;
    }
}
