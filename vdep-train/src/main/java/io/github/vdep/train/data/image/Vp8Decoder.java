package io.github.vdep.train.data.image;

import static io.github.vdep.train.data.image.Vp8Tables.B_DC;
import static io.github.vdep.train.data.image.Vp8Tables.B_HD;
import static io.github.vdep.train.data.image.Vp8Tables.B_HE;
import static io.github.vdep.train.data.image.Vp8Tables.B_HU;
import static io.github.vdep.train.data.image.Vp8Tables.B_LD;
import static io.github.vdep.train.data.image.Vp8Tables.B_RD;
import static io.github.vdep.train.data.image.Vp8Tables.B_TM;
import static io.github.vdep.train.data.image.Vp8Tables.B_VE;
import static io.github.vdep.train.data.image.Vp8Tables.B_VL;
import static io.github.vdep.train.data.image.Vp8Tables.B_VR;

import java.io.IOException;

/**
 * Decodes a VP8 key frame (the bitstream of a lossy WebP image) to its Y, U and V planes, as
 * libwebp's decoder does: the frame header, intra modes and DCT tokens of RFC 6386, intra
 * prediction with libwebp's edge values (127 above the frame, 129 left of it), the inverse
 * transforms, and the simple or normal loop filter. Where the RFC leaves a choice (prediction
 * edges, filter order), libwebp's is taken, since Pillow decodes WebP with libwebp. (Written
 * after libwebp's {@code src/dec} and {@code src/dsp/dec.c}, BSD-3-Clause, Copyright 2010
 * Google Inc.; see NOTICE.)
 */
final class Vp8Decoder {

    /** The decoded planes: Y is {@code width x height}, U and V are half size rounded up. */
    record Planes(int width, int height, int[] y, int[] u, int[] v) {
    }

    // libwebp's work-buffer layout: 32 bytes a row, Y at (8, 1) with room for the left and top samples
    private static final int BPS = 32;
    private static final int Y_OFF = BPS + 8;
    private static final int U_OFF = Y_OFF + BPS * 16 + BPS;
    private static final int V_OFF = U_OFF + 16;
    private static final int YUV_SIZE = BPS * 17 + BPS * 9;
    /** Position of 4x4 block n inside the Y area of the work buffer. */
    private static final int[] SCAN = new int[16];

    static {
        for (int n = 0; n < 16; n++) {
            SCAN[n] = (n & 3) * 4 + (n >> 2) * 4 * BPS;
        }
    }

    private static final int NUM_TYPES = 4;
    private static final int NUM_BANDS = 8;
    private static final int NUM_CTX = 3;
    private static final int NUM_PROBAS = 11;

    // DC prediction variants where neighbours are missing (libwebp's B_DC_PRED_NOTOP, ...)
    private static final int DC_NOTOP = 4;
    private static final int DC_NOLEFT = 5;
    private static final int DC_NOTOPLEFT = 6;

    private final byte[] data;
    private int width;
    private int height;
    private int mbw;
    private int mbh;

    // segment and filter header
    private boolean useSegment;
    private boolean updateMap;
    private boolean absoluteDelta;
    private final int[] segQuant = new int[4];
    private final int[] segFilter = new int[4];
    private final int[] segProba = {255, 255, 255};
    private boolean simpleFilter;
    private int filterLevel;
    private int sharpness;
    private boolean useLfDelta;
    private final int[] refLfDelta = new int[4];
    private final int[] modeLfDelta = new int[4];
    private int filterType;

    // dequantisation per segment: y1 dc/ac, y2 dc/ac, uv dc/ac
    private final int[][] dq = new int[4][6];
    private final int[][][][] proba = new int[NUM_TYPES][NUM_BANDS][NUM_CTX][NUM_PROBAS];
    private boolean useSkipProba;
    private int skipProba;

    private Vp8Decoder(byte[] data) {
        this.data = data;
    }

    /**
     * Decodes the VP8 bitstream {@code data[offset, offset + length)}.
     *
     * @param data the bytes
     * @param offset the start of the VP8 payload (the frame tag)
     * @param length the payload length
     * @return the planes, cropped to the frame's size
     * @throws IOException if the bitstream is not a valid VP8 key frame or is truncated
     */
    static Planes decode(byte[] data, int offset, int length) throws IOException {
        return new Vp8Decoder(data).run(offset, length);
    }

    private Planes run(int offset, int length) throws IOException {
        if (length < 10) {
            throw new IOException("VP8 data too short (" + length + " bytes)");
        }
        int bits = (data[offset] & 0xff) | (data[offset + 1] & 0xff) << 8 | (data[offset + 2] & 0xff) << 16;
        boolean keyFrame = (bits & 1) == 0;
        int profile = (bits >> 1) & 7;
        boolean show = ((bits >> 4) & 1) == 1;
        int partitionLength = bits >>> 5;
        if (!keyFrame) {
            throw new IOException("VP8 data is not a key frame");
        }
        if (profile > 3) {
            throw new IOException("unknown VP8 profile " + profile);
        }
        if (!show) {
            throw new IOException("VP8 frame is not displayable"); // libwebp refuses it too
        }
        if ((data[offset + 3] & 0xff) != 0x9d || (data[offset + 4] & 0xff) != 0x01 || (data[offset + 5] & 0xff) != 0x2a) {
            throw new IOException("bad VP8 start code");
        }
        width = ((data[offset + 7] & 0xff) << 8 | (data[offset + 6] & 0xff)) & 0x3fff;
        height = ((data[offset + 9] & 0xff) << 8 | (data[offset + 8] & 0xff)) & 0x3fff;
        if (width == 0 || height == 0) {
            throw new IOException("VP8 frame has zero size");
        }
        mbw = (width + 15) >> 4;
        mbh = (height + 15) >> 4;
        int start = offset + 10;
        int end = offset + length;
        if (partitionLength > end - start) {
            throw new IOException("VP8 first partition length " + partitionLength + " exceeds the data");
        }
        Vp8BoolReader br = new Vp8BoolReader(data, start, partitionLength);
        br.flag(); // colour space
        br.flag(); // clamping type
        parseSegmentHeader(br);
        parseFilterHeader(br);
        Vp8BoolReader[] parts = parsePartitions(br, start + partitionLength, end);
        parseQuant(br);
        br.flag(); // refresh entropy probabilities: irrelevant for a single key frame
        parseProba(br);
        if (br.pastEnd()) {
            throw new IOException("VP8 frame header is truncated");
        }
        return decodeFrame(br, parts);
    }

