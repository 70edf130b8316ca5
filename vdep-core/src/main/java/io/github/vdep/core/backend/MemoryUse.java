package io.github.vdep.core.backend;

/**
 * Memory a device uses now and at its peak since the last {@link Backend#resetPeakMemory()}, as
 * that device can measure it.
 *
 * @param measure what the numbers are: {@link #PROCESS_RSS} on the CPU, {@link #DEVICE_ALLOCATED}
 *     on an accelerator, {@link #UNAVAILABLE} where nothing can be measured
 * @param currentBytes bytes in use now, or -1
 * @param peakBytes the most bytes in use at once since the last reset, or -1
 */
public record MemoryUse(String measure, long currentBytes, long peakBytes) {
    /**
     * The whole process's resident set size (Linux VmRSS, and VmHWM for the peak): the model,
     * activations, gradients and optimizer state in ND4J's off-heap memory, and the JVM's heap and
     * code too. It is what the operating system has to provide, so it bounds the memory a run needs.
     */
    public static final String PROCESS_RSS = "process_rss";
    /**
     * Bytes held by live tensors in the device's caching allocator (as PyTorch's
     * {@code torch.cuda.max_memory_allocated}); memory the allocator keeps cached for reuse and the
     * CUDA context are not counted.
     */
    public static final String DEVICE_ALLOCATED = "device_allocated";
    /** No measurement on this platform (the numbers are -1). */
    public static final String UNAVAILABLE = "unavailable";
}
