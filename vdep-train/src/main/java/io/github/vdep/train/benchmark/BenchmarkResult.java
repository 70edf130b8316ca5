package io.github.vdep.train.benchmark;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of evaluating one benchmark.
 *
 * @param benchmark the benchmark
 * @param scores    the content of {@code scores.json}
 * @param headline  the number for the suite table (NaN if none)
 * @param badInput  bad input counted
 * @param files     the files written (answers, uploads, scores)
 * @param note      what is left to do (server, judge), or null
 */
public record BenchmarkResult(Benchmark benchmark, ObjectNode scores, double headline, int badInput, List<Path> files, String note) {

    /** Freezes the components. */
    public BenchmarkResult {
        Objects.requireNonNull(benchmark, "benchmark");
        Objects.requireNonNull(scores, "scores");
        files = List.copyOf(files);
    }
}
