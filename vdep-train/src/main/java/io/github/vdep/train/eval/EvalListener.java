package io.github.vdep.train.eval;

/** Follows an evaluation run record by record (e.g. to draw a progress bar). */
@FunctionalInterface
public interface EvalListener {

    /** Ignores everything. */
    EvalListener NONE = (done, total, soFar) -> { };

    /**
     * Called after each record, evaluated or skipped.
     *
     * @param done   records handled so far
     * @param total  records to handle
     * @param soFar  the scores so far
     */
    void onRecord(int done, int total, EvalScores soFar);
}
