package io.github.vdep.core.cuda;

/**
 * Raw device memory, as {@link CudaAllocator} obtains it: cudaMalloc and cudaFree on a GPU, a
 * fake in tests.
 */
public interface DeviceMemory {
    /** Memory of {@code bytes} bytes, or 0 when the device has no room. */
    long allocate(long bytes);

    void free(long address);

    /** The device's total memory in bytes (for messages), 0 if unknown. */
    long totalBytes();

    /** The current CUDA device's memory. */
    static DeviceMemory cuda() {
        return new DeviceMemory() {
            @Override
            public long allocate(long bytes) {
                return CudaRuntime.malloc(bytes);
            }

            @Override
            public void free(long address) {
                CudaRuntime.free(address);
            }

            @Override
            public long totalBytes() {
                return CudaRuntime.memoryInfo()[1];
            }
        };
    }
}
