package io.github.vdep.examples.demo;

import io.github.vdep.examples.demo.Scene.SceneObject;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Renders random scenes of simple shapes (circle, square, triangle) in four colours: one to
 * three objects, each in one of three slots (left, middle, right) with a little positional
 * jitter, deterministically from a seed. Objects are about 13 pixels across, so with 8-pixel
 * patches each covers several patches. {@link #patchLabels} says what is in each patch.
 */
public final class SceneGenerator {
    public static final List<String> SHAPES = List.of("circle", "square", "triangle");
    public static final Map<String, Color> COLOURS = Map.of(
            "red", new Color(220, 40, 40), "green", new Color(40, 170, 60), "blue", new Color(50, 80, 220), "yellow", new Color(235, 205, 40));
    public static final List<String> COLOUR_NAMES = List.of("red", "green", "blue", "yellow");
    public static final List<String> POSITIONS = List.of("left", "middle", "right");
    /** Patch classes: 0 = background, then 1 + colour * 3 + shape. */
    public static final int PATCH_CLASSES = 1 + COLOUR_NAMES.size() * SHAPES.size();

    private final int imageSize;

    public SceneGenerator(int imageSize) {
        this.imageSize = imageSize;
    }

    /** A random scene from {@code rng}: each slot filled with probability 1/2, at least one. */
    public Scene sample(SplittableRandom rng) {
        boolean[] filled = new boolean[3];
        do {
            for (int i = 0; i < 3; i++) {
                filled[i] = rng.nextBoolean();
            }
        } while (!filled[0] && !filled[1] && !filled[2]);
        List<SceneObject> objects = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            if (filled[i]) {
                objects.add(new SceneObject(SHAPES.get(rng.nextInt(SHAPES.size())), COLOUR_NAMES.get(rng.nextInt(COLOUR_NAMES.size())), POSITIONS.get(i)));
            }
        }
        return new Scene(objects);
    }

    /** Where each object of a scene is drawn: its bounding box {x, y, d}, jittered from {@code rng}. */
    public int[][] layout(Scene scene, SplittableRandom rng) {
        int[][] boxes = new int[scene.objects().size()][];
        for (int i = 0; i < boxes.length; i++) {
            SceneObject o = scene.objects().get(i);
            double slot = imageSize / 3.0;
            double cx = slot * (POSITIONS.indexOf(o.position()) + 0.5) + (rng.nextDouble() * 2 - 1) * slot * 0.12;
            double cy = imageSize * 0.5 + (rng.nextDouble() * 2 - 1) * imageSize * 0.15;
            int d = (int) Math.round(imageSize * (0.25 + 0.04 * rng.nextDouble()));
            boxes[i] = new int[] {(int) Math.round(cx - d / 2.0), (int) Math.round(cy - d / 2.0), d};
        }
        return boxes;
    }

    /** Draws a scene with the given layout on a light grey background. */
    public BufferedImage render(Scene scene, int[][] layout) {
        BufferedImage img = new BufferedImage(imageSize, imageSize, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(new Color(235, 235, 230));
        g.fillRect(0, 0, imageSize, imageSize);
        for (int i = 0; i < layout.length; i++) {
            SceneObject o = scene.objects().get(i);
            g.setColor(COLOURS.get(o.colour()));
            draw(g, o.shape(), layout[i]);
        }
        g.dispose();
        return img;
    }

    private static void draw(Graphics2D g, String shape, int[] box) {
        int x = box[0];
        int y = box[1];
        int d = box[2];
        switch (shape) {
            case "circle" -> g.fillOval(x, y, d, d);
            case "square" -> g.fillRect(x, y, d, d);
            default -> g.fillPolygon(new int[] {x, x + d / 2, x + d}, new int[] {y + d, y, y + d}, 3);
        }
    }

    /**
     * The class of each patch ({@code patch x patch} pixels, row-major over the grid): the object
     * covering most of its pixels if that is at least a fifth of the patch, else background (0).
     */
    public int[] patchLabels(Scene scene, int[][] layout, int patch) {
        int grid = imageSize / patch;
        int[] labels = new int[grid * grid];
        int[] best = new int[grid * grid];
        for (int i = 0; i < layout.length; i++) {
            BufferedImage mask = new BufferedImage(imageSize, imageSize, BufferedImage.TYPE_BYTE_GRAY);
            Graphics2D g = mask.createGraphics();
            g.setColor(Color.WHITE);
            draw(g, scene.objects().get(i).shape(), layout[i]);
            g.dispose();
            SceneObject o = scene.objects().get(i);
            int cls = 1 + COLOUR_NAMES.indexOf(o.colour()) * SHAPES.size() + SHAPES.indexOf(o.shape());
            for (int p = 0; p < labels.length; p++) {
                int px = (p % grid) * patch;
                int py = (p / grid) * patch;
                int covered = 0;
                for (int yy = py; yy < py + patch; yy++) {
                    for (int xx = px; xx < px + patch; xx++) {
                        covered += (mask.getRaster().getSample(xx, yy, 0) > 127) ? 1 : 0;
                    }
                }
                if (covered * 5 >= patch * patch && covered > best[p]) {
                    best[p] = covered;
                    labels[p] = cls;
                }
            }
        }
        return labels;
    }
}
