package io.github.vdep.train.eval;

import java.util.List;
import java.util.Objects;

/**
 * The outcome of {@link Evaluator#evaluate}.
 *
 * @param scores      the summary
 * @param predictions one per evaluated record, in data order
 */
public record EvalReport(EvalScores scores, List<Prediction> predictions) {

    /** Freezes the components. */
    public EvalReport {
        Objects.requireNonNull(scores, "scores");
        predictions = List.copyOf(predictions);
    }

    /**
     * Exact-match accuracy of a set of predictions.
     *
     * @param predictions scored predictions
     * @return the fraction marked correct (NaN for none)
     */
    public static double accuracy(List<Prediction> predictions) {
        if (predictions.isEmpty()) {
            return Double.NaN;
        }
        return predictions.stream().filter(Prediction::correct).count() / (double) predictions.size();
    }
}
