package io.github.vdep.train.schedule;

import java.util.Locale;

/**
 * The image-loss weight alpha over training. The paper uses a constant; adapting alpha during
 * training is its stated future work, so linear and cosine ramps are offered too.
 * Spec strings: {@code 1.0} (constant), {@code linear:A0:A1}, {@code cosine:A0:A1} (from A0 at the
 * first step to A1 at the last).
 */
public record AlphaSchedule(String kind, double start, double end) {

    public AlphaSchedule {
        if (start < 0 || end < 0) {
            throw new IllegalArgumentException("alpha must be non-negative");
        }
    }

    public static AlphaSchedule constant(double alpha) {
        return new AlphaSchedule("constant", alpha, alpha);
    }

    /** Parses a spec string (see the class description). */
    public static AlphaSchedule parse(String spec) {
        String[] p = spec.trim().toLowerCase(Locale.ROOT).split(":");
        try {
            if (p.length == 1) {
                return constant(Double.parseDouble(p[0]));
            }
            if (p.length == 3 && (p[0].equals("linear") || p[0].equals("cosine"))) {
                return new AlphaSchedule(p[0], Double.parseDouble(p[1]), Double.parseDouble(p[2]));
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("alpha '" + spec + "' is not a number, linear:A0:A1 or cosine:A0:A1");
    }

    /** Alpha at optimizer step {@code step} (1-based) of {@code totalSteps}. */
    public double at(long step, long totalSteps) {
        double progress = totalSteps <= 1 ? 1.0 : (double) (step - 1) / (totalSteps - 1);
        progress = Math.min(1.0, Math.max(0.0, progress));
        return switch (kind) {
            case "linear" -> start + (end - start) * progress;
            case "cosine" -> end + (start - end) * 0.5 * (1 + Math.cos(Math.PI * progress));
            default -> start;
        };
    }

    @Override
    public String toString() {
        return kind.equals("constant") ? Double.toString(start) : kind + ":" + start + ":" + end;
    }
}
