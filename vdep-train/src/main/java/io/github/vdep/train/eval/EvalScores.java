package io.github.vdep.train.eval;

import java.util.Map;
import java.util.Objects;

/**
 * The summary of an evaluation run ({@code scores.json}).
 *
 * @param template         the conversation template used
 * @param records          records considered (after the limit)
 * @param evaluated        records scored
 * @param skipped          records that could not be used, by reason
 * @param correct          generated answers that match their reference exactly (normalised)
 * @param tokens           teacher-forced statistics over the references' supervised tokens
 */
public record EvalScores(String template, int records, int evaluated, Map<String, Integer> skipped, int correct, TokenStats tokens) {

    /** Validates and freezes the components. */
    public EvalScores {
        Objects.requireNonNull(template, "template");
        skipped = Map.copyOf(skipped);
        Objects.requireNonNull(tokens, "tokens");
    }

    /** @return the number of skipped records */
    public int skippedCount() {
        return skipped.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** @return exact-match accuracy over the evaluated records (NaN when none) */
    public double exactMatch() {
        return evaluated == 0 ? Double.NaN : (double) correct / evaluated;
    }

    /** @return teacher-forced per-token accuracy */
    public double tokenAccuracy() {
        return tokens.accuracy();
    }

    /** @return teacher-forced perplexity, {@code exp(mean NLL)} */
    public double perplexity() {
        return tokens.perplexity();
    }
}
