package io.github.vdep.examples.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** Plots text and image loss against step for several runs (read from their metrics.jsonl) with JFreeChart. */
public final class LossChart {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Color[] COLOURS = {new Color(31, 119, 180), new Color(214, 39, 40), new Color(44, 160, 44), new Color(148, 103, 189)};

    private LossChart() {
    }

    /** One step's losses, the image targets' RMS (null where the step computed no image loss) and alpha. */
    public record Point(long step, double textLoss, Double imageLoss, Double imageTargetRms, double alpha) {
    }

    /** Reads a metrics.jsonl file. */
    public static List<Point> read(Path metrics) throws IOException {
        List<Point> points = new ArrayList<>();
        for (String line : Files.readAllLines(metrics)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n = JSON.readTree(line);
            points.add(new Point(n.get("step").asLong(), n.get("text_loss").asDouble(), number(n.get("image_loss")), number(n.get("image_target_rms")),
                    n.path("alpha").asDouble()));
        }
        return points;
    }

    private static Double number(JsonNode n) {
        return n == null || !n.isNumber() ? null : n.asDouble();
    }

    /**
     * Writes a PNG with two panels' worth of series on one chart: each run's text loss (solid) and
     * image loss (dashed), smoothed with a trailing moving average of {@code window} steps.
     */
    public static void write(Map<String, List<Point>> runs, int window, Path png) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Map.Entry<String, List<Point>> run : runs.entrySet()) {
            data.addSeries(smoothed(run.getKey() + " text loss", run.getValue(), window, false));
            XYSeries img = smoothed(run.getKey() + " image loss", run.getValue(), window, true);
            if (img.getItemCount() > 0) {
                data.addSeries(img);
            }
        }
        JFreeChart chart = ChartFactory.createXYLineChart("Demo: text and image loss (moving average of " + window + " steps)",
                "optimizer step", "loss", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            String key = data.getSeriesKey(i).toString();
            int runIndex = new ArrayList<>(runs.keySet()).indexOf(key.substring(0, key.indexOf(' ')));
            renderer.setSeriesPaint(i, COLOURS[Math.max(0, runIndex) % COLOURS.length]);
            renderer.setSeriesStroke(i, key.endsWith("image loss")
                    ? new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f, new float[] {6f, 4f}, 0f)
                    : new BasicStroke(2f));
        }
        plot.setRenderer(renderer);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 900, 540);
    }

    /** Writes a PNG of each run's alpha against step (the weight each step used; adaptive policies move it). */
    public static void writeAlpha(Map<String, List<Point>> runs, Path png) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Map.Entry<String, List<Point>> run : runs.entrySet()) {
            XYSeries s = new XYSeries(run.getKey() + " alpha");
            run.getValue().forEach(p -> s.add(p.step(), p.alpha()));
            data.addSeries(s);
        }
        JFreeChart chart = ChartFactory.createXYLineChart("Image loss weight alpha per step", "optimizer step", "alpha", data,
                PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesPaint(i, COLOURS[i % COLOURS.length]);
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        plot.setRenderer(renderer);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 900, 400);
    }

    private static XYSeries smoothed(String name, List<Point> points, int window, boolean image) {
        XYSeries s = new XYSeries(name);
        java.util.ArrayDeque<Double> last = new java.util.ArrayDeque<>();
        double sum = 0;
        for (Point p : points) {
            Double v = image ? p.imageLoss() : Double.valueOf(p.textLoss());
            if (v == null || !Double.isFinite(v)) {
                continue;
            }
            last.addLast(v);
            sum += v;
            if (last.size() > window) {
                sum -= last.removeFirst();
            }
            s.add(p.step(), sum / last.size());
        }
        return s;
    }
}
