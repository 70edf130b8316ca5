package io.github.vdep.examples.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.vdep.train.benchmark.AnswerLine;
import io.github.vdep.train.benchmark.Benchmark;
import io.github.vdep.train.benchmark.BenchmarkEvaluation;
import io.github.vdep.train.benchmark.BenchmarkFiles;
import io.github.vdep.train.benchmark.BenchmarkResult;
import io.github.vdep.train.benchmark.BenchmarkRunner;
import io.github.vdep.train.benchmark.Benchmarks;
import io.github.vdep.train.benchmark.LoadedBenchmark;
import io.github.vdep.train.data.ConversationTemplate;
import io.github.vdep.train.data.Templates;
import io.github.vdep.train.infer.InferenceSession;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * {@code vdep eval --benchmark NAME} and {@code vdep eval --suite ROOT}: benchmarks in LLaVA's
 * layout, LLaVA-1.5's prompts, greedy answers, LLaVA answer files, upload files and
 * {@code scores.json}; the suite prints one table in the paper's column order beside LLaVA-1.5-7B's
 * published numbers.
 */
final class BenchmarkEval {

    private BenchmarkEval() {
    }

    static int run(EvalCommand o) {
        if (o.data != null) {
            throw new IllegalArgumentException("--data cannot be combined with --benchmark/--suite");
        }
        if ((o.benchmark == null) == (o.suite == null)) {
            throw new IllegalArgumentException("give exactly one of --benchmark NAME or --suite ROOT");
        }
        if (o.suite != null && (o.answers != null || o.root != null)) {
            throw new IllegalArgumentException("--answers and --root go with --benchmark, not --suite");
        }
        if (o.answers == null && o.model == null) {
            throw new IllegalArgumentException("--model is required to generate answers (or give --answers FILE to score existing ones)");
        }
        if (o.maxNewTokens < 1) {
            throw new IllegalArgumentException("--max-new-tokens must be at least 1, got " + o.maxNewTokens);
        }
        if (o.batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be at least 1, got " + o.batchSize);
        }
        if (o.limit < 0) {
            throw new IllegalArgumentException("--limit must be 0 (all) or positive, got " + o.limit);
        }
        List<Benchmark> todo = new ArrayList<>();
        List<Path> dirs = new ArrayList<>();
        if (o.benchmark != null) {
            Benchmark b = Benchmarks.byName(o.benchmark);
            Path root = o.root != null ? o.root : Path.of(".");
            Path dir = b.foundIn(root) ? root : root.resolve(b.folder());
            if (!b.foundIn(dir)) {
                throw new IllegalArgumentException(dir + ": no " + b.name() + " question file (see docs/evaluation.md for the layout)");
            }
            todo.add(b);
            dirs.add(dir);
        } else {
            for (Benchmark b : Benchmarks.foundUnder(o.suite)) {
                todo.add(b);
                dirs.add(o.suite.resolve(b.folder()));
            }
            if (todo.isEmpty()) {
                throw new IllegalArgumentException(o.suite + ": no benchmark found (expected folders such as vqav2/, gqa/, pope/, MME/ in LLaVA's layout)");
            }
        }
        String modelId = o.modelId != null ? o.modelId
                : o.model != null ? o.model.toAbsolutePath().normalize().getFileName().toString() : "answers";
        Path out = o.out != null ? o.out
                : o.model != null ? EvalCommand.defaultOut(o.model, Path.of(o.benchmark != null ? o.benchmark : "suite")) : Path.of("eval-out");
        PrintStream console = System.out;
        List<BenchmarkResult> results = new ArrayList<>();
        long started = System.nanoTime();
        if (o.answers != null) {
            Path answerFile = o.answers;
            Function<LoadedBenchmark, Map<String, AnswerLine>> read = set -> BenchmarkFiles.readAnswers(answerFile, set, set.bad());
            results.add(BenchmarkEvaluation.run(todo.get(0), dirs.get(0), out, modelId, read, false));
        } else {
            ConversationTemplate tpl = Templates.byName(o.template);
            try (InferenceSession session = InferenceSession.open(o.model, o.tokenizer, GenerateCommand.aspect(o.imageAspect), o.device.device())) {
                BenchmarkRunner runner = new BenchmarkRunner(session.model(), session.tokenizer(), tpl, session.images(), o.maxNewTokens, o.batchSize);
                for (int i = 0; i < todo.size(); i++) {
                    Benchmark b = todo.get(i);
                    Path benchOut = o.suite != null ? out.resolve(b.folder()) : out;
                    Function<LoadedBenchmark, Map<String, AnswerLine>> gen = set -> {
                        ProgressBar bar = new ProgressBar(console, b.name(), Math.max(1, o.limit > 0 ? Math.min(o.limit, set.questions().size()) : set.questions().size()));
                        return runner.answer(set, o.limit, (done, total) -> bar.update(done, ""));
                    };
                    results.add(BenchmarkEvaluation.run(b, dirs.get(i), benchOut, modelId, gen, true));
                }
            }
        }
        if (o.suite != null) {
            suiteTable(results, modelId).print(console);
            ObjectNode summary = JsonNodeFactory.instance.objectNode();
            summary.put("model_id", modelId);
            for (BenchmarkResult r : results) {
                ObjectNode s = summary.putObject(r.benchmark().name());
                s.set("headline", r.scores().get("headline"));
                s.put("bad_input", r.badInput());
                s.put("scores", out.relativize(out.resolve(r.benchmark().folder()).resolve(BenchmarkEvaluation.SCORES)).toString());
            }
            BenchmarkFiles.writeJson(out.resolve("suite.json"), summary, true);
        } else {
            detailTable(results.get(0)).print(console);
        }
        for (BenchmarkResult r : results) {
            if (r.badInput() > 0) {
                StringBuilder reasons = new StringBuilder();
                r.scores().get("bad_input").get("by_reason").fields().forEachRemaining(e ->
                        reasons.append(reasons.length() == 0 ? "" : ", ").append(e.getKey()).append(' ').append(e.getValue().get("count").asInt()));
                console.println(r.benchmark().name() + ": " + r.badInput() + " bad input (" + reasons
                        + "), counted in the scores and named in " + r.benchmark().folder() + "/" + BenchmarkEvaluation.SCORES);
            }
            if (r.note() != null) {
                console.println(r.benchmark().name() + ": " + r.note());
            }
        }
        console.println("wall time " + ProgressBar.time((System.nanoTime() - started) / 1e9) + "; results in " + out.toAbsolutePath());
        return 0;
    }

