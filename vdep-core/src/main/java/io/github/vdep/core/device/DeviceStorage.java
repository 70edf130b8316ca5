package io.github.vdep.core.device;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * The data of a tensor that lives on an accelerator: a dense row-major block of device memory.
 * A device backend's allocator implements it (vdep-core never allocates device memory itself).
 *
 * <p>Ownership: a storage has exactly one owner, the {@code Tensor} (or gradient slot, or
 * optimizer state) it was created for. The owner calls {@link #release()} when it is done; after
 * that the memory may be reused by the allocator for another storage and must not be touched.
 * See docs/engine.md, "Device tensors and memory ownership".
 */
public interface DeviceStorage {
    /** Dimensions, row-major; a copy the caller may keep. */
    long[] shape();

    /** The element type (FLOAT, DOUBLE, HALF or BFLOAT16, ...). */
    DataType dataType();

    /** The device holding the memory (never {@link Device#CPU}). */
    Device device();

    /** Number of elements. */
    default long length() {
        long n = 1;
        for (long d : shape()) {
            n *= d;
        }
        return n;
    }

    /**
     * Whether this storage and {@code other} use the same memory (one is a view, a reshape, of
     * the other). Releasing one of them must then not free memory the other still uses.
     */
    default boolean sharesMemoryWith(DeviceStorage other) {
        return this == other;
    }

    /** Returns the memory to the device's allocator. Idempotent; the storage is unusable afterwards. */
    void release();

    /** Whether {@link #release()} has been called. */
    boolean released();
}
