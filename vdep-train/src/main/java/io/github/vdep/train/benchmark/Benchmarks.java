package io.github.vdep.train.benchmark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The benchmarks vdep evaluates, in the column order of the LLaVA-1.5 / VDEP papers' tables. */
public final class Benchmarks {

    private static final List<Benchmark> ALL = List.of(new VqaV2Benchmark(), new GqaBenchmark(), new VizWizBenchmark(),
            new ScienceQaBenchmark(), new TextVqaBenchmark(), new PopeBenchmark(), new MmeBenchmark(), new MmBenchBenchmark(),
            new SeedBenchmark(), new RealWorldQaBenchmark(), GptJudgedBenchmark.llavaBench(), GptJudgedBenchmark.mmVet());

    private Benchmarks() {
    }

    /** @return all benchmarks in table order */
    public static List<Benchmark> all() {
        return ALL;
    }

    /**
     * @param name a benchmark name (case-insensitive; {@code sqa}, {@code seed_bench} and the folder names are accepted too)
     * @return the benchmark
     * @throws IllegalArgumentException naming the known benchmarks if there is none by that name
     */
    public static Benchmark byName(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (Benchmark b : ALL) {
            if (b.name().equals(n) || b.folder().toLowerCase(Locale.ROOT).equals(n) || b.column().toLowerCase(Locale.ROOT).equals(n)
                    || (n.equals("sqa") && b instanceof ScienceQaBenchmark)) {
                return b;
            }
        }
        throw new IllegalArgumentException("unknown benchmark '" + name + "'; known: "
                + ALL.stream().map(Benchmark::name).collect(Collectors.joining(", ")));
    }

    /**
     * @param root a suite root (LLaVA's {@code ./playground/data/eval})
     * @return the benchmarks whose folder under it holds their question file, in table order
     */
    public static List<Benchmark> foundUnder(Path root) {
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException(root + ": folder not found");
        }
        List<Benchmark> out = new ArrayList<>();
        for (Benchmark b : ALL) {
            if (b.foundIn(root.resolve(b.folder()))) {
                out.add(b);
            }
        }
        return out;
    }
}
