package io.github.vdep.train.data;

import io.github.vdep.train.data.sentencepiece.SentencePieceTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/** Opens whichever tokenizer a Hugging Face directory ships, and copies its files along. */
public final class Tokenizers {

    /** The tokenizer files a checkpoint directory may hold, all kept when a model is saved. */
    public static final List<String> FILES = List.of("tokenizer.json", SentencePieceTokenizer.MODEL_FILE,
            "tokenizer_config.json", "special_tokens_map.json");

    private Tokenizers() {
    }

    /**
     * Opens a tokenizer: a directory's {@code tokenizer.json} (the fast tokenizer, as
     * {@code AutoTokenizer} prefers), else its {@code tokenizer.model} (SentencePiece with
     * {@code tokenizer_config.json}, as Vicuna ships); or the file given.
     *
     * @param fileOrDir a directory, a {@code tokenizer.json} or a {@code tokenizer.model}
     * @return the tokenizer; close it if it is {@link AutoCloseable}
     * @throws IllegalArgumentException if there is no tokenizer there (the message names the path)
     */
    public static TextTokenizer open(Path fileOrDir) {
        if (Files.isDirectory(fileOrDir)) {
            if (Files.isRegularFile(fileOrDir.resolve("tokenizer.json"))) {
                return HfTokenizer.load(fileOrDir.resolve("tokenizer.json"));
            }
            if (Files.isRegularFile(fileOrDir.resolve(SentencePieceTokenizer.MODEL_FILE))) {
                return SentencePieceTokenizer.load(fileOrDir);
            }
            throw new IllegalArgumentException("Tokenizer not found: " + fileOrDir + " holds neither tokenizer.json nor "
                    + SentencePieceTokenizer.MODEL_FILE);
        }
        if (fileOrDir.getFileName() != null && fileOrDir.getFileName().toString().endsWith(".model")) {
            return SentencePieceTokenizer.load(fileOrDir);
        }
        if (!Files.exists(fileOrDir) && fileOrDir.getFileName() != null && fileOrDir.getFileName().toString().equals("tokenizer.json")
                && Files.isRegularFile(fileOrDir.resolveSibling(SentencePieceTokenizer.MODEL_FILE))) {
            return SentencePieceTokenizer.load(fileOrDir.resolveSibling(SentencePieceTokenizer.MODEL_FILE));
        }
        return HfTokenizer.load(fileOrDir);
    }

    /**
     * Copies the tokenizer files found beside {@code tokenizer} ({@link #FILES}) into {@code dir}, so
     * that the saved model loads in {@code transformers} with the same tokenizer.
     *
     * @param tokenizer the tokenizer file or directory used
     * @param dir the output directory
     * @throws IOException if copying fails
     */
    public static void copyFiles(Path tokenizer, Path dir) throws IOException {
        Path source = Files.isDirectory(tokenizer) ? tokenizer : tokenizer.toAbsolutePath().getParent();
        for (String name : FILES) {
            Path f = source.resolve(name);
            if (Files.isRegularFile(f)) {
                Files.copy(f, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        if (!Files.isDirectory(tokenizer) && Files.isRegularFile(tokenizer)
                && !FILES.contains(tokenizer.getFileName().toString())) {
            Files.copy(tokenizer, dir.resolve(tokenizer.getFileName().toString().endsWith(".model") ? SentencePieceTokenizer.MODEL_FILE
                    : "tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
