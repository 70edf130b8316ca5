package io.github.vdep.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.vdep.examples.demo.DemoDataset;
import io.github.vdep.examples.demo.DemoModel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vdep ablate} over {@code vdep train} options on a small generated data set. */
class AblateCommandTest {
    @TempDir
    Path tmp;

    @Test
    void ablateRunsEveryArmWithEverySeedAndPairsThem() throws Exception {
        DemoDataset.Files data = DemoDataset.generate(tmp.resolve("data"), 24, 4, DemoModel.IMAGE_SIZE, 3);
        Path init = DemoModel.create(tmp.resolve("init"), data.tokenizer(), data.vocabSize(), 3);
        Path out = tmp.resolve("ablate");
        int code = VdepCli.execute("ablate", "--arm", "base=--alpha 0 --mode-ratio 0:1", "--arm", "ratio=--alpha ratio:0.5 --image-loss mse_relative",
                "--seeds", "2", "--seed-base", "11", "--eval-data", data.test().toString(), "--limit", "4", "--max-new-tokens", "4", "--out", out.toString(),
                "--", "--model", init.toString(), "--data", data.train().toString(), "--images", data.dir().toString(), "--template", "vicuna_v1",
                "--stage", "finetune", "--lr", "3e-3", "--batch-size", "4", "--steps", "4");
        assertEquals(0, code);
        ObjectMapper json = new ObjectMapper();
        JsonNode r = json.readTree(out.resolve("results.json").toFile());
        assertEquals("base", r.get("baseline").asText());
        for (String arm : new String[] {"base", "ratio"}) {
            for (String seed : new String[] {"11", "12"}) {
                JsonNode scores = json.readTree(out.resolve(arm + "/seed-" + seed + "/eval/scores.json").toFile());
                assertEquals(scores.get("exact_match").asDouble(), r.at("/arms/" + arm + "/metrics/exact_match/per_seed/" + seed).asDouble(), 1e-12);
                assertEquals(4, Files.readAllLines(out.resolve(arm + "/seed-" + seed + "/metrics.jsonl")).size());
            }
        }
        assertEquals(2, r.at("/arms/ratio/difference_vs_base/token_accuracy/n").asInt());
        // the ratio arm's alpha moved after its first VDEP step
        assertTrue(Files.readAllLines(out.resolve("ratio/seed-11/metrics.jsonl")).get(2).contains("\"alpha\":")
                && !Files.readAllLines(out.resolve("ratio/seed-11/metrics.jsonl")).get(2).contains("\"alpha\":1.0,"));
        String report = Files.readString(out.resolve("report.md"));
        assertTrue(report.contains("| ratio | exact match |"), report);
        assertTrue(Files.size(out.resolve("differences.png")) > 1000);
    }

    @Test
    void optionsAblateSetsPerRunAreRefused() throws Exception {
        int code = VdepCli.execute("ablate", "--arm", "a=--alpha 0", "--arm", "b=--alpha 1", "--eval-data", tmp.resolve("x.json").toString(),
                "--out", tmp.resolve("o").toString(), "--", "--seed", "3");
        assertEquals(1, code);
    }
}
