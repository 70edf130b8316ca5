package io.github.vdep.train.data;

/**
 * A point in the (shuffled, multi-epoch) data stream: the epoch and how many records of that
 * epoch's order have been consumed. Saved in checkpoints so a resumed run continues with exactly
 * the next batch.
 */
public record DataPosition(int epoch, long consumed) {
    public static final DataPosition START = new DataPosition(0, 0);
}
