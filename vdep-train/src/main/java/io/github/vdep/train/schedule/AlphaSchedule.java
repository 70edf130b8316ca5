package io.github.vdep.train.schedule;

import java.util.Locale;

/**
 * The image-loss weight alpha over training. The paper uses a constant; adapting alpha during
 * training is its stated future work, so ramps and two adaptive policies are offered too.
 * Spec strings:
 * <ul>
 * <li>{@code 1.0}: constant;</li>
 * <li>{@code linear:A0:A1}, {@code cosine:A0:A1}: from A0 at the first step to A1 at the last;</li>
 * <li>{@code ratio:R} or {@code ratio:R:A0}: loss ratio, alpha_t = R * m_text / m_image, with
 *     m the bias-corrected moving averages (momentum {@value AlphaPolicy#MOMENTUM}) of the
 *     text and image losses of the steps before t; A0 (default 1) until an image loss was seen;</li>
 * <li>{@code gradnorm:R} or {@code gradnorm:R:K}: gradient balance, alpha_t = R * n_text / n_image
 *     with n the moving averages of the two losses' gradient norms on the parameters both reach,
 *     measured exactly (two forward/backward passes) on every K-th VDEP step (default every one),
 *     including the current one.</li>
 * </ul>
 * The schedule is the immutable configuration; {@link #policy()} makes the stateful
 * {@link AlphaPolicy} a training run uses.
 *
 * @param kind constant, linear, cosine, ratio or gradnorm
 * @param start the constant, a ramp's first value, or an adaptive policy's value before its first measurement
 * @param end a ramp's last value (equal to start otherwise)
 * @param target the adaptive policies' R (0 for the others)
 * @param every gradnorm: measure on every K-th VDEP step (0 for the others)
 */
public record AlphaSchedule(String kind, double start, double end, double target, int every) {

    public AlphaSchedule {
        if (start < 0 || end < 0 || target < 0) {
            throw new IllegalArgumentException("alpha must be non-negative");
        }
        if (kind.equals("gradnorm") && every < 1) {
            throw new IllegalArgumentException("alpha gradnorm: the measuring interval must be >= 1");
        }
    }

    public static AlphaSchedule constant(double alpha) {
        return new AlphaSchedule("constant", alpha, alpha, 0, 0);
    }

    /** The loss-ratio policy with target ratio {@code r} and first value {@code initial}. */
    public static AlphaSchedule lossRatio(double r, double initial) {
        return new AlphaSchedule("ratio", initial, initial, r, 0);
    }

    /** The gradient-balancing policy with target ratio {@code r}, measuring every {@code every}-th VDEP step. */
    public static AlphaSchedule gradNorm(double r, int every) {
        return new AlphaSchedule("gradnorm", 1.0, 1.0, r, every);
    }

    /** Parses a spec string (see the class description). */
    public static AlphaSchedule parse(String spec) {
        String[] p = spec.trim().toLowerCase(Locale.ROOT).split(":");
        try {
            if (p.length == 1) {
                return constant(Double.parseDouble(p[0]));
            }
            if (p.length == 3 && (p[0].equals("linear") || p[0].equals("cosine"))) {
                return new AlphaSchedule(p[0], Double.parseDouble(p[1]), Double.parseDouble(p[2]), 0, 0);
            }
            if ((p.length == 2 || p.length == 3) && p[0].equals("ratio")) {
                return lossRatio(Double.parseDouble(p[1]), p.length == 3 ? Double.parseDouble(p[2]) : 1.0);
            }
            if ((p.length == 2 || p.length == 3) && p[0].equals("gradnorm")) {
                return gradNorm(Double.parseDouble(p[1]), p.length == 3 ? Integer.parseInt(p[2]) : 1);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("alpha '" + spec + "' is not a number, linear:A0:A1, cosine:A0:A1, ratio:R[:A0] or gradnorm:R[:K]");
    }

    /** Whether alpha depends on what training measures (the policy then has state to checkpoint). */
    public boolean adaptive() {
        return kind.equals("ratio") || kind.equals("gradnorm");
    }

    /**
     * Alpha at optimizer step {@code step} (1-based) of {@code totalSteps} for the fixed kinds; an
     * adaptive policy's starting value for the others.
     */
    public double at(long step, long totalSteps) {
        double progress = totalSteps <= 1 ? 1.0 : (double) (step - 1) / (totalSteps - 1);
        progress = Math.min(1.0, Math.max(0.0, progress));
        return switch (kind) {
            case "linear" -> start + (end - start) * progress;
            case "cosine" -> end + (start - end) * 0.5 * (1 + Math.cos(Math.PI * progress));
            default -> start;
        };
    }

    /** A new policy following this schedule, in its initial state. */
    public AlphaPolicy policy() {
        return new AlphaPolicy(this);
    }

    @Override
    public String toString() {
        return switch (kind) {
            case "constant" -> Double.toString(start);
            case "ratio" -> "ratio:" + target + ":" + start;
            case "gradnorm" -> "gradnorm:" + target + ":" + every;
            default -> kind + ":" + start + ":" + end;
        };
    }
}
