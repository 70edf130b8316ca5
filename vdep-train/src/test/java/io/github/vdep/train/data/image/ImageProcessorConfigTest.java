package io.github.vdep.train.data.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parsing of Hugging Face {@code preprocessor_config.json} files. */
class ImageProcessorConfigTest {

    /** openai/clip-vit-large-patch14-336 as published (old feature-extractor form, ints). */
    private static final String CLIP336_INT_FORM = """
            {
              "crop_size": 336,
              "do_center_crop": true,
              "do_normalize": true,
              "do_resize": true,
              "feature_extractor_type": "CLIPFeatureExtractor",
              "image_mean": [0.48145466, 0.4578275, 0.40821073],
              "image_std": [0.26862954, 0.26130258, 0.27577711],
              "resample": 3,
              "size": 336
            }
            """;

    /** The same processor as saved by recent transformers (dict sizes). */
    private static final String CLIP336_DICT_FORM = """
            {
              "crop_size": {"height": 336, "width": 336},
              "do_center_crop": true,
              "do_convert_rgb": true,
              "do_normalize": true,
              "do_rescale": true,
              "do_resize": true,
              "image_mean": [0.48145466, 0.4578275, 0.40821073],
              "image_processor_type": "CLIPImageProcessor",
              "image_std": [0.26862954, 0.26130258, 0.27577711],
              "processor_class": "LlavaProcessor",
              "resample": 3,
              "rescale_factor": 0.00392156862745098,
              "size": {"shortest_edge": 336}
            }
            """;

    @Test
    void intFormMatchesClip336() {
        assertEquals(ImageProcessorConfig.clip336(), ImageProcessorConfig.fromJson(CLIP336_INT_FORM));
    }

    @Test
    void dictFormMatchesClip336() {
        assertEquals(ImageProcessorConfig.clip336(), ImageProcessorConfig.fromJson(CLIP336_DICT_FORM));
    }

    @Test
    void clip336Values() {
        ImageProcessorConfig c = ImageProcessorConfig.clip336();
        assertEquals(336, c.shortestEdge());
        assertEquals(336, c.cropHeight());
        assertEquals(336, c.cropWidth());
        assertEquals(List.of(0.48145466, 0.4578275, 0.40821073), c.imageMean());
        assertEquals(List.of(0.26862954, 0.26130258, 0.27577711), c.imageStd());
        assertEquals(1 / 255.0, c.rescaleFactor(), 0.0);
        assertEquals(PilFilter.BICUBIC, c.resample());
        assertEquals(224, ImageProcessorConfig.clip(224).cropWidth());
    }

    @Test
    void rectangularCropAndFlags() {
        ImageProcessorConfig c = ImageProcessorConfig.fromJson("""
                {"crop_size": {"height": 20, "width": 30}, "size": {"shortest_edge": 32},
                 "resample": 2, "do_center_crop": false, "do_normalize": false,
                 "image_mean": 0.5, "image_std": [1, 2, 3], "rescale_factor": 0.5}
                """);
        assertEquals(20, c.cropHeight());
        assertEquals(30, c.cropWidth());
        assertEquals(32, c.shortestEdge());
        assertEquals(PilFilter.BILINEAR, c.resample());
        assertFalse(c.doCenterCrop());
        assertFalse(c.doNormalize());
        assertTrue(c.doResize());
        assertEquals(List.of(0.5, 0.5, 0.5), c.imageMean());
        assertEquals(List.of(1.0, 2.0, 3.0), c.imageStd());
        assertEquals(0.5, c.rescaleFactor(), 0.0);
    }

    @Test
    void missingKeysTakeHfDefaults() {
        assertEquals(ImageProcessorConfig.clip(224), ImageProcessorConfig.fromJson("{}"));
        assertEquals(ImageProcessorConfig.clip(224), ImageProcessorConfig.fromJson("{\"image_mean\": null}"));
    }

    @Test
    void readsFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("preprocessor_config.json");
        Files.writeString(f, CLIP336_DICT_FORM);
        assertEquals(ImageProcessorConfig.clip336(), ImageProcessorConfig.fromFile(f));
    }

    @Test
    void badJsonNamesTheFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("preprocessor_config.json");
        Files.writeString(f, "{\"crop_size\": 336,");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageProcessorConfig.fromFile(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("Invalid JSON"), e.getMessage());
    }

    @Test
    void unsupportedValuesNameTheFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("preprocessor_config.json");
        Files.writeString(f, "{\"resample\": 1}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageProcessorConfig.fromFile(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("lanczos"), e.getMessage());
    }

    @Test
    void missingFileNamesTheFile(@TempDir Path dir) {
        Path f = dir.resolve("nope.json");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> ImageProcessorConfig.fromFile(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void rejectsMalformedValues() {
        assertThrows(IllegalArgumentException.class,
                () -> ImageProcessorConfig.fromJson("{\"size\": {\"height\": 336, \"width\": 336}}"));
        assertThrows(IllegalArgumentException.class,
                () -> ImageProcessorConfig.fromJson("{\"crop_size\": {\"height\": 336}}"));
        assertThrows(IllegalArgumentException.class,
                () -> ImageProcessorConfig.fromJson("{\"image_mean\": [0.5, 0.5]}"));
        assertThrows(IllegalArgumentException.class,
                () -> ImageProcessorConfig.fromJson("{\"image_std\": [0.5, 0, 0.5]}"));
        assertThrows(IllegalArgumentException.class,
                () -> ImageProcessorConfig.fromJson("{\"do_resize\": \"yes\"}"));
        assertThrows(IllegalArgumentException.class, () -> ImageProcessorConfig.fromJson("[336]"));
        assertThrows(IllegalArgumentException.class, () -> ImageProcessorConfig.fromJson("{\"size\": 0}"));
    }
}
