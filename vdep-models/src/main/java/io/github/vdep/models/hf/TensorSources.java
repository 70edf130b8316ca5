package io.github.vdep.models.hf;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/** Opens Hugging Face checkpoints whatever their layout. */
public final class TensorSources {

    private TensorSources() {
    }

    /** The files a checkpoint directory is looked up by, in Hugging Face's order of preference. */
    private static final List<String> DIRECTORY_FILES = List.of(SafeTensorsFile.DEFAULT_FILE_NAME,
            ShardedSafeTensors.INDEX_FILE_NAME, TorchCheckpointFile.DEFAULT_FILE_NAME, TorchCheckpointFile.INDEX_FILE_NAME);

    /**
     * Opens a checkpoint directory the way Hugging Face does, taking the first present of
     * {@value SafeTensorsFile#DEFAULT_FILE_NAME}, {@value ShardedSafeTensors#INDEX_FILE_NAME},
     * {@value TorchCheckpointFile#DEFAULT_FILE_NAME} and {@value TorchCheckpointFile#INDEX_FILE_NAME}
     * (safetensors before PyTorch files, as {@code from_pretrained} prefers them).
     *
     * @param dir the checkpoint directory
     * @return the open checkpoint
     * @throws CheckpointException if the directory holds none of these files, or the one found is invalid
     */
    public static TensorSource openDirectory(Path dir) {
        Objects.requireNonNull(dir, "dir");
        for (String name : DIRECTORY_FILES) {
            Path file = dir.resolve(name);
            if (Files.isRegularFile(file)) {
                return name.endsWith(".json") ? ShardedSafeTensors.openIndex(file) : openFile(file);
            }
        }
        throw new CheckpointException(dir, Files.isDirectory(dir)
                ? "contains none of " + String.join(", ", DIRECTORY_FILES)
                : "is not a directory");
    }

    /**
     * Opens one checkpoint file: {@code .safetensors} as safetensors; {@code .bin}, {@code .pt},
     * {@code .pth} and {@code .ckpt} as {@code torch.save} files; any other name by its first
     * bytes (a safetensors header is JSON from byte 8 on).
     *
     * @param file a safetensors or PyTorch file
     * @return the open file
     * @throws CheckpointException if the file is missing or invalid
     */
    public static TensorSource openFile(Path file) {
        Objects.requireNonNull(file, "file");
        String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".safetensors")) {
            return SafeTensorsFile.open(file);
        }
        if (name.endsWith(".bin") || name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".ckpt")) {
            return TorchCheckpointFile.open(file);
        }
        byte[] head = new byte[0];
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(9);
        } catch (IOException e) {
            // open() below reports the file as missing or unreadable
        }
        return head.length == 9 && head[8] == '{' ? SafeTensorsFile.open(file) : TorchCheckpointFile.open(file);
    }

    /**
     * Opens a checkpoint given as a directory (see {@link #openDirectory(Path)}), a {@code .json}
     * shard index, or a single safetensors or PyTorch file (see {@link #openFile(Path)}).
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
        return openFile(path);
    }
}
