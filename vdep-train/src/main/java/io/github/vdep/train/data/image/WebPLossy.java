package io.github.vdep.train.data.image;

import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.stream.ImageInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lossy (VP8) WebP images converted to RGB as libwebp, and therefore Pillow, converts them.
 *
 * <p>TwelveMonkeys' VP8 decoder reconstructs the Y, U and V planes, but converts them to RGB with
 * nearest-neighbour chroma and its own BT.601 arithmetic, which is 5.7 levels (mean) away from
 * Pillow on the test fixture. libwebp upsamples the half-resolution chroma with its "fancy"
 * 9-3-3-1 filter and converts with 14-bit fixed-point coefficients ({@code VP8YUVToR/G/B}); both
 * are reproduced here on the decoder's planes, which brings the fixture to within 2 levels on 11
 * of 945 samples (the rest equal). The planes are read from the decoder's macroblocks by
 * reflection: {@code imageio-webp} 3.12.0 keeps them private. If that ever fails (another
 * version), the plugin's own conversion is used and a warning says so.
 */
final class WebPLossy {

    private static final Logger LOG = LoggerFactory.getLogger(WebPLossy.class);
    private static final String PACKAGE = "com.twelvemonkeys.imageio.plugins.webp.vp8.";
    private static volatile boolean warned;

    private WebPLossy() {
    }

    /**
     * Returns the offset of the {@code VP8 } chunk's payload in a still (not animated) WebP file.
     *
     * @param file a WebP file
     * @return the payload offset, or -1 when the image is lossless, animated or not a WebP file
     * @throws IOException if the file cannot be read
     */
    static long vp8Payload(Path file) throws IOException {
        byte[] head;
        try (var in = Files.newInputStream(file)) {
            head = in.readNBytes(1 << 16);
        }
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        if (head.length < 20 || !fourcc(head, 0).equals("RIFF") || !fourcc(head, 8).equals("WEBP")) {
            return -1;
        }
        int pos = 12;
        while (pos + 8 <= head.length) {
            String id = fourcc(head, pos);
            long size = b.getInt(pos + 4) & 0xffffffffL;
            if (id.equals("VP8 ")) {
                return pos + 8;
            }
            if (id.equals("VP8L") || id.equals("ANIM") || id.equals("ANMF")) {
                return -1;
            }
            pos += 8 + (int) (size + (size & 1));
        }
        return -1;
    }

    private static String fourcc(byte[] b, int at) {
        return new String(b, at, 4, java.nio.charset.StandardCharsets.US_ASCII);
    }

