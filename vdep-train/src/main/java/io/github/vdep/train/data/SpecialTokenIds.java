package io.github.vdep.train.data;

import java.util.Objects;
import java.util.OptionalInt;

/**
 * Explicit special token ids for {@link HfTokenizer}; an empty value means "take it from the
 * tokenizer files".
 *
 * @param bos the beginning-of-sequence id
 * @param eos the end-of-sequence id
 * @param pad the padding id
 */
public record SpecialTokenIds(OptionalInt bos, OptionalInt eos, OptionalInt pad) {

    /** Every id comes from the tokenizer files. */
    public static final SpecialTokenIds AUTO = new SpecialTokenIds(OptionalInt.empty(), OptionalInt.empty(),
            OptionalInt.empty());

    /** Rejects nulls. */
    public SpecialTokenIds {
        Objects.requireNonNull(bos, "bos");
        Objects.requireNonNull(eos, "eos");
        Objects.requireNonNull(pad, "pad");
    }

    /**
     * @param bos the beginning-of-sequence id
     * @param eos the end-of-sequence id
     * @param pad the padding id
     * @return all three ids set explicitly
     */
    public static SpecialTokenIds of(int bos, int eos, int pad) {
        return new SpecialTokenIds(OptionalInt.of(bos), OptionalInt.of(eos), OptionalInt.of(pad));
    }

    /**
     * @param padId the padding id
     * @return these settings with an explicit padding id
     */
    public SpecialTokenIds withPad(int padId) {
        return new SpecialTokenIds(bos, eos, OptionalInt.of(padId));
    }
}
