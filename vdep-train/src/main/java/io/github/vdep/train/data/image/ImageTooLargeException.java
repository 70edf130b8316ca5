package io.github.vdep.train.data.image;

import java.nio.file.Path;

/**
 * An image whose header declares more pixels than the limit; nothing of its raster was decoded.
 * Pillow raises {@code DecompressionBombError} for the same files.
 */
public class ImageTooLargeException extends ImageDecodeException {

    private static final long serialVersionUID = 1L;

    /**
     * @param file      the image file
     * @param width     the width its header declares
     * @param height    the height its header declares
     * @param maxPixels the limit
     */
    public ImageTooLargeException(Path file, int width, int height, long maxPixels) {
        super(file, "the header declares " + width + "x" + height + " = " + ((long) width * height) + " pixels, more than the limit of "
                + maxPixels + " (--max-image-pixels; a possible decompression bomb)");
    }
}
