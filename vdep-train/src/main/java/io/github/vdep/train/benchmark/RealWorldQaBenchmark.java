package io.github.vdep.train.benchmark;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * RealWorldQA (xAI), which LLaVA's scripts do not cover, scored as lmms-eval's {@code realworldqa}
 * task: {@code realworldqa/realworldqa.jsonl} ({@code question_id}, {@code image}, {@code question},
 * {@code answer}; the Hugging Face release exported as {@code docs/evaluation.md} shows), the
 * question put as it is (it carries its own answer instruction). The answer goes through the
 * "flexible-extract" filters (a whole-answer number word becomes its digit; then the answer, with
 * everything but word characters and whitespace removed, is searched for the options' texts, parsed
 * from the question's {@code X. text} lines, and a found text becomes its letter) and is compared by
 * exact match ignoring case and ASCII punctuation.
 */
public final class RealWorldQaBenchmark implements Benchmark {

    static final String QUESTIONS = "realworldqa.jsonl";
    private static final Pattern CHOICE = Pattern.compile("\\b([A-Z])\\.\\s+([^\\n]*)", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Map<String, String> NUMBER_WORDS = Map.ofEntries(Map.entry("zero", "0"), Map.entry("one", "1"),
            Map.entry("two", "2"), Map.entry("three", "3"), Map.entry("four", "4"), Map.entry("five", "5"), Map.entry("six", "6"),
            Map.entry("seven", "7"), Map.entry("eight", "8"), Map.entry("nine", "9"), Map.entry("ten", "10"));
    private static final String ASCII_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    @Override
    public String name() {
        return "realworldqa";
    }

    @Override
    public String column() {
        return "RealWorldQA";
    }

    @Override
    public String folder() {
        return "realworldqa";
    }

    @Override
    public double published() {
        return Double.NaN;
    }

    @Override
    public boolean foundIn(Path dir) {
        return Files.isRegularFile(dir.resolve(QUESTIONS));
    }

    /**
     * lmms-eval's filters for one answer.
     *
     * @param answer   the model's answer
     * @param question the question with its options
     * @return the filtered answer (a letter when an option text was found)
     */
    public static String filter(String answer, String question) {
        String resp = NUMBER_WORDS.getOrDefault(PyText.lower(answer), answer);
        Map<String, String> choiceToAlpha = new HashMap<>();
        List<String> alternatives = new ArrayList<>();
        char next = 'A';
        Matcher m = CHOICE.matcher(question);
        while (m.find()) {
            String text = PyText.strip(m.group(2));
            alternatives.add(Pattern.quote(text));
            choiceToAlpha.put(text, String.valueOf(next));
            next++;
        }
        StringBuilder cleaned = new StringBuilder();
        resp.codePoints().filter(c -> PyText.isWord(c) || PyText.isSpace(c)).forEach(cleaned::appendCodePoint);
        String c = PyText.strip(cleaned.toString());
        Matcher found = Pattern.compile(String.join("|", alternatives)).matcher(c);
        if (found.find() && choiceToAlpha.containsKey(found.group())) {
            return choiceToAlpha.get(found.group());
        }
        return c;
    }

    /** lmms-eval's {@code exact_match} with {@code ignore_case} and {@code ignore_punctuation}. */
    static boolean exactMatch(String prediction, String reference) {
        return dropPunctuation(PyText.lower(prediction)).equals(dropPunctuation(PyText.lower(reference)));
    }

    private static String dropPunctuation(String s) {
        StringBuilder out = new StringBuilder(s.length());
        s.chars().filter(ch -> ASCII_PUNCTUATION.indexOf(ch) < 0).forEach(ch -> out.append((char) ch));
        return out.toString();
    }

    @Override
    public LoadedBenchmark load(Path dir, BadInput bad) {
        List<LlavaQuestionFile.Entry> entries = LlavaQuestionFile.read(dir.resolve(QUESTIONS), dir, bad, "question");
        List<BenchmarkQuestion> questions = new ArrayList<>();
        Map<String, String> answers = new LinkedHashMap<>();
        for (LlavaQuestionFile.Entry e : entries) {
            BenchmarkQuestion q = e.question();
            String prompt = PyText.strip(q.prompt());
            questions.add(new BenchmarkQuestion(q.key(), q.questionId(), prompt, prompt, q.image(), null));
            if (e.json().hasNonNull("answer")) {
                answers.put(q.key(), e.json().get("answer").asText());
            } else {
                bad.add(BadInput.MISSING_ANNOTATION, q.key(), QUESTIONS + ": question " + q.key() + " has no 'answer' (scored 0)");
            }
        }
        return new Loaded(this, questions, bad, answers);
    }

    static final class Loaded extends LoadedBenchmark {
        private final Map<String, String> references;

        Loaded(Benchmark b, List<BenchmarkQuestion> questions, BadInput bad, Map<String, String> references) {
            super(b, questions, bad);
            this.references = references;
        }

        @Override
        public ObjectNode score(Map<String, AnswerLine> answers) {
            double sum = 0;
            for (BenchmarkQuestion q : questions()) {
                String text = text(q, answers);
                String reference = references.get(q.key());
                if (reference != null && exactMatch(filter(text, q.prompt()), reference)) {
                    sum += 1.0;
                }
            }
            ObjectNode m = metrics();
            put(m, "accuracy", sum / questions().size() * 100);
            m.put("count", questions().size());
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
    }
}
