package io.github.vdep.examples.ablation;

import io.github.vdep.train.ablation.PairedAblation;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs every arm with every seed, seed by seed (so an interrupted ablation still holds complete
 * pairs), each run in {@code out/ARM/seed-S/}, and collects the metrics each run returns into a
 * {@link PairedAblation}; {@code out/results.json} is rewritten after each run.
 */
public final class AblationRunner {
    /** Trains and evaluates one arm with one seed in {@code dir}; returns its metrics (NaN or absent: not measured). */
    @FunctionalInterface
    public interface Run {
        Map<String, Double> run(String arm, List<String> options, long seed, Path dir) throws Exception;
    }

    private AblationRunner() {
    }

    /** The seeds {@code base, base + 1, ..., base + n - 1}. */
    public static List<Long> seeds(int n, long base) {
        if (n < 1) {
            throw new IllegalArgumentException("--seeds must be >= 1, got " + n);
        }
        List<Long> s = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            s.add(base + i);
        }
        return s;
    }

    /**
     * Parses arm specs {@code NAME=OPTIONS} (options separated by spaces, no quoting), e.g.
     * {@code vdep=--alpha 1 --mode-ratio 1:1}.
     */
    public static Map<String, List<String>> parseArms(List<String> specs) {
        Map<String, List<String>> arms = new LinkedHashMap<>();
        for (String spec : specs) {
            int eq = spec.indexOf('=');
            String name = eq < 0 ? spec.trim() : spec.substring(0, eq).trim();
            if (name.isEmpty() || !name.matches("[A-Za-z0-9_.-]+")) {
                throw new IllegalArgumentException("--arm '" + spec + "': expected NAME=OPTIONS with a name of letters, digits, '_', '.' or '-'");
            }
            if (arms.containsKey(name)) {
                throw new IllegalArgumentException("--arm '" + name + "' is given twice");
            }
            String opts = eq < 0 ? "" : spec.substring(eq + 1).trim();
            arms.put(name, opts.isEmpty() ? List.of() : List.of(opts.split("\\s+")));
        }
        return arms;
    }

    /** Runs the ablation; the first arm is the baseline. */
    public static PairedAblation run(Map<String, List<String>> arms, List<Long> seeds, Path out, Run run, PrintStream console) throws Exception {
        if (arms.size() < 2) {
            throw new IllegalArgumentException("an ablation needs at least two arms (the first is the baseline), got " + arms.keySet());
        }
        PairedAblation ablation = new PairedAblation(arms.keySet().iterator().next(), seeds);
        arms.forEach((name, opts) -> ablation.arm(name, String.join(" ", opts)));
        for (long seed : seeds) {
            for (Map.Entry<String, List<String>> arm : arms.entrySet()) {
                console.printf("%n== %s, seed %d (%s) ==%n", arm.getKey(), seed, String.join(" ", arm.getValue()));
                Path dir = out.resolve(arm.getKey()).resolve("seed-" + seed);
                Map<String, Double> metrics = run.run(arm.getKey(), arm.getValue(), seed, dir);
                metrics.forEach((metric, value) -> ablation.record(arm.getKey(), seed, metric, value == null ? Double.NaN : value));
                write(ablation, out);
            }
        }
        return ablation;
    }

    private static void write(PairedAblation ablation, Path out) throws IOException {
        ablation.writeJson(out.resolve("results.json"));
    }
}
