package io.github.vdep.train.data.image;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Settings of a Hugging Face {@code CLIPImageProcessor}, as in a checkpoint's
 * {@code preprocessor_config.json}. Keys that are absent or null take the processor's own
 * defaults (224 px, bicubic, OpenAI CLIP mean/std, every step enabled).
 *
 * @param shortestEdge  {@code size}: the shorter side after resizing (an int or {@code {"shortest_edge": n}})
 * @param cropHeight    {@code crop_size} height (an int or {@code {"height", "width"}})
 * @param cropWidth     {@code crop_size} width
 * @param imageMean     per-channel mean (R, G, B), also the LLaVA padding colour
 * @param imageStd      per-channel standard deviation, positive
 * @param rescaleFactor {@code rescale_factor}, 1/255 by default
 * @param doResize      {@code do_resize}
 * @param doCenterCrop  {@code do_center_crop}
 * @param doRescale     {@code do_rescale}
 * @param doNormalize   {@code do_normalize}
 * @param doConvertRgb  {@code do_convert_rgb}; recorded only: images are always converted to RGB
 *                      on load, as LLaVA does before the processor sees them
 * @param resample      {@code resample} (Pillow code 2 bilinear, 3 bicubic, 4 box)
 */
public record ImageProcessorConfig(
        int shortestEdge,
        int cropHeight,
        int cropWidth,
        List<Double> imageMean,
        List<Double> imageStd,
        double rescaleFactor,
        boolean doResize,
        boolean doCenterCrop,
        boolean doRescale,
        boolean doNormalize,
        boolean doConvertRgb,
        PilFilter resample) {

    /** OpenAI CLIP's channel mean, {@code OPENAI_CLIP_MEAN} in transformers. */
    public static final List<Double> OPENAI_CLIP_MEAN = List.of(0.48145466, 0.4578275, 0.40821073);
    /** OpenAI CLIP's channel standard deviation, {@code OPENAI_CLIP_STD} in transformers. */
    public static final List<Double> OPENAI_CLIP_STD = List.of(0.26862954, 0.26130258, 0.27577711);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int HF_DEFAULT_SIZE = 224;

    /** Validates and freezes the components. */
    public ImageProcessorConfig {
        if (shortestEdge <= 0 || cropHeight <= 0 || cropWidth <= 0) {
            throw new IllegalArgumentException("Sizes must be positive: shortest_edge=" + shortestEdge
                    + ", crop=" + cropHeight + "x" + cropWidth);
        }
        imageMean = threeChannels("image_mean", imageMean);
        imageStd = threeChannels("image_std", imageStd);
        for (double s : imageStd) {
            if (!(s > 0)) {
                throw new IllegalArgumentException("image_std must be positive: " + imageStd);
            }
        }
        if (!(rescaleFactor > 0) || Double.isInfinite(rescaleFactor)) {
            throw new IllegalArgumentException("rescale_factor must be positive and finite: " + rescaleFactor);
        }
        Objects.requireNonNull(resample, "resample");
    }

    private static List<Double> threeChannels(String name, List<Double> values) {
        Objects.requireNonNull(values, name);
        if (values.size() != 3) {
            throw new IllegalArgumentException(name + " needs 3 values (R, G, B), got " + values);
        }
        for (Double v : values) {
            if (v == null || !Double.isFinite(v)) {
                throw new IllegalArgumentException(name + " values must be finite numbers: " + values);
            }
        }
        return List.copyOf(values);
    }

    /**
     * The processor of OpenAI's CLIP at a given resolution: shortest edge and square crop of
     * {@code size}, bicubic, rescale by 1/255, OpenAI mean/std.
     *
     * @param size the input resolution of the vision tower
     * @return the configuration
     */
    public static ImageProcessorConfig clip(int size) {
        return new ImageProcessorConfig(size, size, size, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, 1 / 255.0,
                true, true, true, true, true, PilFilter.BICUBIC);
    }

    /** @return {@code openai/clip-vit-large-patch14-336}'s processor, the one LLaVA-1.5 uses */
    public static ImageProcessorConfig clip336() {
        return clip(336);
    }

    /**
     * LLaVA's padding colour, {@code tuple(int(x * 255) for x in image_mean)}: (122, 116, 104)
     * for the CLIP mean.
     *
     * @return three values in [0, 255]
     */
    public int[] padBackground() {
        int[] c = new int[3];
        for (int i = 0; i < 3; i++) {
            // Python's int() truncates toward zero; clamp only guards odd configs.
            c[i] = Math.max(0, Math.min(255, (int) (imageMean.get(i) * 255)));
        }
        return c;
    }

    /**
     * Reads a {@code preprocessor_config.json}.
     *
     * @param file the JSON file
     * @return the configuration
     * @throws UncheckedIOException     if the file cannot be read (the message names it)
     * @throws IllegalArgumentException if it is not valid JSON or holds unsupported values (the
     *                                  message names it)
     */
    public static ImageProcessorConfig fromFile(Path file) {
        Objects.requireNonNull(file, "file");
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException("Preprocessor config not found: " + file, e);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read preprocessor config " + file + ": " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    /**
     * Parses the text of a {@code preprocessor_config.json}.
     *
     * @param json the JSON text
     * @return the configuration
     * @throws IllegalArgumentException if it is not valid JSON or holds unsupported values
     */
    public static ImageProcessorConfig fromJson(String json) {
        return parse(Objects.requireNonNull(json, "json"), "<string>");
    }

    private static ImageProcessorConfig parse(String text, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Invalid JSON in preprocessor config " + source + ": "
                    + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("Preprocessor config " + source + " must hold a JSON object");
        }
        try {
            int[] crop = cropSize(root.get("crop_size"));
            return new ImageProcessorConfig(
                    shortestEdge(root.get("size")),
                    crop[0],
                    crop[1],
                    doubles(root, "image_mean", OPENAI_CLIP_MEAN),
                    doubles(root, "image_std", OPENAI_CLIP_STD),
                    number(root, "rescale_factor", 1 / 255.0),
                    bool(root, "do_resize"),
                    bool(root, "do_center_crop"),
                    bool(root, "do_rescale"),
                    bool(root, "do_normalize"),
                    bool(root, "do_convert_rgb"),
                    PilFilter.fromPilCode(absent(root.get("resample")) ? PilFilter.BICUBIC.pilCode()
                            : integer(root.get("resample"), "resample")));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Unsupported preprocessor config " + source + ": " + e.getMessage(), e);
        }
    }

    private static boolean absent(JsonNode n) {
        return n == null || n.isNull();
    }

    private static int shortestEdge(JsonNode size) {
        if (absent(size)) {
            return HF_DEFAULT_SIZE;
        }
        if (size.isIntegralNumber()) {
            return size.intValue();
        }
        if (size.isObject() && size.size() == 1 && size.has("shortest_edge")) {
            return integer(size.get("shortest_edge"), "size.shortest_edge");
        }
        throw new IllegalArgumentException("size must be an int or {\"shortest_edge\": n}, got " + size);
    }

    private static int[] cropSize(JsonNode crop) {
        if (absent(crop)) {
            return new int[] {HF_DEFAULT_SIZE, HF_DEFAULT_SIZE};
        }
        if (crop.isIntegralNumber()) {
            return new int[] {crop.intValue(), crop.intValue()};
        }
        if (crop.isObject() && crop.size() == 2 && crop.has("height") && crop.has("width")) {
            return new int[] {integer(crop.get("height"), "crop_size.height"),
                    integer(crop.get("width"), "crop_size.width")};
        }
        throw new IllegalArgumentException("crop_size must be an int or {\"height\": h, \"width\": w}, got " + crop);
    }

    private static int integer(JsonNode n, String name) {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new IllegalArgumentException(name + " must be an integer, got " + n);
        }
        return n.intValue();
    }

    private static double number(JsonNode root, String key, double fallback) {
        JsonNode n = root.get(key);
        if (absent(n)) {
            return fallback;
        }
        if (!n.isNumber()) {
            throw new IllegalArgumentException(key + " must be a number, got " + n);
        }
        return n.doubleValue();
    }

    private static boolean bool(JsonNode root, String key) {
        JsonNode n = root.get(key);
        if (absent(n)) {
            return true;
        }
        if (!n.isBoolean()) {
            throw new IllegalArgumentException(key + " must be true or false, got " + n);
        }
        return n.booleanValue();
    }

    private static List<Double> doubles(JsonNode root, String key, List<Double> fallback) {
        JsonNode n = root.get(key);
        if (absent(n)) {
            return fallback;
        }
        if (n.isNumber()) {
            // transformers broadcasts a scalar to every channel.
            return List.of(n.doubleValue(), n.doubleValue(), n.doubleValue());
        }
        if (!n.isArray()) {
            throw new IllegalArgumentException(key + " must be a number or a list of 3 numbers, got " + n);
        }
        List<Double> out = new ArrayList<>();
        for (JsonNode v : n) {
            if (!v.isNumber()) {
                throw new IllegalArgumentException(key + " must hold numbers, got " + n);
            }
            out.add(v.doubleValue());
        }
        return out;
    }
}
