package io.github.vdep.train.benchmark;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bad input met while evaluating a benchmark, counted by reason and named (the first
 * {@value #EXAMPLES} of each reason are kept verbatim for {@code scores.json}). A question with bad
 * input stays in its metric's denominator: it is scored as an empty answer.
 */
public final class BadInput {

    /** The question's image file does not exist. */
    public static final String MISSING_IMAGE = "missing_image";
    /** The question's image cannot be decoded. */
    public static final String UNDECODABLE_IMAGE = "undecodable_image";
    /** The prompt does not fit the model's context. */
    public static final String PROMPT_TOO_LONG = "prompt_too_long";
    /** A line of a question, annotation or answer file is not valid JSON or lacks a field. */
    public static final String MALFORMED_LINE = "malformed_line";
    /** An answer names a question id the benchmark does not have. */
    public static final String UNKNOWN_QUESTION_ID = "unknown_question_id";
    /** A second answer for the same question (the first is kept). */
    public static final String DUPLICATE_ANSWER = "duplicate_answer";
    /** A question has no answer. */
    public static final String MISSING_ANSWER = "missing_answer";
    /** A question has no annotation (reference answer) to score it against. */
    public static final String MISSING_ANNOTATION = "missing_annotation";

    /** Examples kept per reason. */
    public static final int EXAMPLES = 20;

    private static final Logger LOG = LoggerFactory.getLogger(BadInput.class);

    private final Map<String, Integer> counts = new TreeMap<>();
    private final Map<String, List<String>> examples = new TreeMap<>();
    private final Set<String> questions = new HashSet<>();

    /**
     * Counts one piece of bad input.
     *
     * @param reason   one of the constants (or another short snake_case label)
     * @param question the question key it concerns, or null (e.g. a malformed line)
     * @param detail   what and where, for a person (file, line, id)
     */
    public synchronized void add(String reason, String question, String detail) {
        counts.merge(reason, 1, Integer::sum);
        List<String> list = examples.computeIfAbsent(reason, r -> new ArrayList<>());
        if (list.size() < EXAMPLES) {
            list.add(detail);
        }
        if (question != null) {
            questions.add(question);
        }
        LOG.warn("{}: {}", reason, detail);
    }

    /** @return whether bad input was already counted for this question */
    public synchronized boolean concerns(String question) {
        return questions.contains(question);
    }

    /** @return the count per reason */
    public synchronized Map<String, Integer> counts() {
        return Map.copyOf(counts);
    }

    /** @return the total count */
    public synchronized int total() {
        return counts.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** @return {@code {"total": n, "by_reason": {reason: {"count": k, "examples": [...]}}}} */
    public synchronized ObjectNode toJson() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("total", total());
        ObjectNode by = root.putObject("by_reason");
        counts.forEach((reason, n) -> {
            ObjectNode r = by.putObject(reason);
            r.put("count", n);
            examples.get(reason).forEach(r.putArray("examples")::add);
        });
        return root;
    }
}
