package io.github.vdep.train.eval;

/**
 * Evaluation settings.
 *
 * @param maxNewTokens the longest generated answer, in tokens
 * @param limit        evaluate only the first {@code limit} records of the data; 0 for all
 */
public record EvalConfig(int maxNewTokens, int limit) {

    /** Validates the values. */
    public EvalConfig {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("maxNewTokens must be at least 1, got " + maxNewTokens);
        }
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be 0 (all) or positive, got " + limit);
        }
    }

    /** @return 128 new tokens (LLaVA's evaluation default), all records */
    public static EvalConfig defaults() {
        return new EvalConfig(128, 0);
    }
}
