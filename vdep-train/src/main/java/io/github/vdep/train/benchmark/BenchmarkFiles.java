package io.github.vdep.train.benchmark;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Reading and writing benchmark files: JSON, JSON Lines (bad lines counted), answer files. */
public final class BenchmarkFiles {

    static final ObjectMapper JSON = new ObjectMapper();

    private BenchmarkFiles() {
    }

    /** A parsed JSON Lines object and the line it came from. */
    public record Line(JsonNode json, int number) {
    }

    /**
     * @param file a JSON file
     * @return its content
     * @throws IllegalArgumentException if it is missing or not JSON (the message names it)
     */
    public static JsonNode readJson(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": file not found");
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not valid JSON (" + originalMessage(e) + ")", e);
        }
    }

    private static String originalMessage(IOException e) {
        return e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
    }

    /**
     * Reads a JSON Lines file; blank lines are ignored, a line that is not a JSON object is counted
     * as {@link BadInput#MALFORMED_LINE} and named by file and line number.
     *
     * @param file the file
     * @param bad  collects malformed lines
     * @return the objects with their line numbers
     * @throws IllegalArgumentException if the file is missing or unreadable
     */
    public static List<Line> readJsonl(Path file, BadInput bad) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": file not found");
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        List<Line> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String s = lines.get(i).strip();
            if (s.isEmpty()) {
                continue;
            }
            try {
                JsonNode node = JSON.readTree(s);
                if (node == null || !node.isObject()) {
                    bad.add(BadInput.MALFORMED_LINE, null, file.getFileName() + " line " + (i + 1) + ": not a JSON object");
                } else {
                    out.add(new Line(node, i + 1));
                }
            } catch (IOException e) {
                bad.add(BadInput.MALFORMED_LINE, null, file.getFileName() + " line " + (i + 1) + ": " + originalMessage(e));
            }
        }
        return out;
    }

    /**
     * A required field of a line, or null after counting the line as malformed.
     *
     * @param line  the line
     * @param field the field
     * @param file  the file (for the message)
     * @param bad   collects the malformed line
     * @return the field's value, or null if absent
     */
    public static JsonNode field(Line line, String field, Path file, BadInput bad) {
        JsonNode v = line.json().get(field);
        if (v == null || v.isNull()) {
            bad.add(BadInput.MALFORMED_LINE, null, file.getFileName() + " line " + line.number() + ": no '" + field + "' field");
            return null;
        }
        return v;
    }

    /**
     * Reads a LLaVA answer file: one {@code {"question_id", "prompt", "text", ...}} object a line.
     * Malformed lines, answers to unknown question ids and second answers to a question are
     * counted and named; the first answer to each question is kept.
     *
     * @param file      the answer file
     * @param benchmark the benchmark (its question keys, and how an answer finds its question)
     * @param bad       collects bad lines
     * @return answers by question key, in file order
     */
    public static Map<String, AnswerLine> readAnswers(Path file, LoadedBenchmark benchmark, BadInput bad) {
        Set<String> questions = benchmark.questions().stream().map(BenchmarkQuestion::key).collect(Collectors.toSet());
        Map<String, AnswerLine> out = new LinkedHashMap<>();
        for (Line line : readJsonl(file, bad)) {
            JsonNode id = field(line, "question_id", file, bad);
            JsonNode text = id == null ? null : field(line, "text", file, bad);
            if (id == null || text == null) {
                continue;
            }
            JsonNode prompt = line.json().get("prompt");
            AnswerLine a = new AnswerLine(id, prompt == null || prompt.isNull() ? "" : prompt.asText(), text.asText());
            String key = benchmark.answerKey(a);
            if (!questions.contains(key)) {
                bad.add(BadInput.UNKNOWN_QUESTION_ID, null, file.getFileName() + " line " + line.number() + ": question_id " + id + " is not in the benchmark");
            } else if (out.containsKey(key)) {
                bad.add(BadInput.DUPLICATE_ANSWER, key, file.getFileName() + " line " + line.number() + ": a second answer to question " + id + " (the first is kept)");
            } else {
                out.put(key, a);
            }
        }
        return out;
    }

    /** The first file (sorted by name) in {@code dir} whose name starts and ends as given, or null. */
    static Path first(Path dir, String prefix, String suffix) {
        if (!Files.isDirectory(dir)) {
            return null;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(prefix) && n.endsWith(suffix) && Files.isRegularFile(p);
            }).sorted().findFirst().orElse(null);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The first {@code prefix*.jsonl} question file in {@code dir} (LLaVA's layout); an error naming both if there is none. */
    static Path questionFile(Path dir, String prefix) {
        Path file = first(dir, prefix, ".jsonl");
        if (file == null) {
            throw new IllegalArgumentException(dir + ": no " + prefix + "*.jsonl question file");
        }
        return file;
    }

    /** The split a question file {@code prefix + split + ".jsonl"} names. */
    static String split(Path questionFile, String prefix) {
        return questionFile.getFileName().toString().substring(prefix.length()).replaceFirst("\\.jsonl$", "");
    }

    /** The sub-folders of a folder, sorted by name. */
    static List<Path> folders(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).sorted().collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Writes JSON (compact, as the upstream {@code json.dump}) to a temporary name and moves it into place. */
    public static void writeJson(Path file, Object value, boolean indent) {
        atomically(file, tmp -> {
            ObjectMapper m = indent ? JSON.copy().enable(SerializationFeature.INDENT_OUTPUT) : JSON;
            Files.writeString(tmp, m.writeValueAsString(value) + (indent ? System.lineSeparator() : ""), StandardCharsets.UTF_8);
        });
    }

    /** Writes JSON Lines to a temporary name and moves it into place. */
    public static void writeJsonl(Path file, List<?> rows) {
        atomically(file, tmp -> {
            try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                for (Object row : rows) {
                    w.write(JSON.writeValueAsString(row));
                    w.write('\n');
                }
            }
        });
    }

    /** The body of a file written atomically. */
    interface Body {
        void write(Path tmp) throws IOException;
    }

    static void atomically(Path file, Body body) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            body.write(tmp);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