    private void parseSegmentHeader(Vp8BoolReader br) {
        useSegment = br.flag();
        if (useSegment) {
            updateMap = br.flag();
            if (br.flag()) { // update data
                absoluteDelta = br.flag();
                for (int s = 0; s < 4; s++) {
                    segQuant[s] = br.flag() ? br.signedLiteral(7) : 0;
                }
                for (int s = 0; s < 4; s++) {
                    segFilter[s] = br.flag() ? br.signedLiteral(6) : 0;
                }
            }
            if (updateMap) {
                for (int s = 0; s < 3; s++) {
                    segProba[s] = br.flag() ? br.literal(8) : 255;
                }
            }
        }
    }

    private void parseFilterHeader(Vp8BoolReader br) {
        simpleFilter = br.flag();
        filterLevel = br.literal(6);
        sharpness = br.literal(3);
        useLfDelta = br.flag();
        if (useLfDelta && br.flag()) {
            for (int i = 0; i < 4; i++) {
                if (br.flag()) {
                    refLfDelta[i] = br.signedLiteral(6);
                }
            }
            for (int i = 0; i < 4; i++) {
                if (br.flag()) {
                    modeLfDelta[i] = br.signedLiteral(6);
                }
            }
        }
        filterType = filterLevel == 0 ? 0 : simpleFilter ? 1 : 2;
    }

    private Vp8BoolReader[] parsePartitions(Vp8BoolReader br, int start, int end) throws IOException {
        int last = (1 << br.literal(2)) - 1;
        if (end - start < 3 * last) {
            throw new IOException("VP8 partition sizes are truncated");
        }
        Vp8BoolReader[] parts = new Vp8BoolReader[last + 1];
        int sizes = start;
        int partStart = start + 3 * last;
        int left = end - partStart;
        for (int p = 0; p < last; p++) {
            int size = (data[sizes] & 0xff) | (data[sizes + 1] & 0xff) << 8 | (data[sizes + 2] & 0xff) << 16;
            size = Math.min(size, left);
            parts[p] = new Vp8BoolReader(data, partStart, size);
            partStart += size;
            left -= size;
            sizes += 3;
        }
        if (left <= 0) {
            throw new IOException("VP8 token partitions are truncated");
        }
        parts[last] = new Vp8BoolReader(data, partStart, left);
        return parts;
    }

    private void parseQuant(Vp8BoolReader br) {
        int base = br.literal(7);
        int y1dc = br.flag() ? br.signedLiteral(4) : 0;
        int y2dc = br.flag() ? br.signedLiteral(4) : 0;
        int y2ac = br.flag() ? br.signedLiteral(4) : 0;
        int uvdc = br.flag() ? br.signedLiteral(4) : 0;
        int uvac = br.flag() ? br.signedLiteral(4) : 0;
        for (int s = 0; s < 4; s++) {
            int q = base;
            if (useSegment) {
                q = segQuant[s] + (absoluteDelta ? 0 : base);
            }
            int[] m = dq[s];
            m[0] = Vp8Tables.DC_TABLE[clip(q + y1dc, 127)];
            m[1] = Vp8Tables.AC_TABLE[clip(q, 127)];
            m[2] = Vp8Tables.DC_TABLE[clip(q + y2dc, 127)] * 2;
            // x * 155 / 100, as libwebp computes it
            m[3] = Math.max(8, (Vp8Tables.AC_TABLE[clip(q + y2ac, 127)] * 101581) >> 16);
            m[4] = Vp8Tables.DC_TABLE[clip(q + uvdc, 117)];
            m[5] = Vp8Tables.AC_TABLE[clip(q + uvac, 127)];
        }
    }

    private static int clip(int v, int max) {
        return v < 0 ? 0 : Math.min(v, max);
    }

    private void parseProba(Vp8BoolReader br) {
        int i = 0;
        for (int t = 0; t < NUM_TYPES; t++) {
            for (int b = 0; b < NUM_BANDS; b++) {
                for (int c = 0; c < NUM_CTX; c++) {
                    for (int p = 0; p < NUM_PROBAS; p++, i++) {
                        proba[t][b][c][p] = br.read(Vp8Tables.COEFF_UPDATE_PROBA[i]) == 1 ? br.literal(8) : Vp8Tables.COEFF_PROBA0[i];
                    }
                }
            }
        }
        useSkipProba = br.flag();
        if (useSkipProba) {
            skipProba = br.literal(8);
        }
    }

    /** Per-macroblock state kept until the loop filter runs. */
    private static final class Block {
        int segment;
        boolean skip;
        boolean i4x4;
        final int[] modes = new int[16];
        int uvMode;
        final int[] coeffs = new int[384];
        /** Whether the loop filter treats the inner edges (libwebp's f_inner). */
        boolean filterInner;
    }

