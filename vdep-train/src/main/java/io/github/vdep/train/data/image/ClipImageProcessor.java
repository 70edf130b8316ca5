package io.github.vdep.train.data.image;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * LLaVA-1.5's image preprocessing: {@code convert("RGB")}, optional {@code expand2square}, then
 * Hugging Face {@code CLIPImageProcessor.preprocess} (shortest-edge resize through Pillow,
 * centre crop, rescale, normalise, channels first). Given the same decoded pixels the output
 * equals the Python pipeline's float32 values exactly.
 *
 * <p>Immutable and thread-safe.
 */
public final class ClipImageProcessor {

    private final ImageProcessorConfig config;
    private final ImageAspect aspect;

    /**
     * @param config the processor settings
     * @param aspect how non-square images are handled before the processor
     */
    public ClipImageProcessor(ImageProcessorConfig config, ImageAspect aspect) {
        this.config = Objects.requireNonNull(config, "config");
        this.aspect = Objects.requireNonNull(aspect, "aspect");
    }

    /** @return LLaVA-1.5's setting: CLIP ViT-L/14-336 processor with {@code image_aspect_ratio = pad} */
    public static ClipImageProcessor llava15() {
        return new ClipImageProcessor(ImageProcessorConfig.clip336(), ImageAspect.PAD);
    }

    /** @return the processor settings */
    public ImageProcessorConfig config() {
        return config;
    }

    /** @return the aspect handling */
    public ImageAspect aspect() {
        return aspect;
    }

    /**
     * Decodes an image file with ImageIO.
     *
     * @param file the image file
     * @return the decoded image
     * @throws ImageDecodeException if the file is missing, unreadable or cannot be decoded
     */
    public static BufferedImage load(Path file) {
        return ImageLoader.load(file);
    }

    /**
     * Loads and processes an image file.
     *
     * @param file the image file
     * @return pixel values, CHW float32
     * @throws ImageDecodeException if the file is missing, unreadable or cannot be decoded
     */
    public float[] process(Path file) {
        return process(ImageLoader.loadRgb(file));
    }

    /**
     * Processes a decoded image.
     *
     * @param image the image (converted to RGB first, see {@link RgbImage#fromBufferedImage})
     * @return pixel values, CHW float32, {@code 3 x cropHeight x cropWidth} when centre cropping
     */
    public float[] process(BufferedImage image) {
        return process(RgbImage.fromBufferedImage(image));
    }

    /**
     * Processes an RGB image.
     *
     * @param image the image
     * @return pixel values, CHW float32
     */
    public float[] process(RgbImage image) {
        return pixelValues(prepare(image));
    }

    /**
     * Processes a decoded image into an ND4J array.
     *
     * @param image the image
     * @return a FLOAT array of shape {@code [3, H, W]}
     */
    public INDArray processToTensor(BufferedImage image) {
        RgbImage prepared = prepare(RgbImage.fromBufferedImage(image));
        return Nd4j.create(pixelValues(prepared), new long[] {3, prepared.height(), prepared.width()},
                DataType.FLOAT);
    }

    /**
     * The uint8 part of the pipeline: aspect handling, resize and centre crop (each as enabled).
     *
     * @param image the RGB image
     * @return the image whose pixels {@link #pixelValues} turns into floats
     */
    public RgbImage prepare(RgbImage image) {
        RgbImage out = resize(aspect.apply(image, config.padBackground()));
        return config.doCenterCrop() ? centerCrop(out, config.cropHeight(), config.cropWidth()) : out;
    }

    /**
     * HF's resize step: the shorter side becomes {@code shortestEdge} with Pillow resampling.
     *
     * @param image the (aspect-handled) image
     * @return the resized image, or {@code image} when {@code do_resize} is false
     */
    public RgbImage resize(RgbImage image) {
        if (!config.doResize()) {
            return image;
        }
        int[] hw = resizeOutputSize(image.height(), image.width(), config.shortestEdge());
        return PilResize.resize(image, hw[1], hw[0], config.resample());
    }

    /**
     * Rescale and normalise in HF's precisions: {@code x * rescale_factor} in double rounded to
     * float32, then {@code (x - mean) / std} in float32; channels first.
     *
     * @param image the prepared image
     * @return CHW float32 values
     */
    public float[] pixelValues(RgbImage image) {
        int plane = image.width() * image.height();
        float[] out = new float[3 * plane];
        byte[] src = image.data();
        double scale = config.rescaleFactor();
        for (int c = 0; c < 3; c++) {
            float mean = config.imageMean().get(c).floatValue();
            float std = config.imageStd().get(c).floatValue();
            int o = c * plane;
            for (int i = 0, p = c; i < plane; i++, p += 3) {
                int v = src[p] & 0xff;
                float x = config.doRescale() ? (float) (v * scale) : v;
                out[o + i] = config.doNormalize() ? (x - mean) / std : x;
            }
        }
        return out;
    }

    /**
     * HF's {@code get_resize_output_image_size(default_to_square=False)}: the short side becomes
     * {@code shortestEdge}, the long side {@code int(shortestEdge * long / short)} (truncated).
     *
     * @param height       input height
     * @param width        input width
     * @param shortestEdge target short side
     * @return {@code {height, width}} of the output
     */
    public static int[] resizeOutputSize(int height, int width, int shortestEdge) {
        int shortSide = Math.min(width, height);
        int longSide = Math.max(width, height);
        // Exact integer product, then one correctly rounded division, as Python's true division.
        int newLong = (int) ((double) ((long) shortestEdge * longSide) / shortSide);
        return width <= height ? new int[] {newLong, shortestEdge} : new int[] {shortestEdge, newLong};
    }

    /**
     * HF's {@code center_crop}: keeps the window at {@code top = (h - ch) // 2},
     * {@code left = (w - cw) // 2}; an image smaller than the crop is first zero-padded
     * (black, offset {@code ceil(deficit / 2)}) as HF does, so the result is always
     * {@code ch x cw}.
     *
     * @param image      the image
     * @param cropHeight output height
     * @param cropWidth  output width
     * @return the cropped image ({@code image} itself when the size already matches)
     */
    public static RgbImage centerCrop(RgbImage image, int cropHeight, int cropWidth) {
        if (cropHeight <= 0 || cropWidth <= 0) {
            throw new IllegalArgumentException("Crop size must be positive, got " + cropHeight + "x" + cropWidth);
        }
        int h = image.height();
        int w = image.width();
        if (h == cropHeight && w == cropWidth) {
            return image;
        }
        // HF pads by ceil(deficit / 2) and then slices at offset + pad, which always maps output
        // (y, x) to source (top + y, left + x), zero where that falls outside the image.
        int srcTop = Math.floorDiv(h - cropHeight, 2);
        int srcLeft = Math.floorDiv(w - cropWidth, 2);
        byte[] src = image.data();
        byte[] out = RgbImage.allocate(cropWidth, cropHeight);
        for (int y = 0; y < cropHeight; y++) {
            int sy = srcTop + y;
            if (sy < 0 || sy >= h) {
                continue;
            }
            int x0 = Math.max(0, -srcLeft);
            int x1 = Math.min(cropWidth, w - srcLeft);
            if (x1 > x0) {
                System.arraycopy(src, (sy * w + srcLeft + x0) * 3, out, (y * cropWidth + x0) * 3, (x1 - x0) * 3);
            }
        }
        return RgbImage.wrap(cropWidth, cropHeight, out);
    }
}
