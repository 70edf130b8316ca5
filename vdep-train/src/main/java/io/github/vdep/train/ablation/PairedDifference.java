package io.github.vdep.train.ablation;

import java.util.Arrays;

/**
 * The paired differences (arm minus baseline, seed by seed) of one metric, summarised: mean,
 * sample standard deviation (n - 1), and the two-sided 95% Student-t interval of the mean,
 * {@code mean +- t(0.975, n - 1) * sd / sqrt(n)}. With one seed the sd and interval are NaN.
 *
 * @param differences the per-seed differences, in seed order
 */
public record PairedDifference(double[] differences, double mean, double sd, double low, double high) {
    /** The confidence level of the interval. */
    public static final double LEVEL = 0.95;

    /** Summarises per-seed differences (NaN entries are not allowed: a seed without a value cannot be paired). */
    public static PairedDifference of(double[] differences) {
        int n = differences.length;
        if (n == 0) {
            throw new IllegalArgumentException("paired difference: no seeds");
        }
        for (double d : differences) {
            if (!Double.isFinite(d)) {
                throw new IllegalArgumentException("paired difference: a seed's difference is " + d + " " + Arrays.toString(differences));
            }
        }
        double mean = Arrays.stream(differences).sum() / n;
        if (n == 1) {
            return new PairedDifference(differences.clone(), mean, Double.NaN, Double.NaN, Double.NaN);
        }
        double ss = 0;
        for (double d : differences) {
            ss += (d - mean) * (d - mean);
        }
        double sd = Math.sqrt(ss / (n - 1));
        double half = StudentT.quantile(0.5 + LEVEL / 2, n - 1) * sd / Math.sqrt(n);
        return new PairedDifference(differences.clone(), mean, sd, mean - half, mean + half);
    }

    public int n() {
        return differences.length;
    }

    /** Whether the interval excludes 0 (false when there is no interval). */
    public boolean excludesZero() {
        return low > 0 || high < 0;
    }
}
