package io.github.vdep.train.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes an {@link EvalReport}: {@code predictions.jsonl} (one
 * {@code {"id","question","reference","prediction","correct"}} object per line) and
 * {@code scores.json}. Each file is written to a temporary name and moved into place. Undefined
 * values (no records evaluated) are written as {@code null}.
 */
public final class EvalWriter {

    /** The predictions file name. */
    public static final String PREDICTIONS = "predictions.jsonl";
    /** The scores file name. */
    public static final String SCORES = "scores.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    private EvalWriter() {
    }

    /**
     * @param report the evaluation outcome
     * @param outDir the output folder (created if needed)
     * @throws UncheckedIOException if a file cannot be written (the message names it)
     */
    public static void write(EvalReport report, Path outDir) {
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create output folder " + outDir + ": " + e.getMessage(), e);
        }
        Path predictions = outDir.resolve(PREDICTIONS);
        atomically(predictions, tmp -> {
            try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                for (Prediction p : report.predictions()) {
                    ObjectNode line = JSON.createObjectNode();
                    line.put("id", p.id());
                    line.put("question", p.question());
                    line.put("reference", p.reference());
                    line.put("prediction", p.prediction());
                    line.put("correct", p.correct());
                    w.write(JSON.writeValueAsString(line));
                    w.newLine();
                }
            }
        });
        Path scores = outDir.resolve(SCORES);
        atomically(scores, tmp -> Files.writeString(tmp, JSON.copy().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValueAsString(toJson(report.scores())) + System.lineSeparator()));
    }

    /**
     * @param s scores
     * @return their JSON form (the content of {@code scores.json})
     */
    public static ObjectNode toJson(EvalScores s) {
        ObjectNode root = JSON.createObjectNode();
        root.put("template", s.template());
        root.put("records", s.records());
        root.put("evaluated", s.evaluated());
        root.put("skipped", s.skippedCount());
        ObjectNode reasons = root.putObject("skipped_by_reason");
        s.skipped().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey()).forEach(e -> reasons.put(e.getKey(), e.getValue()));
        root.put("correct", s.correct());
        number(root, "exact_match", s.exactMatch());
        root.put("supervised_tokens", s.tokens().tokens());
        number(root, "token_accuracy", s.tokenAccuracy());
        number(root, "mean_nll", s.tokens().meanNll());
        number(root, "perplexity", s.perplexity());
        return root;
    }

    private static void number(ObjectNode node, String key, double v) {
        if (Double.isFinite(v)) {
            node.put(key, v);
        } else {
            node.putNull(key);
        }
    }

    private interface Body {
        void write(Path tmp) throws IOException;
    }

    private static void atomically(Path file, Body body) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            body.write(tmp);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
