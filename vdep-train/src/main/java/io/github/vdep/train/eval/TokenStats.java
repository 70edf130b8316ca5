package io.github.vdep.train.eval;

/**
 * Teacher-forced statistics over supervised tokens: how many, how many the model ranks first,
 * and their summed negative log-likelihood (natural log).
 *
 * @param tokens  supervised tokens scored
 * @param correct tokens whose label is the argmax of the logits
 * @param nllSum  the sum of {@code -log p(label)}
 */
public record TokenStats(long tokens, long correct, double nllSum) {

    /** No tokens. */
    public static final TokenStats EMPTY = new TokenStats(0, 0, 0);

    /**
     * @param other more statistics
     * @return both together
     */
    public TokenStats plus(TokenStats other) {
        return new TokenStats(tokens + other.tokens, correct + other.correct, nllSum + other.nllSum);
    }

    /** @return the fraction of tokens predicted right (NaN without tokens) */
    public double accuracy() {
        return tokens == 0 ? Double.NaN : (double) correct / tokens;
    }

    /** @return the mean negative log-likelihood per token (NaN without tokens) */
    public double meanNll() {
        return tokens == 0 ? Double.NaN : nllSum / tokens;
    }

    /** @return {@code exp(mean NLL)} (NaN without tokens) */
    public double perplexity() {
        return Math.exp(meanNll());
    }
}
