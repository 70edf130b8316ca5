package io.github.vdep.models.hf;

import java.util.Optional;
import org.nd4j.linalg.api.buffer.DataType;

/** Element types of the safetensors format supported by vdep, with their on-disk names. */
public enum SafeTensorDtype {
    /** IEEE 754 binary64. */
    F64(8),
    /** IEEE 754 binary32. */
    F32(4),
    /** IEEE 754 binary16. */
    F16(2),
    /** bfloat16: the upper 16 bits of a binary32. */
    BF16(2),
    /** Signed 64-bit integer. */
    I64(8),
    /** Signed 32-bit integer. */
    I32(4),
    /** Signed 16-bit integer. */
    I16(2),
    /** Signed 8-bit integer. */
    I8(1),
    /** Unsigned 8-bit integer. */
    U8(1),
    /** One byte per element, 0 or 1. */
    BOOL(1);

    private final int byteSize;

    SafeTensorDtype(int byteSize) {
        this.byteSize = byteSize;
    }

    /**
     * Returns the size of one element on disk.
     *
     * @return bytes per element
     */
    public int byteSize() {
        return byteSize;
    }

    /**
     * Returns whether this is a floating-point type.
     *
     * @return true for F64, F32, F16 and BF16
     */
    public boolean isFloatingPoint() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /**
     * Returns whether this is an integer type (BOOL excluded).
     *
     * @return true for I64, I32, I16, I8 and U8
     */
    public boolean isInteger() {
        return this == I64 || this == I32 || this == I16 || this == I8 || this == U8;
    }

    /**
     * Returns the ND4J type that {@link TensorSource#load(String)} produces for this type:
     * FLOAT for floating-point types, LONG for integers, BOOL for BOOL.
     *
     * @return the default in-memory type
     */
    public DataType defaultDataType() {
        if (isFloatingPoint()) {
            return DataType.FLOAT;
        }
        return this == BOOL ? DataType.BOOL : DataType.INT64;
    }

    /**
     * Looks up a type by its on-disk name (case-sensitive, as the format requires).
     *
     * @param name e.g. {@code "BF16"}
     * @return the type, or empty when vdep does not know it
     */
    public static Optional<SafeTensorDtype> fromName(String name) {
        for (SafeTensorDtype d : values()) {
            if (d.name().equals(name)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    /**
     * Returns the on-disk type that stores an ND4J type without loss.
     *
     * @param type an ND4J data type
     * @return the matching safetensors type
     * @throws IllegalArgumentException for types safetensors (as supported here) cannot store,
     *     e.g. UTF8 or the unsigned types wider than a byte
     */
    public static SafeTensorDtype of(DataType type) {
        switch (type) {
            case DOUBLE: return F64;
            case FLOAT: return F32;
            case HALF: return F16;
            case BFLOAT16: return BF16;
            case LONG: return I64;
            case INT: return I32;
            case SHORT: return I16;
            case BYTE: return I8;
            case UBYTE: return U8;
            case BOOL: return BOOL;
            default:
                throw new IllegalArgumentException("ND4J data type " + type + " has no safetensors equivalent");
        }
    }
}
