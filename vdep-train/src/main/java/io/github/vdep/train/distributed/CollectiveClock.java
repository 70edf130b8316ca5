package io.github.vdep.train.distributed;

/**
 * Times a rank's collective operations and ends the rank when one waits too long. A collective
 * that waits longer than the timeout (a rank that died or hangs, and a launcher that does not end
 * the job) makes this rank print one line and exit with status 3, which ends the job.
 */
final class CollectiveClock {
    private final int rank;
    private final int size;
    private final long timeoutNanos;
    private long nanos;
    private volatile long since;
    private volatile String operation = "";

    CollectiveClock(int rank, int size, double timeoutSeconds, String threadName) {
        if (!(timeoutSeconds > 0)) {
            throw new IllegalArgumentException("the collectives' timeout must be positive, got " + timeoutSeconds);
        }
        this.rank = rank;
        this.size = size;
        this.timeoutNanos = (long) (timeoutSeconds * 1e9);
        Thread watchdog = new Thread(this::watch, threadName);
        watchdog.setDaemon(true);
        watchdog.start();
    }

    /**
     * Runs {@code call}, timed and watched; a failure of the library below (any runtime exception
     * but a {@link DistributedException}) becomes a {@link DistributedException} naming the rank and {@code what}.
     */
    void run(String what, Runnable call) {
        operation = what;
        long start = System.nanoTime();
        since = start;
        try {
            call.run();
        } catch (DistributedException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new DistributedException("rank " + rank + ": " + what + " failed: " + e.getMessage(), e);
        } finally {
            since = 0;
            nanos += System.nanoTime() - start;
        }
    }

    /** Seconds spent in {@link #run} so far. */
    double seconds() {
        return nanos / 1e9;
    }

    private void watch() {
        while (true) {
            try {
                Thread.sleep(Math.min(1000, Math.max(1, timeoutNanos / 1_000_000 / 4)));
            } catch (InterruptedException e) {
                return;
            }
            long s = since;
            if (s != 0 && System.nanoTime() - s > timeoutNanos) {
                System.err.printf("vdep: rank %d of %d: %s has waited %.0f s for the other ranks (timeout %.0f s): a rank died or hangs; "
                        + "stopping this rank%n", rank, size, operation, (System.nanoTime() - s) / 1e9, timeoutNanos / 1e9);
                System.err.flush();
                Runtime.getRuntime().halt(3);
            }
        }
    }
}
