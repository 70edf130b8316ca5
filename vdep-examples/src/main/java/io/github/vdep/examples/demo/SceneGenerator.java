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
 * Renders random scenes of simple shapes (circle, square, triangle) in a few colours and two
 * sizes, one object in the centre or two side by side, deterministically from a seed.
 */
public final class SceneGenerator {
    public static final List<String> SHAPES = List.of("circle", "square", "triangle");
    public static final Map<String, Color> COLOURS = Map.of(
            "red", new Color(220, 40, 40), "green", new Color(40, 170, 60), "blue", new Color(50, 80, 220), "yellow", new Color(235, 205, 40));
    public static final List<String> COLOUR_NAMES = List.of("red", "green", "blue", "yellow");
    public static final List<String> SIZES = List.of("small", "large");

    private final int imageSize;

    public SceneGenerator(int imageSize) {
        this.imageSize = imageSize;
    }

    /** A random scene from {@code rng}. */
    public Scene sample(SplittableRandom rng) {
        int count = rng.nextInt(2) + 1;
        List<SceneObject> objects = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String position = count == 1 ? "middle" : (i == 0 ? "left" : "right");
            objects.add(new SceneObject(SHAPES.get(rng.nextInt(SHAPES.size())), COLOUR_NAMES.get(rng.nextInt(COLOUR_NAMES.size())),
                    SIZES.get(rng.nextInt(SIZES.size())), position));
        }
        return new Scene(objects);
    }

    /** Draws a scene on a light grey background, with a little positional jitter. */
    public BufferedImage render(Scene scene, SplittableRandom rng) {
        BufferedImage img = new BufferedImage(imageSize, imageSize, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(new Color(235, 235, 230));
        g.fillRect(0, 0, imageSize, imageSize);
        for (SceneObject o : scene.objects()) {
            double cx = switch (o.position()) {
                case "left" -> imageSize * 0.27;
                case "right" -> imageSize * 0.73;
                default -> imageSize * 0.5;
            };
            double cy = imageSize * 0.5;
            double jitter = imageSize * 0.06;
            cx += (rng.nextDouble() * 2 - 1) * jitter;
            cy += (rng.nextDouble() * 2 - 1) * jitter * 2;
            double r = imageSize * (o.size().equals("large") ? 0.2 : 0.1);
            g.setColor(COLOURS.get(o.colour()));
            int x = (int) Math.round(cx - r);
            int y = (int) Math.round(cy - r);
            int d = (int) Math.round(2 * r);
            switch (o.shape()) {
                case "circle" -> g.fillOval(x, y, d, d);
                case "square" -> g.fillRect(x, y, d, d);
                default -> g.fillPolygon(new int[] {x, x + d / 2, x + d}, new int[] {y + d, y, y + d}, 3);
            }
        }
        g.dispose();
        return img;
    }
}
