package io.github.vdep.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.examples.demo.DemoDataset;
import io.github.vdep.examples.demo.DemoModel;
import io.github.vdep.models.hf.LlavaCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vdep train} end to end on the demo's synthetic data and tiny model. */
class TrainCommandTest {
    @TempDir
    static Path dir;
    static DemoDataset.Files data;
    static Path init;

    @BeforeAll
    static void setUp() throws Exception {
        data = DemoDataset.generate(dir.resolve("data"), 48, 8, DemoModel.IMAGE_SIZE, 3);
        init = DemoModel.create(dir.resolve("init"), data.tokenizer(), data.vocabSize(), 3);
    }

    private static String[] args(Path out, String steps, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--model", init.toString(), "--data", data.train().toString(),
                "--images", data.dir().toString(), "--template", "vicuna_v1", "--stage", "finetune", "--lr", "3e-3",
                "--batch-size", "8", "--steps", steps, "--out", out.toString(), "--seed", "5", "--warmup-ratio", "0"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    private static List<JsonNode> metrics(Path out) throws Exception {
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            rows.add(new ObjectMapper().readTree(line));
        }
        return rows;
    }

    @Test
    void aTinyModelLearnsTheTinyDataSet() throws Exception {
        Path out = dir.resolve("learn");
        assertEquals(0, VdepCli.execute(args(out, "40", "--lr-schedule", "constant")));
        List<JsonNode> m = metrics(out);
        assertEquals(40, m.size());
        double first = (m.get(0).get("text_loss").asDouble() + m.get(1).get("text_loss").asDouble()) / 2;
        double last = (m.get(38).get("text_loss").asDouble() + m.get(39).get("text_loss").asDouble()) / 2;
        assertTrue(last < 0.5 * first, "text loss should fall well below its start: " + first + " -> " + last);
        assertEquals("vdep", m.get(0).get("mode").asText());
        assertEquals("llava", m.get(1).get("mode").asText());
        Path fin = out.resolve("final");
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "preprocessor_config.json")) {
            assertTrue(Files.isRegularFile(fin.resolve(f)), "final/ lacks " + f);
        }
        LlavaCheckpoint.load(fin);
    }

    @Test
    void killAndResumeMatchesAnUninterruptedRun() throws Exception {
        // A constant schedule makes a 3-step run exactly the first half of a 6-step one, so stopping
        // after 3 steps stands for a run killed after its step-3 checkpoint (TrainerBehaviourTest
        // covers a crash in the middle of a cosine schedule).
        Path straight = dir.resolve("straight");
        assertEquals(0, VdepCli.execute(args(straight, "6", "--lr-schedule", "constant")));
        Path resumed = dir.resolve("resumed");
        assertEquals(0, VdepCli.execute(args(resumed, "3", "--lr-schedule", "constant")));
        assertEquals(0, VdepCli.execute(args(resumed, "6", "--lr-schedule", "constant", "--resume")));
        Map<String, Parameter> a = LlavaCheckpoint.load(straight.resolve("final")).model().namedParameters();
        LlavaModel b = LlavaCheckpoint.load(resumed.resolve("final")).model();
        for (Map.Entry<String, Parameter> e : a.entrySet()) {
            double diff = e.getValue().value().sub(b.namedParameters().get(e.getKey()).value()).amaxNumber().doubleValue();
            assertEquals(0.0, diff, 0.0, e.getKey());
        }
        List<JsonNode> ma = metrics(straight);
        List<JsonNode> mb = metrics(resumed);
        assertEquals(6, mb.size());
        for (int i = 0; i < 6; i++) {
            assertEquals(ma.get(i).get("loss").asDouble(), mb.get(i).get("loss").asDouble(), 0.0, "loss of step " + (i + 1));
        }
    }

    @Test
    void badInputGivesOneClearLineAndExitCodeOne() throws Exception {
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "[\n{\"id\": \"x\", \"conversations\": [\n");
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream saved = System.err;
        int code;
        try {
            System.setErr(new java.io.PrintStream(err, true));
            code = VdepCli.execute("train", "--model", init.toString(), "--data", bad.toString(), "--out", dir.resolve("o").toString(), "--steps", "1");
        } finally {
            System.setErr(saved);
        }
        assertEquals(1, code);
        String msg = err.toString();
        assertTrue(msg.contains("bad.json") && msg.contains("line"), msg);
        assertTrue(!msg.contains("\tat "), "no stack trace: " + msg);
    }

    @Test
    void badMemoryOptionsGiveOneLineNamingTheOption() throws Exception {
        String[][] cases = {{"--recompute", "everything"}, {"--lm-head-chunk", "-1"}};
        for (String[] c : cases) {
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            java.io.PrintStream saved = System.err;
            int code;
            try {
                System.setErr(new java.io.PrintStream(err, true));
                code = VdepCli.execute(args(dir.resolve("bad-" + c[0].substring(2)), "1", c[0], c[1]));
            } finally {
                System.setErr(saved);
            }
            String msg = err.toString();
            assertEquals(1, code, msg);
            assertTrue(msg.contains(c[0]) && msg.contains(c[1]), msg);
            assertTrue(!msg.contains("\tat "), "no stack trace: " + msg);
        }
    }

    @Test
    void recomputeLayersTrainsTheSameAndMetricsReportPeakMemory() throws Exception {
        Path plain = dir.resolve("recompute-none");
        Path layers = dir.resolve("recompute-layers");
        assertEquals(0, VdepCli.execute(args(plain, "3")));
        assertEquals(0, VdepCli.execute(args(layers, "3", "--recompute", "layers", "--lm-head-chunk", "16")));
        List<JsonNode> a = metrics(plain);
        List<JsonNode> b = metrics(layers);
        assertEquals(3, b.size());
        for (int i = 0; i < 3; i++) {
            // recomputation is bit-identical; the 16-row LM-head chunks change float32 rounding only
            assertEquals(a.get(i).get("loss").asDouble(), b.get(i).get("loss").asDouble(), 1e-5 * a.get(i).get("loss").asDouble());
            if (System.getProperty("os.name").startsWith("Linux")) {
                assertEquals("process_rss", b.get(i).get("memory_measure").asText());
                assertTrue(b.get(i).get("peak_memory_bytes").asLong() > 32L << 20, b.get(i).toString());
            }
        }
    }
}
