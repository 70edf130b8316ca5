package io.github.vdep.models.hf;

/**
 * Bit-level conversions between float32 and the 16-bit float formats F16 (IEEE binary16) and
 * BF16 (bfloat16). Java 17 has no {@code Float.float16ToFloat}, so they are written out here.
 *
 * <p>Narrowing rounds to nearest, ties to even, overflows to infinity, and keeps NaNs NaN
 * (quieted). Widening is exact.
 */
public final class HalfPrecision {

    /** All 65536 F16 values decoded once: a table lookup is the fastest bulk decode. */
    private static final float[] F16_TABLE = buildF16Table();

    private HalfPrecision() {
    }

    /**
     * Widens F16 bits to a float (exact, including subnormals, infinities and NaN).
     *
     * @param bits the binary16 bit pattern
     * @return the same value as a float
     */
    public static float f16BitsToFloat(short bits) {
        return F16_TABLE[bits & 0xffff];
    }

    /**
     * Narrows a float to F16 bits, rounding to nearest even.
     *
     * @param value any float
     * @return the nearest binary16 bit pattern; infinity beyond 65504 (after rounding)
     */
    public static short floatToF16Bits(float value) {
        int f = Float.floatToRawIntBits(value);
        int sign = (f >>> 16) & 0x8000;
        int abs = f & 0x7fffffff;
        if (abs >= 0x7f800000) {
            if (abs == 0x7f800000) {
                return (short) (sign | 0x7c00);
            }
            // Keep the top payload bits and force the quiet bit so the result cannot become infinity.
            return (short) (sign | 0x7e00 | ((abs >>> 13) & 0x3ff));
        }
        if (abs >= 0x477ff000) {
            // 65520 and above round past the largest finite half (65504).
            return (short) (sign | 0x7c00);
        }
        if (abs >= 0x38800000) {
            // Normal half: rebias the exponent (127 -> 15) and round away the low 13 mantissa bits.
            int h = ((abs >>> 23) - 112) << 10 | ((abs & 0x7fffff) >>> 13);
            int rest = abs & 0x1fff;
            if (rest > 0x1000 || (rest == 0x1000 && (h & 1) != 0)) {
                h++; // a mantissa carry correctly bumps the exponent
            }
            return (short) (sign | h);
        }
        if (abs <= 0x33000000) {
            // At most 2^-25, half the smallest subnormal: rounds (ties to even) to zero.
            return (short) sign;
        }
        // Subnormal half: count units of 2^-24 from the full 24-bit significand.
        int exp = abs >>> 23;
        int mant = (abs & 0x7fffff) | 0x800000;
        int shift = 126 - exp;
        int h = mant >>> shift;
        int rest = mant & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (rest > half || (rest == half && (h & 1) != 0)) {
            h++; // may carry into the smallest normal, which is the right answer
        }
        return (short) (sign | h);
    }

    /**
     * Widens BF16 bits to a float (exact).
     *
     * @param bits the bfloat16 bit pattern
     * @return the same value as a float
     */
    public static float bf16BitsToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /**
     * Narrows a float to BF16 bits, rounding to nearest even.
     *
     * @param value any float
     * @return the nearest bfloat16 bit pattern
     */
    public static short floatToBf16Bits(float value) {
        int f = Float.floatToRawIntBits(value);
        if ((f & 0x7fffffff) > 0x7f800000) {
            // Truncating could clear every payload bit and turn NaN into infinity; set the quiet bit.
            return (short) ((f >>> 16) | 0x40);
        }
        int rounded = f + 0x7fff + ((f >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    private static float[] buildF16Table() {
        float[] table = new float[1 << 16];
        for (int h = 0; h < table.length; h++) {
            table[h] = decodeF16(h);
        }
        return table;
    }

    private static float decodeF16(int h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0) {
            // Zero or subnormal: mant * 2^-24, exactly representable as a float.
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
