package io.github.vdep.train.data.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@link ClipImageProcessor} against LLaVA-1.5 + HF CLIPImageProcessor outputs computed with
 * Pillow and numpy by {@code scripts/fixtures/make_image_fixture.py}.
 */
class ClipImageProcessorTest {

    private static final double TOLERANCE = 1e-6;

    private static ClipImageProcessor processorFor(JsonNode c) {
        int size = c.get("shortest_edge").asInt();
        int crop = c.get("crop").asInt();
        PilFilter filter = PilFilter.valueOf(c.get("resample").asText().toUpperCase(Locale.ROOT));
        ImageProcessorConfig clip = ImageProcessorConfig.clip(size);
        ImageProcessorConfig config = new ImageProcessorConfig(size, crop, crop, clip.imageMean(), clip.imageStd(),
                clip.rescaleFactor(), true, true, true, true, true, filter);
        return new ClipImageProcessor(config, ImageAspect.fromLlava(c.get("aspect").asText()));
    }

    /** Stages from PIL's decoded pixels, so decoder differences cannot hide resize differences. */
    @TestFactory
    List<DynamicTest> everyStageMatchesPython() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : ImageFixtures.manifest().get("cases")) {
            String name = c.get("name").asText();
            tests.add(DynamicTest.dynamicTest(name, () -> {
                ClipImageProcessor p = processorFor(c);
                RgbImage src = ImageFixtures.decoded(c.get("image").asText());

                RgbImage resized = p.resize(p.aspect().apply(src, p.config().padBackground()));
                RgbImage expectedResized = ImageFixtures.rgb(name + ".resized.u8",
                        c.get("resized").get(1).asInt(), c.get("resized").get(0).asInt());
                assertEquals(expectedResized, resized,
                        () -> name + " resized: " + ImageFixtures.describeDiff(expectedResized, resized));

                RgbImage prepared = p.prepare(src);
                RgbImage expectedPrepared = ImageFixtures.rgb(name + ".prepared.u8",
                        c.get("prepared").get(1).asInt(), c.get("prepared").get(0).asInt());
                assertEquals(expectedPrepared, prepared,
                        () -> name + " prepared: " + ImageFixtures.describeDiff(expectedPrepared, prepared));

                float[] expected = ImageFixtures.floats(name + ".pixels.f32");
                float[] actual = p.process(src);
                assertEquals(expected.length, actual.length, name + " length");
                double diff = ImageFixtures.maxAbsDiff(expected, actual);
                assertTrue(diff <= TOLERANCE, name + " max |diff| " + diff);
                // Same float32 operations in the same order: the values are identical.
                assertArrayEquals(expected, actual, 0f, name + " not bit-identical");
            }));
        }
        return tests;
    }

    /** Whole pipeline from the file, decoded by ImageIO instead of Pillow. */
    @TestFactory
    List<DynamicTest> filesDecodedByImageIoMatchPython() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : ImageFixtures.manifest().get("cases")) {
            String name = c.get("name").asText();
            tests.add(DynamicTest.dynamicTest(name, () -> {
                float[] expected = ImageFixtures.floats(name + ".pixels.f32");
                float[] actual = processorFor(c).process(ImageFixtures.file(c.get("image").asText()));
                assertEquals(expected.length, actual.length);
                double diff = ImageFixtures.maxAbsDiff(expected, actual);
                assertTrue(diff <= TOLERANCE, name + " max |diff| " + diff);
            }));
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> imageIoDecodesLikePillow() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode n : ImageFixtures.manifest().get("images")) {
            String file = n.get("file").asText();
            tests.add(DynamicTest.dynamicTest(file, () -> {
                RgbImage expected = ImageFixtures.decoded(file);
                RgbImage actual = ImageLoader.loadRgb(ImageFixtures.file(file));
                assertEquals(expected, actual, () -> file + ": " + ImageFixtures.describeDiff(expected, actual));
            }));
        }
        return tests;
    }

    @Test
    void llava15OutputShapeAndTensor() {
        Random rnd = new Random(3);
        BufferedImage img = new BufferedImage(500, 375, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 375; y++) {
            for (int x = 0; x < 500; x++) {
                img.setRGB(x, y, rnd.nextInt(1 << 24));
            }
        }
        ClipImageProcessor p = ClipImageProcessor.llava15();
        float[] values = p.process(img);
        assertEquals(3 * 336 * 336, values.length);

        INDArray t = p.processToTensor(img);
        assertArrayEquals(new long[] {3, 336, 336}, t.shape());
        assertEquals(DataType.FLOAT, t.dataType());
        assertArrayEquals(values, t.data().asFloat(), 0f);
        assertEquals(values[1 * 336 * 336 + 5 * 336 + 7], t.getFloat(1, 5, 7), 0f);
    }

    @Test
    void padColourNormalisesNearZero() {
        // The LLaVA pad colour is the truncated mean, so padding maps to small negative values.
        ClipImageProcessor p = new ClipImageProcessor(ImageProcessorConfig.clip(8), ImageAspect.PAD);
        byte[] data = new byte[8 * 2 * 3];
        float[] v = p.process(new RgbImage(8, 2, data));
        // Row 0 is padding: (122/255 - 0.48145466) / 0.26862954 in float32.
        float r = ((float) (122 * (1 / 255.0)) - 0.48145466f) / 0.26862954f;
        assertEquals(r, v[0], 0f);
        assertTrue(r < 0 && r > -0.02);
    }

    @Test
    void resizeOutputSizeTruncatesLongSide() {
        assertArrayEquals(new int[] {24, 32}, ClipImageProcessor.resizeOutputSize(37, 50, 24));
        assertArrayEquals(new int[] {36, 24}, ClipImageProcessor.resizeOutputSize(61, 40, 24));
        assertArrayEquals(new int[] {336, 448}, ClipImageProcessor.resizeOutputSize(375, 500, 336));
        assertArrayEquals(new int[] {336, 336}, ClipImageProcessor.resizeOutputSize(100, 100, 336));
        // 336 * 1000 / 333 = 1009.009..., and 7 * 3 / 3 = 7 exactly (no float drift).
        assertArrayEquals(new int[] {336, 1009}, ClipImageProcessor.resizeOutputSize(333, 1000, 336));
        assertArrayEquals(new int[] {7, 7}, ClipImageProcessor.resizeOutputSize(3, 3, 7));
    }

    @Test
    void centerCropPadsSmallImagesWithZerosLikeHf() {
        byte[] data = new byte[3 * 2 * 3];
        java.util.Arrays.fill(data, (byte) 200);
        RgbImage out = ClipImageProcessor.centerCrop(new RgbImage(3, 2, data), 5, 4);
        assertEquals(4, out.width());
        assertEquals(5, out.height());
        // HF: top = (2 - 5) // 2 = -2, left = (3 - 4) // 2 = -1.
        for (int y = 0; y < 5; y++) {
            for (int x = 0; x < 4; x++) {
                boolean inside = y >= 2 && y < 4 && x >= 1;
                assertEquals(inside ? 200 : 0, out.get(x, y, 0), "(" + x + "," + y + ")");
            }
        }
    }

    @Test
    void disabledStepsAreSkipped() {
        ImageProcessorConfig c = new ImageProcessorConfig(4, 2, 2, ImageProcessorConfig.OPENAI_CLIP_MEAN,
                ImageProcessorConfig.OPENAI_CLIP_STD, 1 / 255.0, false, false, false, false, true, PilFilter.BICUBIC);
        byte[] data = new byte[3 * 1 * 3];
        data[3] = (byte) 255;
        float[] v = new ClipImageProcessor(c, ImageAspect.CROP).process(new RgbImage(3, 1, data));
        assertEquals(9, v.length);
        assertEquals(255f, v[1], 0f);
    }
}
