package io.github.vdep.train.data.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** {@link PilResize} against {@code PIL.Image.resize} outputs, byte for byte. */
class PilResizeTest {

    @TestFactory
    List<DynamicTest> matchesPillowExactly() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode r : ImageFixtures.manifest().get("resizes")) {
            int w = r.get("width").asInt();
            int h = r.get("height").asInt();
            PilFilter filter = PilFilter.valueOf(r.get("resample").asText().toUpperCase(Locale.ROOT));
            String file = r.get("file").asText();
            tests.add(DynamicTest.dynamicTest(file, () -> {
                RgbImage src = ImageFixtures.decoded(r.get("source").asText());
                RgbImage expected = ImageFixtures.rgb(file, w, h);
                RgbImage actual = PilResize.resize(src, w, h, filter);
                assertEquals(expected, actual, () -> file + ": " + ImageFixtures.describeDiff(expected, actual));
            }));
        }
        return tests;
    }

    @Test
    void sameSizeIsIdentity() {
        RgbImage img = ImageFixtures.decoded("rgb_50x37.png");
        assertSame(img, PilResize.resize(img, 50, 37, PilFilter.BICUBIC));
    }

    @Test
    void constantImageStaysConstant() {
        // Normalised weights sum to one in fixed point up to rounding, which the 0.5 offset absorbs.
        RgbImage img = RgbImage.filled(37, 23, new int[] {122, 116, 104});
        RgbImage out = PilResize.resize(img, 336, 211, PilFilter.BICUBIC);
        assertEquals(RgbImage.filled(336, 211, new int[] {122, 116, 104}), out);
    }

    @Test
    void bicubicOvershootIsClipped() {
        byte[] data = new byte[8 * 1 * 3];
        for (int x = 4; x < 8; x++) {
            data[x * 3] = (byte) 255;
        }
        RgbImage out = PilResize.resize(new RgbImage(8, 1, data), 32, 1, PilFilter.BICUBIC);
        for (int x = 0; x < 32; x++) {
            int v = out.get(x, 0, 0);
            assertEquals(true, v >= 0 && v <= 255);
        }
        assertEquals(0, out.get(0, 0, 0));
        assertEquals(255, out.get(31, 0, 0));
    }

    @Test
    void separablePassesMatchTwoSingleAxisResizes() {
        // Pillow resamples horizontally then vertically; doing the two axes as separate calls
        // must give the same bytes.
        Random rnd = new Random(7);
        byte[] data = new byte[29 * 41 * 3];
        rnd.nextBytes(data);
        RgbImage img = new RgbImage(29, 41, data);
        RgbImage direct = PilResize.resize(img, 13, 67, PilFilter.BICUBIC);
        RgbImage twoStep = PilResize.resize(PilResize.resize(img, 13, 41, PilFilter.BICUBIC), 13, 67, PilFilter.BICUBIC);
        assertEquals(direct, twoStep);
    }

    @Test
    void rejectsNonPositiveSizes() {
        RgbImage img = RgbImage.filled(4, 4, new int[] {0, 0, 0});
        assertThrows(IllegalArgumentException.class, () -> PilResize.resize(img, 0, 4, PilFilter.BICUBIC));
        assertThrows(IllegalArgumentException.class, () -> PilResize.resize(img, 4, -1, PilFilter.BILINEAR));
    }

    @Test
    void filterCodes() {
        assertEquals(PilFilter.BICUBIC, PilFilter.fromPilCode(3));
        assertEquals(PilFilter.BILINEAR, PilFilter.fromPilCode(2));
        assertEquals(PilFilter.BOX, PilFilter.fromPilCode(4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PilFilter.fromPilCode(1));
        assertEquals(true, e.getMessage().contains("lanczos"));
    }
}
