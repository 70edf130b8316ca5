package io.github.vdep.train.benchmark;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * Evaluates one benchmark end to end and writes, under the output folder:
 * {@code answers/<model>.jsonl} (LLaVA's answer-file format, when answers were generated),
 * the upload or judge files, and {@code scores.json} (metrics, the headline number, the published
 * LLaVA-1.5-7B number, bad input by reason with examples).
 */
public final class BenchmarkEvaluation {

    /** The scores file name. */
    public static final String SCORES = "scores.json";

    private BenchmarkEvaluation() {
    }

    /**
     * @param benchmark the benchmark
     * @param dir       its folder
     * @param outDir    the output folder
     * @param modelId   the model id written into answer lines and file names
     * @param answerer  produces the answers (a {@link BenchmarkRunner}, or an existing answer file)
     * @param generated whether the answers were generated here (then the answer file is written)
     * @return the result
     */
    public static BenchmarkResult run(Benchmark benchmark, Path dir, Path outDir, String modelId,
            Function<LoadedBenchmark, Map<String, AnswerLine>> answerer, boolean generated) {
        BadInput bad = new BadInput();
        LoadedBenchmark set = benchmark.load(dir, bad);
        Map<String, AnswerLine> answers = answerer.apply(set);
        List<Path> files = new ArrayList<>();
        if (generated) {
            Path answerFile = outDir.resolve("answers").resolve(modelId + ".jsonl");
            List<Object> rows = new ArrayList<>();
            for (AnswerLine a : answers.values()) {
                ObjectNode r = JsonNodeFactory.instance.objectNode();
                r.set("question_id", a.questionId());
                r.put("prompt", a.prompt());
                r.put("text", a.text());
                r.put("answer_id", UUID.nameUUIDFromBytes((modelId + "\u0000" + set.answerKey(a)).getBytes(StandardCharsets.UTF_8)).toString());
                r.put("model_id", modelId);
                r.putObject("metadata");
                rows.add(r);
            }
            BenchmarkFiles.writeJsonl(answerFile, rows);
            files.add(answerFile);
        }
        ObjectNode metrics = set.score(answers);
        files.addAll(set.writeUploads(answers, outDir, modelId));
        double headline = set.headline(metrics);

        ObjectNode scores = JsonNodeFactory.instance.objectNode();
        scores.put("benchmark", benchmark.name());
        scores.put("column", benchmark.column());
        scores.put("model_id", modelId);
        scores.put("questions", set.questions().size());
        scores.put("answered", answers.size());
        ObjectNode h = scores.putObject("headline");
        h.put("metric", set.headlineName());
        LoadedBenchmark.put(h, "value", headline);
        LoadedBenchmark.put(h, "llava_1_5_7b_published", benchmark.published());
        scores.set("metrics", metrics);
        scores.set("bad_input", bad.toJson());
        if (set.note() != null) {
            scores.put("note", set.note());
        }
        Path scoresFile = outDir.resolve(SCORES);
        files.add(scoresFile);
        files.forEach(f -> scores.withArray("files").add(outDir.relativize(f).toString()));
        BenchmarkFiles.writeJson(scoresFile, scores, true);
        return new BenchmarkResult(benchmark, scores, headline, bad.total(), files, set.note());
    }
}
