package io.github.vdep.train.data;

import java.util.OptionalInt;

/**
 * A text tokenizer as the data pipeline needs it: plain encoding without special tokens (the
 * templates add BOS and EOS themselves), character offsets for label masking, and the special
 * token ids. Implementations must be safe for concurrent encoding from several threads.
 */
public interface TextTokenizer {

    /**
     * Encodes text without adding special tokens (no BOS/EOS); special tokens written in the text
     * (such as {@code </s>}) are recognised.
     *
     * @param text the text
     * @return the token ids
     */
    int[] encode(String text);

    /**
     * Encodes like {@link #encode(String)} and reports each token's character range.
     *
     * @param text the text
     * @return ids and UTF-16 offsets into {@code text}
     */
    TokenSpans encodeWithOffsets(String text);

    /**
     * Decodes ids back to text, keeping special tokens.
     *
     * @param ids token ids of this vocabulary
     * @return the text
     */
    String decode(int[] ids);

    /** @return the beginning-of-sequence id ({@code <s>} for LLaMA) */
    int bosId();

    /** @return the end-of-sequence id ({@code </s>} for LLaMA) */
    int eosId();

    /** @return the id used to right-pad batches */
    int padId();

    /** @return the number of ids (largest id + 1, added tokens included) */
    int vocabSize();

    /**
     * Looks a token up in the vocabulary (added tokens included).
     *
     * @param token the token string, e.g. {@code "<image>"}
     * @return its id, or empty when the vocabulary has no such token
     */
    OptionalInt tokenId(String token);
}
