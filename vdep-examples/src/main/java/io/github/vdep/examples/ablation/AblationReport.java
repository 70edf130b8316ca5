package io.github.vdep.examples.ablation;

import io.github.vdep.train.ablation.PairedAblation;
import io.github.vdep.train.ablation.PairedDifference;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.renderer.category.StatisticalBarRenderer;
import org.jfree.data.statistics.DefaultStatisticalCategoryDataset;

/** The ablation's table (markdown) and error-bar chart of the paired differences. */
public final class AblationReport {
    private AblationReport() {
    }

    /**
     * How a metric is shown: its label, whether it is a fraction shown in percent (differences in
     * percentage points), and whether higher is better.
     */
    public record MetricFormat(String label, boolean percent, boolean higherIsBetter) {
        String value(double v) {
            if (!Double.isFinite(v)) {
                return "n/a";
            }
            return percent ? String.format(Locale.ROOT, "%.1f%%", 100 * v) : String.format(Locale.ROOT, "%.4f", v);
        }

        String diff(double v) {
            if (!Double.isFinite(v)) {
                return "n/a";
            }
            return percent ? String.format(Locale.ROOT, "%+.1f pp", 100 * v) : String.format(Locale.ROOT, "%+.4f", v);
        }
    }

    /**
     * A markdown table: per non-baseline arm and metric, both means over the seeds, the mean
     * paired difference with its sd and 95% t-interval, and the per-seed differences.
     */
    public static String table(PairedAblation a, Map<String, MetricFormat> metrics) {
        StringBuilder md = new StringBuilder();
        String base = a.baseline();
        md.append("| arm | metric | ").append(base).append(" (mean) | arm (mean) | difference, mean | sd | 95% t-interval | per seed |\n");
        md.append("|---|---|---|---|---|---|---|---|\n");
        for (String arm : a.arms()) {
            if (arm.equals(base)) {
                continue;
            }
            for (Map.Entry<String, MetricFormat> m : metrics.entrySet()) {
                PairedDifference d = a.difference(arm, m.getKey());
                if (d == null) {
                    continue;
                }
                MetricFormat f = m.getValue();
                StringBuilder per = new StringBuilder();
                for (double v : d.differences()) {
                    per.append(per.length() == 0 ? "" : ", ").append(f.diff(v));
                }
                String interval = Double.isFinite(d.low()) ? "[" + f.diff(d.low()) + ", " + f.diff(d.high()) + "]" + (d.excludesZero() ? " *" : "") : "n/a (1 seed)";
                String sd = !Double.isFinite(d.sd()) ? "n/a" : f.percent() ? String.format(Locale.ROOT, "%.1f pp", 100 * d.sd()) : String.format(Locale.ROOT, "%.4f", d.sd());
                md.append("| ").append(arm).append(" | ").append(f.label()).append(" | ").append(f.value(a.mean(base, m.getKey()))).append(" | ")
                        .append(f.value(a.mean(arm, m.getKey()))).append(" | ").append(f.diff(d.mean())).append(" | ").append(sd).append(" | ")
                        .append(interval).append(" | ").append(per).append(" |\n");
            }
        }
        md.append("\nDifferences are arm minus ").append(base).append(", paired by seed (same initialisation and data order); n = ")
                .append(a.seeds().size()).append(" seeds (").append(a.seeds().stream().map(String::valueOf).reduce((x, y) -> x + ", " + y).orElse(""))
                .append("). The interval is mean +- t(0.975, n-1) sd / sqrt(n); * marks an interval that excludes 0.\n");
        return md.toString();
    }

    /**
     * An error-bar chart of the mean paired differences (percentage points) of the percent
     * metrics, one bar group per metric and one bar per arm, whiskers the 95% t-interval.
     */
    public static void chart(PairedAblation a, Map<String, MetricFormat> metrics, Path png) throws IOException {
        DefaultStatisticalCategoryDataset data = new DefaultStatisticalCategoryDataset();
        for (String arm : a.arms()) {
            if (arm.equals(a.baseline())) {
                continue;
            }
            for (Map.Entry<String, MetricFormat> m : metrics.entrySet()) {
                PairedDifference d = a.difference(arm, m.getKey());
                if (d == null || !m.getValue().percent()) {
                    continue;
                }
                double half = Double.isFinite(d.high()) ? 100 * (d.high() - d.mean()) : 0;
                data.add(100 * d.mean(), half, arm, m.getValue().label());
            }
        }
        JFreeChart chart = ChartFactory.createBarChart("Paired difference vs " + a.baseline() + " (mean over " + a.seeds().size()
                + " seeds, 95% t-interval)", "metric", "percentage points", data, PlotOrientation.VERTICAL, true, false, false);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        StatisticalBarRenderer renderer = new StatisticalBarRenderer();
        renderer.setErrorIndicatorPaint(Color.BLACK);
        Color[] colours = {new Color(214, 39, 40), new Color(44, 160, 44), new Color(148, 103, 189), new Color(255, 127, 14), new Color(31, 119, 180)};
        for (int i = 0; i < data.getRowCount(); i++) {
            renderer.setSeriesPaint(i, colours[i % colours.length]);
        }
        plot.setRenderer(renderer);
        plot.addRangeMarker(new ValueMarker(0, Color.BLACK, new java.awt.BasicStroke(1f)));
        plot.getDomainAxis().setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 900, 560);
    }

    /** The metrics of {@code formats} that appear in the ablation, in the formats' order. */
    public static Map<String, MetricFormat> present(PairedAblation a, Map<String, MetricFormat> formats) {
        Map<String, MetricFormat> m = new java.util.LinkedHashMap<>();
        List<String> recorded = a.metrics();
        formats.forEach((k, v) -> {
            if (recorded.contains(k)) {
                m.put(k, v);
            }
        });
        return m;
    }
}
