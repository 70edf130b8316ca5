package io.github.vdep.train.schedule;

/** How the mode scheduler interleaves VDEP and LLaVA batches. */
public enum ModePolicy {
    /** A fixed cycle: V VDEP batches, then L LLaVA batches (1:1 gives VDEP, LLaVA, VDEP, ...). */
    ALTERNATING,
    /** Each batch is VDEP with probability V / (V + L), seeded per step (so resumes agree). */
    RANDOM,
    /** Within every batch, samples are assigned to VDEP in the ratio V:L. */
    PER_SAMPLE;

    /** Parses {@code alternating | random | per-sample}. */
    public static ModePolicy parse(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT).replace('_', '-')) {
            case "alternating" -> ALTERNATING;
            case "random" -> RANDOM;
            case "per-sample" -> PER_SAMPLE;
            default -> throw new IllegalArgumentException("unknown mode policy '" + s + "' (alternating, random or per-sample)");
        };
    }
}