    private Planes decodeFrame(Vp8BoolReader br, Vp8BoolReader[] parts) throws IOException {
        int yStride = mbw * 16;
        int uvStride = mbw * 8;
        int[] ys = new int[yStride * mbh * 16];
        int[] us = new int[uvStride * mbh * 8];
        int[] vs = new int[uvStride * mbh * 8];
        Block[][] blocks = new Block[mbh][mbw];
        int[] intraTop = new int[4 * mbw]; // B_DC (0) above the frame
        int[] intraLeft = new int[4];
        int[] nzTop = new int[mbw]; // bits 0-3 Y columns, 4-5 U, 6-7 V
        int[] nzDcTop = new int[mbw];
        int[] topY = new int[16 * mbw];
        int[] topU = new int[8 * mbw];
        int[] topV = new int[8 * mbw];
        int[] buf = new int[YUV_SIZE];
        for (int mby = 0; mby < mbh; mby++) {
            Vp8BoolReader tokens = parts[mby & (parts.length - 1)];
            java.util.Arrays.fill(intraLeft, B_DC);
            for (int mbx = 0; mbx < mbw; mbx++) {
                Block b = new Block();
                blocks[mby][mbx] = b;
                parseIntraMode(br, b, intraTop, 4 * mbx, intraLeft);
            }
            int[] nzLeft = {0};
            int[] nzDcLeft = {0};
            for (int mbx = 0; mbx < mbw; mbx++) {
                Block b = blocks[mby][mbx];
                boolean skip = useSkipProba && b.skip;
                if (!skip) {
                    skip = parseResiduals(tokens, b, nzTop, nzDcTop, mbx, nzLeft, nzDcLeft);
                } else {
                    nzLeft[0] = 0;
                    nzTop[mbx] = 0;
                    if (!b.i4x4) {
                        nzDcLeft[0] = 0;
                        nzDcTop[mbx] = 0;
                    }
                }
                b.filterInner = b.i4x4 || !skip;
            }
            if (br.pastEnd() || tokens.pastEnd()) {
                throw new IOException("VP8 data is truncated (macroblock row " + mby + ")");
            }
            reconstructRow(mby, blocks[mby], buf, topY, topU, topV, ys, us, vs, yStride, uvStride);
        }
        if (filterType > 0) {
            int[][][] strengths = filterStrengths();
            for (int mby = 0; mby < mbh; mby++) {
                for (int mbx = 0; mbx < mbw; mbx++) {
                    Block b = blocks[mby][mbx];
                    int[] f = strengths[b.segment][b.i4x4 ? 1 : 0];
                    filterMacroblock(ys, us, vs, yStride, uvStride, mbx, mby, f[0], f[1], f[2], b.filterInner);
                }
            }
        }
        int uw = (width + 1) / 2;
        int uh = (height + 1) / 2;
        int[] y = new int[width * height];
        int[] u = new int[uw * uh];
        int[] v = new int[uw * uh];
        for (int r = 0; r < height; r++) {
            System.arraycopy(ys, r * yStride, y, r * width, width);
        }
        for (int r = 0; r < uh; r++) {
            System.arraycopy(us, r * uvStride, u, r * uw, uw);
            System.arraycopy(vs, r * uvStride, v, r * uw, uw);
        }
        return new Planes(width, height, y, u, v);
    }

    private void parseIntraMode(Vp8BoolReader br, Block b, int[] top, int topAt, int[] left) {
        if (updateMap) {
            b.segment = br.read(segProba[0]) == 0 ? br.read(segProba[1]) : br.read(segProba[2]) + 2;
        }
        if (useSkipProba) {
            b.skip = br.read(skipProba) == 1;
        }
        b.i4x4 = br.read(145) == 0;
        if (!b.i4x4) {
            int ymode = br.read(156) == 1
                    ? (br.read(128) == 1 ? B_TM : B_HE)
                    : (br.read(163) == 1 ? B_VE : B_DC);
            b.modes[0] = ymode;
            java.util.Arrays.fill(top, topAt, topAt + 4, ymode);
            java.util.Arrays.fill(left, ymode);
        } else {
            for (int y = 0; y < 4; y++) {
                int ymode = left[y];
                for (int x = 0; x < 4; x++) {
                    int p = (top[topAt + x] * 10 + ymode) * 9;
                    int[] pr = Vp8Tables.BMODES_PROBA;
                    if (br.read(pr[p]) == 0) {
                        ymode = B_DC;
                    } else if (br.read(pr[p + 1]) == 0) {
                        ymode = B_TM;
                    } else if (br.read(pr[p + 2]) == 0) {
                        ymode = B_VE;
                    } else if (br.read(pr[p + 3]) == 0) {
                        ymode = br.read(pr[p + 4]) == 0 ? B_HE : br.read(pr[p + 5]) == 0 ? B_RD : B_VR;
                    } else {
                        ymode = br.read(pr[p + 6]) == 0 ? B_LD
                                : br.read(pr[p + 7]) == 0 ? B_VL
                                : br.read(pr[p + 8]) == 0 ? B_HD : B_HU;
                    }
                    top[topAt + x] = ymode;
                    b.modes[y * 4 + x] = ymode;
                }
                left[y] = ymode;
            }
        }
        b.uvMode = br.read(142) == 0 ? B_DC : br.read(114) == 0 ? B_VE : br.read(183) == 1 ? B_TM : B_HE;
    }

