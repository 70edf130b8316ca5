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
 */
public record TrainerState(long step, DataPosition position, int badSteps, long seed, String optimizer) {
}
