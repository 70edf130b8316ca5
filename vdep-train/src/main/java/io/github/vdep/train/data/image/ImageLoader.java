package io.github.vdep.train.data.image;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes image files with JDK ImageIO (PNG, JPEG, GIF, BMP, WBMP, TIFF; WebP through the
 * TwelveMonkeys plugin, lossy WebP decoded by {@link WebPLossy}; CMYK JPEG through
 * {@link CmykJpeg}), turning every failure
 * into an {@link ImageDecodeException} that names the file instead of ImageIO's {@code null}
 * result or a bare {@code IIOException}.
 */
public final class ImageLoader {

    private static final Logger LOG = LoggerFactory.getLogger(ImageLoader.class);

    /**
     * The default pixel limit, Pillow's {@code Image.MAX_IMAGE_PIXELS} (1024 * 1024 * 1024 / 4 / 3):
     * a decompression bomb (a small file declaring a huge raster) is refused before decoding.
     */
    public static final long DEFAULT_MAX_PIXELS = 89_478_485L;

    private ImageLoader() {
    }

    /**
     * Decodes the first frame of an image file.
     *
     * <p>A truncated JPEG is rejected: ImageIO only warns and fills the rest with grey, whereas
     * Pillow (and therefore LLaVA's loader) raises "image file is truncated". Other decoder
     * warnings are logged.
     *
     * @param file the image file
     * @return the decoded image
     * @throws ImageDecodeException if the file is missing, unreadable, of an unknown format,
     *                              truncated or corrupt, or larger than {@link #DEFAULT_MAX_PIXELS}
     */
    public static BufferedImage load(Path file) {
        return load(file, DEFAULT_MAX_PIXELS);
    }

    /**
     * Decodes the first frame of an image file whose header declares at most {@code maxPixels}
     * pixels; the dimensions are read from the header before any of the raster is decoded.
     *
     * @param file      the image file
     * @param maxPixels the largest width x height accepted
     * @return the decoded image
     * @throws ImageTooLargeException if the header declares more pixels
     * @throws ImageDecodeException   as {@link #load(Path)}
     */
    public static BufferedImage load(Path file, long maxPixels) {
        Objects.requireNonNull(file, "file");
        if (!Files.exists(file)) {
            throw new ImageDecodeException(file, "file does not exist");
        }
        if (!Files.isRegularFile(file)) {
            throw new ImageDecodeException(file, "not a regular file");
        }
        if (!Files.isReadable(file)) {
            throw new ImageDecodeException(file, "file is not readable");
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                throw new ImageDecodeException(file, "ImageIO cannot open the file");
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new ImageDecodeException(file, "unrecognised image format (no ImageIO reader accepts it)");
            }
            ImageReader reader = readers.next();
            List<String> warnings = new ArrayList<>();
            try {
                reader.setInput(in, true, true);
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > maxPixels) {
                    throw new ImageTooLargeException(file, reader.getWidth(0), reader.getHeight(0), maxPixels);
                }
                CmykJpeg.Header jpeg = reader.getFormatName().equalsIgnoreCase("jpeg") ? CmykJpeg.header(file) : null;
                BufferedImage image = jpeg != null && jpeg.components() == 4 ? CmykJpeg.read(reader, file, jpeg) : null;
                long[] vp8 = reader.getFormatName().equalsIgnoreCase("webp") ? WebPLossy.vp8Chunk(file) : null;
                if (image == null && vp8 != null) {
                    image = WebPLossy.read(file, vp8, reader.getWidth(0), reader.getHeight(0));
                }
                if (image == null) {
                    image = reader.read(0);
                }
                if (image == null) {
                    throw new ImageDecodeException(file, "the " + reader.getFormatName() + " reader returned no image");
                }
                for (String w : warnings) {
                    if (w.startsWith("Truncated File")) {
                        throw new ImageDecodeException(file, "image file is truncated (" + w + ")");
                    }
                }
                if (!warnings.isEmpty()) {
                    LOG.warn("Decoder warnings for {}: {}", file, warnings);
                }
                return image;
            } finally {
                reader.dispose();
            }
        } catch (ImageDecodeException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // Decoders throw both IIOException and unchecked errors on corrupt data.
            throw new ImageDecodeException(file, describe(e), e);
        }
    }

    /**
     * Decodes a file and converts it to RGB (see {@link RgbImage#fromBufferedImage}).
     *
     * @param file the image file
     * @return its RGB pixels
     * @throws ImageDecodeException as {@link #load(Path)}
     */
    public static RgbImage loadRgb(Path file) {
        return RgbImage.fromBufferedImage(load(file));
    }

    /**
     * Decodes a file within a pixel limit and converts it to RGB.
     *
     * @param file      the image file
     * @param maxPixels the largest width x height accepted
     * @return its RGB pixels
     * @throws ImageDecodeException as {@link #load(Path, long)}
     */
    public static RgbImage loadRgb(Path file, long maxPixels) {
        return RgbImage.fromBufferedImage(load(file, maxPixels));
    }

    private static String describe(Exception e) {
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        Throwable cause = e.getCause();
        if (cause != null && cause.getMessage() != null && !msg.contains(cause.getMessage())) {
            msg += " (" + cause.getMessage() + ")";
        }
        return msg;
    }
}
