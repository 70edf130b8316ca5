package io.github.vdep.train.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link EvalAiAnswerProcessor} and {@link SoftAccuracy} against the upstream Python on every fixture entry. */
class EvalAiAnswerProcessorTest {

    static JsonNode fixture() throws Exception {
        return new ObjectMapper().readTree(BenchmarkFixtures.resource("answer_processor.json").toFile());
    }

    @Test
    void everyFixturePairMatchesTheUpstreamProcessor() throws Exception {
        JsonNode pairs = fixture().get("processor");
        assertTrue(pairs.size() > 1500, "the corpus is large");
        List<String> wrong = new ArrayList<>();
        for (JsonNode p : pairs) {
            String got = EvalAiAnswerProcessor.process(p.get("in").asText());
            if (!got.equals(p.get("out").asText())) {
                wrong.add(p.get("in").asText() + " -> '" + got + "', upstream '" + p.get("out").asText() + "'");
            }
        }
        assertEquals(List.of(), wrong, wrong.size() + " of " + pairs.size() + " differ");
    }

    @Test
    void theIssuesExamplesKeepTheUpstreamDecisions() {
        assertEquals("it 's", EvalAiAnswerProcessor.process("it's"));
        assertEquals("5%", EvalAiAnswerProcessor.process("5%"));
        assertEquals("$5", EvalAiAnswerProcessor.process("$5"));
        assertEquals(".5", EvalAiAnswerProcessor.process(".5"));
        assertEquals("yes no", EvalAiAnswerProcessor.process("yes\u00a0no"));
        assertEquals("don't", EvalAiAnswerProcessor.process("dont"));
    }

    @Test
    void softAccuracyMatchesTheUpstreamEvaluator() throws Exception {
        for (JsonNode c : fixture().get("soft_accuracy")) {
            List<String> gts = new ArrayList<>();
            c.get("gts").forEach(g -> gts.add(g.asText()));
            assertEquals(c.get("score").asDouble(), SoftAccuracy.score(c.get("pred").asText(), gts), 0.0, c.toString());
        }
    }
}
