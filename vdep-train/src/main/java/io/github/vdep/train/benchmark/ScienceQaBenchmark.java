package io.github.vdep.train.benchmark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * ScienceQA as LLaVA-1.5 ({@code sqa.sh}): questions from {@code scienceqa/llava_test_CQM-A.json}
 * (LLaVA conversation records), images in {@code scienceqa/images/test/}, scored against
 * {@code problems.json} and {@code pid_splits.json} by {@code eval_science_qa.py}. The prompt is
 * the first human turn without {@code <image>}, stripped, plus
 * {@value Instructions#OPTION_LETTER}. The letter is the whole answer if it is one of A-E, else the
 * first character of an answer starting {@code "X. "}, else the single match of
 * {@code The answer is ([A-Z]).}, else none; a letter beyond the problem's choices is wrong.
 * SQA-IMG is the accuracy over the questions whose recorded prompt holds {@code <image>}.
 */
public final class ScienceQaBenchmark implements Benchmark {

    static final String QUESTIONS = "llava_test_CQM-A.json";
    private static final List<String> OPTIONS = List.of("A", "B", "C", "D", "E");
    private static final Pattern THE_ANSWER_IS = Pattern.compile("The answer is ([A-Z]).");

    @Override
    public String name() {
        return "scienceqa";
    }

    @Override
    public String column() {
        return "SQA-IMG";
    }

    @Override
    public String folder() {
        return "scienceqa";
    }

    @Override
    public double published() {
        return 66.8;
    }

    @Override
    public boolean foundIn(Path dir) {
        return java.nio.file.Files.isRegularFile(dir.resolve(QUESTIONS));
    }

    @Override
    public LoadedBenchmark load(Path dir, BadInput bad) {
        Path file = dir.resolve(QUESTIONS);
        JsonNode records = BenchmarkFiles.readJson(file);
        if (!records.isArray()) {
            throw new IllegalArgumentException(file + ": not a JSON list of records");
        }
        Path images = dir.resolve("images").resolve("test");
        List<BenchmarkQuestion> questions = new ArrayList<>();
        int i = 0;
        for (JsonNode r : records) {
            i++;
            JsonNode id = r.get("id");
            JsonNode value = r.path("conversations").path(0).get("value");
            if (id == null || value == null) {
                bad.add(BadInput.MALFORMED_LINE, null, QUESTIONS + " record " + i + ": no 'id' or first conversation turn");
                continue;
            }
            String qs = PyText.strip(value.asText().replace("<image>", ""));
            String recorded = qs;
            Path image = null;
            if (r.hasNonNull("image")) {
                image = images.resolve(r.get("image").asText());
                recorded = "<image>\n" + recorded;
            }
            String prompt = qs + "\n" + Instructions.OPTION_LETTER;
            recorded = recorded + "\n" + Instructions.OPTION_LETTER;
            questions.add(new BenchmarkQuestion(BenchmarkQuestion.key(id), id, prompt, recorded, image, null));
        }
        JsonNode problems = BenchmarkFiles.readJson(dir.resolve("problems.json"));
        JsonNode split = BenchmarkFiles.readJson(dir.resolve("pid_splits.json")).get("test");
        if (split == null || !split.isArray()) {
            throw new IllegalArgumentException(dir.resolve("pid_splits.json") + ": no 'test' list");
        }
        return new Loaded(this, questions, bad, problems, split);
    }

    /**
     * {@code eval_science_qa.py}'s letter extraction.
     *
     * @param text the model's answer
     * @return the letter, or {@code "FAILED"}
     */
    public static String extract(String text) {
        if (OPTIONS.contains(text)) {
            return text;
        }
        if (text.codePointCount(0, text.length()) >= 3 && OPTIONS.contains(text.substring(0, 1)) && text.startsWith(". ", 1)) {
            return text.substring(0, 1);
        }
        Matcher m = THE_ANSWER_IS.matcher(text);
        String found = null;
        int n = 0;
        while (m.find()) {
            found = m.group(1);
            n++;
        }
        return n == 1 ? found : "FAILED";
    }

    static final class Loaded extends LoadedBenchmark {
        private final JsonNode problems;
        private final JsonNode split;

        Loaded(Benchmark b, List<BenchmarkQuestion> questions, BadInput bad, JsonNode problems, JsonNode split) {
            super(b, questions, bad);
            this.problems = problems;
            this.split = split;
        }

        @Override
        public ObjectNode score(Map<String, AnswerLine> answers) {
            Map<String, BenchmarkQuestion> byKey = new java.util.HashMap<>();
            questions().forEach(q -> byKey.put(q.key(), q));
            int total = 0;
            int correct = 0;
            int imgTotal = 0;
            int imgCorrect = 0;
            for (JsonNode pidNode : split) {
                String pid = pidNode.asText();
                JsonNode prob = problems.get(pid);
                if (prob == null) {
                    bad.add(BadInput.MISSING_ANNOTATION, pid, "problem " + pid + " of pid_splits.json is not in problems.json (not scored)");
                    continue;
                }
                AnswerLine a = answers.get(pid);
                String text;
                boolean multimodal;
                if (a != null) {
                    text = a.text();
                    multimodal = a.prompt().contains("<image>");
                } else {
                    BenchmarkQuestion q = byKey.get(pid);
                    if (!bad.concerns(pid)) {
                        bad.add(BadInput.MISSING_ANSWER, pid, "problem " + pid + (q == null ? " is not in " + QUESTIONS : " has no answer") + " (scored wrong)");
                    }
                    text = "FAILED";
                    // the upstream records 'Unknown' as the prompt (never IMG); vdep keeps the question in its IMG denominator
                    multimodal = q != null ? q.recorded().contains("<image>") : !prob.path("image").isNull() && prob.has("image");
                }
                String letter = extract(text);
                int choices = prob.path("choices").size();
                int idx = OPTIONS.subList(0, Math.min(choices, OPTIONS.size())).indexOf(letter);
                boolean right = idx == prob.path("answer").asInt(-2);
                total++;
                correct += right ? 1 : 0;
                if (multimodal) {
                    imgTotal++;
                    imgCorrect += right ? 1 : 0;
                }
            }
            ObjectNode m = metrics();
            put(m, "accuracy", (double) correct / total * 100);
            put(m, "img_accuracy", (double) imgCorrect / imgTotal * 100);
            m.put("count", total);
            m.put("img_count", imgTotal);
            m.put("correct", correct);
            m.put("img_correct", imgCorrect);
            return m;
        }

        @Override
        public double headline(ObjectNode metrics) {
            return get(metrics, "img_accuracy");
        }

        @Override
        public String headlineName() {
            return "img_accuracy";
        }
    }
}
