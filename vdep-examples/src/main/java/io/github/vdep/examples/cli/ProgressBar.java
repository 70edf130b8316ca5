package io.github.vdep.examples.cli;

import java.io.PrintStream;
import java.util.Locale;

/** A one-line console progress bar with rate and ETA, redrawn in place on a terminal. */
public final class ProgressBar {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final String label;
    private final long total;
    private final long start = System.nanoTime();
    private final boolean interactive = System.console() != null;
    private long first = -1;
    private long lastDraw;

    public ProgressBar(PrintStream out, String label, long total) {
        this.out = out;
        this.label = label;
        this.total = total;
    }

    /** Draws the bar at {@code done} of {@code total}; {@code suffix} follows (e.g. the loss). */
    public void update(long done, String suffix) {
        if (first < 0) {
            first = done - 1;
        }
        long now = System.nanoTime();
        boolean last = done >= total;
        if (!last && now - lastDraw < 200_000_000L && interactive) {
            return;
        }
        if (!interactive && !last && done % Math.max(1, total / 20) != 0) {
            return;
        }
        lastDraw = now;
        double elapsed = (now - start) / 1e9;
        double rate = (done - first) / Math.max(elapsed, 1e-9);
        double eta = rate > 0 ? (total - done) / rate : 0;
        int filled = (int) (WIDTH * done / Math.max(1, total));
        String bar = "#".repeat(filled) + "-".repeat(WIDTH - filled);
        String line = String.format(Locale.ROOT, "%s [%s] %d/%d %.2f it/s ETA %s %s", label, bar, done, total, rate, time(eta), suffix);
        out.print(interactive ? "\r" + line : line + System.lineSeparator());
        if (last && interactive) {
            out.println();
        }
        out.flush();
    }

    static String time(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
