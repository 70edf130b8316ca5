package io.github.vdep.train.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exact-match accuracy on a hand-made prediction set and the files written for it. */
class EvalScoringTest {
    @TempDir
    Path dir;

    private static final List<Prediction> PREDICTIONS = List.of(
            Prediction.scored("1", "How many dogs?", "2", "Two."),          // number word, period
            Prediction.scored("2", "What colour?", "red", "The red one"),  // extra word: wrong
            Prediction.scored("3", "Is it day?", "yes", "Yes"),            // case
            Prediction.scored("4", "What is it?", "a t-shirt", "T shirt"), // article, hyphen
            Prediction.scored("5", "Where?", "on the table", "table"));    // missing word: wrong

    @Test
    void exactMatchAccuracyOfAHandMadeSet() {
        assertEquals(List.of(true, false, true, true, false), PREDICTIONS.stream().map(Prediction::correct).toList());
        assertEquals(0.6, EvalReport.accuracy(PREDICTIONS), 1e-12);
        EvalScores scores = new EvalScores("vicuna_v1", 6, 5, Map.of("missing image file", 1), 3, new TokenStats(10, 4, 20.0));
        assertEquals(0.6, scores.exactMatch(), 1e-12);
        assertEquals(0.4, scores.tokenAccuracy(), 1e-12);
        assertEquals(Math.exp(2.0), scores.perplexity(), 1e-9);
        assertEquals(1, scores.skippedCount());
    }

    @Test
    void writesPredictionsAndScores() throws Exception {
        EvalScores scores = new EvalScores("vicuna_v1", 6, 5, Map.of("missing image file", 1), 3, new TokenStats(10, 4, 20.0));
        EvalWriter.write(new EvalReport(scores, PREDICTIONS), dir.resolve("out"));
        ObjectMapper json = new ObjectMapper();
        List<String> lines = Files.readAllLines(dir.resolve("out/predictions.jsonl"));
        assertEquals(5, lines.size());
        JsonNode first = json.readTree(lines.get(0));
        assertEquals(List.of("id", "question", "reference", "prediction", "correct"), iterable(first));
        assertEquals("Two.", first.get("prediction").asText());
        assertTrue(first.get("correct").asBoolean());
        assertFalse(json.readTree(lines.get(1)).get("correct").asBoolean());
        JsonNode s = json.readTree(dir.resolve("out/scores.json").toFile());
        assertEquals(0.6, s.get("exact_match").asDouble(), 1e-12);
        assertEquals(Math.exp(2.0), s.get("perplexity").asDouble(), 1e-9);
        assertEquals(1, s.get("skipped_by_reason").get("missing image file").asInt());
        assertFalse(Files.exists(dir.resolve("out/scores.json.tmp")));

        // nothing evaluated: undefined scores are null, not NaN
        EvalWriter.write(new EvalReport(new EvalScores("plain", 0, 0, Map.of(), 0, TokenStats.EMPTY), List.of()), dir.resolve("empty"));
        JsonNode e = json.readTree(dir.resolve("empty/scores.json").toFile());
        assertTrue(e.get("exact_match").isNull());
        assertTrue(e.get("perplexity").isNull());
    }

    private static List<String> iterable(JsonNode node) {
        List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
