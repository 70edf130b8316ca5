package io.github.vdep.train.optim;

import java.util.Locale;

/**
 * Learning rate per optimizer step, as Hugging Face's Trainer computes it: linear warmup over
 * {@code ceil(warmupRatio * totalSteps)} steps, then cosine decay to 0 (or constant). The
 * Trainer steps the scheduler after the optimizer, so step s (1-based) uses the value at s - 1:
 * with warmup, the first step runs at learning rate 0, exactly as in LLaVA's runs.
 */
public record LrSchedule(Kind kind, double peak, long totalSteps, long warmupSteps) {
    public enum Kind {
        COSINE, CONSTANT;

        public static Kind parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "cosine" -> COSINE;
                case "constant" -> CONSTANT;
                default -> throw new IllegalArgumentException("unknown learning-rate schedule '" + s + "' (cosine or constant)");
            };
        }
    }

    /** A schedule whose warmup is {@code ceil(warmupRatio * totalSteps)} steps. */
    public static LrSchedule of(Kind kind, double peak, long totalSteps, double warmupRatio) {
        if (warmupRatio < 0 || warmupRatio > 1) {
            throw new IllegalArgumentException("warmup ratio " + warmupRatio + " is outside [0, 1]");
        }
        return new LrSchedule(kind, peak, totalSteps, (long) Math.ceil(warmupRatio * totalSteps));
    }

    /** The learning rate of optimizer step {@code step} (1-based). */
    public double at(long step) {
        long s = step - 1;
        if (s < warmupSteps) {
            return peak * s / Math.max(1, warmupSteps);
        }
        if (kind == Kind.CONSTANT) {
            return peak;
        }
        double progress = (double) (s - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        return peak * Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * progress)));
    }
}
