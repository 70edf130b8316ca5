package io.github.vdep.train.data;

import java.util.Objects;

/**
 * Token ids of a text together with the character range each token came from.
 *
 * <p>Offsets are Java {@code char} (UTF-16) indices into the encoded string, end exclusive. A
 * token the tokenizer could not map to a range gets an empty range at the end of the previous
 * token.
 *
 * @param ids    token ids
 * @param starts start offset of each token
 * @param ends   end offset (exclusive) of each token
 */
public record TokenSpans(int[] ids, int[] starts, int[] ends) {

    /** Validates that the three arrays have one entry per token. */
    public TokenSpans {
        Objects.requireNonNull(ids, "ids");
        Objects.requireNonNull(starts, "starts");
        Objects.requireNonNull(ends, "ends");
        if (starts.length != ids.length || ends.length != ids.length) {
            throw new IllegalArgumentException("ids, starts and ends differ in length: " + ids.length + ", "
                    + starts.length + ", " + ends.length);
        }
    }

    /** @return the number of tokens */
    public int size() {
        return ids.length;
    }
}
