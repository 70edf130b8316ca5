package io.github.vdep.models.hf;

import java.util.Arrays;
import java.util.Objects;

/**
 * Header entry of one tensor in a safetensors file.
 *
 * @param name the tensor name
 * @param dtype the element type on disk
 * @param shape the dimensions, outermost first; empty for a scalar (copied on the way in and out)
 * @param dataBegin first byte of the tensor, relative to the start of the data section
 * @param dataEnd one past the last byte, relative to the start of the data section
 */
public record TensorInfo(String name, SafeTensorDtype dtype, long[] shape, long dataBegin, long dataEnd) {

    /** Validates the fields and takes a private copy of the shape. */
    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = Objects.requireNonNull(shape, "shape").clone();
        if (dataBegin < 0 || dataEnd < dataBegin) {
            throw new IllegalArgumentException("bad data offsets [" + dataBegin + ", " + dataEnd + "] for " + name);
        }
    }

    /**
     * Returns a copy of the shape.
     *
     * @return the dimensions, outermost first
     */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /**
     * Returns the number of dimensions.
     *
     * @return 0 for a scalar
     */
    public int rank() {
        return shape.length;
    }

    /**
     * Returns the number of elements (1 for a scalar).
     *
     * @return the product of the dimensions
     * @throws ArithmeticException if it overflows a long
     */
    public long numel() {
        return numel(shape);
    }

    /**
     * Returns the size of the tensor's data.
     *
     * @return {@code dataEnd - dataBegin}
     */
    public long byteLength() {
        return dataEnd - dataBegin;
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && dataBegin == t.dataBegin
                && dataEnd == t.dataEnd;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), dataBegin, dataEnd);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " @[" + dataBegin + ", " + dataEnd + ")";
    }
}
