package io.github.vdep.train.infer;

import io.github.vdep.train.data.TextTokenizer;
import java.util.Arrays;

/** Turns generated ids into answer text. */
public final class Answers {

    private Answers() {
    }

    /**
     * Decodes generated ids as Hugging Face's {@code decode(skip_special_tokens=True)} would for
     * LLaVA: BOS, EOS, padding and image token ids are dropped; the text is stripped.
     *
     * @param tokenizer       the tokenizer
     * @param tokens          generated ids
     * @param imageTokenIndex the model's image token id
     * @return the answer text
     */
    public static String decode(TextTokenizer tokenizer, int[] tokens, int imageTokenIndex) {
        int[] kept = Arrays.stream(tokens)
                .filter(t -> t != tokenizer.bosId() && t != tokenizer.eosId() && t != tokenizer.padId() && t != imageTokenIndex)
                .toArray();
        return tokenizer.decode(kept).strip();
    }
}
