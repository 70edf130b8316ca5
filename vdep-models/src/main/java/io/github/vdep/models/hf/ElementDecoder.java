package io.github.vdep.models.hf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;

/**
 * Bulk decoding of little-endian safetensors element bytes into Java arrays. Each method consumes
 * the whole of {@code src} (from its position to its limit).
 */
final class ElementDecoder {

    /** Scratch size for types that need a per-element conversion. */
    private static final int SCRATCH = 8192;

    private ElementDecoder() {
    }

    /** Decodes any floating-point dtype to float32. */
    static void toFloats(SafeTensorDtype dtype, ByteBuffer src, float[] dst, int dstOffset) {
        ByteBuffer le = src.slice().order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> le.asFloatBuffer().get(dst, dstOffset, le.remaining() / 4);
            case F64 -> {
                var in = le.asDoubleBuffer();
                int n = in.remaining();
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = (float) in.get(i);
                }
            }
            case F16, BF16 -> {
                ShortBuffer in = le.asShortBuffer();
                short[] scratch = new short[Math.min(SCRATCH, in.remaining())];
                int out = dstOffset;
                boolean f16 = dtype == SafeTensorDtype.F16;
                while (in.hasRemaining()) {
                    int n = Math.min(scratch.length, in.remaining());
                    in.get(scratch, 0, n);
                    if (f16) {
                        for (int i = 0; i < n; i++) {
                            dst[out++] = HalfPrecision.f16BitsToFloat(scratch[i]);
                        }
                    } else {
                        for (int i = 0; i < n; i++) {
                            dst[out++] = Float.intBitsToFloat((scratch[i] & 0xffff) << 16);
                        }
                    }
                }
            }
            default -> throw new IllegalArgumentException(dtype + " is not a floating-point type");
        }
    }

    /** Decodes F64 exactly. */
    static void toDoubles(ByteBuffer src, double[] dst, int dstOffset) {
        ByteBuffer le = src.slice().order(ByteOrder.LITTLE_ENDIAN);
        le.asDoubleBuffer().get(dst, dstOffset, le.remaining() / 8);
    }

    /** Decodes any integer dtype to long (U8 zero-extended, the others sign-extended). */
    static void toLongs(SafeTensorDtype dtype, ByteBuffer src, long[] dst, int dstOffset) {
        ByteBuffer le = src.slice().order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case I64 -> le.asLongBuffer().get(dst, dstOffset, le.remaining() / 8);
            case I32 -> {
                var in = le.asIntBuffer();
                int n = in.remaining();
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = in.get(i);
                }
            }
            case I16 -> {
                var in = le.asShortBuffer();
                int n = in.remaining();
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = in.get(i);
                }
            }
            case I8 -> {
                int n = le.remaining();
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = le.get(i);
                }
            }
            case U8 -> {
                int n = le.remaining();
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = le.get(i) & 0xff;
                }
            }
            default -> throw new IllegalArgumentException(dtype + " is not an integer type");
        }
    }

    /** Decodes BOOL bytes; any non-zero byte is true. */
    static void toBooleans(ByteBuffer src, boolean[] dst, int dstOffset) {
        int n = src.remaining();
        int base = src.position();
        for (int i = 0; i < n; i++) {
            dst[dstOffset + i] = src.get(base + i) != 0;
        }
    }
}