    /** One row for the model, one for LLaVA-1.5-7B, columns in the paper's order. */
    static Table suiteTable(List<BenchmarkResult> results, String modelId) {
        List<String> header = new ArrayList<>(List.of("model"));
        List<String> ours = new ArrayList<>(List.of(modelId));
        List<String> llava = new ArrayList<>(List.of("LLaVA-1.5-7B (published)"));
        for (BenchmarkResult r : results) {
            header.add(r.benchmark().column());
            ours.add(Double.isFinite(r.headline()) ? fmt(r.headline()) : (r.note() != null && r.note().contains("GPT") ? "GPT judge" : "server"));
            llava.add(Double.isFinite(r.benchmark().published()) ? fmt(r.benchmark().published()) : "-");
        }
        return Table.of(header.toArray(String[]::new)).row(ours.toArray(String[]::new)).row(llava.toArray(String[]::new));
    }

    private static Table detailTable(BenchmarkResult r) {
        ObjectNode s = r.scores();
        Table t = Table.of("metric", "value")
                .row("benchmark", r.benchmark().name())
                .row("questions", s.get("questions").asText())
                .row("answered", s.get("answered").asText())
                .row(s.get("headline").get("metric").asText(), Double.isFinite(r.headline()) ? fmt(r.headline()) : "n/a")
                .row("LLaVA-1.5-7B (published)", Double.isFinite(r.benchmark().published()) ? fmt(r.benchmark().published()) : "-")
                .row("bad input", Integer.toString(r.badInput()));
        for (Path f : r.files()) {
            t.row("file", f.toString());
        }
        return t;
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
