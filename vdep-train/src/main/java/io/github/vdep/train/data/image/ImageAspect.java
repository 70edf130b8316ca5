package io.github.vdep.train.data.image;

import java.util.Objects;

/**
 * How LLaVA handles non-square images before the CLIP processor ({@code image_aspect_ratio}).
 */
public enum ImageAspect {
    /**
     * {@code pad}: LLaVA's {@code expand2square}, pasting the image centred on a square of the
     * background (mean) colour, so the later centre crop loses nothing.
     */
    PAD,
    /** Anything else: the image goes to the processor as is, whose centre crop cuts the long side. */
    CROP;

    /**
     * Maps LLaVA's {@code image_aspect_ratio} setting: exactly {@code "pad"} gives {@link #PAD},
     * any other value (including {@code null}) {@link #CROP}, as in {@code process_images}.
     *
     * @param imageAspectRatio the setting, may be null
     * @return the aspect handling
     */
    public static ImageAspect fromLlava(String imageAspectRatio) {
        return "pad".equals(imageAspectRatio) ? PAD : CROP;
    }

    /**
     * Applies this aspect handling.
     *
     * @param image      the RGB image
     * @param background padding colour for {@link #PAD}, three values in [0, 255]
     * @return the square image for PAD, {@code image} itself for CROP
     */
    public RgbImage apply(RgbImage image, int[] background) {
        return this == PAD ? expandToSquare(image, background) : Objects.requireNonNull(image, "image");
    }

    /**
     * LLaVA's {@code expand2square}: a square image is returned unchanged; a wide {@code w x h}
     * image is pasted at {@code (0, (w - h) / 2)} on a {@code w x w} square of {@code background};
     * a tall one at {@code ((h - w) / 2, 0)} on an {@code h x h} square.
     *
     * @param image      the RGB image
     * @param background the fill colour, three values in [0, 255]
     * @return the square image
     */
    public static RgbImage expandToSquare(RgbImage image, int[] background) {
        Objects.requireNonNull(image, "image");
        RgbImage.checkColour(background);
        int w = image.width();
        int h = image.height();
        if (w == h) {
            return image;
        }
        int side = Math.max(w, h);
        int left = w > h ? 0 : (h - w) / 2;
        int top = w > h ? (w - h) / 2 : 0;
        byte[] out = RgbImage.filled(side, side, background).data();
        byte[] src = image.data();
        for (int y = 0; y < h; y++) {
            System.arraycopy(src, y * w * 3, out, ((top + y) * side + left) * 3, w * 3);
        }
        return RgbImage.wrap(side, side, out);
    }
}
