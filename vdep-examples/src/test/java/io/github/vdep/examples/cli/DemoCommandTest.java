package io.github.vdep.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.vdep.examples.demo.LossChart;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vdep demo --quick} end to end with two paired seeds (and a shorter schedule to keep the suite fast). */
class DemoCommandTest {
    @TempDir
    Path out;

    @Test
    void quickDemoWritesPairedResultsAndTheReport() throws Exception {
        int code = VdepCli.execute("demo", "--quick", "--steps", "24", "--scenes", "48", "--test-scenes", "6", "--seeds", "2", "--seed-base", "5",
                "--vision-steps", "10", "--out", out.toString());
        assertEquals(0, code);
        for (String f : List.of("report.md", "loss.png", "alpha.png", "differences.png", "results.json", "baseline/seed-5/metrics.jsonl",
                "baseline/seed-6/metrics.jsonl", "vdep/seed-5/metrics.jsonl", "vdep/seed-6/final/model.safetensors",
                "vdep/seed-6/eval-questions/predictions.jsonl", "data/test-scenes.json", "data/train.json", "model-init/seed-6/config.json")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), "missing " + f);
        }
        byte[] png = Files.readAllBytes(out.resolve("differences.png"));
        assertTrue(png.length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "differences.png is a PNG");
        String report = Files.readString(out.resolve("report.md"));
        assertTrue(report.startsWith("# vdep demo report\n\n## Paired differences against baseline"), report);
        assertTrue(report.contains("| vdep | question exact match, all types |"), report);
        assertTrue(report.contains("**pretrained, then frozen**"), "the report says how the vision tower was obtained");
        for (String metric : List.of("accuracy_count", "accuracy_colour", "accuracy_position", "accuracy_presence", "presence_yes_ratio", "probe_layer0",
                "probe_layer2", "attention_image_layer1", "attention_objects_layer2")) {
            assertTrue(r(out).at("/arms/vdep/difference_vs_baseline/" + metric + "/n").asInt() == 2, metric);
        }

        // results.json: per seed values that are the runs' own scores, and their paired differences
        ObjectMapper json = new ObjectMapper();
        JsonNode r = json.readTree(out.resolve("results.json").toFile());
        double[] diff = new double[2];
        for (int i = 0; i < 2; i++) {
            String seed = Integer.toString(5 + i);
            double v = json.readTree(out.resolve("vdep/seed-" + seed + "/eval-questions/scores.json").toFile()).get("exact_match").asDouble();
            double b = json.readTree(out.resolve("baseline/seed-" + seed + "/eval-questions/scores.json").toFile()).get("exact_match").asDouble();
            assertEquals(v, r.at("/arms/vdep/metrics/question_exact_match/per_seed/" + seed).asDouble(), 1e-12);
            diff[i] = v - b;
        }
        JsonNode d = r.at("/arms/vdep/difference_vs_baseline/question_exact_match");
        assertEquals(2, d.get("n").asInt());
        assertEquals((diff[0] + diff[1]) / 2, d.get("mean").asDouble(), 1e-12);
        // t(0.975, 1) = 12.706: the interval is wide with two seeds
        double half = 12.706204736174698 * Math.abs(diff[0] - diff[1]) / Math.sqrt(2) / Math.sqrt(2);
        assertEquals(d.get("mean").asDouble() + half, d.get("ci95_high").asDouble(), 1e-9);

        // every run keeps the same pretrained vision tower (frozen), and the two seeds start from different projectors and LLMs
        try (var a = io.github.vdep.models.hf.SafeTensorsFile.open(out.resolve("vdep/seed-5/final/model.safetensors"));
                var b = io.github.vdep.models.hf.SafeTensorsFile.open(out.resolve("baseline/seed-6/final/model.safetensors"))) {
            int tower = 0;
            for (String name : a.names()) {
                if (name.startsWith("vision_tower.")) {
                    assertEquals(0.0, a.load(name).sub(b.load(name)).amaxNumber().doubleValue(), 0.0, name);
                    tower++;
                }
            }
            assertTrue(tower > 10, "vision tower tensors compared: " + tower);
        }
        assertTrue(!java.util.Arrays.equals(Files.readAllBytes(out.resolve("model-init/seed-5/model.safetensors")),
                Files.readAllBytes(out.resolve("model-init/seed-6/model.safetensors"))));
        List<LossChart.Point> vdep = LossChart.read(out.resolve("vdep/seed-5/metrics.jsonl"));
        double first = vdep.subList(0, 5).stream().mapToDouble(LossChart.Point::imageLoss).average().orElseThrow();
        double last = vdep.subList(vdep.size() - 5, vdep.size()).stream().mapToDouble(LossChart.Point::imageLoss).average().orElseThrow();
        assertTrue(last < 0.7 * first, "VDEP's image loss should fall: " + first + " -> " + last);
        // the baseline trains only on text: every step is LLaVA mode
        assertTrue(Files.readAllLines(out.resolve("baseline/seed-6/metrics.jsonl")).stream().allMatch(l -> l.contains("\"mode\":\"llava\"")));
    }

    private static JsonNode r(Path out) throws java.io.IOException {
        return new ObjectMapper().readTree(out.resolve("results.json").toFile());
    }

    @Test
    void unknownArmsAreRefusedWithOneLine() {
        int code = VdepCli.execute("demo", "--quick", "--arms", "baseline,nonsense", "--out", out.toString());
        assertEquals(1, code);
    }
}
