package io.github.vdep.models.hf;

import static io.github.vdep.models.hf.TensorAssertions.assertCheckpointError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

class TensorSourcesTest {

    @TempDir
    Path tmp;

    @Test
    void picksSingleFileFirstLikeHuggingFace() {
        SafeTensorsWriter.writeSharded(tmp, Map.of("sharded", Nd4j.scalar(1f)), 1 << 20);
        try (TensorSource s = TensorSources.openDirectory(tmp)) {
            assertInstanceOf(ShardedSafeTensors.class, s);
        }
        SafeTensorsWriter.write(tmp.resolve(SafeTensorsFile.DEFAULT_FILE_NAME), Map.of("single", Nd4j.scalar(2f)), null);
        try (TensorSource s = TensorSources.openDirectory(tmp)) {
            assertInstanceOf(SafeTensorsFile.class, s);
            assertEquals(Set.of("single"), s.names());
        }
    }

    @Test
    void openAcceptsDirectoryFileOrIndex() {
        SafeTensorsWriter.writeSharded(tmp, Map.of("w", Nd4j.scalar(1f)), 1 << 20);
        try (TensorSource s = TensorSources.open(tmp.resolve(ShardedSafeTensors.INDEX_FILE_NAME))) {
            assertInstanceOf(ShardedSafeTensors.class, s);
        }
        try (TensorSource s = TensorSources.open(tmp.resolve("model-00001-of-00001.safetensors"))) {
            assertInstanceOf(SafeTensorsFile.class, s);
            assertEquals(1f, s.load("w").getFloat(0));
        }
    }

    @Test
    void clearErrorWhenNeitherExists() throws IOException {
        Path empty = Files.createDirectory(tmp.resolve("empty-checkpoint"));
        assertCheckpointError(empty, null, () -> TensorSources.openDirectory(empty),
                "none of model.safetensors, model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json");
        Path missing = tmp.resolve("missing-dir");
        assertCheckpointError(missing, null, () -> TensorSources.openDirectory(missing), "is not a directory");
    }
}
