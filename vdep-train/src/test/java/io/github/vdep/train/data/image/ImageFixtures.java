package io.github.vdep.train.data.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Access to the files written by {@code scripts/fixtures/make_image_fixture.py} (Pillow + numpy
 * reference outputs) in {@code src/test/resources/images}.
 */
final class ImageFixtures {

    private static final Path DIR;
    private static final JsonNode MANIFEST;

    static {
        URL url = ImageFixtures.class.getResource("/images/manifest.json");
        if (url == null) {
            throw new IllegalStateException("images/manifest.json missing from test resources; "
                    + "run /usr/bin/python3 scripts/fixtures/make_image_fixture.py");
        }
        try {
            Path manifest = Path.of(url.toURI());
            DIR = manifest.getParent();
            MANIFEST = new ObjectMapper().readTree(manifest.toFile());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ImageFixtures() {
    }

    static Path dir() {
        return DIR;
    }

    static Path file(String name) {
        return DIR.resolve(name);
    }

    static JsonNode manifest() {
        return MANIFEST;
    }

    static byte[] bytes(String name) {
        try {
            return Files.readAllBytes(file(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A raw HWC uint8 RGB file of the given size. */
    static RgbImage rgb(String name, int width, int height) {
        return new RgbImage(width, height, bytes(name));
    }

    /** A raw little-endian float32 file. */
    static float[] floats(String name) {
        byte[] b = bytes(name);
        float[] out = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    /** The PIL-decoded RGB pixels of a source image. */
    static RgbImage decoded(String image) {
        for (JsonNode n : MANIFEST.get("images")) {
            if (n.get("file").asText().equals(image)) {
                return rgb(n.get("decoded").asText(), n.get("width").asInt(), n.get("height").asInt());
            }
        }
        throw new IllegalArgumentException("No fixture image " + image);
    }

    /** Largest absolute difference; fails on length mismatch through the caller's assertion. */
    static double maxAbsDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            max = Math.max(max, Math.abs((double) a[i] - b[i]));
        }
        return max;
    }

    /** Number of samples that differ, and the largest difference, for failure messages. */
    static String describeDiff(RgbImage expected, RgbImage actual) {
        if (expected.width() != actual.width() || expected.height() != actual.height()) {
            return "size " + actual + " != " + expected;
        }
        byte[] e = expected.toByteArray();
        byte[] a = actual.toByteArray();
        int count = 0;
        int max = 0;
        int first = -1;
        for (int i = 0; i < e.length; i++) {
            int d = Math.abs((e[i] & 0xff) - (a[i] & 0xff));
            if (d != 0) {
                count++;
                max = Math.max(max, d);
                if (first < 0) {
                    first = i;
                }
            }
        }
        return count + " of " + e.length + " samples differ, max " + max + ", first at byte " + first;
    }
}
