package io.github.vdep.train.eval;

import io.github.vdep.train.benchmark.EvalAiAnswerProcessor;
import java.util.Objects;

/**
 * One evaluated record: a line of {@code predictions.jsonl}.
 *
 * @param id         the record's id
 * @param question   the question asked (empty for captions)
 * @param reference  the reference answer (the record's {@code gpt} turn)
 * @param prediction the generated answer
 * @param correct    whether prediction and reference match after LLaVA's answer processing
 *                   ({@link EvalAiAnswerProcessor#process})
 */
public record Prediction(String id, String question, String reference, String prediction, boolean correct) {

    /** Rejects nulls. */
    public Prediction {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(question, "question");
        Objects.requireNonNull(reference, "reference");
        Objects.requireNonNull(prediction, "prediction");
    }

    /**
     * A prediction scored by exact match.
     *
     * @param id         the record's id
     * @param question   the question
     * @param reference  the reference answer
     * @param prediction the generated answer
     * @return the scored prediction
     */
    public static Prediction scored(String id, String question, String reference, String prediction) {
        return new Prediction(id, question, reference, prediction, EvalAiAnswerProcessor.process(prediction).equals(EvalAiAnswerProcessor.process(reference)));
    }
}