    /** Parses a macroblock's tokens; returns true when all its coefficients are zero (libwebp's skip). */
    private boolean parseResiduals(Vp8BoolReader br, Block b, int[] nzTop, int[] nzDcTop, int mbx, int[] nzLeft, int[] nzDcLeft) {
        int[] q = dq[b.segment];
        int[] dst = b.coeffs;
        boolean nonZero = false;
        int first;
        int acType;
        if (!b.i4x4) {
            int[] dc = new int[16];
            int ctx = nzDcTop[mbx] + nzDcLeft[0];
            int nz = coefficients(br, 1, ctx, q[2], q[3], 0, dc, 0);
            nzDcTop[mbx] = nzDcLeft[0] = nz > 0 ? 1 : 0;
            inverseWht(dc, dst);
            first = 1;
            acType = 0;
        } else {
            first = 0;
            acType = 3;
        }
        int tnz = nzTop[mbx];
        int lnz = nzLeft[0];
        int outTop = 0;
        int outLeft = 0;
        for (int y = 0; y < 4; y++) {
            int l = (lnz >> y) & 1;
            for (int x = 0; x < 4; x++) {
                int t = (tnz >> x) & 1;
                int at = (y * 4 + x) * 16;
                int nz = coefficients(br, acType, l + t, q[0], q[1], first, dst, at);
                l = nz > first ? 1 : 0;
                tnz = (tnz & ~(1 << x)) | (l << x);
                nonZero |= nz > 1 || dst[at] != 0;
            }
            outLeft |= l << y;
        }
        outTop = tnz & 0x0f;
        for (int ch = 0; ch < 2; ch++) {
            int shift = 4 + 2 * ch;
            int ct = (nzTop[mbx] >> shift) & 3;
            int cl = (nzLeft[0] >> shift) & 3;
            for (int y = 0; y < 2; y++) {
                int l = (cl >> y) & 1;
                for (int x = 0; x < 2; x++) {
                    int t = (ct >> x) & 1;
                    int at = 256 + ch * 64 + (y * 2 + x) * 16;
                    int nz = coefficients(br, 2, l + t, q[4], q[5], 0, dst, at);
                    l = nz > 0 ? 1 : 0;
                    ct = (ct & ~(1 << x)) | (l << x);
                    nonZero |= nz > 1 || dst[at] != 0;
                }
                cl = (cl & ~(1 << y)) | (l << y);
            }
            outTop |= ct << shift;
            outLeft |= cl << shift;
        }
        nzTop[mbx] = outTop;
        nzLeft[0] = outLeft;
        return !nonZero;
    }

    /**
     * Reads one block's tokens from position {@code n} into {@code out[at..at+16)} (raster order,
     * dequantised, stored as 16-bit values as libwebp does); returns the position after the last
     * token that was not EOB (16 when the block runs to its end).
     */
    private int coefficients(Vp8BoolReader br, int type, int ctx, int dcq, int acq, int n, int[] out, int at) {
        int[][][] bands = proba[type];
        int[] p = bands[Vp8Tables.BANDS[n]][ctx];
        for (; n < 16; n++) {
            if (br.read(p[0]) == 0) {
                return n; // end of block
            }
            while (br.read(p[1]) == 0) { // a zero coefficient
                p = bands[Vp8Tables.BANDS[++n]][0];
                if (n == 16) {
                    return 16;
                }
            }
            int[][] next = bands[Vp8Tables.BANDS[n + 1]];
            int v;
            if (br.read(p[2]) == 0) {
                v = 1;
                p = next[1];
            } else {
                v = largeValue(br, p);
                p = next[2];
            }
            int signed = br.read(128) == 1 ? -v : v;
            out[at + Vp8Tables.ZIGZAG[n]] = (short) (signed * (n > 0 ? acq : dcq));
        }
        return 16;
    }

    private static int largeValue(Vp8BoolReader br, int[] p) {
        if (br.read(p[3]) == 0) {
            return br.read(p[4]) == 0 ? 2 : 3 + br.read(p[5]);
        }
        if (br.read(p[6]) == 0) {
            if (br.read(p[7]) == 0) {
                return 5 + br.read(159);
            }
            int v = 7 + 2 * br.read(165);
            return v + br.read(145);
        }
        int bit1 = br.read(p[8]);
        int bit0 = br.read(p[9 + bit1]);
        int cat = 2 * bit1 + bit0;
        int v = 0;
        for (int prob : Vp8Tables.CAT3456[cat]) {
            v += v + br.read(prob);
        }
        return v + 3 + (8 << cat);
    }

    /** The inverse Walsh-Hadamard transform of the Y2 block into the DC of the 16 luma blocks. */
    private static void inverseWht(int[] in, int[] out) {
        int[] tmp = new int[16];
        for (int i = 0; i < 4; i++) {
            int a0 = in[i] + in[12 + i];
            int a1 = in[4 + i] + in[8 + i];
            int a2 = in[4 + i] - in[8 + i];
            int a3 = in[i] - in[12 + i];
            tmp[i] = a0 + a1;
            tmp[8 + i] = a0 - a1;
            tmp[4 + i] = a3 + a2;
            tmp[12 + i] = a3 - a2;
        }
        for (int i = 0; i < 4; i++) {
            int dc = tmp[i * 4] + 3;
            int a0 = dc + tmp[3 + i * 4];
            int a1 = tmp[1 + i * 4] + tmp[2 + i * 4];
            int a2 = tmp[1 + i * 4] - tmp[2 + i * 4];
            int a3 = dc - tmp[3 + i * 4];
            int o = i * 64;
            out[o] = (short) ((a0 + a1) >> 3);
            out[o + 16] = (short) ((a3 + a2) >> 3);
            out[o + 32] = (short) ((a0 - a1) >> 3);
            out[o + 48] = (short) ((a3 - a2) >> 3);
        }
    }

