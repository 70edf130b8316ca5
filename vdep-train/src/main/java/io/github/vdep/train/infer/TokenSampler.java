package io.github.vdep.train.infer;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Picks the next token from a row of logits: greedy (argmax) or nucleus (top-p) sampling. */
public final class TokenSampler {

    private TokenSampler() {
    }

    /**
     * @param logits next-token logits
     * @return the index of the largest logit (the lowest index among ties)
     */
    public static int argmax(double[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Nucleus sampling (Holtzman et al., 2019): softmax of {@code logits / temperature}, tokens
     * sorted by probability (ties by index), the shortest prefix whose mass reaches {@code topP}
     * kept (always at least the most probable token), one of them drawn in proportion to its
     * probability. As {@code topP} goes to 0 this is {@link #argmax}.
     *
     * @param logits      next-token logits
     * @param topP        nucleus mass in (0, 1]
     * @param temperature positive temperature
     * @param rng         the random source (advanced by one draw)
     * @return the sampled index
     */
    public static int sampleTopP(double[] logits, double topP, double temperature, SplittableRandom rng) {
        int n = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (double l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[n];
        double z = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            z += p[i];
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
            p[i] /= z;
        }
        Arrays.sort(order, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
        int kept = 0;
        double mass = 0;
        while (kept < n && (kept == 0 || mass < topP)) {
            mass += p[order[kept]];
            kept++;
        }
        double r = rng.nextDouble() * mass;
        for (int k = 0; k < kept; k++) {
            r -= p[order[k]];
            if (r < 0) {
                return order[k];
            }
        }
        return order[kept - 1]; // rounding left r >= 0 after the last kept token
    }
}
