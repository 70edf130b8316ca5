package io.github.vdep.train.infer;

import java.util.Arrays;
import java.util.Objects;

/**
 * What {@link Generator} produced.
 *
 * @param tokens     the generated ids, without the prompt and without the final EOS
 * @param stopReason why generation ended
 */
public record GenerationResult(int[] tokens, StopReason stopReason) {

    /** Why generation ended. */
    public enum StopReason {
        /** The model produced the EOS id. */
        EOS,
        /** {@link GenerationConfig#maxNewTokens()} tokens were generated. */
        MAX_NEW_TOKENS,
        /** The sequence reached the language model's maximum number of positions. */
        CONTEXT_FULL
    }

    /** Validates the components. */
    public GenerationResult {
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(stopReason, "stopReason");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GenerationResult r && Arrays.equals(tokens, r.tokens) && stopReason == r.stopReason;
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(tokens) + stopReason.hashCode();
    }

    @Override
    public String toString() {
        return "GenerationResult[tokens=" + Arrays.toString(tokens) + ", stopReason=" + stopReason + "]";
    }
}