    private void reconstructRow(int mby, Block[] row, int[] buf, int[] topY, int[] topU, int[] topV,
                                int[] ys, int[] us, int[] vs, int yStride, int uvStride) {
        for (int j = 0; j < 16; j++) {
            buf[Y_OFF + j * BPS - 1] = 129;
        }
        for (int j = 0; j < 8; j++) {
            buf[U_OFF + j * BPS - 1] = 129;
            buf[V_OFF + j * BPS - 1] = 129;
        }
        if (mby > 0) {
            buf[Y_OFF - 1 - BPS] = 129;
            buf[U_OFF - 1 - BPS] = 129;
            buf[V_OFF - 1 - BPS] = 129;
        } else {
            java.util.Arrays.fill(buf, Y_OFF - BPS - 1, Y_OFF - BPS - 1 + 21, 127);
            java.util.Arrays.fill(buf, U_OFF - BPS - 1, U_OFF - BPS - 1 + 9, 127);
            java.util.Arrays.fill(buf, V_OFF - BPS - 1, V_OFF - BPS - 1 + 9, 127);
        }
        for (int mbx = 0; mbx < mbw; mbx++) {
            Block b = row[mbx];
            if (mbx > 0) { // the previous block's right columns become the left samples
                for (int j = -1; j < 16; j++) {
                    System.arraycopy(buf, Y_OFF + j * BPS + 12, buf, Y_OFF + j * BPS - 4, 4);
                }
                for (int j = -1; j < 8; j++) {
                    System.arraycopy(buf, U_OFF + j * BPS + 4, buf, U_OFF + j * BPS - 4, 4);
                    System.arraycopy(buf, V_OFF + j * BPS + 4, buf, V_OFF + j * BPS - 4, 4);
                }
            }
            if (mby > 0) {
                System.arraycopy(topY, mbx * 16, buf, Y_OFF - BPS, 16);
                System.arraycopy(topU, mbx * 8, buf, U_OFF - BPS, 8);
                System.arraycopy(topV, mbx * 8, buf, V_OFF - BPS, 8);
            }
            int[] c = b.coeffs;
            if (b.i4x4) {
                int topRight = Y_OFF - BPS + 16;
                if (mby > 0) {
                    if (mbx >= mbw - 1) {
                        java.util.Arrays.fill(buf, topRight, topRight + 4, topY[mbx * 16 + 15]);
                    } else {
                        System.arraycopy(topY, (mbx + 1) * 16, buf, topRight, 4);
                    }
                }
                for (int r = 4; r <= 12; r += 4) { // the right-most blocks of lower rows see the same top-right samples
                    System.arraycopy(buf, topRight, buf, topRight + r * BPS, 4);
                }
                for (int n = 0; n < 16; n++) {
                    int dst = Y_OFF + SCAN[n];
                    predict4(buf, dst, b.modes[n]);
                    inverseDct(c, n * 16, buf, dst);
                }
            } else {
                predict(buf, Y_OFF, 16, dcMode(mbx, mby, b.modes[0]));
                for (int n = 0; n < 16; n++) {
                    inverseDct(c, n * 16, buf, Y_OFF + SCAN[n]);
                }
            }
            int uvMode = dcMode(mbx, mby, b.uvMode);
            predict(buf, U_OFF, 8, uvMode);
            predict(buf, V_OFF, 8, uvMode);
            for (int n = 0; n < 4; n++) {
                int at = (n & 1) * 4 + (n >> 1) * 4 * BPS;
                inverseDct(c, 256 + n * 16, buf, U_OFF + at);
                inverseDct(c, 320 + n * 16, buf, V_OFF + at);
            }
            if (mby < mbh - 1) { // unfiltered bottom rows: the next row predicts from them
                System.arraycopy(buf, Y_OFF + 15 * BPS, topY, mbx * 16, 16);
                System.arraycopy(buf, U_OFF + 7 * BPS, topU, mbx * 8, 8);
                System.arraycopy(buf, V_OFF + 7 * BPS, topV, mbx * 8, 8);
            }
            for (int j = 0; j < 16; j++) {
                System.arraycopy(buf, Y_OFF + j * BPS, ys, (mby * 16 + j) * yStride + mbx * 16, 16);
            }
            for (int j = 0; j < 8; j++) {
                System.arraycopy(buf, U_OFF + j * BPS, us, (mby * 8 + j) * uvStride + mbx * 8, 8);
                System.arraycopy(buf, V_OFF + j * BPS, vs, (mby * 8 + j) * uvStride + mbx * 8, 8);
            }
        }
    }

    /** DC prediction without the neighbours that lie outside the frame (libwebp's CheckMode). */
    private static int dcMode(int mbx, int mby, int mode) {
        if (mode != B_DC) {
            return mode;
        }
        if (mbx == 0) {
            return mby == 0 ? DC_NOTOPLEFT : DC_NOLEFT;
        }
        return mby == 0 ? DC_NOTOP : B_DC;
    }

    /** 16x16 luma or 8x8 chroma prediction. */
    private static void predict(int[] d, int at, int size, int mode) {
        int shift = size == 16 ? 4 : 3;
        switch (mode) {
            case B_TM -> trueMotion(d, at, size);
            case B_VE -> {
                for (int j = 0; j < size; j++) {
                    System.arraycopy(d, at - BPS, d, at + j * BPS, size);
                }
            }
            case B_HE -> {
                for (int j = 0; j < size; j++) {
                    java.util.Arrays.fill(d, at + j * BPS, at + j * BPS + size, d[at + j * BPS - 1]);
                }
            }
            case B_DC -> {
                int dc = size;
                for (int j = 0; j < size; j++) {
                    dc += d[at - 1 + j * BPS] + d[at + j - BPS];
                }
                fill(d, at, size, dc >> (shift + 1));
            }
            case DC_NOTOP -> {
                int dc = size >> 1;
                for (int j = 0; j < size; j++) {
                    dc += d[at - 1 + j * BPS];
                }
                fill(d, at, size, dc >> shift);
            }
            case DC_NOLEFT -> {
                int dc = size >> 1;
                for (int j = 0; j < size; j++) {
                    dc += d[at + j - BPS];
                }
                fill(d, at, size, dc >> shift);
            }
            case DC_NOTOPLEFT -> fill(d, at, size, 0x80);
            default -> throw new IllegalStateException("intra mode " + mode);
        }
    }

