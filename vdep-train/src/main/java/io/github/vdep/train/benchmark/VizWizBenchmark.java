package io.github.vdep.train.benchmark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * VizWiz as LLaVA-1.5: {@code vizwiz/llava_<split>.jsonl} (LLaVA's {@code llava_test.jsonl}, whose
 * prompts ask for "Unanswerable" when the image cannot answer), images in {@code vizwiz/<split>/}.
 * The upload file {@code answers_upload/<model>.json} is {@code convert_vizwiz_for_submission.py}'s
 * ({@code [{"image", "answer"}]}, answers {@link EvalAiAnswerProcessor}'d); the test split is scored
 * by the EvalAI server. With the official annotations {@code <split>.json} (the val split of
 * VizWiz's {@code Annotations.zip}) the upload answers are scored locally: {@link SoftAccuracy} over
 * the 10 answers, where "unanswerable" is an answer like any other (the unanswerable class), overall
 * and per {@code answer_type} ({@code yes/no}, {@code number}, {@code other}, {@code unanswerable}).
 */
public final class VizWizBenchmark implements Benchmark {

    @Override
    public String name() {
        return "vizwiz";
    }

    @Override
    public String column() {
        return "VizWiz";
    }

    @Override
    public String folder() {
        return "vizwiz";
    }

    @Override
    public double published() {
        return 50.0;
    }

    @Override
    public boolean foundIn(Path dir) {
        return BenchmarkFiles.first(dir, "llava_", ".jsonl") != null;
    }

    @Override
    public LoadedBenchmark load(Path dir, BadInput bad) {
        Path file = BenchmarkFiles.first(dir, "llava_", ".jsonl");
        if (file == null) {
            throw new IllegalArgumentException(dir + ": no llava_<split>.jsonl question file");
        }
        String split = file.getFileName().toString().substring("llava_".length()).replaceFirst("\\.jsonl$", "");
        List<LlavaQuestionFile.Entry> entries = LlavaQuestionFile.read(file, dir.resolve(split), bad);
        Map<String, String> images = new HashMap<>();
        entries.forEach(e -> images.put(e.question().key(), e.json().path("image").asText()));
        Map<String, JsonNode> annotations = null;
        Path ann = dir.resolve(split + ".json");
        if (Files.isRegularFile(ann)) {
            JsonNode list = BenchmarkFiles.readJson(ann);
            if (!list.isArray()) {
                throw new IllegalArgumentException(ann + ": not a JSON list of annotations");
            }
            annotations = new HashMap<>();
            for (JsonNode a : list) {
                annotations.put(a.path("image").asText(), a);
            }
        }
        return new Loaded(this, LlavaQuestionFile.questions(entries), bad, images, annotations);
    }

    static final class Loaded extends LoadedBenchmark {
        private final Map<String, String> images;
        private final Map<String, JsonNode> annotations;

        Loaded(Benchmark b, List<BenchmarkQuestion> questions, BadInput bad, Map<String, String> images, Map<String, JsonNode> annotations) {
            super(b, questions, bad);
            this.images = images;
            this.annotations = annotations;
        }

        @Override
        public ObjectNode score(Map<String, AnswerLine> answers) {
            ObjectNode m = metrics();
            List<String> upload = new ArrayList<>();
            questions().forEach(q -> upload.add(EvalAiAnswerProcessor.process(text(q, answers))));
            if (annotations != null) {
                double sum = 0;
                Map<String, double[]> byType = new TreeMap<>();
                for (int i = 0; i < upload.size(); i++) {
                    BenchmarkQuestion q = questions().get(i);
                    JsonNode a = annotations.get(images.get(q.key()));
                    if (a == null) {
                        bad.add(BadInput.MISSING_ANNOTATION, q.key(), "question " + q.key() + " (image " + images.get(q.key()) + ") has no annotation (scored 0)");
                        continue;
                    }
                    List<String> gts = new ArrayList<>();
                    a.path("answers").forEach(x -> gts.add(x.path("answer").asText()));
                    double s = SoftAccuracy.score(upload.get(i), gts);
                    sum += s;
                    double[] t = byType.computeIfAbsent(a.path("answer_type").asText(), k -> new double[2]);
                    t[0] += s;
                    t[1]++;
                }
                put(m, "accuracy", sum / upload.size() * 100);
                ObjectNode types = m.putObject("per_answer_type");
                byType.forEach((k, v) -> put(types, k, v[0] / v[1] * 100));
            }
            m.put("count", upload.size());
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
                ObjectNode r = rows.addObject();
                r.put("image", images.get(q.key()));
                r.put("answer", EvalAiAnswerProcessor.process(text(q, answers)));
            }
            Path file = outDir.resolve("answers_upload").resolve(modelId + ".json");
            BenchmarkFiles.writeJson(file, rows, false);
            return List.of(file);
        }

        @Override
        public String note() {
            return annotations != null ? null
                    : "no annotations: submit answers_upload to the EvalAI VizWiz server (challenge 2185) for the score";
        }
    }
}
