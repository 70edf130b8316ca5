package io.github.vdep.train.data;

/**
 * A character range of a prompt text.
 *
 * @param start first character (UTF-16 index)
 * @param end   one past the last character
 */
public record TextSpan(int start, int end) {

    /** Validates the bounds. */
    public TextSpan {
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("Invalid span [" + start + ", " + end + ")");
        }
    }

    /**
     * Whether a token's range falls (partly) in this span; an empty token range counts when its
     * position lies inside the span.
     *
     * @param tokenStart the token's first character
     * @param tokenEnd   one past the token's last character
     * @return whether the token belongs to the span
     */
    public boolean covers(int tokenStart, int tokenEnd) {
        if (tokenStart == tokenEnd) {
            return start <= tokenStart && tokenStart < end;
        }
        return tokenStart < end && start < tokenEnd;
    }
}
