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
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image modes of web-scraped caption sets, decoded as Pillow's
 * {@code Image.open(f).convert('RGB')} decodes them (fixtures made by Pillow with
 * scripts/fixtures/make_image_modes_fixture.py): CMYK JPEG (stored as CMYK and as YCCK), 16-bit
 * greyscale and RGB PNG, WebP (lossless, and lossy with every loop filter, 1 to 8 token
 * partitions, odd sizes, with alpha). Every fixture must equal Pillow's pixels exactly.
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

    static JsonNode manifest() throws IOException {
        return new ObjectMapper().readTree(DIR.resolve("manifest.json").toFile());
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
    void everyFixtureMatchesPillowExactly() throws IOException {
        List<String> differing = new ArrayList<>();
        int count = 0;
        for (JsonNode img : manifest().get("images")) {
            String file = img.get("file").asText();
            double[] d = differences(file);
            if (d[0] != 0) {
                differing.add(file + " (max " + d[0] + ", mean " + d[1] + ")");
            }
            count++;
        }
        assertTrue(count >= 17, "fixtures listed: " + count);
        assertEquals(List.of(), differing, "fixtures that differ from Pillow");
    }

    @Test
    void cmykJpegMatchesPillow() throws IOException {
        assertEquals(0, maxDifference("cmyk.jpg"));
    }

    /** ImageMagick's CMYK JPEGs are stored as YCCK; libjpeg turns them into CMYK for Pillow. */
    @Test
    void ycckJpegMatchesPillow() throws IOException {
        for (String file : List.of("ycck.jpg", "ycck-subsampled.jpg")) {
            CmykJpeg.Header header = CmykJpeg.header(DIR.resolve(file));
            assertEquals(4, header.components(), file);
            assertEquals(2, header.adobeTransform(), file + ": Adobe transform 2 (YCCK)");
            assertEquals(0, maxDifference(file), file);
        }
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
     * Lossy WebP: decoded by {@link Vp8Decoder} and converted with libwebp's fancy upsampling; equal
     * to Pillow (libwebp 1.2.4) on every lossy fixture: Pillow-written files, and files written by
     * libwebp with the simple, normal or no loop filter, sharpness, 2, 4 and 8 token partitions,
     * sizes from 1x1 to 70x52, with and without alpha.
     */
    @Test
    void lossyWebpMatchesPillowExactly() throws IOException {
        int lossy = 0;
        for (JsonNode img : manifest().get("images")) {
            String file = img.get("file").asText();
            if (file.endsWith(".webp") && WebPLossy.vp8Chunk(DIR.resolve(file)) != null) {
                assertEquals(0, maxDifference(file), file);
                lossy++;
            }
        }
        assertTrue(lossy >= 10, "lossy WebP fixtures: " + lossy);
    }

    /** The VP8 chunk is found however large the chunks before it (here a 70 kB ICC profile). */
    @Test
    void lossyWebpAfterALargeIccChunkMatchesPillow() throws IOException {
        String source = "lossy-q50-normal-sharp-2parts.webp";
        byte[] webp = Files.readAllBytes(DIR.resolve(source));
        byte[] vp8 = java.util.Arrays.copyOfRange(webp, 12, webp.length); // the whole 'VP8 ' chunk
        byte[] icc = java.util.Arrays.copyOf(java.awt.color.ICC_Profile.getInstance(java.awt.color.ColorSpace.CS_sRGB).getData(), 70_000);
        int w = 45;
        int h = 33;
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(12 + 18 + 8 + icc.length + vp8.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(b.capacity() - 8)
                .put("WEBP".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        b.put("VP8X".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(10).putInt(0x20) // flags: ICC profile
                .put((byte) (w - 1)).putShort((short) 0).put((byte) (h - 1)).putShort((short) 0);
        b.put("ICCP".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(icc.length).put(icc).put(vp8);
        Path file = Files.write(tmp.resolve("icc.webp"), b.array());
        assertTrue(WebPLossy.vp8Chunk(file)[0] > 65_536, "the VP8 chunk lies beyond the first 64 kB");
        byte[] expected = Files.readAllBytes(DIR.resolve(source + ".rgb.u8")); // convert('RGB') ignores the profile
        RgbImage got = ImageLoader.loadRgb(file);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(expected[(y * w + x) * 3 + c] & 0xff, got.get(x, y, c), "pixel " + x + "," + y);
                }
            }
        }
    }

    @Test
    void truncatedLossyWebpIsAnErrorNamingTheFile() throws IOException {
        byte[] webp = Files.readAllBytes(DIR.resolve("lossy-q95-8parts.webp"));
        Path cut = Files.write(tmp.resolve("cut.webp"), java.util.Arrays.copyOf(webp, webp.length / 2));
        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> ImageLoader.loadRgb(cut));
        assertTrue(e.getMessage().contains("cut.webp") && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void corruptVp8StartCodeIsAnErrorNamingTheFile() throws IOException {
        byte[] webp = Files.readAllBytes(DIR.resolve("lossy.webp"));
        long[] chunk = WebPLossy.vp8Chunk(DIR.resolve("lossy.webp"));
        webp[(int) chunk[0] + 3] = 0; // the start code 9d 01 2a follows the 3-byte frame tag
        Path bad = Files.write(tmp.resolve("bad.webp"), webp);
        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> ImageLoader.loadRgb(bad));
        assertTrue(e.getMessage().contains("bad.webp"), e.getMessage());
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
}
