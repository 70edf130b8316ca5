package io.github.vdep.models.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.models.llava.LlavaModels;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link LlavaCheckpoint#save(LlavaModel, io.github.vdep.models.llava.LlavaConfig, Path, SaveOptions)}
 * as Hugging Face's {@code save_pretrained}: BF16 and FP32, one file or shards with their index,
 * Hugging Face's shard split and size syntax, and PyTorch's float32 to bfloat16 rounding.
 */
class SavePretrainedTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static LlavaModel model(long seed) {
        return LlavaModels.random(LlavaCheckpointTest.config(), DataType.FLOAT, seed);
    }

    static List<String> weightFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("model")).sorted().toList();
        }
    }

    @Test
    void bf16ShardsReloadToTheRoundedValuesWithAnIndexAndBfloat16Config() throws IOException {
        LlavaModel model = model(21);
        Path dir = tmp.resolve("bf16");
        LlavaCheckpoint.save(model, LlavaCheckpointTest.config(), dir, new SaveOptions(SafeTensorDtype.BF16, 2048));

        List<String> files = weightFiles(dir);
        assertTrue(files.size() > 3, "expected several shards: " + files);
        int n = files.size() - 1;
        assertEquals(ShardedSafeTensors.INDEX_FILE_NAME, files.get(n));
        for (int k = 1; k <= n; k++) {
            assertEquals(String.format("model-%05d-of-%05d.safetensors", k, n), files.get(k - 1));
        }
        JsonNode config = JSON.readTree(dir.resolve("config.json").toFile());
        assertEquals("bfloat16", config.get("torch_dtype").asText());
        assertEquals("bfloat16", config.get("text_config").get("torch_dtype").asText());

        JsonNode index = JSON.readTree(dir.resolve(ShardedSafeTensors.INDEX_FILE_NAME).toFile());
        long total = 0;
        try (ShardedSafeTensors sharded = ShardedSafeTensors.open(dir)) {
            assertEquals(model.namedParameters().keySet(), sharded.names());
            for (String name : sharded.names()) {
                TensorInfo info = sharded.info(name);
                assertEquals(SafeTensorDtype.BF16, info.dtype(), name);
                total += info.byteLength();
            }
        }
        assertEquals(total, index.get("metadata").get("total_size").asLong());
        for (String f : files.subList(0, n)) {
            try (SafeTensorsFile shard = SafeTensorsFile.open(dir.resolve(f))) {
                assertEquals(Map.of("format", "pt"), shard.metadata());
                long bytes = 0;
                for (String name : shard.names()) {
                    bytes += shard.info(name).byteLength();
                }
                assertTrue(bytes <= 2048 || shard.names().size() == 1, f + " holds " + bytes + " bytes");
            }
        }

        LlavaModel loaded = LlavaCheckpoint.load(dir).model();
        int changed = 0;
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            float[] original = LlavaCheckpointTest.flat(e.getValue().value());
            float[] expected = new float[original.length];
            for (int i = 0; i < original.length; i++) {
                expected[i] = HalfPrecision.bf16BitsToFloat(HalfPrecision.floatToBf16Bits(original[i]));
                changed += expected[i] != original[i] ? 1 : 0;
            }
            assertArrayEquals(expected, LlavaCheckpointTest.flat(loaded.namedParameters().get(e.getKey()).value()), e.getKey());
        }
        assertTrue(changed > 0, "BF16 rounding changed nothing");
    }

    /** A sharded F16 checkpoint (LLaVA-1.5's released dtype) loads widened exactly, through its index. */
    @Test
    void f16ShardsLoadAsTheRoundedValues() throws IOException {
        LlavaModel model = model(24);
        Path dir = tmp.resolve("f16");
        LlavaCheckpoint.save(model, LlavaCheckpointTest.config(), dir, new SaveOptions(SafeTensorDtype.F16, 2048));
        assertEquals("float16", JSON.readTree(dir.resolve("config.json").toFile()).get("torch_dtype").asText());
        assertTrue(Files.isRegularFile(dir.resolve(ShardedSafeTensors.INDEX_FILE_NAME)));
        LlavaModel loaded = LlavaCheckpoint.load(dir).model();
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            float[] original = LlavaCheckpointTest.flat(e.getValue().value());
            float[] expected = new float[original.length];
            for (int i = 0; i < original.length; i++) {
                expected[i] = HalfPrecision.f16BitsToFloat(HalfPrecision.floatToF16Bits(original[i]));
            }
            assertArrayEquals(expected, LlavaCheckpointTest.flat(loaded.namedParameters().get(e.getKey()).value()), e.getKey());
        }
    }

    @Test
    void fp32ShardsReloadBitIdentical() throws IOException {
        LlavaModel model = model(22);
        Path dir = tmp.resolve("fp32");
        LlavaCheckpoint.save(model, LlavaCheckpointTest.config(), dir, new SaveOptions(SafeTensorDtype.F32, 4096));
        assertTrue(weightFiles(dir).size() > 3);
        assertEquals("float32", JSON.readTree(dir.resolve("config.json").toFile()).get("torch_dtype").asText());
        LlavaModel loaded = LlavaCheckpoint.load(dir).model();
        LlavaCheckpointTest.assertSameParameters(model, loaded);
        LlavaCheckpointTest.assertIdentical("logits", LlavaCheckpointTest.logits(model), LlavaCheckpointTest.logits(loaded));
    }

    @Test
    void oneShardIsModelSafetensorsWithoutIndexAndASaveReplacesTheEarlierOnesFiles() throws IOException {
        LlavaModel model = model(23);
        Path dir = tmp.resolve("out");
        LlavaCheckpoint.save(model, LlavaCheckpointTest.config(), dir, new SaveOptions(SafeTensorDtype.BF16, 1024));
        assertTrue(weightFiles(dir).contains(ShardedSafeTensors.INDEX_FILE_NAME));

        LlavaCheckpoint.save(model, LlavaCheckpointTest.config(), dir);
        assertEquals(List.of("model.safetensors"), weightFiles(dir));
        try (SafeTensorsFile f = SafeTensorsFile.open(dir.resolve("model.safetensors"))) {
            assertEquals(SafeTensorDtype.F32, f.info("language_model.lm_head.weight").dtype());
        }
        LlavaCheckpointTest.assertSameParameters(model, LlavaCheckpoint.load(dir).model());

        LlavaCheckpoint.save(model, LlavaCheckpointTest.config(), dir, new SaveOptions(SafeTensorDtype.F32, 4096));
        List<String> files = weightFiles(dir);
        assertFalse(files.contains("model.safetensors"), files.toString());
        int n = files.size() - 1;
        assertTrue(files.stream().allMatch(f -> f.endsWith("-of-" + String.format("%05d", n) + ".safetensors")
                || f.equals(ShardedSafeTensors.INDEX_FILE_NAME)), files.toString());
        LlavaCheckpointTest.assertSameParameters(model, LlavaCheckpoint.load(dir).model());
    }

    /** huggingface_hub.split_torch_state_dict_into_shards, worked by hand; the index text is Python's json.dumps. */
    @Test
    void shardsSplitAndIndexTextAsHuggingFaceWritesThem() throws IOException {
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        tensors.put("a", Nd4j.rand(DataType.FLOAT, 10)); // 40 bytes
        tensors.put("b", Nd4j.rand(DataType.FLOAT, 10)); // 40: would make 80 > 64, starts a new shard
        tensors.put("c", Nd4j.rand(DataType.FLOAT, 5, 5)); // 100 > 64: a shard of its own, appended at once
        tensors.put("d", Nd4j.rand(DataType.FLOAT, 8)); // 32: 40 + 32 > 64 closes b's shard
        tensors.put("e", Nd4j.rand(DataType.FLOAT, 2, 4)); // 32: 32 + 32 = 64 fits with d
        Path dir = tmp.resolve("split");
        List<Path> written = SafeTensorsWriter.writePretrained(dir, tensors, new SaveOptions(SafeTensorDtype.F32, 64));
        assertEquals(4, written.size());
        String expected = "{\n  \"metadata\": {\n    \"total_size\": 244\n  },\n  \"weight_map\": {\n"
                + "    \"a\": \"model-00001-of-00004.safetensors\",\n    \"b\": \"model-00003-of-00004.safetensors\",\n"
                + "    \"c\": \"model-00002-of-00004.safetensors\",\n    \"d\": \"model-00004-of-00004.safetensors\",\n"
                + "    \"e\": \"model-00004-of-00004.safetensors\"\n  }\n}\n";
        assertEquals(expected, Files.readString(dir.resolve(ShardedSafeTensors.INDEX_FILE_NAME)));
        try (ShardedSafeTensors s = ShardedSafeTensors.open(dir)) {
            for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
                assertEquals(e.getValue(), s.load(e.getKey()), e.getKey());
            }
        }
    }

    @Test
    void shardSizesInHuggingFaceSyntax() {
        assertEquals(5_000_000_000L, SaveOptions.parseShardSize("5GB"));
        assertEquals(500_000_000L, SaveOptions.parseShardSize("500MB"));
        assertEquals(10_000L, SaveOptions.parseShardSize("10kb".toUpperCase()));
        assertEquals(2L << 30, SaveOptions.parseShardSize("2GiB"));
        assertEquals(3L << 20, SaveOptions.parseShardSize("3MiB"));
        assertEquals(1L << 10, SaveOptions.parseShardSize("1kib"));
        assertEquals(125_000_000L, SaveOptions.parseShardSize("1Gb"), "a lower-case b is bits, as in transformers");
        assertEquals(123_456L, SaveOptions.parseShardSize("123456"));
        for (String bad : List.of("5TB", "GB", "-5GB", "0", "5.5GB", "five")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SaveOptions.parseShardSize(bad), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
        assertEquals(SafeTensorDtype.BF16, SaveOptions.parseDtype("bf16"));
        assertEquals(SafeTensorDtype.F32, SaveOptions.parseDtype("float32"));
        assertThrows(IllegalArgumentException.class, () -> SaveOptions.parseDtype("int8"));
    }

    /** scripts/golden/make_bf16_golden.py: torch's x.to(torch.bfloat16) on edge cases and 6144 normals at six scales. */
    @Test
    void bf16SaveRoundsAsTorchDoes() throws IOException, URISyntaxException {
        Path golden = Path.of(getClass().getClassLoader().getResource("golden/bf16/rounding.safetensors").toURI());
        Map<String, short[]> expected = rawBf16(golden);
        INDArray input;
        try (SafeTensorsFile f = SafeTensorsFile.open(golden)) {
            input = f.load("input");
        }
        Path dir = tmp.resolve("rounding");
        SafeTensorsWriter.writePretrained(dir, Map.of("x", input), new SaveOptions(SafeTensorDtype.BF16, SaveOptions.DEFAULT_MAX_SHARD_BYTES));
        short[] got = rawBf16(dir.resolve("model.safetensors")).get("x");
        short[] want = expected.get("expected");
        float[] in = input.toFloatVector();
        assertEquals(want.length, got.length);
        int nan = 0;
        for (int i = 0; i < want.length; i++) {
            if (Float.isNaN(in[i])) {
                // torch's own NaN bits differ between its scalar (0x7fc0) and vector (0xffff) paths: only NaN-ness is checked
                assertTrue(Float.isNaN(HalfPrecision.bf16BitsToFloat(got[i])), "NaN input " + i);
                nan++;
            } else {
                int bits = Float.floatToRawIntBits(in[i]);
                assertEquals(want[i], got[i], () -> "bf16 of " + Integer.toHexString(bits));
            }
        }
        assertEquals(4, nan);
    }

    /** The BF16 tensors of a safetensors file as raw bits, read without vdep's reader. */
    static Map<String, short[]> rawBf16(Path file) throws IOException {
        byte[] raw = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) b.getLong(0);
        JsonNode header = JSON.readTree(new String(raw, 8, n, StandardCharsets.UTF_8));
        Map<String, short[]> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().path("dtype").asText().equals("BF16")) {
                continue;
            }
            long begin = e.getValue().get("data_offsets").get(0).asLong();
            long end = e.getValue().get("data_offsets").get(1).asLong();
            short[] v = new short[(int) ((end - begin) / 2)];
            for (int i = 0; i < v.length; i++) {
                v[i] = b.getShort(8 + n + (int) begin + 2 * i);
            }
            out.put(e.getKey(), v);
        }
        return out;
    }
}
