package io.github.vdep.train.benchmark;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A benchmark's questions and annotations, ready to be answered and scored. Scores follow the
 * upstream script of each benchmark (named in its class); a question without an answer is scored
 * as an empty answer and counted as {@link BadInput#MISSING_ANSWER}, never left out.
 */
public abstract class LoadedBenchmark {

    private final Benchmark benchmark;
    private final List<BenchmarkQuestion> questions;
    /** Bad input of this run (loading, answering and scoring). */
    protected final BadInput bad;

    /**
     * @param benchmark the benchmark
     * @param questions its questions, in file order
     * @param bad       the run's bad input
     */
    protected LoadedBenchmark(Benchmark benchmark, List<BenchmarkQuestion> questions, BadInput bad) {
        this.benchmark = Objects.requireNonNull(benchmark, "benchmark");
        this.bad = Objects.requireNonNull(bad, "bad");
        java.util.Set<String> seen = new java.util.HashSet<>();
        java.util.List<BenchmarkQuestion> unique = new java.util.ArrayList<>();
        for (BenchmarkQuestion q : questions) {
            if (seen.add(q.key())) {
                unique.add(q);
            } else {
                bad.add("duplicate_question", q.key(), "question " + q.key() + " appears twice in the question file (the first is kept)");
            }
        }
        this.questions = List.copyOf(unique);
    }

    /** @return the benchmark */
    public Benchmark benchmark() {
        return benchmark;
    }

    /** @return the questions in file order */
    public List<BenchmarkQuestion> questions() {
        return questions;
    }

    /** @return the run's bad input */
    public BadInput bad() {
        return bad;
    }

    /**
     * Scores answers.
     *
     * @param answers answers by question key ({@link BenchmarkQuestion#key()})
     * @return the metrics (percentages, MME's raw scores), the content of {@code scores.json}'s {@code metrics}
     */
    public abstract ObjectNode score(Map<String, AnswerLine> answers);

    /**
     * @param metrics what {@link #score} returned
     * @return the number that goes in the suite table (NaN if none)
     */
    public abstract double headline(ObjectNode metrics);

    /** @return the headline metric's name in {@code metrics} */
    public abstract String headlineName();

    /**
     * Writes the files an evaluation server or judge takes (none by default).
     *
     * @param answers answers by question key
     * @param outDir  the benchmark's output folder
     * @param modelId the model id of the answer file
     * @return the files written
     */
    public List<Path> writeUploads(Map<String, AnswerLine> answers, Path outDir, String modelId) {
        return List.of();
    }

    /** @return what a user must do beyond this run (server submission, GPT judge), or null */
    public String note() {
        return null;
    }

    /** The answer to a question, or {@code ""} counted as missing (unless already counted for another reason). */
    protected String text(BenchmarkQuestion q, Map<String, AnswerLine> answers) {
        AnswerLine a = answers.get(q.key());
        if (a != null) {
            return a.text();
        }
        if (!bad.concerns(q.key())) {
            bad.add(BadInput.MISSING_ANSWER, q.key(), "question " + q.key() + " has no answer (scored as an empty answer)");
        }
        return "";
    }

    /** The recorded prompt of the answer, or the question's own. */
    protected static String recordedPrompt(BenchmarkQuestion q, Map<String, AnswerLine> answers) {
        AnswerLine a = answers.get(q.key());
        return a != null ? a.prompt() : q.recorded();
    }

    /**
     * @param answer an answer line
     * @return the key of the question it answers ({@link BenchmarkQuestion#key(com.fasterxml.jackson.databind.JsonNode)} of its id by default)
     */
    public String answerKey(AnswerLine answer) {
        return BenchmarkQuestion.key(answer.questionId());
    }

    /** A new metrics object. */
    protected static ObjectNode metrics() {
        return JsonNodeFactory.instance.objectNode();
    }

    /** Puts a number, {@code null} where it is undefined (0/0). */
    protected static void put(ObjectNode node, String key, double v) {
        if (Double.isFinite(v)) {
            node.put(key, v);
        } else {
            node.putNull(key);
        }
    }

    /** Reads a number back, NaN for null or absent. */
    protected static double get(ObjectNode node, String key) {
        return node.hasNonNull(key) ? node.get(key).asDouble() : Double.NaN;
    }
}
