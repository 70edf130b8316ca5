package io.github.vdep.train.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad answer files and question files are counted and named, and never shrink a denominator. */
class BadInputTest {

    @TempDir
    Path dir;

    @Test
    void malformedUnknownDuplicateAndMissingAnswersAreCountedAndNamed() throws Exception {
        List<String> lines = new ArrayList<>(Files.readAllLines(BenchmarkFixtures.resource("expected/vqav2/answers.jsonl")));
        String dropped = lines.remove(3);
        lines.add("{not json");
        lines.add("{\"question_id\": 999999, \"prompt\": \"?\", \"text\": \"yes\"}");
        lines.add(lines.get(0).replace("\"text\": \"", "\"text\": \"changed "));
        lines.add("{\"question_id\": 42001}");
        Path answers = dir.resolve("answers.jsonl");
        Files.write(answers, lines);

        BenchmarkResult r = BenchmarkEvaluation.run(new VqaV2Benchmark(), BenchmarkFixtures.suite().resolve("vqav2"), dir.resolve("out"), "m",
                set -> BenchmarkFiles.readAnswers(answers, set, set.bad()), false);
        JsonNode scores = new ObjectMapper().readTree(dir.resolve("out").resolve(BenchmarkEvaluation.SCORES).toFile());
        JsonNode by = scores.get("bad_input").get("by_reason");
        assertEquals(2, by.get(BadInput.MALFORMED_LINE).get("count").asInt(), by.toString());
        assertTrue(by.get(BadInput.MALFORMED_LINE).get("examples").toString().contains("answers.jsonl line 10"), by.toString());
        assertTrue(by.get(BadInput.MALFORMED_LINE).get("examples").toString().contains("no 'text' field"), by.toString());
        assertEquals(1, by.get(BadInput.UNKNOWN_QUESTION_ID).get("count").asInt());
        assertTrue(by.get(BadInput.UNKNOWN_QUESTION_ID).get("examples").get(0).asText().contains("999999"));
        assertEquals(1, by.get(BadInput.DUPLICATE_ANSWER).get("count").asInt());
        assertEquals(1, by.get(BadInput.MISSING_ANSWER).get("count").asInt());
        String missingId = new ObjectMapper().readTree(dropped).get("question_id").asText();
        assertTrue(by.get(BadInput.MISSING_ANSWER).get("examples").get(0).asText().contains(missingId));
        assertEquals(5, scores.get("bad_input").get("total").asInt());
        assertEquals(10, scores.get("metrics").get("count").asInt(), "the unanswered question stays in the denominator");
        assertEquals(9, scores.get("answered").asInt());
        assertEquals(5, r.badInput());
        // the upload file still has every question, the unanswered one with an empty answer
        JsonNode upload = new ObjectMapper().readTree(dir.resolve("out/answers_upload/val2014/m.json").toFile());
        assertEquals(10, upload.size());
        assertEquals("", upload.get(3).get("answer").asText());
    }

    @Test
    void theUnansweredQuestionScoresAsAnEmptyAnswer() throws Exception {
        BadInput bad = new BadInput();
        LoadedBenchmark set = new PopeBenchmark().load(BenchmarkFixtures.suite().resolve("pope"), bad);
        Map<String, AnswerLine> answers = BenchmarkFiles.readAnswers(BenchmarkFixtures.resource("expected/pope/answers.jsonl"), set, bad);
        answers.remove(set.questions().get(0).key());
        ObjectNode m = set.score(answers);
        JsonNode adv = m.get("adversarial");
        assertEquals(6, adv.get("TP").asInt() + adv.get("FP").asInt() + adv.get("TN").asInt() + adv.get("FN").asInt());
        assertEquals(1, bad.counts().get(BadInput.MISSING_ANSWER));
    }

    @Test
    void malformedQuestionLinesAreCountedAndAMissingFileIsNamed() throws Exception {
        Path pope = dir.resolve("pope");
        copy(BenchmarkFixtures.suite().resolve("pope"), pope);
        Files.writeString(pope.resolve(PopeBenchmark.QUESTIONS), "oops\n{\"image\": \"x.jpg\"}\n", java.nio.file.StandardOpenOption.APPEND);
        BadInput bad = new BadInput();
        LoadedBenchmark set = new PopeBenchmark().load(pope, bad);
        assertEquals(18, set.questions().size());
        assertEquals(2, bad.counts().get(BadInput.MALFORMED_LINE));
        assertTrue(bad.toJson().toString().contains("llava_pope_test.jsonl line 19"), bad.toJson().toString());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new GqaBenchmark().load(dir, new BadInput()));
        assertTrue(e.getMessage().contains("llava_gqa_"), e.getMessage());
        Files.delete(pope.resolve("coco/coco_pope_random.json"));
        BadInput bad2 = new BadInput();
        new PopeBenchmark().load(pope, bad2);
        assertEquals(6, bad2.counts().get(BadInput.MISSING_ANNOTATION), "the random split's questions are named as unlabelled");
    }

    static void copy(Path from, Path to) throws Exception {
        try (var s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }
}