    private static void fill(int[] d, int at, int size, int v) {
        for (int j = 0; j < size; j++) {
            java.util.Arrays.fill(d, at + j * BPS, at + j * BPS + size, v);
        }
    }

    private static void trueMotion(int[] d, int at, int size) {
        int topLeft = d[at - BPS - 1];
        for (int y = 0; y < size; y++) {
            int left = d[at + y * BPS - 1];
            for (int x = 0; x < size; x++) {
                d[at + y * BPS + x] = clip255(d[at - BPS + x] + left - topLeft);
            }
        }
    }

    private static int avg3(int a, int b, int c) {
        return (a + 2 * b + c + 2) >> 2;
    }

    private static int avg2(int a, int b) {
        return (a + b + 1) >> 1;
    }

    /** The ten 4x4 luma predictions, as libwebp's VE4 ... HD4. */
    private static void predict4(int[] d, int at, int mode) {
        int t = at - BPS;
        int top0 = d[t];
        int top1 = d[t + 1];
        int top2 = d[t + 2];
        int top3 = d[t + 3];
        int x0 = d[t - 1];
        int i0 = d[at - 1];
        int j0 = d[at - 1 + BPS];
        int k0 = d[at - 1 + 2 * BPS];
        int l0 = d[at - 1 + 3 * BPS];
        switch (mode) {
            case B_DC -> {
                int dc = 4;
                for (int i = 0; i < 4; i++) {
                    dc += d[t + i] + d[at - 1 + i * BPS];
                }
                for (int y = 0; y < 4; y++) {
                    java.util.Arrays.fill(d, at + y * BPS, at + y * BPS + 4, dc >> 3);
                }
            }
            case B_TM -> trueMotion(d, at, 4);
            case B_VE -> {
                int[] vals = {avg3(x0, top0, top1), avg3(top0, top1, top2), avg3(top1, top2, top3), avg3(top2, top3, d[t + 4])};
                for (int y = 0; y < 4; y++) {
                    System.arraycopy(vals, 0, d, at + y * BPS, 4);
                }
            }
            case B_HE -> {
                int[] vals = {avg3(x0, i0, j0), avg3(i0, j0, k0), avg3(j0, k0, l0), avg3(k0, l0, l0)};
                for (int y = 0; y < 4; y++) {
                    java.util.Arrays.fill(d, at + y * BPS, at + y * BPS + 4, vals[y]);
                }
            }
            case B_RD -> {
                set(d, at, 0, 3, avg3(j0, k0, l0));
                set(d, at, 1, 3, 0, 2, avg3(i0, j0, k0));
                set(d, at, 2, 3, 1, 2, 0, 1, avg3(x0, i0, j0));
                set(d, at, 3, 3, 2, 2, 1, 1, 0, 0, avg3(top0, x0, i0));
                set(d, at, 3, 2, 2, 1, 1, 0, avg3(top1, top0, x0));
                set(d, at, 3, 1, 2, 0, avg3(top2, top1, top0));
                set(d, at, 3, 0, avg3(top3, top2, top1));
            }
            case B_LD -> {
                int e = d[t + 4];
                int f = d[t + 5];
                int g = d[t + 6];
                int h = d[t + 7];
                set(d, at, 0, 0, avg3(top0, top1, top2));
                set(d, at, 1, 0, 0, 1, avg3(top1, top2, top3));
                set(d, at, 2, 0, 1, 1, 0, 2, avg3(top2, top3, e));
                set(d, at, 3, 0, 2, 1, 1, 2, 0, 3, avg3(top3, e, f));
                set(d, at, 3, 1, 2, 2, 1, 3, avg3(e, f, g));
                set(d, at, 3, 2, 2, 3, avg3(f, g, h));
                set(d, at, 3, 3, avg3(g, h, h));
            }
            case B_VR -> {
                set(d, at, 0, 0, 1, 2, avg2(x0, top0));
                set(d, at, 1, 0, 2, 2, avg2(top0, top1));
                set(d, at, 2, 0, 3, 2, avg2(top1, top2));
                set(d, at, 3, 0, avg2(top2, top3));
                set(d, at, 0, 3, avg3(k0, j0, i0));
                set(d, at, 0, 2, avg3(j0, i0, x0));
                set(d, at, 0, 1, 1, 3, avg3(i0, x0, top0));
                set(d, at, 1, 1, 2, 3, avg3(x0, top0, top1));
                set(d, at, 2, 1, 3, 3, avg3(top0, top1, top2));
                set(d, at, 3, 1, avg3(top1, top2, top3));
            }
            case B_VL -> {
                int e = d[t + 4];
                int f = d[t + 5];
                int g = d[t + 6];
                int h = d[t + 7];
                set(d, at, 0, 0, avg2(top0, top1));
                set(d, at, 1, 0, 0, 2, avg2(top1, top2));
                set(d, at, 2, 0, 1, 2, avg2(top2, top3));
                set(d, at, 3, 0, 2, 2, avg2(top3, e));
                set(d, at, 0, 1, avg3(top0, top1, top2));
                set(d, at, 1, 1, 0, 3, avg3(top1, top2, top3));
                set(d, at, 2, 1, 1, 3, avg3(top2, top3, e));
                set(d, at, 3, 1, 2, 3, avg3(top3, e, f));
                set(d, at, 3, 2, avg3(e, f, g));
                set(d, at, 3, 3, avg3(f, g, h));
            }
            case B_HU -> {
                set(d, at, 0, 0, avg2(i0, j0));
                set(d, at, 2, 0, 0, 1, avg2(j0, k0));
                set(d, at, 2, 1, 0, 2, avg2(k0, l0));
                set(d, at, 1, 0, avg3(i0, j0, k0));
                set(d, at, 3, 0, 1, 1, avg3(j0, k0, l0));
                set(d, at, 3, 1, 1, 2, avg3(k0, l0, l0));
                set(d, at, 3, 2, 2, 2, 0, 3, 1, 3, 2, 3, 3, 3, l0);
            }
            case B_HD -> {
                set(d, at, 0, 0, 2, 1, avg2(i0, x0));
                set(d, at, 0, 1, 2, 2, avg2(j0, i0));
                set(d, at, 0, 2, 2, 3, avg2(k0, j0));
                set(d, at, 0, 3, avg2(l0, k0));
                set(d, at, 3, 0, avg3(top0, top1, top2));
                set(d, at, 2, 0, avg3(x0, top0, top1));
                set(d, at, 1, 0, 3, 1, avg3(i0, x0, top0));
                set(d, at, 1, 1, 3, 2, avg3(j0, i0, x0));
                set(d, at, 1, 2, 3, 3, avg3(k0, j0, i0));
                set(d, at, 1, 3, avg3(l0, k0, j0));
            }
            default -> throw new IllegalStateException("intra 4x4 mode " + mode);
        }
    }

