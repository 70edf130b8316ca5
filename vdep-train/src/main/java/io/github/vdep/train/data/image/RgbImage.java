package io.github.vdep.train.data.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.util.Arrays;
import java.util.Objects;

/**
 * Immutable 8-bit RGB image stored row-major, channels interleaved (HWC), the equivalent of a
 * Pillow {@code "RGB"} image or {@code np.array(img)} of shape {@code [h, w, 3]}.
 */
public final class RgbImage {

    private final int width;
    private final int height;
    private final byte[] rgb;

    /**
     * Creates an image from interleaved RGB bytes (copied).
     *
     * @param width  width in pixels, positive
     * @param height height in pixels, positive
     * @param rgb    {@code width * height * 3} bytes, row-major HWC
     */
    public RgbImage(int width, int height, byte[] rgb) {
        this(Objects.requireNonNull(rgb, "rgb").clone(), width, height);
    }

    private RgbImage(byte[] rgb, int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("Image size must be positive, got " + width + "x" + height);
        }
        if ((long) width * height * 3 != rgb.length) {
            throw new IllegalArgumentException("Expected " + ((long) width * height * 3) + " bytes for a "
                    + width + "x" + height + " RGB image, got " + rgb.length);
        }
        this.width = width;
        this.height = height;
        this.rgb = rgb;
    }

    /** Wraps a buffer this package has just filled and will not touch again (no copy). */
    static RgbImage wrap(int width, int height, byte[] rgb) {
        return new RgbImage(rgb, width, height);
    }

    /** Allocates a pixel buffer, rejecting sizes whose byte count does not fit in an array. */
    static byte[] allocate(int width, int height) {
        long n = (long) width * height * 3;
        if (width <= 0 || height <= 0 || n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("Unsupported RGB image size " + width + "x" + height);
        }
        return new byte[(int) n];
    }

    /**
     * Creates an image of one colour, like {@code Image.new("RGB", (w, h), (r, g, b))}.
     *
     * @param width  width in pixels
     * @param height height in pixels
     * @param colour three values in [0, 255]
     * @return the filled image
     */
    public static RgbImage filled(int width, int height, int[] colour) {
        checkColour(colour);
        byte[] data = allocate(width, height);
        for (int i = 0; i < data.length; i += 3) {
            data[i] = (byte) colour[0];
            data[i + 1] = (byte) colour[1];
            data[i + 2] = (byte) colour[2];
        }
        return wrap(width, height, data);
    }

    static void checkColour(int[] colour) {
        if (colour == null || colour.length != 3) {
            throw new IllegalArgumentException("A colour needs exactly three components");
        }
        for (int c : colour) {
            if (c < 0 || c > 255) {
                throw new IllegalArgumentException("Colour components must lie in [0, 255]: " + Arrays.toString(colour));
            }
        }
    }

    /**
     * Converts a decoded image to RGB the way Pillow's {@code convert("RGB")} does for the usual
     * formats: alpha is dropped without compositing, grey is replicated into the three channels
     * (raw sample values, no gamma conversion of Java's linear-grey colour space), 16-bit samples
     * keep their high byte (as Pillow's {@code RGB;16B} unpacker), embedded ICC profiles are
     * ignored. Other layouts (palettes, packed ints, CMYK, premultiplied alpha) go through
     * {@link BufferedImage#getRGB}, which gives the palette or sRGB colour.
     *
     * @param image the decoded image
     * @return its RGB pixels
     */
    public static RgbImage fromBufferedImage(BufferedImage image) {
        Objects.requireNonNull(image, "image");
        int w = image.getWidth();
        int h = image.getHeight();
        byte[] out = allocate(w, h);
        if (!copyComponentSamples(image, out)) {
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                image.getRGB(0, y, w, 1, row, 0, w);
                int o = y * w * 3;
                for (int x = 0; x < w; x++, o += 3) {
                    int argb = row[x];
                    out[o] = (byte) (argb >>> 16);
                    out[o + 1] = (byte) (argb >>> 8);
                    out[o + 2] = (byte) argb;
                }
            }
        }
        return wrap(w, h, out);
    }

    /** Reads raw grey or RGB samples straight from the raster; false when the layout is not one of those. */
    private static boolean copyComponentSamples(BufferedImage image, byte[] out) {
        ColorModel cm = image.getColorModel();
        if (!(cm instanceof ComponentColorModel) || cm.isAlphaPremultiplied()) {
            return false;
        }
        Raster raster = image.getRaster();
        int transfer = raster.getTransferType();
        int shift;
        if (transfer == DataBuffer.TYPE_BYTE && cm.getComponentSize(0) == 8) {
            shift = 0;
        } else if (transfer == DataBuffer.TYPE_USHORT && cm.getComponentSize(0) == 16) {
            shift = 8;
        } else {
            return false;
        }
        int colours = cm.getNumColorComponents();
        int csType = cm.getColorSpace().getType();
        boolean grey = colours == 1 && csType == ColorSpace.TYPE_GRAY;
        boolean rgb = colours == 3 && csType == ColorSpace.TYPE_RGB;
        if (!grey && !rgb) {
            return false;
        }
        boolean clipGrey16 = grey && shift == 8 && !cm.hasAlpha();
        int w = image.getWidth();
        int bands = raster.getNumBands();
        int[] samples = new int[w * bands];
        for (int y = 0; y < image.getHeight(); y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, samples);
            int o = y * w * 3;
            for (int x = 0, s = 0; x < w; x++, s += bands, o += 3) {
                if (grey) {
                    // Pillow opens 16-bit greyscale (no alpha) as mode I, and I -> RGB clips to 255
                    // instead of scaling; with alpha (LA;16B) and for RGB it keeps the high byte.
                    byte v = (byte) (clipGrey16 ? Math.min(samples[s], 255) : samples[s] >>> shift);
                    out[o] = v;
                    out[o + 1] = v;
                    out[o + 2] = v;
                } else {
                    out[o] = (byte) (samples[s] >>> shift);
                    out[o + 1] = (byte) (samples[s + 1] >>> shift);
                    out[o + 2] = (byte) (samples[s + 2] >>> shift);
                }
            }
        }
        return true;
    }

    /** @return a {@link BufferedImage#TYPE_INT_RGB} copy */
    public BufferedImage toBufferedImage() {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[width];
        for (int y = 0; y < height; y++) {
            int o = y * width * 3;
            for (int x = 0; x < width; x++, o += 3) {
                row[x] = (rgb[o] & 0xff) << 16 | (rgb[o + 1] & 0xff) << 8 | (rgb[o + 2] & 0xff);
            }
            img.setRGB(0, y, width, 1, row, 0, width);
        }
        return img;
    }

    /** @return width in pixels */
    public int width() {
        return width;
    }

    /** @return height in pixels */
    public int height() {
        return height;
    }

    /**
     * @param x column
     * @param y row
     * @param c channel (0 red, 1 green, 2 blue)
     * @return the sample in [0, 255]
     */
    public int get(int x, int y, int c) {
        Objects.checkIndex(x, width);
        Objects.checkIndex(y, height);
        Objects.checkIndex(c, 3);
        return rgb[(y * width + x) * 3 + c] & 0xff;
    }

    /** @return a copy of the pixels, HWC */
    public byte[] toByteArray() {
        return rgb.clone();
    }

    /** The backing buffer, for read-only use inside this package. */
    byte[] data() {
        return rgb;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RgbImage other && other.width == width && other.height == height
                && Arrays.equals(other.rgb, rgb);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * width + height) + Arrays.hashCode(rgb);
    }

    @Override
    public String toString() {
        return "RgbImage[" + width + "x" + height + "]";
    }
}
