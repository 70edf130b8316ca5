package io.github.vdep.train.data.image;

/**
 * The boolean entropy decoder of VP8 (RFC 6386, section 7). Reading past the end of its
 * partition yields zero bits, as in libvpx and libwebp; {@link #pastEnd} says whether that
 * happened beyond the one byte of look-ahead the decoder keeps.
 */
final class Vp8BoolReader {

    private final byte[] data;
    private final int end;
    private int pos;
    private int value;
    private int range = 255;
    private int bitCount;

    /**
     * @param data the bytes
     * @param start the partition's first byte
     * @param length the partition's length
     */
    Vp8BoolReader(byte[] data, int start, int length) {
        this.data = data;
        this.pos = start;
        this.end = start + length;
        value = next() << 8 | next();
    }

    private int next() {
        if (pos < end) {
            return data[pos++] & 0xff;
        }
        pos++; // counted, so that pastEnd can tell
        return 0;
    }

    /** Whether more bytes were consumed than the partition holds (a truncated partition). */
    boolean pastEnd() {
        return pos > end + 1;
    }

    /** One bit that is 0 with probability {@code prob / 256}. */
    int read(int prob) {
        int split = 1 + (((range - 1) * prob) >> 8);
        int bigSplit = split << 8;
        int bit;
        if (value >= bigSplit) {
            bit = 1;
            range -= split;
            value -= bigSplit;
        } else {
            bit = 0;
            range = split;
        }
        while (range < 128) {
            value <<= 1;
            range <<= 1;
            if (++bitCount == 8) {
                bitCount = 0;
                value |= next();
            }
        }
        return bit;
    }

    /** An unsigned {@code bits}-bit literal, most significant bit first. */
    int literal(int bits) {
        int v = 0;
        while (bits-- > 0) {
            v |= read(128) << bits;
        }
        return v;
    }

    /** A {@code bits}-bit magnitude followed by a sign bit. */
    int signedLiteral(int bits) {
        int v = literal(bits);
        return read(128) == 1 ? -v : v;
    }

    /** One flag bit. */
    boolean flag() {
        return read(128) == 1;
    }
}
