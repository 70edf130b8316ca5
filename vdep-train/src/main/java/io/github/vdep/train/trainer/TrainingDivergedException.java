package io.github.vdep.train.trainer;

/** Thrown when more steps than allowed had a non-finite loss or gradient. */
public class TrainingDivergedException extends RuntimeException {
    public TrainingDivergedException(String message) {
        super(message);
    }
}
