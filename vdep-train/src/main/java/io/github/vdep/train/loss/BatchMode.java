package io.github.vdep.train.loss;

import java.util.Arrays;

/**
 * The objective of one batch: VDEP (text + alpha * image loss), LLaVA (text loss only), or mixed
 * (per-sample policy: the image loss averages over the VDEP samples only).
 *
 * @param kind the batch-level mode
 * @param vdepSamples for each sample, whether its image loss counts
 */
public record BatchMode(Kind kind, boolean[] vdepSamples) {
    public enum Kind {
        VDEP, LLAVA, MIXED;

        /** The name written to metrics.jsonl: vdep, llava or mixed. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public static BatchMode vdep(int batchSize) {
        boolean[] all = new boolean[batchSize];
        Arrays.fill(all, true);
        return new BatchMode(Kind.VDEP, all);
    }

    public static BatchMode llava(int batchSize) {
        return new BatchMode(Kind.LLAVA, new boolean[batchSize]);
    }

    /** Whether any sample carries the image loss. */
    public boolean anyVdep() {
        for (boolean b : vdepSamples) {
            if (b) {
                return true;
            }
        }
        return false;
    }
}
