package io.github.vdep.train.benchmark;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * POPE as LLaVA-1.5 ({@code pope.sh}): {@code pope/llava_pope_test.jsonl} (each question with its
 * {@code category}: adversarial, popular or random), images in {@code pope/val2014/}, labels in
 * {@code pope/coco/coco_pope_<category>.json}. Scored per category by {@code eval_pope.py}: the
 * labels pair with the category's questions in file order; an answer is "no" if its first sentence
 * (up to the first period), commas removed and split on spaces, has the word {@code No},
 * {@code not} or {@code no}, else "yes"; then accuracy, precision, recall, F1 and the yes-ratio
 * ("yes" being positive). The headline is the mean F1 over the categories, as the paper reports.
 */
public final class PopeBenchmark implements Benchmark {

    static final String QUESTIONS = "llava_pope_test.jsonl";

    @Override
    public String name() {
        return "pope";
    }

    @Override
    public String column() {
        return "POPE";
    }

    @Override
    public String folder() {
        return "pope";
    }

    @Override
    public double published() {
        return 85.9;
    }

    @Override
    public boolean foundIn(Path dir) {
        return Files.isRegularFile(dir.resolve(QUESTIONS));
    }

    /**
     * {@code eval_pope.py}'s yes/no reading.
     *
     * @param text the model's answer
     * @return true for yes
     */
    public static boolean saysYes(String text) {
        int dot = text.indexOf('.');
        if (dot >= 0) {
            text = text.substring(0, dot);
        }
        List<String> words = PyText.split(text.replace(",", ""), " ");
        return !(words.contains("No") || words.contains("not") || words.contains("no"));
    }

    @Override
    public LoadedBenchmark load(Path dir, BadInput bad) {
        List<LlavaQuestionFile.Entry> entries = LlavaQuestionFile.read(dir.resolve(QUESTIONS), dir.resolve("val2014"), bad);
        Path coco = dir.resolve("coco");
        if (!Files.isDirectory(coco)) {
            throw new IllegalArgumentException(coco + ": folder not found (POPE's coco_pope_<category>.json label files)");
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(coco)) {
            files = s.filter(p -> p.getFileName().toString().startsWith("coco_pope_") && p.getFileName().toString().endsWith(".json")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + coco + ": " + e.getMessage(), e);
        }
        Map<String, List<BenchmarkQuestion>> byCategory = new TreeMap<>();
        Map<String, String> labels = new HashMap<>();
        for (Path f : files) {
            String name = f.getFileName().toString();
            String category = name.substring(10, name.length() - 5);
            List<BenchmarkQuestion> qs = new ArrayList<>();
            entries.stream().filter(e -> category.equals(e.json().path("category").asText())).forEach(e -> qs.add(e.question()));
            List<BenchmarkFiles.Line> lines = BenchmarkFiles.readJsonl(f, bad);
            for (int i = 0; i < qs.size(); i++) {
                if (i < lines.size()) {
                    labels.put(qs.get(i).key(), lines.get(i).json().path("label").asText());
                } else {
                    bad.add(BadInput.MISSING_ANNOTATION, qs.get(i).key(), "question " + qs.get(i).key() + ": " + name + " has fewer labels than the category has questions (not scored)");
                }
            }
            if (lines.size() > qs.size()) {
                bad.add("unused_label", null, name + ": " + (lines.size() - qs.size()) + " labels more than the category's questions");
            }
            byCategory.put(category, qs);
        }
        for (LlavaQuestionFile.Entry e : entries) {
            if (!labels.containsKey(e.question().key()) && !bad.concerns(e.question().key())) {
                bad.add(BadInput.MISSING_ANNOTATION, e.question().key(), "question " + e.question().key() + ": category '"
                        + e.json().path("category").asText() + "' has no coco_pope_ label file (not scored)");
            }
        }
        return new Loaded(this, LlavaQuestionFile.questions(entries), bad, byCategory, labels);
    }

    static final class Loaded extends LoadedBenchmark {
        private final Map<String, List<BenchmarkQuestion>> byCategory;
        private final Map<String, String> labels;

        Loaded(Benchmark b, List<BenchmarkQuestion> questions, BadInput bad, Map<String, List<BenchmarkQuestion>> byCategory, Map<String, String> labels) {
            super(b, questions, bad);
            this.byCategory = byCategory;
            this.labels = labels;
        }

        @Override
        public ObjectNode score(Map<String, AnswerLine> answers) {
            ObjectNode m = metrics();
            double f1Sum = 0;
            double accSum = 0;
            for (Map.Entry<String, List<BenchmarkQuestion>> e : byCategory.entrySet()) {
                int tp = 0;
                int fp = 0;
                int tn = 0;
                int fn = 0;
                int yes = 0;
                int n = 0;
                for (BenchmarkQuestion q : e.getValue()) {
                    String label = labels.get(q.key());
                    if (label == null) {
                        continue;
                    }
                    boolean pred = saysYes(text(q, answers));
                    boolean positive = !"no".equals(label);
                    n++;
                    yes += pred ? 1 : 0;
                    if (pred && positive) {
                        tp++;
                    } else if (pred) {
                        fp++;
                    } else if (!positive) {
                        tn++;
                    } else {
                        fn++;
                    }
                }
                double precision = (double) tp / (tp + fp);
                double recall = (double) tp / (tp + fn);
                double f1 = 2 * precision * recall / (precision + recall);
                double acc = (double) (tp + tn) / (tp + tn + fp + fn);
                ObjectNode c = m.putObject(e.getKey());
                put(c, "accuracy", acc * 100);
                put(c, "precision", precision * 100);
                put(c, "recall", recall * 100);
                put(c, "f1", f1 * 100);
                put(c, "yes_ratio", (double) yes / n * 100);
                c.put("TP", tp);
                c.put("FP", fp);
                c.put("TN", tn);
                c.put("FN", fn);
                f1Sum += f1;
                accSum += acc;
            }
            put(m, "f1", f1Sum / byCategory.size() * 100);
            put(m, "accuracy", accSum / byCategory.size() * 100);
            return m;
        }

        @Override
        public double headline(ObjectNode metrics) {
            return get(metrics, "f1");
        }

        @Override
        public String headlineName() {
            return "f1";
        }
    }
}
