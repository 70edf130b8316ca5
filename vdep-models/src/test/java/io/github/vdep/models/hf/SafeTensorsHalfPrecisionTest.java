package io.github.vdep.models.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SafeTensorsHalfPrecisionTest {

    private static int f16(float v) {
        return HalfPrecision.floatToF16Bits(v) & 0xffff;
    }

    private static float fromF16(int bits) {
        return HalfPrecision.f16BitsToFloat((short) bits);
    }

    private static int bf16(float v) {
        return HalfPrecision.floatToBf16Bits(v) & 0xffff;
    }

    private static float fromBf16(int bits) {
        return HalfPrecision.bf16BitsToFloat((short) bits);
    }

    @Test
    void f16KnownBitPatterns() {
        int[][] cases = {
            {0x3C00, Float.floatToIntBits(1.0f)},
            {0xC100, Float.floatToIntBits(-2.5f)},
            {0x7BFF, Float.floatToIntBits(65504f)},
            {0x0001, Float.floatToIntBits(0x1p-24f)},          // smallest subnormal
            {0x03FF, Float.floatToIntBits(1023 * 0x1p-24f)},   // largest subnormal
            {0x0400, Float.floatToIntBits(0x1p-14f)},          // smallest normal
            {0x7C00, Float.floatToIntBits(Float.POSITIVE_INFINITY)},
            {0xFC00, Float.floatToIntBits(Float.NEGATIVE_INFINITY)},
            {0x0000, Float.floatToIntBits(0f)},
            {0x8000, Float.floatToIntBits(-0f)},
        };
        for (int[] c : cases) {
            assertEquals(c[1], Float.floatToRawIntBits(fromF16(c[0])), "decode " + Integer.toHexString(c[0]));
            assertEquals(c[0], f16(Float.intBitsToFloat(c[1])), "encode " + Float.intBitsToFloat(c[1]));
        }
        assertTrue(Float.isNaN(fromF16(0x7E00)));
        assertTrue(Float.isNaN(fromF16(0x7C01)));
        assertTrue(Float.isNaN(fromF16(0xFE00)));
        assertEquals(0x7E00, f16(Float.NaN));
        // A NaN whose payload sits only in bits that are dropped must stay NaN, not become infinity.
        int tiny = f16(Float.intBitsToFloat(0x7F800001));
        assertEquals(0x7C00, tiny & 0x7C00);
        assertTrue((tiny & 0x3FF) != 0);
    }

    @Test
    void f16RoundsToNearestEven() {
        assertEquals(0x3C00, f16(1f + 0x1p-11f), "tie goes to even (down)");
        assertEquals(0x3C02, f16(1f + 3 * 0x1p-11f), "tie goes to even (up)");
        assertEquals(0x3C01, f16(1f + 0x1p-11f + 0x1p-20f), "above the tie rounds up");
        assertEquals(0x7BFF, f16(65519f));
        assertEquals(0x7C00, f16(65520f), "rounds past the largest half to infinity");
        assertEquals(0xFC00, f16(-1e6f));
        assertEquals(0x0000, f16(0x1p-25f), "half of the smallest subnormal ties to zero");
        assertEquals(0x8000, f16(-0x1p-25f));
        assertEquals(0x0001, f16(Math.nextUp(0x1p-25f)));
        assertEquals(0x0002, f16(3 * 0x1p-25f), "subnormal tie goes to even");
        assertEquals(0x0400, f16(1023.5f * 0x1p-24f), "largest subnormal tie carries into the smallest normal");
        assertEquals(0x0000, f16(Float.MIN_VALUE));
    }

    @Test
    void f16DecodeMatchesDefinitionAndRoundTripsForEveryPattern() {
        for (int h = 0; h < 0x10000; h++) {
            int exp = (h >>> 10) & 0x1f;
            int mant = h & 0x3ff;
            double sign = (h & 0x8000) != 0 ? -1 : 1;
            float decoded = fromF16(h);
            if (exp == 0x1f) {
                assertEquals(mant == 0, Float.isInfinite(decoded), Integer.toHexString(h));
                assertEquals(mant != 0, Float.isNaN(decoded), Integer.toHexString(h));
                continue;
            }
            double expected = exp == 0
                    ? sign * Math.scalb((double) mant, -24)
                    : sign * Math.scalb(1 + mant / 1024.0, exp - 15);
            assertEquals(expected, decoded, 0.0, Integer.toHexString(h));
            assertEquals(h, f16(decoded), "round trip " + Integer.toHexString(h));
        }
    }

    @Test
    void f16EncodeIsNearestForRandomFloats() {
        Random random = new Random(42);
        for (int i = 0; i < 200_000; i++) {
            // Exponents spanning the subnormal, normal and overflow ranges of binary16.
            float x = Float.intBitsToFloat((random.nextInt(0x20000000) + 0x30000000) | (random.nextBoolean() ? 0x80000000 : 0));
            int h = f16(x);
            double got = fromF16(h);
            boolean overflows = Math.abs(x) >= 65520f;
            assertEquals(overflows, Double.isInfinite(got), () -> "overflow exactly from 65520 on: " + x);
            if (overflows) {
                continue;
            }
            double err = Math.abs(got - x);
            for (int neighbour : new int[] {h - 1, h + 1}) {
                if ((neighbour & 0x7C00) == 0x7C00 || neighbour < 0 || neighbour > 0xFFFF
                        || ((neighbour ^ h) & 0x8000) != 0) {
                    continue;
                }
                double other = Math.abs(fromF16(neighbour) - (double) x);
                assertTrue(err < other || (err == other && (h & 1) == 0),
                        () -> x + " encoded as " + Integer.toHexString(h) + " but a neighbour is nearer");
            }
        }
    }

    @Test
    void bf16KnownBitPatterns() {
        assertEquals(1.0f, fromBf16(0x3F80));
        assertEquals(-2.5f, fromBf16(0xC020));
        assertEquals(Float.POSITIVE_INFINITY, fromBf16(0x7F80));
        assertEquals(Float.NEGATIVE_INFINITY, fromBf16(0xFF80));
        assertTrue(Float.isNaN(fromBf16(0x7FC0)));
        assertEquals(Float.intBitsToFloat(0x00010000), fromBf16(0x0001), "smallest subnormal");
        assertEquals(65536f, fromBf16(0x4780));

        assertEquals(0x3F80, bf16(1.0f));
        assertEquals(0xC020, bf16(-2.5f));
        assertEquals(0x4780, bf16(65504f), "65504 rounds up to 65536 in bfloat16");
        assertEquals(0x0001, bf16(Float.intBitsToFloat(0x00010000)));
        assertEquals(0x7F80, bf16(Float.POSITIVE_INFINITY));
        assertEquals(0xFF80, bf16(Float.NEGATIVE_INFINITY));
        assertEquals(0x7FC0, bf16(Float.NaN));
        assertEquals(0x8000, bf16(-0f));
        assertEquals(0x3F80, bf16(Float.intBitsToFloat(0x3F808000)), "tie goes to even (down)");
        assertEquals(0x3F82, bf16(Float.intBitsToFloat(0x3F818000)), "tie goes to even (up)");
        assertEquals(0x3F81, bf16(Float.intBitsToFloat(0x3F808001)));
        assertEquals(0x7F80, bf16(Float.MAX_VALUE), "rounds past the largest bfloat16 to infinity");
        int nan = bf16(Float.intBitsToFloat(0x7F800001));
        assertTrue(Float.isNaN(fromBf16(nan)), "payload-only NaN stays NaN");
    }

    @Test
    void bf16RoundTripsForEveryPattern() {
        for (int h = 0; h < 0x10000; h++) {
            float v = fromBf16(h);
            assertEquals(h << 16, Float.floatToRawIntBits(v));
            if (!Float.isNaN(v)) {
                assertEquals(h, bf16(v), Integer.toHexString(h));
            }
        }
    }
}
