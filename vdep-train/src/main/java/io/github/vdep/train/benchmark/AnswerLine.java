package io.github.vdep.train.benchmark;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * One line of a LLaVA answer file ({@code question_id}, {@code prompt}, {@code text}, with
 * {@code answer_id}, {@code model_id} and {@code metadata} written around them).
 *
 * @param questionId the question's id as the question file spells it (number or string)
 * @param prompt     the question as LLaVA records it ({@code cur_prompt})
 * @param text       the model's answer, stripped
 */
public record AnswerLine(JsonNode questionId, String prompt, String text) {

    /** Rejects nulls. */
    public AnswerLine {
        Objects.requireNonNull(questionId, "questionId");
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(text, "text");
    }
}
