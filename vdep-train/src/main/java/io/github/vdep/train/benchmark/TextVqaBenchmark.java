package io.github.vdep.train.benchmark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * TextVQA as LLaVA-1.5 ({@code textvqa.sh}): {@code textvqa/llava_textvqa_val_v051_ocr.jsonl}
 * (prompts carry the reference OCR tokens), images in {@code textvqa/train_images/}, scored against
 * {@code TextVQA_0.5.1_val.json} by {@code eval_textvqa.py}: the question is recovered from the
 * recorded prompt, the annotation found by (question_id, which LLaVA sets to the image id, and the
 * lower-cased question), and the answer scored with {@link SoftAccuracy}.
 */
public final class TextVqaBenchmark implements Benchmark {

    static final String PREFIX = "llava_textvqa_";
    static final String ANNOTATIONS = "TextVQA_0.5.1_val.json";
    private static final Pattern OCR_QUESTION = Pattern.compile("Question: (.*?) Short answer:", Pattern.DOTALL);

    @Override
    public String name() {
        return "textvqa";
    }

    @Override
    public String column() {
        return "TextVQA";
    }

    @Override
    public String folder() {
        return "textvqa";
    }

    @Override
    public double published() {
        return 58.2;
    }

    @Override
    public boolean foundIn(Path dir) {
        return BenchmarkFiles.first(dir, PREFIX, ".jsonl") != null;
    }

    /**
     * {@code eval_textvqa.py}'s {@code prompt_processor}.
     *
     * @param prompt a recorded prompt
     * @return the lower-cased question, or null where the upstream asserts
     */
    public static String questionOf(String prompt) {
        String question;
        List<String> lines = PyText.split(prompt, "\n");
        if (prompt.startsWith("OCR tokens: ")) {
            Matcher m = OCR_QUESTION.matcher(prompt);
            if (!m.find()) {
                return null;
            }
            question = m.group(1);
        } else if (prompt.contains("Reference OCR token: ") && lines.size() == 3) {
            question = prompt.startsWith("Reference OCR token:") ? lines.get(1) : lines.get(0);
        } else if (lines.size() == 2) {
            question = lines.get(0);
        } else {
            return null;
        }
        return PyText.lower(question);
    }

    @Override
    public LoadedBenchmark load(Path dir, BadInput bad) {
        Path file = BenchmarkFiles.questionFile(dir, PREFIX);
        List<BenchmarkQuestion> questions = new ArrayList<>();
        for (LlavaQuestionFile.Entry e : LlavaQuestionFile.read(file, dir.resolve("train_images"), bad)) {
            BenchmarkQuestion q = e.question();
            questions.add(new BenchmarkQuestion(key(q.questionId(), q.prompt()), q.questionId(), q.prompt(), q.recorded(), q.image(), null));
        }
        Path annFile = dir.resolve(ANNOTATIONS);
        JsonNode data = BenchmarkFiles.readJson(annFile).get("data");
        if (data == null || !data.isArray()) {
            throw new IllegalArgumentException(annFile + ": no 'data' list");
        }
        Map<String, List<String>> annotations = new HashMap<>();
        for (JsonNode a : data) {
            List<String> answers = new ArrayList<>();
            a.path("answers").forEach(x -> answers.add(x.asText()));
            annotations.put(BenchmarkQuestion.key(a.path("image_id")) + "\u0000" + PyText.lower(a.path("question").asText()), answers);
        }
        return new Loaded(this, questions, bad, annotations);
    }

    /** Question ids are image ids: the question text completes the key. */
    static String key(JsonNode id, String prompt) {
        String q = questionOf(prompt);
        return BenchmarkQuestion.key(id) + "\u0000" + (q == null ? "\u0001" + prompt : q);
    }

    static final class Loaded extends LoadedBenchmark {
        private final Map<String, List<String>> annotations;

        Loaded(Benchmark b, List<BenchmarkQuestion> questions, BadInput bad, Map<String, List<String>> annotations) {
            super(b, questions, bad);
            this.annotations = annotations;
        }

        @Override
        public String answerKey(AnswerLine answer) {
            return key(answer.questionId(), answer.prompt());
        }

        @Override
        public ObjectNode score(Map<String, AnswerLine> answers) {
            double sum = 0;
            for (BenchmarkQuestion q : questions()) {
                String text = text(q, answers);
                if (questionOf(q.recorded()) == null) {
                    bad.add("unparsable_prompt", q.key(), "question " + q.questionId() + ": the prompt has no recognisable question line (scored 0)");
                    continue;
                }
                List<String> gts = annotations.get(q.key());
                if (gts == null) {
                    bad.add(BadInput.MISSING_ANNOTATION, q.key(), "question " + q.questionId() + " '" + questionOf(q.recorded()) + "' has no annotation (scored 0)");
                    continue;
                }
                sum += SoftAccuracy.score(text, gts);
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
