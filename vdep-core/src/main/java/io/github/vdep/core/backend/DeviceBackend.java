package io.github.vdep.core.backend;

import io.github.vdep.core.device.DeviceStorage;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A backend for an accelerator: the primitives of {@link Backend} plus the memory operations the
 * tape, {@code Tensor.to} and {@code Parameter} need. Every storage it returns is fresh and owned
 * by the caller (see {@link DeviceStorage}).
 */
public interface DeviceBackend extends Backend {
    /**
     * Copies a host array (any layout) to this device, converting it to {@code as} on the device
     * (checkpoints' F16/BF16 become FLOAT there).
     */
    DeviceStorage upload(INDArray host, DataType as);

    /** Copies device memory to a new row-major host array of the same shape and type. */
    INDArray download(DeviceStorage storage);

    /** A new storage filled with {@code value}. */
    DeviceStorage full(long[] shape, DataType type, double value);

    /** A new storage with the same contents. */
    DeviceStorage copy(DeviceStorage source);

    /** dst += src (equal shapes and types): gradient accumulation. */
    void addInPlace(DeviceStorage dst, DeviceStorage src);

    /** Bytes of device memory held by live storages now (the caching allocator's view). */
    long bytesInUse();

    /** The most bytes held at once since the backend was opened or {@link #resetPeakMemory()}. */
    long peakBytes();

    /** The device's total memory in bytes, for up-front memory checks; 0 when unknown. */
    default long totalBytes() {
        return 0;
    }

    /** The caching allocator's bytes in use and peak ({@link MemoryUse#DEVICE_ALLOCATED}). */
    @Override
    default MemoryUse memoryUse() {
        return new MemoryUse(MemoryUse.DEVICE_ALLOCATED, bytesInUse(), peakBytes());
    }
}
