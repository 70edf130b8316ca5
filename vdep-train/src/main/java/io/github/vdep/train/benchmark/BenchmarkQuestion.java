package io.github.vdep.train.benchmark;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Objects;

/**
 * One question to put to the model.
 *
 * @param key         what answers are matched by (the id's text; TextVQA adds the question, its ids
 *                    being image ids)
 * @param questionId  the id as the benchmark spells it (written back unchanged)
 * @param prompt      the user message after the image, LLaVA-1.5's instruction included
 * @param recorded    what LLaVA records as the answer line's {@code prompt}
 * @param image       the image file, or null
 * @param imageBase64 the image as base64 (MMBench's TSV), or null
 */
public record BenchmarkQuestion(String key, JsonNode questionId, String prompt, String recorded, Path image, String imageBase64) {

    /** Rejects nulls where a value is required. */
    public BenchmarkQuestion {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(questionId, "questionId");
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(recorded, "recorded");
    }

    /** A question keyed by its id whose recorded prompt is the prompt itself (LLaVA's {@code model_vqa_loader}). */
    public static BenchmarkQuestion of(JsonNode questionId, String prompt, Path image) {
        return new BenchmarkQuestion(key(questionId), questionId, prompt, prompt, image, null);
    }

    /** @return whether an image goes with the question */
    public boolean hasImage() {
        return image != null || imageBase64 != null;
    }

    /** The lookup key of an id: its text, for numbers and strings alike ({@code 300} and {@code "300"} agree). */
    public static String key(JsonNode id) {
        if (id.isIntegralNumber()) {
            return id.bigIntegerValue().toString();
        }
        return id.asText();
    }
}
