package io.github.vdep.models.hf;

import static io.github.vdep.models.hf.TensorAssertions.assertCheckpointError;
import static io.github.vdep.models.hf.TensorAssertions.assertSameTensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ShardedSafeTensorsTest {

    @TempDir
    Path tmp;

    /** Five 40-byte tensors (a..e); a 100-byte limit gives shards {a,b}, {c,d}, {e}. */
    private static Map<String, INDArray> fiveTensors() {
        Map<String, INDArray> tensors = new TreeMap<>();
        for (int i = 0; i < 5; i++) {
            tensors.put(String.valueOf((char) ('a' + i)), TestTensors.sequence(DataType.FLOAT, 10 * i, 2, 5));
        }
        return tensors;
    }

    private Path writeFive() {
        List<Path> shards = SafeTensorsWriter.writeSharded(tmp, fiveTensors(), Map.of("step", "3"), 100, null);
        assertEquals(List.of(tmp.resolve("model-00001-of-00003.safetensors"), tmp.resolve("model-00002-of-00003.safetensors"),
                tmp.resolve("model-00003-of-00003.safetensors")), shards);
        return tmp;
    }

    @Test
    void roundTripsThroughIndex() throws IOException {
        writeFive();
        JsonNode index = new ObjectMapper().readTree(tmp.resolve(ShardedSafeTensors.INDEX_FILE_NAME).toFile());
        assertEquals(200, index.get("metadata").get("total_size").asLong());
        assertEquals("model-00002-of-00003.safetensors", index.get("weight_map").get("d").asText());

        try (TensorSource source = TensorSources.openDirectory(tmp)) {
            ShardedSafeTensors sharded = assertInstanceOf(ShardedSafeTensors.class, source);
            assertEquals(Set.of("a", "b", "c", "d", "e"), source.names());
            assertEquals(3, sharded.shardFiles().size());
            fiveTensors().forEach((name, expected) -> assertSameTensor(expected, source.load(name)));
            assertEquals(tmp.resolve("model-00001-of-00003.safetensors"), source.fileOf("b"));
            assertEquals(tmp.resolve("model-00003-of-00003.safetensors"), source.fileOf("e"));
            assertEquals(SafeTensorDtype.F32, source.info("c").dtype());
            assertEquals(Map.of("total_size", "200", "step", "3"), source.metadata());
            assertEquals(DataType.DOUBLE, source.load("a", DataType.DOUBLE).dataType());
        }
        try (SafeTensorsFile shard = SafeTensorsFile.open(tmp.resolve("model-00003-of-00003.safetensors"))) {
            assertEquals(Map.of("step", "3", "format", "pt"), shard.metadata());
        }
    }

    @Test
    void oversizedTensorGetsItsOwnShardAndFloatDtypeApplies() {
        Map<String, INDArray> tensors = Map.of(
                "big", TestTensors.sequence(DataType.FLOAT, 1, 64),
                "small1", Nd4j.createFromArray(1f),
                "small2", Nd4j.createFromArray(2L));
        List<Path> shards = SafeTensorsWriter.writeSharded(tmp, tensors, null, 16, SafeTensorDtype.BF16);
        assertEquals(2, shards.size(), "big alone (128 bytes as BF16), then the two small ones (2 + 8 bytes)");
        try (ShardedSafeTensors st = ShardedSafeTensors.open(tmp)) {
            assertEquals(SafeTensorDtype.BF16, st.info("big").dtype());
            assertEquals(SafeTensorDtype.I64, st.info("small2").dtype());
            assertSameTensor(tensors.get("big"), st.load("big"));
        }
    }

    @Test
    void shardsAreOpenedLazily() throws IOException {
        writeFive();
        Path third = tmp.resolve("model-00003-of-00003.safetensors");
        Files.write(third, new byte[] {9, 9, 9});
        try (ShardedSafeTensors st = ShardedSafeTensors.open(tmp)) {
            assertSameTensor(fiveTensors().get("a"), st.load("a"));
            assertCheckpointError(third, null, () -> st.load("e"), "only 3 bytes");
        }
    }

    @Test
    void missingShard() throws IOException {
        writeFive();
        Files.delete(tmp.resolve("model-00002-of-00003.safetensors"));
        assertCheckpointError(tmp.resolve(ShardedSafeTensors.INDEX_FILE_NAME), null, () -> ShardedSafeTensors.open(tmp),
                "model-00002-of-00003.safetensors", "does not exist");
    }

    @Test
    void nameMissingFromItsShard() throws IOException {
        writeFive();
        Path index = tmp.resolve(ShardedSafeTensors.INDEX_FILE_NAME);
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(index.toFile());
        ((ObjectNode) root.get("weight_map")).put("e", "model-00001-of-00003.safetensors");
        json.writeValue(index.toFile(), root);
        try (ShardedSafeTensors st = ShardedSafeTensors.open(tmp)) {
            assertCheckpointError(tmp.resolve("model-00001-of-00003.safetensors"), "e", () -> st.load("e"),
                    "does not contain it", ShardedSafeTensors.INDEX_FILE_NAME);
            assertCheckpointError(index, "zzz", () -> st.load("zzz"), "not in the weight_map");
        }
    }

    @Test
    void badIndexes() throws IOException {
        Path index = tmp.resolve(ShardedSafeTensors.INDEX_FILE_NAME);
        assertCheckpointError(index, null, () -> ShardedSafeTensors.open(tmp), "file not found");

        Files.writeString(index, "{\"weight_map\": ");
        assertCheckpointError(index, null, () -> ShardedSafeTensors.open(tmp), "not valid JSON");

        Files.writeString(index, "{\"metadata\": {}}");
        assertCheckpointError(index, null, () -> ShardedSafeTensors.open(tmp), "weight_map");

        Files.writeString(index, "{\"weight_map\": {\"w\": \"../outside.safetensors\"}}");
        assertCheckpointError(index, "w", () -> ShardedSafeTensors.open(tmp), "outside the checkpoint directory");

        Files.writeString(index, "{\"weight_map\": {\"w\": 3}}");
        assertCheckpointError(index, "w", () -> ShardedSafeTensors.open(tmp), "non-string");
    }

    @Test
    void closedSourceRefusesLoads() {
        writeFive();
        ShardedSafeTensors st = ShardedSafeTensors.open(tmp);
        st.load("a");
        st.close();
        assertThrows(IllegalStateException.class, () -> st.load("c"));
    }

    @Test
    void rejectsNonPositiveShardSize() {
        assertThrows(IllegalArgumentException.class, () -> SafeTensorsWriter.writeSharded(tmp, fiveTensors(), 0));
    }
}
