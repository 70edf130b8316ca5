package io.github.vdep.models.hf;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/** Opens Hugging Face checkpoints whatever their layout. */
public final class TensorSources {

    private TensorSources() {
    }

    /**
     * Opens a checkpoint directory the way Hugging Face does: {@value SafeTensorsFile#DEFAULT_FILE_NAME}
     * if present, otherwise the sharded checkpoint of {@value ShardedSafeTensors#INDEX_FILE_NAME}.
     *
     * @param dir the checkpoint directory
     * @return the open checkpoint
     * @throws CheckpointException if the directory holds neither file, or the one found is invalid
     */
    public static TensorSource openDirectory(Path dir) {
        Objects.requireNonNull(dir, "dir");
        Path single = dir.resolve(SafeTensorsFile.DEFAULT_FILE_NAME);
        if (Files.isRegularFile(single)) {
            return SafeTensorsFile.open(single);
        }
        Path index = dir.resolve(ShardedSafeTensors.INDEX_FILE_NAME);
        if (Files.isRegularFile(index)) {
            return ShardedSafeTensors.openIndex(index);
        }
        throw new CheckpointException(dir, Files.isDirectory(dir)
                ? "contains neither " + SafeTensorsFile.DEFAULT_FILE_NAME + " nor " + ShardedSafeTensors.INDEX_FILE_NAME
                : "is not a directory");
    }

    /**
     * Opens a checkpoint given as a directory (see {@link #openDirectory(Path)}), a {@code .json}
     * shard index, or a single safetensors file.
     *
     * @param path a directory or file
     * @return the open checkpoint
     * @throws CheckpointException if nothing valid is found at the path
     */
    public static TensorSource open(Path path) {
        Objects.requireNonNull(path, "path");
        if (Files.isDirectory(path)) {
            return openDirectory(path);
        }
        if (path.getFileName() != null && path.getFileName().toString().endsWith(".json")) {
            return ShardedSafeTensors.openIndex(path);
        }
        return SafeTensorsFile.open(path);
    }
}
