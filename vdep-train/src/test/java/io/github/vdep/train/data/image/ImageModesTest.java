package io.github.vdep.train.data.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image modes of web-scraped caption sets, decoded as Pillow's
 * {@code Image.open(f).convert('RGB')} decodes them (fixtures made by Pillow with
 * scripts/fixtures/make_image_modes_fixture.py): CMYK JPEG, 16-bit greyscale and RGB PNG, WebP
 * (lossless, lossy, with alpha).
 */
class ImageModesTest {

    static final Path DIR = resource("image-modes");

    @TempDir
    Path tmp;

    static Path resource(String name) {
        try {
            return Path.of(ImageModesTest.class.getClassLoader().getResource(name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Largest absolute difference from Pillow's pixels; the sizes must agree. */
    static int maxDifference(String file) throws IOException {
        return (int) differences(file)[0];
    }

    /** {max, mean} absolute difference from Pillow's pixels; the sizes must agree. */
    static double[] differences(String file) throws IOException {
        JsonNode manifest = new ObjectMapper().readTree(DIR.resolve("manifest.json").toFile());
        for (JsonNode img : manifest.get("images")) {
            if (img.get("file").asText().equals(file)) {
                byte[] expected = Files.readAllBytes(DIR.resolve(file + ".rgb.u8"));
                RgbImage got = ImageLoader.loadRgb(DIR.resolve(file));
                assertEquals(img.get("width").asInt(), got.width(), file + " width");
                assertEquals(img.get("height").asInt(), got.height(), file + " height");
                int max = 0;
                long sum = 0;
                for (int y = 0; y < got.height(); y++) {
                    for (int x = 0; x < got.width(); x++) {
                        for (int c = 0; c < 3; c++) {
                            int e = expected[(y * got.width() + x) * 3 + c] & 0xff;
                            int d = Math.abs(e - got.get(x, y, c));
                            max = Math.max(max, d);
                            sum += d;
                        }
                    }
                }
                return new double[] {max, sum / (3.0 * got.width() * got.height())};
            }
        }
        throw new IllegalArgumentException(file + " not in the manifest");
    }

    @Test
    void cmykJpegMatchesPillow() throws IOException {
        assertEquals(0, maxDifference("cmyk.jpg"));
    }

    @Test
    void sixteenBitPngsMatchPillow() throws IOException {
        assertEquals(0, maxDifference("grey16.png"), "grey: clipped to 255, as mode I converts");
        assertEquals(0, maxDifference("rgb16.png"), "RGB: high byte");
    }

    @Test
    void losslessWebpMatchesPillow() throws IOException {
        assertEquals(0, maxDifference("lossless.webp"));
        assertEquals(0, maxDifference("alpha.webp"), "alpha dropped without compositing, as convert('RGB') does");
    }

    /**
     * Lossy WebP: libwebp's chroma upsampling and YUV conversion are reproduced on TwelveMonkeys'
     * VP8 planes. Not exact: the plugin's VP8 reconstruction differs slightly from libwebp's.
     * Measured: lossy.webp, 11 of 945 samples differ, by at most 2 levels, all in the U plane of
     * one macroblock; alpha-lossy.webp, max 4 and mean 0.15 levels. The plugin's own conversion
     * was 5.7 levels off on average on lossy.webp, up to 31. The bounds pin these measurements.
     */
    @Test
    void lossyWebpIsWithinAFewLevelsOfPillow() throws IOException {
        double[] lossy = differences("lossy.webp");
        assertTrue(lossy[0] <= 2, "max difference from Pillow " + lossy[0]);
        assertTrue(lossy[1] < 0.05, "mean difference from Pillow " + lossy[1]);
        double[] withAlpha = differences("alpha-lossy.webp");
        assertTrue(withAlpha[0] <= 4 && withAlpha[1] < 0.2, "lossy WebP with alpha: max " + withAlpha[0] + ", mean " + withAlpha[1]);
    }

    @Test
    void ycckJpegIsRefusedByName() throws IOException {
        byte[] jpeg = Files.readAllBytes(DIR.resolve("cmyk.jpg"));
        int at = indexOf(jpeg, "Adobe".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertTrue(at > 0, "Pillow writes an Adobe marker for CMYK");
        jpeg[at + 11] = 2; // transform: YCCK
        Path ycck = Files.write(tmp.resolve("ycck.jpg"), jpeg);
        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> ImageLoader.loadRgb(ycck));
        assertTrue(e.getMessage().contains("ycck.jpg") && e.getMessage().contains("YCCK"), e.getMessage());
    }

    @Test
    void pillowsCmykFormulaOnKnownValues() {
        // Pillow 9.4: Image.new('CMYK', ...) (10, 20, 30, 40) -> (207, 198, 190); (200, 100, 50, 25) -> (50, 140, 185)
        int nk = 255 - 40;
        assertEquals(207, CmykJpeg.channel(10, nk));
        assertEquals(198, CmykJpeg.channel(20, nk));
        assertEquals(190, CmykJpeg.channel(30, nk));
        assertEquals(50, CmykJpeg.channel(200, 230));
        assertEquals(140, CmykJpeg.channel(100, 230));
        assertEquals(185, CmykJpeg.channel(50, 230));
    }

    private static int indexOf(byte[] data, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= data.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
