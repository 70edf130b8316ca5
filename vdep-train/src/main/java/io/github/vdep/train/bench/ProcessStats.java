package io.github.vdep.train.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Process-level measurements (Linux /proc; -1 elsewhere). */
final class ProcessStats {
    private ProcessStats() {
    }

    /** Peak resident set size in bytes (VmHWM, what getrusage reports as ru_maxrss), or -1. */
    static long peakRssBytes() {
        return statusField("VmHWM:");
    }

    /** Current resident set size in bytes (VmRSS), or -1. */
    static long rssBytes() {
        return statusField("VmRSS:");
    }

    /** CPU time of the whole process (all threads) in nanoseconds, or -1. */
    static long cpuNanos() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime();
        }
        return -1;
    }

    private static long statusField(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) {
                    String[] parts = line.substring(key.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024L;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
