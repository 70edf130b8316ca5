package io.github.vdep.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.examples.demo.LossChart;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vdep demo --quick} end to end (with a shorter schedule to keep the suite fast). */
class DemoCommandTest {
    @TempDir
    Path out;

    @Test
    void quickDemoWritesTheReportAndVdepLowersTheImageLoss() throws Exception {
        int code = VdepCli.execute("demo", "--quick", "--steps", "40", "--scenes", "64", "--test-scenes", "8", "--out", out.toString());
        assertEquals(0, code);
        for (String f : List.of("report.md", "loss.png", "baseline/metrics.jsonl", "vdep/metrics.jsonl", "vdep/final/model.safetensors",
                "vdep/eval-questions/predictions.jsonl", "vdep/eval-captions/scores.json", "data/train.json", "model-init/config.json")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), "missing " + f);
        }
        byte[] png = Files.readAllBytes(out.resolve("loss.png"));
        assertTrue(png.length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "loss.png is a PNG");
        String report = Files.readString(out.resolve("report.md"));
        assertTrue(report.contains("frozen at random initialisation"), "the report says how the vision tower was obtained");
        assertTrue(report.contains("| question exact match |"), report);

        List<LossChart.Point> vdep = LossChart.read(out.resolve("vdep/metrics.jsonl"));
        double first = vdep.subList(0, 5).stream().mapToDouble(LossChart.Point::imageLoss).average().orElseThrow();
        double last = vdep.subList(vdep.size() - 5, vdep.size()).stream().mapToDouble(LossChart.Point::imageLoss).average().orElseThrow();
        assertTrue(last < 0.7 * first, "VDEP's image loss should fall: " + first + " -> " + last);
        // the baseline trains only on text: every step is LLaVA mode
        assertTrue(Files.readAllLines(out.resolve("baseline/metrics.jsonl")).stream().allMatch(l -> l.contains("\"mode\":\"llava\"")));
    }
}
