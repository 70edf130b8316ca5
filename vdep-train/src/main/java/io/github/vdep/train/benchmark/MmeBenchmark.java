package io.github.vdep.train.benchmark;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * MME as LLaVA-1.5 ({@code mme.sh}): {@code MME/llava_mme.jsonl} (ids {@code <category>/<image>}, shared
 * by an image's two questions, so answers are matched by id and prompt),
 * images and the official yes/no answers under {@code MME/MME_Benchmark_release_version/<category>/}
 * (flat, or {@code images/} and {@code questions_answers_YN/}). Each answer is matched to its ground
 * truth as {@code convert_answer_to_mme.py} does (the short-answer instruction removed,
 * " Please answer yes or no." restored, with the release's double-space variant), then scored by
 * MME's {@code calculation.py}: an answer is "yes" or "no" if it is exactly that (lower-cased), else
 * by which of them occurs in its first four characters, else "other"; per subtask
 * {@code acc} is the fraction of questions right and {@code acc+} the fraction of images (question
 * pairs, in file order) with both right; the subtask score is {@code 100 (acc + acc+)}; perception
 * sums 10 subtasks (the paper's MME column), cognition 4.
 */
public final class MmeBenchmark implements Benchmark {

    static final String QUESTIONS = "llava_mme.jsonl";
    static final String RELEASE = "MME_Benchmark_release_version";
    static final List<String> PERCEPTION = List.of("existence", "count", "position", "color", "posters", "celebrity", "scene",
            "landmark", "artwork", "OCR");
    static final List<String> COGNITION = List.of("commonsense_reasoning", "numerical_calculation", "text_translation", "code_reasoning");
    private static final String SHORT = Instructions.SHORT_ANSWER;
    private static final String YES_NO = "Please answer yes or no.";

    @Override
    public String name() {
        return "mme";
    }

    @Override
    public String column() {
        return "MME";
    }

    @Override
    public String folder() {
        return "MME";
    }

    @Override
    public double published() {
        return 1510.7;
    }

    @Override
    public boolean foundIn(Path dir) {
        return Files.isRegularFile(dir.resolve(QUESTIONS));
    }

    /**
     * {@code calculation.py}'s {@code parse_pred_ans} after lower-casing.
     *
     * @param answer the model's answer
     * @return "yes", "no" or "other"
     */
    public static String label(String answer) {
        String a = PyText.lower(answer);
        if (a.equals("yes") || a.equals("no")) {
            return a;
        }
        String prefix = a.substring(0, a.offsetByCodePoints(0, Math.min(4, a.codePointCount(0, a.length()))));
        if (prefix.contains("yes")) {
            return "yes";
        }
        return prefix.contains("no") ? "no" : "other";
    }

    @Override
    public LoadedBenchmark load(Path dir, BadInput bad) {
        Path release = dir.resolve(RELEASE);
        List<BenchmarkQuestion> questions = new ArrayList<>();
        for (BenchmarkQuestion q : LlavaQuestionFile.questions(LlavaQuestionFile.read(dir.resolve(QUESTIONS), release, bad))) {
            questions.add(new BenchmarkQuestion(key(q.questionId(), q.recorded()), q.questionId(), q.prompt(), q.recorded(), q.image(), null));
        }
        if (!Files.isDirectory(release)) {
            throw new IllegalArgumentException(release + ": folder not found");
        }
        return new Loaded(this, questions, bad, groundTruth(release, bad));
    }

    /** {@code convert_answer_to_mme.py}'s {@code get_gt}: (category, file, question) to answer. */
    static Map<String, String> groundTruth(Path release, BadInput bad) {
        Map<String, String> gt = new HashMap<>();
        for (Path category : BenchmarkFiles.folders(release)) {
            Path qa = Files.isDirectory(category.resolve("images")) ? category.resolve("questions_answers_YN") : category;
            if (!Files.isDirectory(qa)) {
                throw new IllegalArgumentException(qa + ": folder not found");
            }
            List<Path> files;
            try (Stream<Path> s = Files.list(qa)) {
                files = s.filter(p -> p.getFileName().toString().endsWith(".txt")).sorted().toList();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + qa + ": " + e.getMessage(), e);
            }
            for (Path f : files) {
                List<String> lines;
                try {
                    lines = Files.readAllLines(f, StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
                }
                for (int i = 0; i < lines.size(); i++) {
                    List<String> parts = PyText.split(PyText.strip(lines.get(i)), "\t");
                    if (parts.size() != 2) {
                        bad.add(BadInput.MALFORMED_LINE, null, release.relativize(f) + " line " + (i + 1) + ": not 'question<TAB>answer'");
                        continue;
                    }
                    gt.put(gtKey(category.getFileName().toString(), f.getFileName().toString(), parts.get(0)), parts.get(1));
                }
            }
        }
        return gt;
    }

    /** Both questions of an image share its id: the question text completes the key. */
    static String key(com.fasterxml.jackson.databind.JsonNode id, String prompt) {
        return BenchmarkQuestion.key(id) + "\u0000" + prompt;
    }

    static String gtKey(String category, String file, String question) {
        return category + "\u0000" + file + "\u0000" + question;
    }

    static final class Loaded extends LoadedBenchmark {
        private final Map<String, String> gt;

        Loaded(Benchmark b, List<BenchmarkQuestion> questions, BadInput bad, Map<String, String> gt) {
            super(b, questions, bad);
            this.gt = gt;
        }

        @Override
        public String answerKey(AnswerLine answer) {
            return key(answer.questionId(), answer.prompt());
        }

        @Override
        public ObjectNode score(Map<String, AnswerLine> answers) {
            // per category, in answer order: (ground truth, predicted label)
            Map<String, List<String[]>> tasks = new LinkedHashMap<>();
            for (BenchmarkQuestion q : questions()) {
                String text = text(q, answers);
                String id = q.questionId().asText();
                String category = PyText.split(id, "/").get(0);
                List<String> path = PyText.split(id, "/");
                String file = PyText.split(path.get(path.size() - 1), ".").get(0) + ".txt";
                String prompt = recordedPrompt(q, answers);
                if (prompt.contains(SHORT)) {
                    prompt = PyText.strip(prompt.replace(SHORT, ""));
                }
                if (!prompt.contains(YES_NO)) {
                    prompt = prompt + " " + YES_NO;
                    if (!gt.containsKey(gtKey(category, file, prompt))) {
                        prompt = prompt.replace(" " + YES_NO, "  " + YES_NO);
                    }
                }
                String truth = gt.get(gtKey(category, file, prompt));
                if (truth == null) {
                    bad.add(BadInput.MISSING_ANNOTATION, q.key(), "question " + id + " '" + prompt + "' has no ground truth in " + category + "/" + file + " (not scored)");
                    continue;
                }
                tasks.computeIfAbsent(category, c -> new ArrayList<>()).add(new String[] {PyText.lower(truth), label(text)});
            }
            ObjectNode m = metrics();
            ObjectNode per = metrics();
            put(m, "perception", total(PERCEPTION, tasks, per));
            put(m, "cognition", total(COGNITION, tasks, per));
            m.set("tasks", per);
            List<String> missing = new ArrayList<>();
            Stream.concat(PERCEPTION.stream(), COGNITION.stream()).filter(t -> !tasks.containsKey(t)).forEach(missing::add);
            if (!missing.isEmpty()) {
                missing.forEach(m.putArray("missing_tasks")::add);
            }
            tasks.keySet().stream().filter(t -> !PERCEPTION.contains(t) && !COGNITION.contains(t))
                    .forEach(t -> bad.add("unknown_category", null, "MME category '" + t + "' is neither perception nor cognition (not scored)"));
            return m;
        }

        private double total(List<String> names, Map<String, List<String[]>> tasks, ObjectNode per) {
            double scores = 0;
            for (String name : names) {
                List<String[]> items = tasks.get(name);
                if (items == null) {
                    continue;
                }
                int right = 0;
                int plus = 0;
                int images = 0;
                for (int i = 0; i < items.size(); i += 2) {
                    images++;
                    int pairRight = 0;
                    for (int j = i; j < Math.min(i + 2, items.size()); j++) {
                        if (items.get(j)[0].equals(items.get(j)[1])) {
                            right++;
                            pairRight++;
                        }
                    }
                    if (i + 1 >= items.size()) {
                        bad.add("unpaired_question", null, "MME " + name + ": an odd number of questions; the last image has one (no acc+)");
                    } else if (pairRight == 2) {
                        plus++;
                    }
                }
                double acc = (double) right / items.size();
                double accPlus = (double) plus / images;
                double score = 0;
                score += acc * 100;
                score += accPlus * 100;
                ObjectNode t = per.putObject(name);
                put(t, "score", score);
                put(t, "acc", acc * 100);
                put(t, "acc_plus", accPlus * 100);
                scores += score;
            }
            return scores;
        }

        @Override
        public double headline(ObjectNode metrics) {
            return get(metrics, "perception");
        }

        @Override
        public String headlineName() {
            return "perception";
        }
    }
}
