package io.github.vdep.train.trainer;

import io.github.vdep.train.data.DataPosition;

/**
 * What a checkpoint records besides weights and optimizer moments.
 *
 * @param step optimizer steps completed
 * @param position the data stream position after the last consumed batch
 * @param badSteps steps skipped for non-finite values so far
 * @param seed the run's seed (data order and random mode decisions derive from it)
 * @param optimizer optimizer name
 * @param alphaState the adaptive alpha policy's state (empty for a fixed alpha)
 */
public record TrainerState(long step, DataPosition position, int badSteps, long seed, String optimizer, java.util.Map<String, Double> alphaState) {
    public TrainerState {
        alphaState = java.util.Map.copyOf(alphaState);
    }

    /** A state without alpha policy state. */
    public TrainerState(long step, DataPosition position, int badSteps, long seed, String optimizer) {
        this(step, position, badSteps, seed, optimizer, java.util.Map.of());
    }
}
