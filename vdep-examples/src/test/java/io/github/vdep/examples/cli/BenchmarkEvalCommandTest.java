package io.github.vdep.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.models.clip.ClipVisionConfig;
import io.github.vdep.models.hf.LlavaCheckpoint;
import io.github.vdep.models.llama.LlamaConfig;
import io.github.vdep.models.llava.LlavaConfig;
import io.github.vdep.models.llava.LlavaModels;
import io.github.vdep.train.data.VicunaV1Template;
import io.github.vdep.train.data.WordLevelTokenizerBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * {@code vdep eval --suite} end to end on the synthetic benchmark sets (LLaVA's layout, made by
 * {@code scripts/eval-fixtures/make_eval_fixtures.py}) with a tiny random model, and
 * {@code vdep eval --benchmark --answers} scoring an existing answer file.
 */
class BenchmarkEvalCommandTest {
    private static final Path SUITE = Path.of("..", "vdep-train", "src", "test", "resources", "eval", "suite");
    private static final Path EXPECTED = Path.of("..", "vdep-train", "src", "test", "resources", "eval", "expected");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path model;
    static Path suite;

    @BeforeAll
    static void setUp() throws Exception {
        model = Files.createDirectories(dir.resolve("tiny-llava"));
        WordLevelTokenizerBuilder words = new WordLevelTokenizerBuilder()
                .addText(VicunaV1Template.SYSTEM + " USER: ASSISTANT: yes no A B C D the answer is a red cat 2 . ,")
                .addWord("\n");
        words.write(model.resolve("tokenizer.json"));
        LlavaConfig config = LlavaConfig.of(LlamaConfig.of(words.vocabulary().size(), 16, 32, 2, 4, 2, 512),
                ClipVisionConfig.of(16, 32, 2, 2, 56, 14), WordLevelTokenizerBuilder.SPECIAL_TOKENS.indexOf("<image>"));
        LlavaModel m = LlavaModels.random(config, DataType.FLOAT, 5);
        LlavaCheckpoint.save(m, config, model);
        suite = dir.resolve("eval");
        try (Stream<Path> s = Files.walk(SUITE)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path t = suite.resolve(SUITE.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
        // bad input the run must count and name: a missing image (used by 3 questions per POPE category)
        Files.delete(suite.resolve("pope/val2014/COCO_val2014_000000310196.jpg"));
    }

    private static String[] run(int expectedExit, String... args) {
        return CapturedRun.expect(expectedExit, args);
    }

    @Test
    void suiteRunsEveryBenchmarkEndToEnd() throws Exception {
        Path out = dir.resolve("suite-out");
        String stdout = run(0, "eval", "--model", model.toString(), "--suite", suite.toString(), "--max-new-tokens", "3", "--out", out.toString())[0];
        List<String> columns = List.of("VQAv2", "GQA", "VizWiz", "SQA-IMG", "TextVQA", "POPE", "MME", "MMBench", "SEED", "RealWorldQA",
                "LLaVA-Bench", "MM-Vet");
        String header = stdout.lines().filter(l -> l.contains("| model")).findFirst().orElseThrow();
        int at = -1;
        for (String c : columns) {
            int i = header.indexOf("| " + c + " ");
            assertTrue(i > at, c + " in the paper's column order: " + header);
            at = i;
        }
        String published = stdout.lines().filter(l -> l.contains("LLaVA-1.5-7B (published)")).findFirst().orElseThrow();
        for (String v : List.of("78.5", "62.0", "50.0", "66.8", "58.2", "85.9", "1510.7", "64.3", "58.6")) {
            assertTrue(published.contains(" " + v + " "), v + " in " + published);
        }
        assertTrue(stdout.contains("pope: 9 bad input (missing_image 9)"), stdout);

        String[] folders = {"vqav2", "gqa", "vizwiz", "scienceqa", "textvqa", "pope", "MME", "mmbench", "seed_bench", "realworldqa",
            "llava-bench-in-the-wild", "mm-vet"};
        for (String f : folders) {
            JsonNode scores = JSON.readTree(out.resolve(f).resolve("scores.json").toFile());
            assertTrue(scores.get("questions").asInt() > 0, f);
            List<String> lines = Files.readAllLines(out.resolve(f).resolve("answers/tiny-llava.jsonl"));
            assertEquals(scores.get("answered").asInt(), lines.size(), f);
            JsonNode first = JSON.readTree(lines.get(0));
            for (String field : List.of("question_id", "prompt", "text", "answer_id", "model_id", "metadata")) {
                assertTrue(first.has(field), f + " answer line has " + field + ": " + first);
            }
            assertEquals("tiny-llava", first.get("model_id").asText());
            if (!f.equals("pope")) {
                assertEquals(0, scores.at("/bad_input/total").asInt(), f + " reads its layout without bad input: " + scores.get("bad_input"));
                assertEquals(scores.get("questions").asInt(), scores.get("answered").asInt(), f);
            }
        }
        JsonNode pope = JSON.readTree(out.resolve("pope/scores.json").toFile());
        assertEquals(9, pope.at("/bad_input/by_reason/missing_image/count").asInt(), pope.toString());
        assertTrue(pope.at("/bad_input/by_reason/missing_image/examples/0").asText().contains("COCO_val2014_000000310196.jpg"));
        assertEquals(9, pope.get("answered").asInt());
        for (String category : List.of("adversarial", "popular", "random")) {
            JsonNode c = pope.at("/metrics/" + category);
            assertEquals(6, c.get("TP").asInt() + c.get("FP").asInt() + c.get("TN").asInt() + c.get("FN").asInt(),
                    "unanswered questions stay in " + category + "'s denominator");
        }
        JsonNode sqa = JSON.readTree(out.resolve("scienceqa/scores.json").toFile());
        assertTrue(Files.readString(out.resolve("scienceqa/answers/tiny-llava.jsonl")).contains("Answer with the option's letter from the given choices directly."));
        assertEquals(11, sqa.at("/metrics/count").asInt());
        assertTrue(Files.isRegularFile(out.resolve("vqav2/answers_upload/val2014/tiny-llava.json")));
        assertTrue(Files.isRegularFile(out.resolve("vizwiz/answers_upload/tiny-llava.json")));
        assertTrue(Files.isRegularFile(out.resolve("seed_bench/answers_upload/tiny-llava.jsonl")));
        assertTrue(Files.isRegularFile(out.resolve("gqa/testdev_balanced_predictions.json")));
        assertTrue(Files.isRegularFile(out.resolve("mm-vet/results/tiny-llava.json")));
        try (ZipFile xlsx = new ZipFile(out.resolve("mmbench/answers_upload/mmbench_dev_20230712/tiny-llava.xlsx").toFile())) {
            String sheet = new String(xlsx.getInputStream(xlsx.getEntry("xl/worksheets/sheet1.xml")).readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(sheet.contains(">prediction<") && sheet.contains(">What colour is the sky?<"), sheet);
        }
        assertTrue(JSON.readTree(out.resolve("llava-bench-in-the-wild/scores.json").toFile()).get("note").asText().contains("GPT"));
        JsonNode summary = JSON.readTree(out.resolve("suite.json").toFile());
        assertEquals(12, summary.size() - 1);
    }

    @Test
    void batchedDecodingGivesTheAnswersOfOneAtATime() throws Exception {
        for (String bench : List.of("scienceqa")) {
            Path one = dir.resolve("one-" + bench);
            Path five = dir.resolve("five-" + bench);
            run(0, "eval", "--model", model.toString(), "--benchmark", bench, "--root", suite.toString(), "--max-new-tokens", "4",
                    "--batch-size", "1", "--out", one.toString());
            run(0, "eval", "--model", model.toString(), "--benchmark", bench, "--root", suite.toString(), "--max-new-tokens", "4",
                    "--batch-size", "5", "--out", five.toString());
            List<String> a = Files.readAllLines(one.resolve("answers/tiny-llava.jsonl"));
            List<String> b = Files.readAllLines(five.resolve("answers/tiny-llava.jsonl"));
            assertEquals(a, b, bench + ": prompts of different lengths (and ScienceQA's text-only ones) batched together;"
                    + " the numbers are checked by BatchedGreedyGeneratorTest, this checks the plumbing");
        }
    }

    @Test
    void benchmarkScoresAnExistingAnswerFileWithoutAModel() throws Exception {
        Path out = dir.resolve("gqa-out");
        String stdout = run(0, "eval", "--benchmark", "gqa", "--root", SUITE.toString(), "--answers",
                EXPECTED.resolve("gqa/answers.jsonl").toString(), "--out", out.toString())[0];
        JsonNode scores = JSON.readTree(out.resolve("scores.json").toFile());
        JsonNode reference = JSON.readTree(EXPECTED.resolve("gqa/reference.json").toFile());
        assertEquals(reference.at("/metrics/accuracy").asDouble(), scores.at("/headline/value").asDouble(), 1e-12);
        assertTrue(stdout.contains("87.5"), stdout);
        assertFalse(Files.exists(out.resolve("answers")), "an existing answer file is not rewritten");
    }

    @Test
    void badOptionsAreOneLineErrors() {
        String[] unknown = run(1, "eval", "--benchmark", "vqa3", "--answers", "x.jsonl");
        assertTrue(unknown[1].contains("unknown benchmark 'vqa3'") && unknown[1].contains("mmbench"), unknown[1]);
        assertFalse(unknown[1].contains("\tat "), unknown[1]);
        String[] noModel = run(1, "eval", "--suite", suite.toString());
        assertTrue(noModel[1].contains("--model"), noModel[1]);
        String[] empty = run(1, "eval", "--model", model.toString(), "--suite", dir.resolve("tiny-llava").toString());
        assertTrue(empty[1].contains("no benchmark found"), empty[1]);
        String[] notThere = run(1, "eval", "--benchmark", "pope", "--root", dir.toString(), "--answers", "a.jsonl");
        assertTrue(notThere[1].contains("no pope question file"), notThere[1]);
    }
}
