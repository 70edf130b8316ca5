package io.github.vdep.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.examples.demo.DemoDataset;
import io.github.vdep.examples.demo.DemoModel;
import io.github.vdep.models.hf.HalfPrecision;
import io.github.vdep.models.hf.LlavaCheckpoint;
import io.github.vdep.models.hf.SafeTensorDtype;
import io.github.vdep.models.hf.ShardedSafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vdep train --save-dtype/--max-shard-size} (final/ as save_pretrained writes it) and {@code --precision}. */
class TrainSaveAndPrecisionTest {
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    static DemoDataset.Files data;
    static Path init;

    @BeforeAll
    static void setUp() throws Exception {
        data = DemoDataset.generate(dir.resolve("data"), 16, 4, DemoModel.IMAGE_SIZE, 3);
        init = DemoModel.create(dir.resolve("init"), data.tokenizer(), data.vocabSize(), 3);
    }

    private static String[] args(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--model", init.toString(), "--data", data.train().toString(),
                "--images", data.dir().toString(), "--template", "vicuna_v1", "--stage", "finetune", "--batch-size", "4", "--steps", "2",
                "--out", out.toString(), "--seed", "5", "--lr-schedule", "constant", "--warmup-ratio", "0"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void bf16FinalModelInShardsReloadsAsTheRoundedFp32OneAndMetricsNameThePrecision() throws Exception {
        long fp32Bytes = Files.size(init.resolve("model.safetensors"));
        Path fp32 = dir.resolve("fp32");
        CapturedRun.expect(0, args(fp32));
        Path bf16 = dir.resolve("bf16");
        // about a sixth of the FP32 weights per shard: the BF16 weights (half as many bytes) make three or more shards
        CapturedRun.expect(0, args(bf16, "--save-dtype", "bf16", "--max-shard-size", Long.toString(fp32Bytes / 6)));

        Path fin = bf16.resolve("final");
        List<String> files;
        try (Stream<Path> s = Files.list(fin)) {
            files = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("model")).sorted().toList();
        }
        assertTrue(files.size() >= 4 && files.contains(ShardedSafeTensors.INDEX_FILE_NAME), files.toString());
        assertEquals("bfloat16", JSON.readTree(fin.resolve("config.json").toFile()).get("torch_dtype").asText());
        try (ShardedSafeTensors s = ShardedSafeTensors.open(fin)) {
            for (String name : s.names()) {
                assertEquals(SafeTensorDtype.BF16, s.info(name).dtype(), name);
            }
        }
        // the same seed and steps: the BF16 save is the FP32 run's weights rounded to nearest even
        Map<String, Parameter> expected = LlavaCheckpoint.load(fp32.resolve("final")).model().namedParameters();
        Map<String, Parameter> got = LlavaCheckpoint.load(fin).model().namedParameters();
        assertEquals(expected.keySet(), got.keySet());
        for (Map.Entry<String, Parameter> e : expected.entrySet()) {
            float[] a = e.getValue().value().dup('c').data().asFloat();
            float[] b = got.get(e.getKey()).value().dup('c').data().asFloat();
            for (int i = 0; i < a.length; i++) {
                assertEquals(HalfPrecision.bf16BitsToFloat(HalfPrecision.floatToBf16Bits(a[i])), b[i], 0f, e.getKey() + "[" + i + "]");
            }
        }
        for (String line : Files.readAllLines(bf16.resolve("metrics.jsonl"))) {
            assertEquals("fp32", JSON.readTree(line).get("precision").asText(), line);
        }
        JsonNode fp32Config = JSON.readTree(fp32.resolve("final").resolve("config.json").toFile());
        assertEquals("float32", fp32Config.get("torch_dtype").asText());
        assertTrue(Files.isRegularFile(fp32.resolve("final").resolve("model.safetensors")), "5GB default: one file");
    }

    @Test
    void badSaveOptionsAndBf16PrecisionFailInOneLineBeforeTraining() {
        Object[][] cases = {
            {new String[] {"--save-dtype", "int8"}, 1, "vdep train: error: --save-dtype 'int8' is not fp32 or bf16"},
            {new String[] {"--max-shard-size", "5TB"}, 1,
                "vdep train: error: --max-shard-size: '5TB' is not a size such as 5GB, 500MB, 2GiB or a number of bytes"},
            {new String[] {"--precision", "bf16"}, 2, "vdep train: error: --precision bf16 is not supported on the CPU"},
            {new String[] {"--precision", "fp8"}, 2, "--precision 'fp8' is not fp32 or bf16"},
        };
        for (Object[] c : cases) {
            Path out = dir.resolve("refused");
            CapturedRun r = CapturedRun.of(args(out, (String[]) c[0]));
            assertEquals((int) c[1], r.code(), r.err());
            assertTrue(r.err().contains((String) c[2]), r.err());
            assertTrue(!r.err().contains("\tat "), r.err());
            assertTrue(!Files.exists(out.resolve("metrics.jsonl")), "refused before training");
        }
    }

    @Test
    void bf16IsRefusedByEvalGenerateAndBench() {
        String[][] commands = {
            {"generate", "--model", init.toString(), "--prompt", "hi", "--precision", "bf16"},
            {"eval", "--model", init.toString(), "--data", data.train().toString(), "--out", dir.resolve("e").toString(), "--precision", "bf16"},
            {"bench", "--steps", "1", "--precision", "bf16"},
        };
        for (String[] c : commands) {
            CapturedRun r = CapturedRun.of(c);
            assertEquals(2, r.code(), c[0] + ": " + r.err());
            assertEquals(List.of("vdep " + c[0] + ": error: --precision bf16 is not supported on the CPU: ND4J's BF16 matrix products are far"
                    + " slower than FP32 (docs/performance.md); use --precision fp32"), r.err().lines().filter(l -> l.startsWith("vdep")).toList());
        }
    }
}