    /**
     * Decodes a lossy WebP file to RGB as libwebp does.
     *
     * @param file the file
     * @param payload the offset of its {@code VP8 } payload ({@link #vp8Payload})
     * @param width the image width
     * @param height the image height
     * @return the RGB image, or null when the decoder's planes cannot be reached (then the caller
     *     uses the plugin's own result)
     * @throws IOException if decoding fails
     */
    static BufferedImage read(Path file, long payload, int width, int height) throws IOException {
        int[][] planes;
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            in.seek(payload);
            planes = decodePlanes(in, width, height);
        }
        if (planes == null) {
            return null;
        }
        int uw = (width + 1) / 2;
        int[] rgb = new int[width * height];
        int[] y = planes[0];
        int[] u = planes[1];
        int[] v = planes[2];
        // libwebp's EmitFancyRGB: row 0 alone, then pairs of rows between chroma rows, then an even height's last row
        upsampleRows(y, u, v, uw, 0, -1, 0, 0, rgb, width);
        int row = 1;
        int uvRow = 0;
        for (; row + 1 < height; row += 2, uvRow++) {
            upsampleRows(y, u, v, uw, row, row + 1, uvRow, uvRow + 1, rgb, width);
        }
        if (row < height) {
            upsampleRows(y, u, v, uw, row, -1, uvRow, uvRow, rgb, width);
        }
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        out.setRGB(0, 0, width, height, rgb, 0, width);
        return out;
    }

    /** Y (width x height), U and V (half size, rounded up) from the decoder's macroblocks; null if unreachable. */
    private static int[][] decodePlanes(ImageInputStream in, int w, int h) throws IOException {
        try {
            Class<?> frameClass = Class.forName(PACKAGE + "VP8Frame");
            Object frame = frameClass.getConstructor(ImageInputStream.class, boolean.class).newInstance(in, false);
            WritableRaster raster = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, 3, null);
            frameClass.getMethod("decode", WritableRaster.class, ImageReadParam.class).invoke(frame, raster, null);
            Field field = frameClass.getDeclaredField("macroBlocks");
            field.setAccessible(true);
            Object[][] blocks = (Object[][]) field.get(frame); // [row + 1][column + 1], with a border
            Class<?> planeClass = Class.forName(PACKAGE + "SubBlock$Plane");
            Method subBlock = Class.forName(PACKAGE + "MacroBlock").getMethod("getSubBlock", planeClass, int.class, int.class);
            subBlock.setAccessible(true);
            Method dest = Class.forName(PACKAGE + "SubBlock").getMethod("getDest");
            dest.setAccessible(true);
            Object[] planeY = {planeConstant(planeClass, "Y1")};
            Object planeU = planeConstant(planeClass, "U");
            Object planeV = planeConstant(planeClass, "V");
            int uw = (w + 1) / 2;
            int uh = (h + 1) / 2;
            int[] y = new int[w * h];
            int[] u = new int[uw * uh];
            int[] v = new int[uw * uh];
            for (int py = 0; py < h; py++) {
                for (int px = 0; px < w; px++) {
                    Object mb = blocks[py / 16 + 1][px / 16 + 1];
                    int[][] d = (int[][]) dest.invoke(subBlock.invoke(mb, planeY[0], (px % 16) / 4, (py % 16) / 4));
                    y[py * w + px] = d[px % 4][py % 4];
                }
            }
            for (int py = 0; py < uh; py++) {
                for (int px = 0; px < uw; px++) {
                    Object mb = blocks[py / 8 + 1][px / 8 + 1];
                    int[][] du = (int[][]) dest.invoke(subBlock.invoke(mb, planeU, (px % 8) / 4, (py % 8) / 4));
                    int[][] dv = (int[][]) dest.invoke(subBlock.invoke(mb, planeV, (px % 8) / 4, (py % 8) / 4));
                    u[py * uw + px] = du[px % 4][py % 4];
                    v[py * uw + px] = dv[px % 4][py % 4];
                }
            }
            return new int[][] {y, u, v};
        } catch (java.lang.reflect.InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException("VP8 decoding failed: " + cause, cause);
        } catch (ReflectiveOperationException | RuntimeException e) {
            if (!warned) {
                warned = true;
                LOG.warn("Cannot reach the VP8 planes of TwelveMonkeys imageio-webp ({}); lossy WebP images are converted"
                        + " with the plugin's own arithmetic, which differs from Pillow's by a few levels", e.toString());
            }
            return null;
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object planeConstant(Class<?> planeClass, String name) {
        return Enum.valueOf((Class) planeClass, name);
    }

    /** libwebp's UpsampleRgbLinePair: rows {@code top} and {@code bottom} (-1: none) between chroma rows. */
    private static void upsampleRows(int[] y, int[] u, int[] v, int uw, int top, int bottom, int topUv, int curUv, int[] out, int len) {
        int last = (len - 1) >> 1;
        int tl = uv(u, v, topUv * uw);
        int l = uv(u, v, curUv * uw);
        emit(y, out, top * len, (3 * tl + l + 0x00020002) >>> 2);
        if (bottom >= 0) {
            emit(y, out, bottom * len, (3 * l + tl + 0x00020002) >>> 2);
        }
        for (int x = 1; x <= last; x++) {
            int t = uv(u, v, topUv * uw + x);
            int c = uv(u, v, curUv * uw + x);
            int avg = tl + t + l + c + 0x00080008;
            int diag12 = (avg + 2 * (t + l)) >>> 3;
            int diag03 = (avg + 2 * (tl + c)) >>> 3;
            emit(y, out, top * len + 2 * x - 1, (diag12 + tl) >>> 1);
            emit(y, out, top * len + 2 * x, (diag03 + t) >>> 1);
            if (bottom >= 0) {
                emit(y, out, bottom * len + 2 * x - 1, (diag03 + l) >>> 1);
                emit(y, out, bottom * len + 2 * x, (diag12 + c) >>> 1);
            }
            tl = t;
            l = c;
        }
        if ((len & 1) == 0) {
            emit(y, out, top * len + len - 1, (3 * tl + l + 0x00020002) >>> 2);
            if (bottom >= 0) {
                emit(y, out, bottom * len + len - 1, (3 * l + tl + 0x00020002) >>> 2);
            }
        }
    }

    private static int uv(int[] u, int[] v, int i) {
        return u[i] | v[i] << 16;
    }

    /** libwebp's VP8YuvToRgb on a packed (u | v << 16) sample. */
    private static void emit(int[] y, int[] out, int i, int packed) {
        int yy = mulHi(y[i], 19077);
        int u = packed & 0xff;
        int v = (packed >>> 16) & 0xff;
        int r = clip8(yy + mulHi(v, 26149) - 14234);
        int g = clip8(yy - mulHi(u, 6419) - mulHi(v, 13320) + 8708);
        int b = clip8(yy + mulHi(u, 33050) - 17685);
        out[i] = r << 16 | g << 8 | b;
    }

    private static int mulHi(int v, int coeff) {
        return (v * coeff) >> 8;
    }

    private static int clip8(int v) {
        return (v & ~16383) == 0 ? v >> 6 : v < 0 ? 0 : 255;
    }
}
