package io.github.vdep.train.benchmark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * SEED-Bench as LLaVA-1.5 ({@code seed.sh}): {@code seed_bench/llava-seed-bench.jsonl} (image
 * questions and the middle frame of video questions, paths relative to {@code seed_bench/}), the
 * official {@code SEED-Bench.json}. Scored by {@code convert_seed_for_submission.py}: an answer is
 * right only if it is exactly the option letter; accuracy per question type, over all questions
 * (the paper's SEED column), over image questions (SEED-IMG) and over video questions. The upload
 * file {@code answers_upload/<model>.jsonl} ({@code question_id}, {@code prediction}) is the
 * leaderboard's.
 */
public final class SeedBenchmark implements Benchmark {

    static final String QUESTIONS = "llava-seed-bench.jsonl";
    static final String OFFICIAL = "SEED-Bench.json";

    @Override
    public String name() {
        return "seed";
    }

    @Override
    public String column() {
        return "SEED";
    }

    @Override
    public String folder() {
        return "seed_bench";
    }

    @Override
    public double published() {
        return 58.6;
    }

    @Override
    public boolean foundIn(Path dir) {
        return Files.isRegularFile(dir.resolve(QUESTIONS));
    }

    @Override
    public LoadedBenchmark load(Path dir, BadInput bad) {
        List<BenchmarkQuestion> questions = LlavaQuestionFile.questions(LlavaQuestionFile.read(dir.resolve(QUESTIONS), dir, bad));
        JsonNode official = BenchmarkFiles.readJson(dir.resolve(OFFICIAL));
        if (!official.path("questions").isArray()) {
            throw new IllegalArgumentException(dir.resolve(OFFICIAL) + ": no 'questions' list");
        }
        return new Loaded(this, questions, bad, official);
    }

    /** The upstream's {@code int(question_id)} where it parses, else the id as it is. */
    static String seedKey(JsonNode id) {
        String s = BenchmarkQuestion.key(id);
        try {
            return new java.math.BigInteger(s.strip().replace("_", "")).toString();
        } catch (NumberFormatException e) {
            return s;
        }
    }

    static final class Loaded extends LoadedBenchmark {
        private final JsonNode official;

        Loaded(Benchmark b, List<BenchmarkQuestion> questions, BadInput bad, JsonNode official) {
            super(b, questions, bad);
            this.official = official;
        }

        private Map<String, BenchmarkQuestion> byKey() {
            Map<String, BenchmarkQuestion> m = new HashMap<>();
            questions().forEach(q -> m.put(q.key(), q));
            return m;
        }

        /** [correct, count] per question type id, for one data type or all (null). */
        private TreeMap<Long, int[]> counts(Map<String, AnswerLine> answers, String dataType) {
            Map<String, BenchmarkQuestion> asked = byKey();
            TreeMap<Long, int[]> out = new TreeMap<>();
            for (JsonNode q : official.get("questions")) {
                if (dataType != null && !dataType.equals(q.path("data_type").asText())) {
                    continue;
                }
                int[] c = out.computeIfAbsent(q.path("question_type_id").asLong(), k -> new int[2]);
                c[1]++;
                String key = seedKey(q.path("question_id"));
                AnswerLine a = answers.get(key);
                if (a == null) {
                    if (!bad.concerns(key)) {
                        bad.add(BadInput.MISSING_ANSWER, key, "SEED question " + key + (asked.containsKey(key) ? " has no answer" : " is not in " + QUESTIONS) + " (scored wrong)");
                    }
                    continue;
                }
                if (a.text().equals(q.path("answer").asText())) {
                    c[0]++;
                }
            }
            return out;
        }

        private static double accuracy(TreeMap<Long, int[]> counts) {
            int correct = 0;
            int total = 0;
            for (int[] c : counts.values()) {
                total += c[1];
                correct += c[0];
            }
            return (double) correct / total * 100;
        }

        @Override
        public ObjectNode score(Map<String, AnswerLine> answers) {
            TreeMap<Long, int[]> all = counts(answers, null);
            TreeMap<Long, int[]> image = counts(answers, "image");
            TreeMap<Long, int[]> video = counts(answers, "video");
            ObjectNode m = metrics();
            put(m, "accuracy", accuracy(all));
            put(m, "image_accuracy", accuracy(image));
            put(m, "video_accuracy", accuracy(video));
            m.put("count", all.values().stream().mapToInt(c -> c[1]).sum());
            m.put("image_count", image.values().stream().mapToInt(c -> c[1]).sum());
            Map<Long, String> names = new HashMap<>();
            official.path("question_type").fields().forEachRemaining(e -> names.put(e.getValue().asLong(), e.getKey()));
            ObjectNode per = m.putObject("per_type");
            all.forEach((id, c) -> put(per, names.getOrDefault(id, Long.toString(id)), (double) c[0] / c[1] * 100));
            java.util.Set<String> official = new java.util.HashSet<>();
            this.official.get("questions").forEach(q -> official.add(seedKey(q.path("question_id"))));
            for (BenchmarkQuestion q : questions()) {
                if (!official.contains(seedKey(q.questionId()))) {
                    bad.add(BadInput.MISSING_ANNOTATION, q.key(), "question " + q.key() + " is not in " + OFFICIAL + " (not scored)");
                }
            }
            return m;
        }

        @Override
        public String answerKey(AnswerLine answer) {
            return seedKey(answer.questionId());
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
            List<Object> rows = new ArrayList<>();
            for (JsonNode q : official.get("questions")) {
                AnswerLine a = answers.get(seedKey(q.path("question_id")));
                ObjectNode r = metrics();
                r.set("question_id", q.path("question_id"));
                r.put("prediction", a == null ? "" : a.text());
                rows.add(r);
            }
            Path file = outDir.resolve("answers_upload").resolve(modelId + ".jsonl");
            BenchmarkFiles.writeJsonl(file, rows);
            return List.of(file);
        }
    }
}
