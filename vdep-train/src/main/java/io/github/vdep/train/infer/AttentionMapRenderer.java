package io.github.vdep.train.infer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Draws {@link AttentionMaps} as heatmaps blended over the input image with plain Java2D, and
 * writes them: {@code layer_NN.png} per layer, {@code layers_grid.png} with all layers, and
 * {@code attention.json} with the raw values.
 *
 * <p>Each layer's map is min-max scaled to the full colour range on its own (so the pattern of a
 * layer that puts little mass on the image stays visible; {@code attention.json} keeps the
 * absolute values), upsampled bilinearly from the patch grid to the image, coloured with a
 * jet-like map (blue low, red high) and alpha-blended over the image.
 */
public final class AttentionMapRenderer {

    private static final Logger LOG = LoggerFactory.getLogger(AttentionMapRenderer.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final int CAPTION_HEIGHT = 18;

    private final int size;
    private final double alpha;
    private final Overlay overlay;
    /** A custom overlay titles its own pictures, so the grid adds no caption bar above them. */
    private final boolean overlayTitles;

    /** Draws one layer's map over the image (the command line plugs in a charting-library renderer). */
    @FunctionalInterface
    public interface Overlay {
        /**
         * @param image the image, already scaled to the map size
         * @param grid  values on the patch grid, {@code [rows][cols]}
         * @param title the layer's caption
         * @return the picture of this layer
         */
        BufferedImage draw(BufferedImage image, double[][] grid, String title);
    }

    /**
     * @param size  side in pixels of each rendered map (the image is scaled to it)
     * @param alpha heatmap opacity in [0, 1]
     */
    public AttentionMapRenderer(int size, double alpha) {
        if (size < 8) {
            throw new IllegalArgumentException("map size must be at least 8 pixels, got " + size);
        }
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
        }
        this.size = size;
        this.alpha = alpha;
        this.overlay = (image, grid, title) -> overlay(image, grid);
        this.overlayTitles = false;
    }

    /**
     * @param size    side in pixels of each map
     * @param overlay draws a layer's map over the (scaled) image
     */
    public AttentionMapRenderer(int size, Overlay overlay) {
        if (size < 8) {
            throw new IllegalArgumentException("map size must be at least 8 pixels, got " + size);
        }
        this.size = size;
        this.alpha = 0.5;
        this.overlay = overlay;
        this.overlayTitles = true;
    }

    /** @return 336-pixel maps at opacity 0.5 */
    public static AttentionMapRenderer defaults() {
        return new AttentionMapRenderer(336, 0.5);
    }

    /**
     * The heatmap of one grid over an image.
     *
     * @param image the image the model saw (scaled to the map size)
     * @param grid  values on the patch grid, {@code [rows][cols]}
     * @return a {@code size x size} RGB image
     */
    public BufferedImage overlay(BufferedImage image, double[][] grid) {
        BufferedImage out = scaled(image);
        int rows = grid.length;
        int cols = grid[0].length;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (double[] r : grid) {
            for (double v : r) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        double range = max - min;
        for (int y = 0; y < size; y++) {
            // pixel centres mapped onto cell centres, clamped at the borders
            double gy = Math.max(0, Math.min(rows - 1, (y + 0.5) * rows / size - 0.5));
            int y0 = (int) Math.floor(gy);
            int y1 = Math.min(rows - 1, y0 + 1);
            double fy = gy - y0;
            for (int x = 0; x < size; x++) {
                double gx = Math.max(0, Math.min(cols - 1, (x + 0.5) * cols / size - 0.5));
                int x0 = (int) Math.floor(gx);
                int x1 = Math.min(cols - 1, x0 + 1);
                double fx = gx - x0;
                double v = (1 - fy) * ((1 - fx) * grid[y0][x0] + fx * grid[y0][x1]) + fy * ((1 - fx) * grid[y1][x0] + fx * grid[y1][x1]);
                double t = range > 0 ? (v - min) / range : 0;
                out.setRGB(x, y, blend(out.getRGB(x, y), jet(t)));
            }
        }
        return out;
    }

    /**
     * Tiles images into a grid with a caption above each (no caption bar when every caption is
     * empty, e.g. when the overlay titles its own pictures).
     *
     * @param tiles    equally sized images
     * @param captions one caption per tile
     * @param columns  tiles per row
     * @return the combined image
     */
    public BufferedImage tile(List<BufferedImage> tiles, List<String> captions, int columns) {
        if (tiles.isEmpty()) {
            throw new IllegalArgumentException("no tiles to combine");
        }
        int captionHeight = captions.stream().allMatch(String::isEmpty) ? 0 : CAPTION_HEIGHT;
        int w = tiles.get(0).getWidth();
        int h = tiles.get(0).getHeight() + captionHeight;
        int cols = Math.max(1, Math.min(columns, tiles.size()));
        int rows = (tiles.size() + cols - 1) / cols;
        BufferedImage out = new BufferedImage(cols * w, rows * h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, out.getWidth(), out.getHeight());
            for (int i = 0; i < tiles.size(); i++) {
                int x = (i % cols) * w;
                int y = (i / cols) * h;
                g.drawImage(tiles.get(i), x, y + captionHeight, null);
                if (captionHeight > 0) {
                    caption(g, captions.get(i), x + 4, y + captionHeight - 5);
                }
            }
        } finally {
            g.dispose();
        }
        return out;
    }

