package io.github.vdep.train.benchmark;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmarks scored by a GPT judge, for which vdep writes the answer files the judge reads and
 * no score: LLaVA-Bench-in-the-Wild ({@code llava-bench-in-the-wild/questions.jsonl}, images in
 * {@code images/}; judge: LLaVA's {@code eval_gpt_review_bench.py} on the answer file) and MM-Vet
 * ({@code mm-vet/llava-mm-vet.jsonl}, images in {@code images/}; also
 * {@code results/<model>.json}, {@code convert_mmvet_for_eval.py}'s {@code {"v1_<id>": answer}}, for
 * the official MM-Vet GPT-4 grader). Questions are put as they are (natural answers).
 */
public final class GptJudgedBenchmark implements Benchmark {

    private final String name;
    private final String column;
    private final String folder;
    private final String questions;
    private final double published;

    private GptJudgedBenchmark(String name, String column, String folder, String questions, double published) {
        this.name = name;
        this.column = column;
        this.folder = folder;
        this.questions = questions;
        this.published = published;
    }

    /** @return LLaVA-Bench-in-the-Wild */
    public static GptJudgedBenchmark llavaBench() {
        return new GptJudgedBenchmark("llava-bench", "LLaVA-Bench", "llava-bench-in-the-wild", "questions.jsonl", Double.NaN);
    }

    /** @return MM-Vet */
    public static GptJudgedBenchmark mmVet() {
        return new GptJudgedBenchmark("mm-vet", "MM-Vet", "mm-vet", "llava-mm-vet.jsonl", Double.NaN);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String column() {
        return column;
    }

    @Override
    public String folder() {
        return folder;
    }

    @Override
    public double published() {
        return published;
    }

    @Override
    public boolean foundIn(Path dir) {
        return Files.isRegularFile(dir.resolve(questions));
    }

    @Override
    public LoadedBenchmark load(Path dir, BadInput bad) {
        List<BenchmarkQuestion> qs = LlavaQuestionFile.questions(LlavaQuestionFile.read(dir.resolve(questions), dir.resolve("images"), bad));
        boolean mmVet = name.equals("mm-vet");
        return new LoadedBenchmark(this, qs, bad) {
            @Override
            public ObjectNode score(Map<String, AnswerLine> answers) {
                questions().forEach(q -> text(q, answers));
                ObjectNode m = metrics();
                m.put("count", questions().size());
                return m;
            }

            @Override
            public double headline(ObjectNode metrics) {
                return Double.NaN;
            }

            @Override
            public String headlineName() {
                return "gpt_judge";
            }

            @Override
            public List<Path> writeUploads(Map<String, AnswerLine> answers, Path outDir, String modelId) {
                if (!mmVet) {
                    return List.of();
                }
                Map<String, String> result = new LinkedHashMap<>();
                for (AnswerLine a : answers.values()) {
                    result.put("v1_" + a.questionId().asText(), a.text());
                }
                Path file = outDir.resolve("results").resolve(modelId + ".json");
                BenchmarkFiles.writeJson(file, result, true);
                return List.of(file);
            }

            @Override
            public String note() {
                return mmVet ? "scored by a GPT-4 judge: grade results/<model>.json with the official MM-Vet evaluator"
                        : "scored by a GPT-4 judge: run LLaVA's llava/eval/eval_gpt_review_bench.py on the answer file, then summarize_gpt_review.py";
            }
        };
    }
}
