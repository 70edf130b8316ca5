package io.github.vdep.train.benchmark;

import java.nio.file.Path;

/**
 * A benchmark as LLaVA-1.5 evaluates it: where its files lie (the layout of LLaVA's
 * {@code docs/Evaluation.md}, relative to LLaVA's {@code ./playground/data/eval}), how its
 * questions are put to the model, and how the answers are scored.
 */
public interface Benchmark {

    /** @return the name {@code vdep eval --benchmark} takes */
    String name();

    /** @return the column heading of the suite table (the paper's) */
    String column();

    /** @return the benchmark's folder under a suite root */
    String folder();

    /** @return LLaVA-1.5-7B's published score (LLaVA model zoo), NaN where none is given */
    double published();

    /**
     * @param dir a candidate benchmark folder
     * @return whether it holds this benchmark's question file
     */
    boolean foundIn(Path dir);

    /**
     * Reads the questions and annotations.
     *
     * @param dir the benchmark folder
     * @param bad collects bad lines and the like
     * @return the loaded benchmark
     * @throws IllegalArgumentException if a required file is missing or unreadable (the message names it)
     */
    LoadedBenchmark load(Path dir, BadInput bad);
}
