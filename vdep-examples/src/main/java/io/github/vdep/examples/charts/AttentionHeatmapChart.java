package io.github.vdep.examples.charts;

import io.github.vdep.train.infer.AttentionMapRenderer;
import java.awt.Color;
import java.awt.Font;
import java.awt.image.BufferedImage;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.LookupPaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.xy.DefaultXYZDataset;

/**
 * An attention map as a JFreeChart block heatmap over the image: one block per patch (no
 * smoothing, so the picture shows exactly the grid the model attends over), blue to red from the
 * layer's smallest to largest value, with a colour legend.
 */
public final class AttentionHeatmapChart implements AttentionMapRenderer.Overlay {
    private static final int LEGEND_HEIGHT = 46;
    private static final int STEPS = 64;
    private final int size;
    private final float opacity;

    /**
     * @param size    side of the image area in pixels
     * @param opacity heatmap opacity in [0, 1]
     */
    public AttentionHeatmapChart(int size, double opacity) {
        this.size = size;
        this.opacity = (float) opacity;
    }

    @Override
    public BufferedImage draw(BufferedImage image, double[][] grid, String title) {
        int rows = grid.length;
        int cols = grid[0].length;
        double[][] series = new double[3][rows * cols];
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int i = r * cols + c;
                series[0][i] = c + 0.5;
                series[1][i] = rows - r - 0.5; // row 0 at the top, as in the image
                series[2][i] = grid[r][c];
                min = Math.min(min, grid[r][c]);
                max = Math.max(max, grid[r][c]);
            }
        }
        if (max <= min) {
            max = min + 1e-12;
        }
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries("attention", series);
        LookupPaintScale scale = new LookupPaintScale(min, max, Color.GRAY);
        for (int k = 0; k < STEPS; k++) {
            double t = (double) k / (STEPS - 1);
            scale.add(min + t * (max - min) * 0.999999, jet(t));
        }
        XYBlockRenderer renderer = new XYBlockRenderer();
        renderer.setBlockWidth(1.0);
        renderer.setBlockHeight(1.0);
        renderer.setBlockAnchor(RectangleAnchor.CENTER);
        renderer.setPaintScale(scale);
        NumberAxis x = hiddenAxis(cols);
        NumberAxis y = hiddenAxis(rows);
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundImage(image);
        plot.setBackgroundImageAlpha(1f);
        plot.setForegroundAlpha(opacity);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        plot.setOutlineVisible(false);
        plot.setInsets(RectangleInsets.ZERO_INSETS);
        plot.setAxisOffset(RectangleInsets.ZERO_INSETS);
        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 12), plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        NumberAxis legendAxis = new NumberAxis();
        legendAxis.setRange(min, max);
        legendAxis.setTickLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 9));
        legendAxis.setNumberFormatOverride(new java.text.DecimalFormat("0.###E0"));
        PaintScaleLegend legend = new PaintScaleLegend(scale, legendAxis);
        legend.setPosition(RectangleEdge.BOTTOM);
        legend.setStripWidth(8);
        legend.setMargin(new RectangleInsets(2, 22, 2, 22)); // room for the end tick labels, which are centred on the strip's ends
        chart.addSubtitle(legend);
        return chart.createBufferedImage(size, size + LEGEND_HEIGHT);
    }

    private static NumberAxis hiddenAxis(int cells) {
        NumberAxis axis = new NumberAxis();
        axis.setRange(0, cells);
        axis.setVisible(false);
        return axis;
    }

    /** Blue (low) through cyan, yellow to red (high). */
    static Color jet(double t) {
        double r = clamp(1.5 - Math.abs(4 * t - 3));
        double g = clamp(1.5 - Math.abs(4 * t - 2));
        double b = clamp(1.5 - Math.abs(4 * t - 1));
        return new Color((float) r, (float) g, (float) b);
    }

    private static double clamp(double v) {
        return Math.max(0, Math.min(1, v));
    }
}