    /** Sets the samples at the (x, y) pairs given before the last argument to the last argument. */
    private static void set(int[] d, int at, int... xyv) {
        int v = xyv[xyv.length - 1];
        for (int i = 0; i + 1 < xyv.length; i += 2) {
            d[at + xyv[i] + xyv[i + 1] * BPS] = v;
        }
    }

    private static int mul1(int a) {
        return ((a * 20091) >> 16) + a;
    }

    private static int mul2(int a) {
        return (a * 35468) >> 16;
    }

    /** Adds the inverse DCT of {@code in[at..at+16)} to the 4x4 block at {@code dst} (nothing when all zero). */
    private static void inverseDct(int[] in, int at, int[] d, int dst) {
        boolean any = false;
        for (int i = 0; i < 16 && !any; i++) {
            any = in[at + i] != 0;
        }
        if (!any) {
            return;
        }
        int[] tmp = new int[16];
        for (int i = 0; i < 4; i++) { // vertical pass
            int a = in[at + i] + in[at + 8 + i];
            int b = in[at + i] - in[at + 8 + i];
            int c = mul2(in[at + 4 + i]) - mul1(in[at + 12 + i]);
            int e = mul1(in[at + 4 + i]) + mul2(in[at + 12 + i]);
            tmp[4 * i] = a + e;
            tmp[4 * i + 1] = b + c;
            tmp[4 * i + 2] = b - c;
            tmp[4 * i + 3] = a - e;
        }
        for (int i = 0; i < 4; i++) { // horizontal pass, one output row each
            int dc = tmp[i] + 4;
            int a = dc + tmp[8 + i];
            int b = dc - tmp[8 + i];
            int c = mul2(tmp[4 + i]) - mul1(tmp[12 + i]);
            int e = mul1(tmp[4 + i]) + mul2(tmp[12 + i]);
            int o = dst + i * BPS;
            d[o] = clip255(d[o] + ((a + e) >> 3));
            d[o + 1] = clip255(d[o + 1] + ((b + c) >> 3));
            d[o + 2] = clip255(d[o + 2] + ((b - c) >> 3));
            d[o + 3] = clip255(d[o + 3] + ((a - e) >> 3));
        }
    }

    private static int clip255(int v) {
        return v < 0 ? 0 : Math.min(v, 255);
    }

    /** {limit, interior limit, hev threshold} by [segment][i4x4], as libwebp's PrecomputeFilterStrengths. */
    private int[][][] filterStrengths() {
        int[][][] out = new int[4][2][];
        for (int s = 0; s < 4; s++) {
            int base = filterLevel;
            if (useSegment) {
                base = segFilter[s] + (absoluteDelta ? 0 : filterLevel);
            }
            for (int i4 = 0; i4 <= 1; i4++) {
                int level = base;
                if (useLfDelta) {
                    level += refLfDelta[0];
                    if (i4 == 1) {
                        level += modeLfDelta[0];
                    }
                }
                level = level < 0 ? 0 : Math.min(level, 63);
                if (level > 0) {
                    int ilevel = level;
                    if (sharpness > 0) {
                        ilevel >>= sharpness > 4 ? 2 : 1;
                        ilevel = Math.min(ilevel, 9 - sharpness);
                    }
                    ilevel = Math.max(ilevel, 1);
                    out[s][i4] = new int[] {2 * level + ilevel, ilevel, level >= 40 ? 2 : level >= 15 ? 1 : 0};
                } else {
                    out[s][i4] = new int[] {0, 0, 0};
                }
            }
        }
        return out;
    }

