package io.github.vdep.train.schedule;

import io.github.vdep.train.loss.BatchMode;
import java.util.SplittableRandom;

/**
 * Decides each batch's objective, VDEP or LLaVA, from a ratio V:L and a {@link ModePolicy}. The
 * decision is a pure function of (step, sample index, seed), so a resumed run makes exactly the
 * decisions an uninterrupted one would.
 */
public final class ModeScheduler {
    private final int vdep;
    private final int llava;
    private final ModePolicy policy;
    private final long seed;

    /**
     * @param vdep the V of the ratio (0 = never VDEP, the plain LLaVA baseline)
     * @param llava the L of the ratio
     */
    public ModeScheduler(int vdep, int llava, ModePolicy policy, long seed) {
        if (vdep < 0 || llava < 0 || vdep + llava == 0) {
            throw new IllegalArgumentException("mode ratio " + vdep + ":" + llava + " needs non-negative parts, not both zero");
        }
        this.vdep = vdep;
        this.llava = llava;
        this.policy = policy;
        this.seed = seed;
    }

    /** Parses a ratio "V:L" such as "1:1" or "0:1". */
    public static int[] parseRatio(String ratio) {
        String[] parts = ratio.split(":");
        try {
            if (parts.length == 2) {
                return new int[] {Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim())};
            }
        } catch (NumberFormatException e) {
            // fall through to the error below
        }
        throw new IllegalArgumentException("mode ratio '" + ratio + "' is not of the form V:L (e.g. 1:1)");
    }

    /** Only LLaVA mode (the baseline). */
    public static ModeScheduler llavaOnly() {
        return new ModeScheduler(0, 1, ModePolicy.ALTERNATING, 0);
    }

    public ModePolicy policy() {
        return policy;
    }

    public String ratio() {
        return vdep + ":" + llava;
    }

    /**
     * The mode of optimizer step {@code step} (1-based) for a batch of {@code batchSize} samples.
     * With gradient accumulation all micro-batches of a step share the batch-level decision;
     * per-sample assignment continues across micro-batches via {@code sampleOffset}.
     */
    public BatchMode modeFor(long step, int batchSize, long sampleOffset) {
        int cycle = vdep + llava;
        switch (policy) {
            case ALTERNATING -> {
                boolean v = Math.floorMod(step - 1, cycle) < vdep;
                return v ? BatchMode.vdep(batchSize) : BatchMode.llava(batchSize);
            }
            case RANDOM -> {
                boolean v = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + step).nextInt(cycle) < vdep;
                return v ? BatchMode.vdep(batchSize) : BatchMode.llava(batchSize);
            }
            default -> {
                boolean[] samples = new boolean[batchSize];
                boolean any = false;
                boolean all = true;
                for (int i = 0; i < batchSize; i++) {
                    samples[i] = Math.floorMod(sampleOffset + i, cycle) < vdep;
                    any |= samples[i];
                    all &= samples[i];
                }
                BatchMode.Kind kind = all ? BatchMode.Kind.VDEP : any ? BatchMode.Kind.MIXED : BatchMode.Kind.LLAVA;
                return new BatchMode(kind, samples);
            }
        }
    }
}
