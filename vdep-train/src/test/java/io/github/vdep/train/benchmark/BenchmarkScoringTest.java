package io.github.vdep.train.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each benchmark's scores of the fixture predictions on its synthetic set equal what the upstream
 * scoring scripts compute on the same predictions ({@code expected/<name>/reference.json}, written
 * by {@code scripts/eval-fixtures/make_eval_fixtures.py}), and its upload file equals the upstream's.
 */
class BenchmarkScoringTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path out;

    @ParameterizedTest
    @ValueSource(strings = {"vqav2", "gqa", "vizwiz", "scienceqa", "textvqa", "pope", "mme", "mmbench", "seed", "realworldqa"})
    void scoresEqualTheUpstreamScripts(String name) throws Exception {
        Benchmark b = Benchmarks.byName(name);
        BadInput bad = new BadInput();
        LoadedBenchmark loaded = b.load(BenchmarkFixtures.suite().resolve(b.folder()), bad);
        Path answersFile = BenchmarkFixtures.resource("expected/" + name + "/answers.jsonl");
        Map<String, AnswerLine> answers = BenchmarkFiles.readAnswers(answersFile, loaded, bad);
        assertEquals(loaded.questions().size(), answers.size(), "every question has its answer");
        ObjectNode metrics = loaded.score(answers);
        JsonNode reference = JSON.readTree(BenchmarkFixtures.resource("expected/" + name + "/reference.json").toFile());
        List<String> diffs = new ArrayList<>();
        compare("", reference.get("metrics"), metrics, diffs);
        assertEquals(List.of(), diffs, name + ": " + metrics);
        assertEquals(0, bad.total(), "the synthetic set is clean: " + bad.toJson());
        assertTrue(Double.isFinite(loaded.headline(metrics)));

        if (reference.has("upload")) {
            List<Path> files = loaded.writeUploads(answers, out, "fixture-model");
            JsonNode written = files.get(0).toString().endsWith(".jsonl") ? jsonl(files.get(0)) : JSON.readTree(files.get(0).toFile());
            assertEquals(reference.get("upload"), written, name + " upload file");
        }
    }

    private static JsonNode jsonl(Path file) throws Exception {
        com.fasterxml.jackson.databind.node.ArrayNode a = JSON.createArrayNode();
        for (String line : Files.readAllLines(file)) {
            a.add(JSON.readTree(line));
        }
        return a;
    }

    /** Every key of the reference is in the result with the same value (numbers to 1e-9 relative). */
    static void compare(String path, JsonNode expected, JsonNode actual, List<String> diffs) {
        if (actual == null) {
            diffs.add(path + ": missing");
            return;
        }
        if (expected.isObject()) {
            TreeSet<String> keys = new TreeSet<>();
            for (Iterator<String> it = expected.fieldNames(); it.hasNext(); ) {
                keys.add(it.next());
            }
            for (String k : keys) {
                compare(path + "/" + k, expected.get(k), actual.get(k), diffs);
            }
        } else if (expected.isNumber()) {
            double e = expected.asDouble();
            double a = actual.asDouble();
            if (!actual.isNumber() || Math.abs(e - a) > 1e-9 * Math.max(1, Math.abs(e))) {
                diffs.add(path + ": expected " + e + ", got " + actual);
            }
        } else if (!expected.equals(actual)) {
            diffs.add(path + ": expected " + expected + ", got " + actual);
        }
    }
}
