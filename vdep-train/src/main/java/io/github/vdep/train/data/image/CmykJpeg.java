package io.github.vdep.train.data.image;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageReader;

/**
 * CMYK JPEG files as Pillow reads them. ImageIO's {@code read} refuses four-channel JPEGs
 * ("Unsupported Image Type"); its {@code readRaster} gives the stored samples, which are
 * converted here exactly as {@code Image.open(f).convert('RGB')} does in Pillow 9: the samples are
 * taken as inverted ("Adobe") CMYK, as Pillow assumes for every CMYK JPEG, and each channel
 * becomes {@code nk - round(c * nk / 255)} with {@code nk = 255 - k} (Pillow's {@code cmyk2rgb}
 * with its {@code MULDIV255} rounding). When the Adobe marker says the data is YCCK-encoded
 * (transform 2, what libjpeg and ImageMagick write for CMYK by default), {@code readRaster} gives
 * the Y, Cb, Cr and K samples (upsampled as libjpeg upsamples them), and they are first turned
 * into CMYK with libjpeg's fixed-point tables ({@code ycck_cmyk_convert} in {@code jdcolor.c}),
 * as libjpeg does for Pillow.
 */
final class CmykJpeg {

    private CmykJpeg() {
    }

    /** What the markers before the first scan say: component count and Adobe transform (-1: no Adobe marker). */
    record Header(int components, int adobeTransform) {
    }

    /**
     * Reads the JPEG markers up to the first scan.
     *
     * @param file a JPEG file
     * @return its component count (0 when no frame header was found) and Adobe transform
     * @throws IOException if the file cannot be read
     */
    static Header header(Path file) throws IOException {
        int components = 0;
        int transform = -1;
        try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file))) {
            if (in.read() != 0xFF || in.read() != 0xD8) {
                return new Header(0, -1);
            }
            while (true) {
                int b = in.read();
                while (b == 0xFF) {
                    b = in.read();
                }
                if (b < 0 || b == 0xDA || b == 0xD9) { // end of file, start of scan, end of image
                    return new Header(components, transform);
                }
                int len = (in.read() << 8) | in.read();
                if (len < 2) {
                    return new Header(components, transform);
                }
                byte[] seg = in.readNBytes(len - 2);
                boolean sof = b >= 0xC0 && b <= 0xCF && b != 0xC4 && b != 0xC8 && b != 0xCC;
                if (sof && seg.length >= 6) {
                    components = seg[5] & 0xff;
                } else if (b == 0xEE && seg.length >= 12 && new String(seg, 0, 5, java.nio.charset.StandardCharsets.US_ASCII).equals("Adobe")) {
                    transform = seg[11] & 0xff;
                }
            }
        }
    }

    /**
     * Decodes a four-channel JPEG to RGB as Pillow does.
     *
     * @param reader a JPEG reader with its input set
     * @param file the file, for messages
     * @param header the file's markers
     * @return an RGB image
     * @throws IOException if decoding fails
     */
    static BufferedImage read(ImageReader reader, Path file, Header header) throws IOException {
        boolean ycck = header.adobeTransform() == 2;
        Raster raster = reader.readRaster(0, null);
        if (raster.getNumBands() != 4) {
            throw new ImageDecodeException(file, "JPEG declares 4 components but decodes to " + raster.getNumBands() + " bands");
        }
        int w = raster.getWidth();
        int h = raster.getHeight();
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] px = new int[w * 4];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, px);
            if (ycck) {
                ycckToCmyk(px, w);
            }
            for (int x = 0; x < w; x++) {
                // Pillow's rawmode CMYK;I: the stored samples are inverted
                int c = 255 - px[4 * x];
                int m = 255 - px[4 * x + 1];
                int ye = 255 - px[4 * x + 2];
                int nk = px[4 * x + 3]; // 255 - k, with k = 255 - stored
                row[x] = channel(c, nk) << 16 | channel(m, nk) << 8 | channel(ye, nk);
            }
            out.setRGB(0, y, w, 1, row, 0, w);
        }
        return out;
    }

    // libjpeg's build_ycc_rgb_table: FIX(x) = round(x * 2^16)
    private static final int SCALE_BITS = 16;
    private static final int ONE_HALF = 1 << (SCALE_BITS - 1);
    private static final int FIX_1_40200 = 91881;
    private static final int FIX_1_77200 = 116130;
    private static final int FIX_0_71414 = 46802;
    private static final int FIX_0_34414 = 22554;

    /**
     * libjpeg's {@code ycck_cmyk_convert} in place on {@code w} interleaved pixels: Y, Cb, Cr
     * become C, M, Y as {@code 255 - (Y + colour term)}, K passes through.
     */
    static void ycckToCmyk(int[] px, int w) {
        for (int x = 0; x < w; x++) {
            int yy = px[4 * x];
            int cb = px[4 * x + 1] - 128;
            int cr = px[4 * x + 2] - 128;
            int r = yy + ((FIX_1_40200 * cr + ONE_HALF) >> SCALE_BITS);
            int g = yy + ((-FIX_0_71414 * cr - FIX_0_34414 * cb + ONE_HALF) >> SCALE_BITS);
            int b = yy + ((FIX_1_77200 * cb + ONE_HALF) >> SCALE_BITS);
            px[4 * x] = clip(255 - r);
            px[4 * x + 1] = clip(255 - g);
            px[4 * x + 2] = clip(255 - b);
        }
    }

    private static int clip(int v) {
        return Math.max(0, Math.min(255, v));
    }

    /** Pillow's {@code CLIP8(nk - MULDIV255(v, nk))}. */
    static int channel(int v, int nk) {
        int tmp = v * nk + 128;
        int r = nk - (((tmp >> 8) + tmp) >> 8);
        return Math.max(0, Math.min(255, r));
    }
}
