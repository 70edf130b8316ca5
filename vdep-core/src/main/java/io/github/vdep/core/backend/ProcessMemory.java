package io.github.vdep.core.backend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's resident set size from Linux's {@code /proc/self/status}; its peak (VmHWM) can be
 * reset through {@code /proc/self/clear_refs} (Linux 4.0 and later), so a peak can be taken over a
 * training step. Elsewhere the readings are -1.
 */
public final class ProcessMemory {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private ProcessMemory() {
    }

    /** The resident set size now (VmRSS), or -1. */
    public static long rssBytes() {
        return statusField("VmRSS:");
    }

    /** The peak resident set size since the process started or since {@link #resetPeak()} (VmHWM), or -1. */
    public static long peakRssBytes() {
        return statusField("VmHWM:");
    }

    /**
     * Resets the peak to the current resident set size; false where the kernel does not allow it
     * (the peak then stays the process's peak since it started).
     */
    public static boolean resetPeak() {
        try {
            Files.writeString(CLEAR_REFS, "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** This process's memory as a {@link MemoryUse}. */
    public static MemoryUse use() {
        // one read, so that the peak is never below the current size
        long[] v = statusFields("VmRSS:", "VmHWM:");
        return new MemoryUse(v[0] < 0 || v[1] < 0 ? MemoryUse.UNAVAILABLE : MemoryUse.PROCESS_RSS, v[0], v[1]);
    }

    private static long statusField(String key) {
        return statusFields(key)[0];
    }

    /** The values of the given kB fields of /proc/self/status in bytes, -1 for each one missing. */
    private static long[] statusFields(String... keys) {
        long[] out = new long[keys.length];
        java.util.Arrays.fill(out, -1);
        try {
            for (String line : Files.readAllLines(STATUS)) {
                for (int i = 0; i < keys.length; i++) {
                    if (line.startsWith(keys[i])) {
                        String[] parts = line.substring(keys[i].length()).trim().split("\\s+");
                        out[i] = Long.parseLong(parts[0]) * 1024L;
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            java.util.Arrays.fill(out, -1);
        }
        return out;
    }
}
