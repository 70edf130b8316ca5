package io.github.vdep.train.data;

import java.util.Objects;

/**
 * An encoded sample with its image's pixel values, ready for collation.
 *
 * @param sample      the tokens and labels
 * @param pixelValues the processed image, CHW float32 ({@code 3 x height x width}), or null
 *                    without an image
 * @param height      the image height in pixels (0 without an image)
 * @param width       the image width in pixels (0 without an image)
 */
public record LoadedSample(EncodedSample sample, float[] pixelValues, int height, int width) {

    /** Validates the components. */
    public LoadedSample {
        Objects.requireNonNull(sample, "sample");
        if (sample.hasImage() != (pixelValues != null)) {
            throw new IllegalArgumentException("Sample '" + sample.id() + "' "
                    + (sample.hasImage() ? "has an image but no pixel values" : "has pixel values but no image"));
        }
        if (pixelValues != null && pixelValues.length != 3L * height * width) {
            throw new IllegalArgumentException("Sample '" + sample.id() + "': " + pixelValues.length
                    + " pixel values do not make a 3x" + height + "x" + width + " image");
        }
    }

    /**
     * A sample without an image.
     *
     * @param sample a text-only sample
     * @return it, without pixels
     */
    public static LoadedSample textOnly(EncodedSample sample) {
        return new LoadedSample(sample, null, 0, 0);
    }
}
