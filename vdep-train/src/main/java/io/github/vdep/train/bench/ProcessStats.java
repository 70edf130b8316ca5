package io.github.vdep.train.bench;


/** Process-level measurements (Linux /proc; -1 elsewhere). */
final class ProcessStats {
    private ProcessStats() {
    }

    /** Peak resident set size in bytes since the process started (VmHWM, what getrusage reports as ru_maxrss), or -1. */
    static long peakRssBytes() {
        return io.github.vdep.core.backend.ProcessMemory.peakRssBytes();
    }

    /** CPU time of the whole process (all threads) in nanoseconds, or -1. */
    static long cpuNanos() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime();
        }
        return -1;
    }
}
