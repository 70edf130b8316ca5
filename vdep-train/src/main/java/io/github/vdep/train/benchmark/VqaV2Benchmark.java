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

/**
 * VQAv2 as LLaVA-1.5: {@code vqav2/llava_vqav2_mscoco_<split>.jsonl} with images in
 * {@code test2015/} (test splits) or {@code val2014/}. The upload file
 * {@code answers_upload/<split>/<model>.json} is {@code convert_vqav2_for_submission.py}'s:
 * {@code [{"question_id", "answer"}]} with {@link EvalAiAnswerProcessor}'d answers, {@code ""} for
 * unanswered questions; test-dev is scored by the EvalAI server. When the official annotation file
 * {@code v2_mscoco_val2014_annotations.json} is present (val split), the upload answers are scored
 * locally with {@link SoftAccuracy} over the 10 human answers, as LLaVA's m4c evaluator does.
 */
public final class VqaV2Benchmark implements Benchmark {

    static final String PREFIX = "llava_vqav2_mscoco_";
    static final String ANNOTATIONS = "v2_mscoco_val2014_annotations.json";

    @Override
    public String name() {
        return "vqav2";
    }

    @Override
    public String column() {
        return "VQAv2";
    }

    @Override
    public String folder() {
        return "vqav2";
    }

    @Override
    public double published() {
        return 78.5;
    }

    @Override
    public boolean foundIn(Path dir) {
        return BenchmarkFiles.first(dir, PREFIX, ".jsonl") != null;
    }

    @Override
    public LoadedBenchmark load(Path dir, BadInput bad) {
        Path file = BenchmarkFiles.questionFile(dir, PREFIX);
        String split = BenchmarkFiles.split(file, PREFIX);
        Path images = dir.resolve(split.contains("test") ? "test2015" : "val2014");
        List<BenchmarkQuestion> questions = LlavaQuestionFile.questions(LlavaQuestionFile.read(file, images, bad));
        Map<String, List<String>> human = null;
        Path ann = dir.resolve(ANNOTATIONS);
        if (Files.isRegularFile(ann)) {
            human = humanAnswers(BenchmarkFiles.readJson(ann).get("annotations"), ann, bad);
        }
        return new Loaded(this, questions, bad, split, human);
    }

    /** {@code question_id} to its human answers, from VQA-format annotations. */
    static Map<String, List<String>> humanAnswers(JsonNode annotations, Path file, BadInput bad) {
        if (annotations == null || !annotations.isArray()) {
            throw new IllegalArgumentException(file + ": no 'annotations' list");
        }
        Map<String, List<String>> out = new HashMap<>();
        int i = 0;
        for (JsonNode a : annotations) {
            i++;
            if (!a.has("question_id") || !a.path("answers").isArray()) {
                bad.add(BadInput.MALFORMED_LINE, null, file.getFileName() + " annotation " + i + ": no 'question_id' or 'answers'");
                continue;
            }
            List<String> answers = new ArrayList<>();
            a.get("answers").forEach(x -> answers.add(x.path("answer").asText()));
            out.put(BenchmarkQuestion.key(a.get("question_id")), answers);
        }
        return out;
    }

    static final class Loaded extends LoadedBenchmark {
        private final String split;
        private final Map<String, List<String>> human;

        Loaded(Benchmark b, List<BenchmarkQuestion> questions, BadInput bad, String split, Map<String, List<String>> human) {
            super(b, questions, bad);
            this.split = split;
            this.human = human;
        }

        /** {@code convert_vqav2_for_submission.py}'s answers, in question order. */
        private List<String> uploadAnswers(Map<String, AnswerLine> answers) {
            List<String> out = new ArrayList<>();
            for (BenchmarkQuestion q : questions()) {
                out.add(EvalAiAnswerProcessor.process(text(q, answers)));
            }
            return out;
        }

        @Override
        public ObjectNode score(Map<String, AnswerLine> answers) {
            ObjectNode m = metrics();
            List<String> upload = uploadAnswers(answers);
            if (human != null) {
                double sum = 0;
                for (int i = 0; i < upload.size(); i++) {
                    BenchmarkQuestion q = questions().get(i);
                    List<String> gts = human.get(q.key());
                    if (gts == null) {
                        bad.add(BadInput.MISSING_ANNOTATION, q.key(), "question " + q.key() + " has no annotation (scored 0)");
                        continue;
                    }
                    sum += SoftAccuracy.score(upload.get(i), gts);
                }
                put(m, "accuracy", sum / upload.size() * 100);
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
            List<String> upload = uploadAnswers(answers);
            ArrayNode rows = JsonNodeFactory.instance.arrayNode();
            for (int i = 0; i < upload.size(); i++) {
                ObjectNode r = rows.addObject();
                r.set("question_id", questions().get(i).questionId());
                r.put("answer", upload.get(i));
            }
            Path file = outDir.resolve("answers_upload").resolve(split).resolve(modelId + ".json");
            BenchmarkFiles.writeJson(file, rows, false);
            return List.of(file);
        }

        @Override
        public String note() {
            return human != null ? null
                    : "no " + ANNOTATIONS + ": submit answers_upload/" + split + " to the EvalAI VQAv2 server (challenge 830) for the score";
        }
    }
}