    /**
     * Writes {@code layer_NN.png} for each layer, {@code layers_grid.png} and {@code attention.json}.
     *
     * @param maps   the maps
     * @param image  the image the model saw (e.g. {@code ClipImageProcessor.prepare} output)
     * @param outDir the output folder (created if needed)
     * @return the written files, layer PNGs first, then the grid PNG and the JSON
     * @throws UncheckedIOException if a file cannot be written (the message names it)
     */
    public List<Path> write(AttentionMaps maps, BufferedImage image, Path outDir) {
        List<Path> files = new ArrayList<>();
        List<BufferedImage> tiles = new ArrayList<>();
        List<String> captions = new ArrayList<>();
        createDirectories(outDir);
        int digits = Math.max(2, Integer.toString(maps.numLayers() - 1).length());
        BufferedImage base = scaled(image);
        for (int layer = 0; layer < maps.numLayers(); layer++) {
            String caption = String.format(Locale.ROOT, "layer %d (image %.1f%%)", layer, 100 * maps.imageMass(layer));
            BufferedImage tile = overlay.draw(base, maps.grid(layer), caption);
            Path file = outDir.resolve(String.format(Locale.ROOT, "layer_%0" + digits + "d.png", layer));
            png(tile, file);
            files.add(file);
            tiles.add(tile);
            captions.add(overlayTitles ? "" : caption);
        }
        Path grid = outDir.resolve("layers_grid.png");
        png(tile(tiles, captions, (int) Math.ceil(Math.sqrt(tiles.size()))), grid);
        files.add(grid);
        Path json = outDir.resolve("attention.json");
        writeJson(maps, json);
        files.add(json);
        LOG.info("wrote {} attention maps to {}", maps.numLayers(), outDir);
        return files;
    }

    private static void writeJson(AttentionMaps maps, Path file) {
        ObjectNode root = JSON.createObjectNode();
        root.put("grid_size", maps.gridSize());
        root.put("image_start", maps.imageStart());
        root.put("num_image_tokens", maps.numImageTokens());
        ArrayNode q = root.putArray("query_positions");
        for (int p : maps.queryPositions()) {
            q.add(p);
        }
        ArrayNode layers = root.putArray("layers");
        for (int layer = 0; layer < maps.numLayers(); layer++) {
            ObjectNode l = layers.addObject();
            l.put("layer", layer);
            l.put("image_mass", maps.imageMass(layer));
            ArrayNode rows = l.putArray("map");
            for (double[] r : maps.grid(layer)) {
                ArrayNode row = rows.addArray();
                for (double v : r) {
                    row.add(v);
                }
            }
        }
        try {
            Files.writeString(file, JSON.writeValueAsString(root));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private BufferedImage scaled(BufferedImage image) {
        BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
            g.drawImage(image, 0, 0, size, size, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    private int blend(int rgb, int heat) {
        int r = mix((rgb >> 16) & 0xff, (heat >> 16) & 0xff);
        int g = mix((rgb >> 8) & 0xff, (heat >> 8) & 0xff);
        int b = mix(rgb & 0xff, heat & 0xff);
        return (r << 16) | (g << 8) | b;
    }

    private int mix(int base, int over) {
        return (int) Math.round((1 - alpha) * base + alpha * over);
    }

    /** Jet-like colour map: t in [0, 1] from dark blue through cyan, yellow to dark red. */
    static int jet(double t) {
        double r = clamp(1.5 - Math.abs(4 * t - 3));
        double g = clamp(1.5 - Math.abs(4 * t - 2));
        double b = clamp(1.5 - Math.abs(4 * t - 1));
        return ((int) Math.round(255 * r) << 16) | ((int) Math.round(255 * g) << 8) | (int) Math.round(255 * b);
    }

    private static double clamp(double v) {
        return Math.max(0, Math.min(1, v));
    }

    private static void caption(Graphics2D g, String text, int x, int y) {
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.setColor(Color.BLACK);
            g.drawString(text, x, y);
        } catch (RuntimeException | LinkageError | InternalError e) { // a JDK without fonts cannot draw text; the tiles still matter
            LOG.debug("cannot draw caption '{}': {}", text, e.toString());
        }
    }

    private static void png(BufferedImage image, Path file) {
        try {
            if (!ImageIO.write(image, "png", file.toFile())) {
                throw new IOException("no PNG writer");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create output folder " + dir + ": " + e.getMessage(), e);
        }
    }
}