    private void filterMacroblock(int[] ys, int[] us, int[] vs, int yStride, int uvStride, int mbx, int mby,
                                  int limit, int ilevel, int hev, boolean inner) {
        if (limit == 0) {
            return;
        }
        int y = mby * 16 * yStride + mbx * 16;
        if (filterType == 1) { // simple: luma only
            if (mbx > 0) {
                simpleFilter(ys, y, 1, yStride, limit + 4);
            }
            if (inner) {
                for (int k = 4; k < 16; k += 4) {
                    simpleFilter(ys, y + k, 1, yStride, limit);
                }
            }
            if (mby > 0) {
                simpleFilter(ys, y, yStride, 1, limit + 4);
            }
            if (inner) {
                for (int k = 4; k < 16; k += 4) {
                    simpleFilter(ys, y + k * yStride, yStride, 1, limit);
                }
            }
            return;
        }
        int uv = mby * 8 * uvStride + mbx * 8;
        if (mbx > 0) {
            filterLoop(ys, y, 1, yStride, 16, limit + 4, ilevel, hev, true);
            filterLoop(us, uv, 1, uvStride, 8, limit + 4, ilevel, hev, true);
            filterLoop(vs, uv, 1, uvStride, 8, limit + 4, ilevel, hev, true);
        }
        if (inner) {
            for (int k = 4; k < 16; k += 4) {
                filterLoop(ys, y + k, 1, yStride, 16, limit, ilevel, hev, false);
            }
            filterLoop(us, uv + 4, 1, uvStride, 8, limit, ilevel, hev, false);
            filterLoop(vs, uv + 4, 1, uvStride, 8, limit, ilevel, hev, false);
        }
        if (mby > 0) {
            filterLoop(ys, y, yStride, 1, 16, limit + 4, ilevel, hev, true);
            filterLoop(us, uv, uvStride, 1, 8, limit + 4, ilevel, hev, true);
            filterLoop(vs, uv, uvStride, 1, 8, limit + 4, ilevel, hev, true);
        }
        if (inner) {
            for (int k = 4; k < 16; k += 4) {
                filterLoop(ys, y + k * yStride, yStride, 1, 16, limit, ilevel, hev, false);
            }
            filterLoop(us, uv + 4 * uvStride, uvStride, 1, 8, limit, ilevel, hev, false);
            filterLoop(vs, uv + 4 * uvStride, uvStride, 1, 8, limit, ilevel, hev, false);
        }
    }

    /** The simple filter across one 16-sample edge: {@code step} crosses it, {@code along} runs along it. */
    private static void simpleFilter(int[] p, int at, int step, int along, int thresh) {
        int thresh2 = 2 * thresh + 1;
        for (int i = 0; i < 16; i++) {
            int q = at + i * along;
            if (4 * Math.abs(p[q - step] - p[q]) + Math.abs(p[q - 2 * step] - p[q + step]) <= thresh2) {
                filter2(p, q, step);
            }
        }
    }

    /** The normal filter across one edge ({@code macroblockEdge}: libwebp's FilterLoop26, else FilterLoop24). */
    private static void filterLoop(int[] p, int at, int step, int along, int size, int thresh, int ithresh, int hevThresh,
                                   boolean macroblockEdge) {
        int thresh2 = 2 * thresh + 1;
        for (int i = 0; i < size; i++) {
            int q = at + i * along;
            int p3 = p[q - 4 * step];
            int p2 = p[q - 3 * step];
            int p1 = p[q - 2 * step];
            int p0 = p[q - step];
            int q0 = p[q];
            int q1 = p[q + step];
            int q2 = p[q + 2 * step];
            int q3 = p[q + 3 * step];
            if (4 * Math.abs(p0 - q0) + Math.abs(p1 - q1) > thresh2) {
                continue;
            }
            if (Math.abs(p3 - p2) > ithresh || Math.abs(p2 - p1) > ithresh || Math.abs(p1 - p0) > ithresh
                    || Math.abs(q3 - q2) > ithresh || Math.abs(q2 - q1) > ithresh || Math.abs(q1 - q0) > ithresh) {
                continue;
            }
            if (Math.abs(p1 - p0) > hevThresh || Math.abs(q1 - q0) > hevThresh) {
                filter2(p, q, step);
            } else if (macroblockEdge) {
                filter6(p, q, step);
            } else {
                filter4(p, q, step);
            }
        }
    }

    private static int sclip1(int v) { // [-1020, 1020] to [-128, 127]
        return v < -128 ? -128 : Math.min(v, 127);
    }

    private static int sclip2(int v) { // [-112, 112] to [-16, 15]
        return v < -16 ? -16 : Math.min(v, 15);
    }

    private static void filter2(int[] p, int q, int step) {
        int p1 = p[q - 2 * step];
        int p0 = p[q - step];
        int q0 = p[q];
        int q1 = p[q + step];
        int a = 3 * (q0 - p0) + sclip1(p1 - q1);
        int a1 = sclip2((a + 4) >> 3);
        int a2 = sclip2((a + 3) >> 3);
        p[q - step] = clip255(p0 + a2);
        p[q] = clip255(q0 - a1);
    }

    private static void filter4(int[] p, int q, int step) {
        int p1 = p[q - 2 * step];
        int p0 = p[q - step];
        int q0 = p[q];
        int q1 = p[q + step];
        int a = 3 * (q0 - p0);
        int a1 = sclip2((a + 4) >> 3);
        int a2 = sclip2((a + 3) >> 3);
        int a3 = (a1 + 1) >> 1;
        p[q - 2 * step] = clip255(p1 + a3);
        p[q - step] = clip255(p0 + a2);
        p[q] = clip255(q0 - a1);
        p[q + step] = clip255(q1 - a3);
    }

    private static void filter6(int[] p, int q, int step) {
        int p2 = p[q - 3 * step];
        int p1 = p[q - 2 * step];
        int p0 = p[q - step];
        int q0 = p[q];
        int q1 = p[q + step];
        int q2 = p[q + 2 * step];
        int a = sclip1(3 * (q0 - p0) + sclip1(p1 - q1));
        int a1 = (27 * a + 63) >> 7;
        int a2 = (18 * a + 63) >> 7;
        int a3 = (9 * a + 63) >> 7;
        p[q - 3 * step] = clip255(p2 + a3);
        p[q - 2 * step] = clip255(p1 + a2);
        p[q - step] = clip255(p0 + a1);
        p[q] = clip255(q0 - a1);
        p[q + step] = clip255(q1 - a2);
        p[q + 2 * step] = clip255(q2 - a3);
    }
}
