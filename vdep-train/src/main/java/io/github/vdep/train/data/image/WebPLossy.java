package io.github.vdep.train.data.image;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Lossy (VP8) WebP images converted to RGB as libwebp, and therefore Pillow, converts them.
 *
 * <p>{@link Vp8Decoder} reconstructs the Y, U and V planes as libwebp does; they are converted
 * here with libwebp's "fancy" 9-3-3-1 chroma upsampling ({@code UpsampleRgbLinePair}) and its
 * 14-bit fixed-point BT.601 coefficients ({@code VP8YUVToR/G/B}). An alpha channel ({@code ALPH}
 * chunk) does not change the colour samples that Pillow returns, and {@code convert('RGB')}
 * drops it, so it is not decoded.
 */
final class WebPLossy {

    private WebPLossy() {
    }

    /**
     * Finds the {@code VP8 } chunk of a still (not animated) WebP file.
     *
     * @param file a WebP file
     * @return the chunk payload's {offset, length}, or null when the image is lossless, animated or
     *     not a WebP file
     * @throws IOException if the file cannot be read
     */
    static long[] vp8Chunk(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            if (!readFully(ch, b, 0, 12) || !fourcc(b, 0).equals("RIFF") || !fourcc(b, 8).equals("WEBP")) {
                return null;
            }
            long pos = 12;
            while (readFully(ch, b, pos, 8)) { // chunk headers, wherever they are (metadata chunks may be large)
                String id = fourcc(b, 0);
                long size = b.getInt(4) & 0xffffffffL;
                if (id.equals("VP8 ")) {
                    return new long[] {pos + 8, size};
                }
                if (id.equals("VP8L") || id.equals("ANIM") || id.equals("ANMF")) {
                    return null;
                }
                pos += 8 + size + (size & 1);
            }
            return null;
        }
    }

    private static boolean readFully(FileChannel ch, ByteBuffer b, long at, int n) throws IOException {
        b.clear().limit(n);
        while (b.hasRemaining()) {
            if (ch.read(b, at + b.position()) < 0) {
                return false;
            }
        }
        return true;
    }

    private static String fourcc(ByteBuffer b, int at) {
        byte[] id = new byte[4];
        b.get(at, id);
        return new String(id, java.nio.charset.StandardCharsets.US_ASCII);
    }

    /**
     * Decodes a lossy WebP file to RGB as libwebp does.
     *
     * @param file the file
     * @param chunk the {offset, length} of its {@code VP8 } payload ({@link #vp8Chunk})
     * @param width the canvas width the container declares
     * @param height the canvas height the container declares
     * @return the RGB image
     * @throws IOException if the file cannot be read or its VP8 data is invalid or truncated
     */
    static BufferedImage read(Path file, long[] chunk, int width, int height) throws IOException {
        byte[] data = Files.readAllBytes(file);
        if (chunk[0] + chunk[1] > data.length) {
            throw new IOException("VP8 chunk of " + chunk[1] + " bytes is truncated (file has " + data.length + " bytes)");
        }
        Vp8Decoder.Planes planes = Vp8Decoder.decode(data, (int) chunk[0], (int) chunk[1]);
        if (planes.width() != width || planes.height() != height) {
            throw new IOException("VP8 frame is " + planes.width() + "x" + planes.height() + " but the canvas is " + width + "x" + height);
        }
        int uw = (width + 1) / 2;
        int[] rgb = new int[width * height];
        int[] y = planes.y();
        int[] u = planes.u();
        int[] v = planes.v();
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
