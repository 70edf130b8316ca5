package io.github.vdep.train.data;

import java.util.OptionalInt;

/**
 * A tokenizer wrapper for tests: it records the longest text it was asked to encode, throws (as a
 * native tokenizer may) on text containing {@link #FAILS}, and can be told to fail everywhere.
 */
final class HostileTokenizer implements TextTokenizer {
    /** Text containing this makes encoding throw. */
    static final String FAILS = "TOKENIZERFAILS";

    private final TextTokenizer inner;
    volatile int longest;
    volatile boolean broken;

    HostileTokenizer(TextTokenizer inner) {
        this.inner = inner;
    }

    @Override
    public int[] encode(String text) {
        return encodeWithOffsets(text).ids();
    }

    @Override
    public TokenSpans encodeWithOffsets(String text) {
        synchronized (this) {
            longest = Math.max(longest, text.length());
        }
        if (text.contains(FAILS)) {
            throw new IllegalStateException("the native tokenizer failed");
        }
        return inner.encodeWithOffsets(text);
    }

    @Override
    public String decode(int[] ids) {
        return inner.decode(ids);
    }

    @Override
    public int bosId() {
        if (broken) {
            throw new UnsupportedOperationException("an unexpected failure");
        }
        return inner.bosId();
    }

    @Override
    public int eosId() {
        return inner.eosId();
    }

    @Override
    public int padId() {
        return inner.padId();
    }

    @Override
    public int vocabSize() {
        return inner.vocabSize();
    }

    @Override
    public OptionalInt tokenId(String token) {
        return inner.tokenId(token);
    }
}
