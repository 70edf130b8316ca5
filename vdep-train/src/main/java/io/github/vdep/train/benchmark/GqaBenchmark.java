package io.github.vdep.train.benchmark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * GQA as LLaVA-1.5: {@code gqa/llava_gqa_<split>.jsonl}, images in {@code gqa/data/images/}, the
 * official questions in {@code gqa/data/<split>_questions.json}. Scored as {@code gqa.sh}: answers
 * converted by {@code convert_gqa_for_eval.py} ({@code text.rstrip('.').lower()}, written to
 * {@code <split>_predictions.json}), then GQA's {@code eval.py} accuracy: exact match over the
 * balanced questions of the official file, split into binary ({@code verify}, {@code logical},
 * {@code compare}, {@code choose}) and open ({@code query}) questions.
 */
public final class GqaBenchmark implements Benchmark {

    static final String PREFIX = "llava_gqa_";

    @Override
    public String name() {
        return "gqa";
    }

    @Override
    public String column() {
        return "GQA";
    }

    @Override
    public String folder() {
        return "gqa";
    }

    @Override
    public double published() {
        return 62.0;
    }

    @Override
    public boolean foundIn(Path dir) {
        return BenchmarkFiles.first(dir, PREFIX, ".jsonl") != null;
    }

    @Override
    public LoadedBenchmark load(Path dir, BadInput bad) {
        Path file = BenchmarkFiles.questionFile(dir, PREFIX);
        String split = BenchmarkFiles.split(file, PREFIX);
        List<BenchmarkQuestion> questions = LlavaQuestionFile.questions(LlavaQuestionFile.read(file, dir.resolve("data").resolve("images"), bad));
        Path official = dir.resolve("data").resolve(split + "_questions.json");
        JsonNode gqa = BenchmarkFiles.readJson(official);
        if (!gqa.isObject()) {
            throw new IllegalArgumentException(official + ": not a JSON object of questions");
        }
        return new Loaded(this, questions, bad, split, gqa);
    }

    static final class Loaded extends LoadedBenchmark {
        private final String split;
        private final JsonNode official;

        Loaded(Benchmark b, List<BenchmarkQuestion> questions, BadInput bad, String split, JsonNode official) {
            super(b, questions, bad);
            this.split = split;
            this.official = official;
        }

        /** {@code convert_gqa_for_eval.py}: {@code text.rstrip('.').lower()}. */
        static String convert(String text) {
            return PyText.lower(PyText.rstrip(text, "."));
        }

        @Override
        public ObjectNode score(Map<String, AnswerLine> answers) {
            java.util.Set<String> asked = new java.util.HashSet<>();
            questions().forEach(q -> asked.add(q.key()));
            double all = 0;
            double binary = 0;
            double open = 0;
            int nAll = 0;
            int nBinary = 0;
            int nOpen = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = official.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode q = e.getValue();
                if (!q.path("isBalanced").asBoolean(false)) {
                    continue;
                }
                String predicted;
                AnswerLine a = answers.get(e.getKey());
                if (a != null) {
                    predicted = convert(a.text());
                } else {
                    if (!bad.concerns(e.getKey())) {
                        bad.add(BadInput.MISSING_ANSWER, e.getKey(), "GQA question " + e.getKey()
                                + (asked.contains(e.getKey()) ? " has no answer" : " is not in the question file") + " (scored wrong)");
                    }
                    predicted = "";
                }
                double score = predicted.equals(q.path("answer").asText()) ? 1.0 : 0.0;
                all += score;
                nAll++;
                if ("query".equals(q.path("types").path("structural").asText())) {
                    open += score;
                    nOpen++;
                } else {
                    binary += score;
                    nBinary++;
                }
            }
            for (BenchmarkQuestion q : questions()) {
                if (!official.has(q.key())) {
                    bad.add(BadInput.MISSING_ANNOTATION, q.key(), "question " + q.key() + " is not in " + split + "_questions.json (not scored, as GQA's eval.py)");
                }
            }
            ObjectNode m = metrics();
            put(m, "accuracy", (nAll == 0 ? 0.0 : all / nAll) * 100);
            put(m, "binary", (nBinary == 0 ? 0.0 : binary / nBinary) * 100);
            put(m, "open", (nOpen == 0 ? 0.0 : open / nOpen) * 100);
            m.put("count", nAll);
            return m;
        }

        @Override
        public double headline(ObjectNode metrics) {
            return get(metrics, "accuracy");
        }

        @Override
        public String headlineName() {
            return "accuracy";
        }

        @Override
        public List<Path> writeUploads(Map<String, AnswerLine> answers, Path outDir, String modelId) {
            ArrayNode rows = JsonNodeFactory.instance.arrayNode();
            for (BenchmarkQuestion q : questions()) {
                AnswerLine a = answers.get(q.key());
                ObjectNode r = rows.addObject();
                r.set("questionId", q.questionId());
                r.put("prediction", a == null ? "" : convert(a.text()));
            }
            Path file = outDir.resolve(split + "_predictions.json");
            BenchmarkFiles.writeJson(file, rows, false);
            return List.of(file);
        }
    }
}
