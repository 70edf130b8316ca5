package io.github.vdep.train.data.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** LLaVA's {@code expand2square} and {@code image_aspect_ratio} mapping. */
class ImageAspectTest {

    private static final int[] BG = {122, 116, 104};

    /** Pixel (x, y) gets colour (x, y, 7) so positions can be checked after pasting. */
    private static RgbImage coordinates(int w, int h) {
        byte[] data = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int o = (y * w + x) * 3;
                data[o] = (byte) x;
                data[o + 1] = (byte) y;
                data[o + 2] = 7;
            }
        }
        return new RgbImage(w, h, data);
    }

    private static void assertPasted(RgbImage out, RgbImage src, int left, int top) {
        for (int y = 0; y < out.height(); y++) {
            for (int x = 0; x < out.width(); x++) {
                int sx = x - left;
                int sy = y - top;
                boolean inside = sx >= 0 && sy >= 0 && sx < src.width() && sy < src.height();
                for (int c = 0; c < 3; c++) {
                    int expected = inside ? src.get(sx, sy, c) : BG[c];
                    assertEquals(expected, out.get(x, y, c), "(" + x + "," + y + "," + c + ")");
                }
            }
        }
    }

    @Test
    void wideImageIsPastedVerticallyCentred() {
        RgbImage src = coordinates(7, 4);
        RgbImage out = ImageAspect.expandToSquare(src, BG);
        assertEquals(7, out.width());
        assertEquals(7, out.height());
        assertPasted(out, src, 0, (7 - 4) / 2);
    }

    @Test
    void tallImageIsPastedHorizontallyCentred() {
        RgbImage src = coordinates(3, 8);
        RgbImage out = ImageAspect.expandToSquare(src, BG);
        assertEquals(8, out.width());
        assertEquals(8, out.height());
        assertPasted(out, src, (8 - 3) / 2, 0);
    }

    @Test
    void squareImageIsUnchanged() {
        RgbImage src = coordinates(5, 5);
        assertSame(src, ImageAspect.expandToSquare(src, BG));
        assertSame(src, ImageAspect.PAD.apply(src, BG));
    }

    @Test
    void cropLeavesTheImageAlone() {
        RgbImage src = coordinates(9, 4);
        assertSame(src, ImageAspect.CROP.apply(src, BG));
    }

    @Test
    void clipMeanGivesLlavaBackground() {
        assertEquals(java.util.List.of(122, 116, 104),
                java.util.Arrays.stream(ImageProcessorConfig.clip336().padBackground()).boxed().toList());
    }

    @Test
    void mapsLlavaSetting() {
        assertEquals(ImageAspect.PAD, ImageAspect.fromLlava("pad"));
        assertEquals(ImageAspect.CROP, ImageAspect.fromLlava("square"));
        assertEquals(ImageAspect.CROP, ImageAspect.fromLlava(null));
        assertEquals(ImageAspect.CROP, ImageAspect.fromLlava("PAD"));
    }

    @Test
    void rejectsBadBackground() {
        RgbImage src = coordinates(3, 2);
        assertThrows(IllegalArgumentException.class, () -> ImageAspect.expandToSquare(src, new int[] {1, 2}));
        assertThrows(IllegalArgumentException.class, () -> ImageAspect.expandToSquare(src, new int[] {1, 2, 256}));
    }
}
