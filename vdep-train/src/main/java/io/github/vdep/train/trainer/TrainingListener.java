package io.github.vdep.train.trainer;

/** Receives progress from the {@link Trainer} (the command line draws its progress bar from it). */
public interface TrainingListener {
    /** Called once before the first step, with the step the run starts from (0, or the resumed step). */
    default void onStart(long startStep, long totalSteps) {
    }

    /** Called after every optimizer step. */
    default void onStep(StepMetrics metrics) {
    }

    /** Called after a checkpoint is complete. */
    default void onCheckpoint(long step, java.nio.file.Path dir) {
    }

    TrainingListener NONE = new TrainingListener() {
    };
}
