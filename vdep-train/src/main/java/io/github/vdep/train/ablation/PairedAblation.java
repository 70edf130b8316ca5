package io.github.vdep.train.ablation;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The results of a paired multi-seed ablation: every arm trained with the same seeds (so the
 * same initialisation and data order per seed across arms), one value per (arm, seed, metric).
 * Arms are compared with the baseline seed by seed ({@link PairedDifference}), which removes
 * the seed-to-seed variation the arms share. {@link #writeJson(Path)} writes {@code results.json}.
 *
 * <pre>{@code
 * PairedAblation a = new PairedAblation("baseline", List.of(1L, 2L, 3L));
 * a.record("baseline", 1, "exact_match", 0.55);   // ... every arm, seed and metric
 * PairedDifference d = a.difference("vdep", "exact_match");
 * }</pre>
 */
public final class PairedAblation {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String baseline;
    private final List<Long> seeds;
    /** arm -> metric -> seed -> value */
    private final Map<String, Map<String, Map<Long, Double>>> values = new LinkedHashMap<>();
    private final Map<String, String> armSettings = new LinkedHashMap<>();

    public PairedAblation(String baseline, List<Long> seeds) {
        if (seeds.isEmpty() || new LinkedHashSet<>(seeds).size() != seeds.size()) {
            throw new IllegalArgumentException("an ablation needs distinct seeds, got " + seeds);
        }
        this.baseline = baseline;
        this.seeds = List.copyOf(seeds);
    }

    public String baseline() {
        return baseline;
    }

    public List<Long> seeds() {
        return seeds;
    }

    /** Declares an arm (in report order) with a description of its settings. */
    public void arm(String name, String settings) {
        armSettings.put(name, settings);
        values.computeIfAbsent(name, k -> new LinkedHashMap<>());
    }

    /** The settings an arm was declared with ("" if none). */
    public String settings(String arm) {
        return armSettings.getOrDefault(arm, "");
    }

    /** The arms, in the order declared or first recorded. */
    public List<String> arms() {
        return new ArrayList<>(values.keySet());
    }

    /** The metrics, in the order first recorded. */
    public List<String> metrics() {
        Set<String> m = new LinkedHashSet<>();
        values.values().forEach(byMetric -> m.addAll(byMetric.keySet()));
        return new ArrayList<>(m);
    }

    /** Records one run's value of one metric. */
    public void record(String arm, long seed, String metric, double value) {
        if (!seeds.contains(seed)) {
            throw new IllegalArgumentException("seed " + seed + " is not one of the ablation's seeds " + seeds);
        }
        values.computeIfAbsent(arm, k -> new LinkedHashMap<>()).computeIfAbsent(metric, k -> new LinkedHashMap<>()).put(seed, value);
    }

    /** The value of a metric for an arm and seed (NaN if not recorded). */
    public double value(String arm, long seed, String metric) {
        Double v = values.getOrDefault(arm, Map.of()).getOrDefault(metric, Map.of()).get(seed);
        return v == null ? Double.NaN : v;
    }

    /** Mean of a metric over the seeds for an arm. */
    public double mean(String arm, String metric) {
        return seeds.stream().mapToDouble(s -> value(arm, s, metric)).average().orElse(Double.NaN);
    }

    /**
     * The paired difference (arm minus baseline) of a metric, over the seeds both have a finite
     * value for; null when there is no such seed.
     */
    public PairedDifference difference(String arm, String metric) {
        List<Double> d = new ArrayList<>();
        for (long s : seeds) {
            double a = value(arm, s, metric);
            double b = value(baseline, s, metric);
            if (Double.isFinite(a) && Double.isFinite(b)) {
                d.add(a - b);
            }
        }
        return d.isEmpty() ? null : PairedDifference.of(d.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /**
     * Writes {@code results.json}: the seeds, the baseline, per arm its settings and per metric
     * the per-seed values and mean, and per non-baseline arm and metric the paired difference
     * (per-seed differences, mean, sd, 95% t-interval, n).
     */
    public void writeJson(Path file) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("baseline", baseline);
        ArrayNode s = root.putArray("seeds");
        seeds.forEach(s::add);
        root.put("confidence", PairedDifference.LEVEL);
        root.put("interval", "two-sided Student t on the paired differences: mean +- t(0.975, n-1) * sd / sqrt(n)");
        ObjectNode arms = root.putObject("arms");
        for (String arm : arms()) {
            ObjectNode a = arms.putObject(arm);
            a.put("settings", armSettings.getOrDefault(arm, ""));
            ObjectNode metrics = a.putObject("metrics");
            for (String metric : metrics()) {
                ObjectNode m = metrics.putObject(metric);
                ObjectNode per = m.putObject("per_seed");
                for (long seed : seeds) {
                    putNumber(per, Long.toString(seed), value(arm, seed, metric));
                }
                putNumber(m, "mean", mean(arm, metric));
            }
            if (!arm.equals(baseline)) {
                ObjectNode diffs = a.putObject("difference_vs_" + baseline);
                for (String metric : metrics()) {
                    PairedDifference d = difference(arm, metric);
                    if (d == null) {
                        continue;
                    }
                    ObjectNode m = diffs.putObject(metric);
                    ArrayNode per = m.putArray("per_seed");
                    for (double v : d.differences()) {
                        per.add(v);
                    }
                    m.put("n", d.n());
                    putNumber(m, "mean", d.mean());
                    putNumber(m, "sd", d.sd());
                    putNumber(m, "ci95_low", d.low());
                    putNumber(m, "ci95_high", d.high());
                }
            }
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
    }

    private static void putNumber(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) {
            o.put(key, v);
        } else {
            o.putNull(key);
        }
    }
}
