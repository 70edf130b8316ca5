package io.github.vdep.train.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/** Appends one JSON object per optimizer step to metrics.jsonl, flushed every line. */
public final class MetricsWriter implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final BufferedWriter out;
    private final java.util.Map<String, String> runFields;

    /**
     * Opens {@code file}; lines for steps after {@code keepUpTo} (left by a run that went past its
     * last checkpoint) are dropped first, so a resumed run's file reads as one uninterrupted run.
     */
    public MetricsWriter(Path file, long keepUpTo) throws IOException {
        this(file, keepUpTo, java.util.Map.of());
    }

    /**
     * As {@link #MetricsWriter(Path, long)}, adding {@code runFields} (settings of the whole run,
     * such as {@code precision}) to every line after the step's own fields.
     */
    public MetricsWriter(Path file, long keepUpTo, java.util.Map<String, String> runFields) throws IOException {
        this.runFields = new java.util.TreeMap<>(runFields);
        if (Files.exists(file)) {
            List<String> kept = new ArrayList<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank() && JSON.readTree(line).path("step").asLong() <= keepUpTo) {
                    kept.add(line);
                }
            }
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(tmp, kept, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    public void write(StepMetrics m) {
        ObjectNode o = JSON.createObjectNode();
        o.put("step", m.step());
        o.put("mode", m.mode());
        putFinite(o, "loss", m.loss());
        putFinite(o, "text_loss", m.textLoss());
        putFiniteOrNull(o, "image_loss", m.imageLoss());
        putFiniteOrNull(o, "image_target_rms", m.imageTargetRms());
        o.put("alpha", m.alpha());
        o.put("lr", m.lr());
        putFinite(o, "grad_norm", m.gradNorm());
        o.put("tokens", m.tokens());
        o.put("step_seconds", m.stepSeconds());
        o.put("epoch", m.epoch());
        if (m.textGradNorm() != null) {
            putFinite(o, "grad_norm_text", m.textGradNorm());
            putFinite(o, "grad_norm_image", m.imageGradNorm());
        }
        if (m.memory() != null) {
            o.put("peak_memory_bytes", m.memory().peakBytes());
            o.put("memory_measure", m.memory().measure());
        }
        if (m.skipped()) {
            o.put("skipped", true);
        }
        if (m.commSeconds() > 0) {
            o.put("comm_seconds", m.commSeconds());
        }
        runFields.forEach(o::put);
        try {
            out.write(JSON.writeValueAsString(o));
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void putFiniteOrNull(ObjectNode o, String key, Double v) {
        if (v == null) {
            o.putNull(key);
        } else {
            putFinite(o, key, v);
        }
    }

    /** JSON has no NaN/Infinity: non-finite values are written as strings. */
    private static void putFinite(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) {
            o.put(key, v);
        } else {
            o.put(key, Double.toString(v));
        }
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
