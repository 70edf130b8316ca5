package io.github.vdep.train.benchmark;

import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * MMBench as LLaVA-1.5 ({@code mmbench.sh}): a {@code mmbench/<split>.tsv} release file (base64
 * images, options A-D, circular copies of each question with rotated options at
 * {@code index + k * 1000000}). The prompt is {@code model_vqa_mmbench.py}'s: the hint (when
 * present), the question, one {@code "X. option"} line per option up to the first empty one, then
 * {@value Instructions#OPTION_LETTER}. The upload file
 * {@code answers_upload/<split>/<model>.xlsx} is {@code convert_mmbench_for_submission.py}'s (for
 * the OpenCompass server: test split). Where the file has answers (dev split) it is scored locally
 * by circular evaluation as VLMEvalKit does without a judge model: each answer's letter is read by
 * {@link OptionMatching} ({@code Z} when no rule applies), and a question counts only if all its
 * rotations are right; reported overall and per category.
 */
public final class MmBenchBenchmark implements Benchmark {

    /** pandas {@code read_table}'s default missing values, and LLaVA's {@code is_none}. */
    private static final Set<String> NA = Set.of("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
            "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null");
    private static final List<String> OPTIONS = List.of("A", "B", "C", "D");
    private static final List<String> UPLOAD_DROPPED = List.of("hint", "category", "source", "image", "comment", "l2-category");

    @Override
    public String name() {
        return "mmbench";
    }

    @Override
    public String column() {
        return "MMBench";
    }

    @Override
    public String folder() {
        return "mmbench";
    }

    @Override
    public double published() {
        return 64.3;
    }

    @Override
    public boolean foundIn(Path dir) {
        return BenchmarkFiles.first(dir, "", ".tsv") != null;
    }

    static boolean isNone(String v) {
        return v == null || NA.contains(v) || v.toLowerCase(Locale.ROOT).equals("nan") || v.toLowerCase(Locale.ROOT).equals("none");
    }

    @Override
    public LoadedBenchmark load(Path dir, BadInput bad) {
        Path file = BenchmarkFiles.first(dir, "", ".tsv");
        if (file == null) {
            throw new IllegalArgumentException(dir + ": no MMBench .tsv file");
        }
        List<List<String>> table = Tsv.read(file);
        if (table.isEmpty()) {
            throw new IllegalArgumentException(file + ": empty");
        }
        List<String> header = table.get(0);
        for (String need : List.of("index", "question", "image")) {
            if (!header.contains(need)) {
                throw new IllegalArgumentException(file + ": no '" + need + "' column");
            }
        }
        List<Map<String, String>> rows = new ArrayList<>();
        List<BenchmarkQuestion> questions = new ArrayList<>();
        for (int r = 1; r < table.size(); r++) {
            List<String> cells = table.get(r);
            if (cells.size() != header.size()) {
                bad.add(BadInput.MALFORMED_LINE, null, file.getFileName() + " row " + (r + 1) + ": " + cells.size() + " cells, the header has " + header.size());
                continue;
            }
            Map<String, String> row = new LinkedHashMap<>();
            for (int c = 0; c < header.size(); c++) {
                row.put(header.get(c), cells.get(c));
            }
            long index;
            try {
                index = Long.parseLong(row.get("index").strip());
            } catch (NumberFormatException e) {
                bad.add(BadInput.MALFORMED_LINE, null, file.getFileName() + " row " + (r + 1) + ": index '" + row.get("index") + "' is not a number");
                continue;
            }
            List<String> options = new ArrayList<>();
            for (String o : OPTIONS) {
                String v = row.get(o);
                if (isNone(v)) {
                    break;
                }
                options.add(v);
            }
            String question = row.get("question");
            String hint = row.get("hint");
            if (!isNone(hint)) {
                question = hint + "\n" + question;
            }
            for (int i = 0; i < options.size(); i++) {
                question = question + "\n" + OPTIONS.get(i) + ". " + options.get(i);
            }
            LongNode id = LongNode.valueOf(index);
            questions.add(new BenchmarkQuestion(Long.toString(index), id, question + "\n" + Instructions.OPTION_LETTER, question, null, row.get("image")));
            rows.add(row);
        }
        String split = file.getFileName().toString().replaceFirst("\\.tsv$", "");
        return new Loaded(this, questions, bad, header, rows, split);
    }

    static final class Loaded extends LoadedBenchmark {
        private final List<String> header;
        private final List<Map<String, String>> rows;
        private final String split;

        Loaded(Benchmark b, List<BenchmarkQuestion> questions, BadInput bad, List<String> header, List<Map<String, String>> rows, String split) {
            super(b, questions, bad);
            this.header = header;
            this.rows = rows;
            this.split = split;
        }

        @Override
        public ObjectNode score(Map<String, AnswerLine> answers) {
            ObjectNode m = metrics();
            if (!header.contains("answer")) {
                m.put("count", questions().size());
                return m;
            }
            Map<Long, List<Integer>> groups = new TreeMap<>();
            Map<Long, Integer> byIndex = new HashMap<>();
            for (int i = 0; i < questions().size(); i++) {
                long index = Long.parseLong(questions().get(i).key());
                groups.computeIfAbsent(index % 1_000_000, g -> new ArrayList<>()).add(i);
                byIndex.put(index, i);
            }
            Map<String, int[]> byCategory = new TreeMap<>();
            int hits = 0;
            for (Map.Entry<Long, List<Integer>> g : groups.entrySet()) {
                List<Integer> members = new ArrayList<>(g.getValue());
                members.sort((a, b) -> Long.compare(Long.parseLong(questions().get(a).key()), Long.parseLong(questions().get(b).key())));
                int hit = 1;
                for (int i : members) {
                    Map<String, String> row = rows.get(i);
                    Map<String, String> choices = new LinkedHashMap<>();
                    for (String letter : header) {
                        if (letter.length() == 1 && letter.charAt(0) >= 'A' && letter.charAt(0) <= 'Z' && !isNone(row.get(letter))) {
                            choices.put(letter, row.get(letter));
                        }
                    }
                    String letter = OptionMatching.infer(text(questions().get(i), answers), choices);
                    if (!(letter == null ? "Z" : letter).equals(row.get("answer"))) {
                        hit = 0;
                        break;
                    }
                }
                hits += hit;
                Integer main = byIndex.get(g.getKey());
                String category = rows.get(main != null ? main : members.get(0)).getOrDefault("category", "");
                int[] c = byCategory.computeIfAbsent(category, k -> new int[2]);
                c[0] += hit;
                c[1]++;
            }
            put(m, "circular_accuracy", (double) hits / groups.size() * 100);
            m.put("groups", groups.size());
            ObjectNode per = m.putObject("per_category");
            byCategory.forEach((k, v) -> put(per, k, (double) v[0] / v[1] * 100));
            return m;
        }

        @Override
        public double headline(ObjectNode metrics) {
            return get(metrics, "circular_accuracy");
        }

        @Override
        public String headlineName() {
            return "circular_accuracy";
        }

        @Override
        public List<Path> writeUploads(Map<String, AnswerLine> answers, Path outDir, String modelId) {
            List<String> columns = new ArrayList<>();
            header.stream().filter(c -> !UPLOAD_DROPPED.contains(c)).forEach(columns::add);
            columns.add(Math.min(6, columns.size()), "prediction");
            List<List<Object>> sheet = new ArrayList<>();
            sheet.add(new ArrayList<>(columns));
            for (int i = 0; i < rows.size(); i++) {
                AnswerLine a = answers.get(questions().get(i).key());
                List<Object> cells = new ArrayList<>();
                for (String c : columns) {
                    if (c.equals("prediction")) {
                        cells.add(a == null ? null : a.text());
                    } else if (c.equals("index")) {
                        cells.add(Long.parseLong(questions().get(i).key()));
                    } else {
                        String v = rows.get(i).get(c);
                        cells.add(isNone(v) ? null : v);
                    }
                }
                sheet.add(cells);
            }
            Path file = outDir.resolve("answers_upload").resolve(split).resolve(modelId + ".xlsx");
            Xlsx.write(file, sheet);
            return List.of(file);
        }

        @Override
        public String note() {
            return header.contains("answer") ? null
                    : "no 'answer' column: submit answers_upload/" + split + " to the OpenCompass MMBench server for the score";
        }
    }

    /** Tab-separated values with pandas' default quoting ({@code "} quotes a cell; {@code ""} inside is one quote). */
    static final class Tsv {
        private Tsv() {
        }

        static List<List<String>> read(Path file) {
            String s;
            try {
                s = Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
            }
            List<List<String>> rows = new ArrayList<>();
            List<String> row = new ArrayList<>();
            StringBuilder cell = new StringBuilder();
            boolean quoted = false;
            boolean any = false;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (quoted) {
                    if (c == '"' && i + 1 < s.length() && s.charAt(i + 1) == '"') {
                        cell.append('"');
                        i++;
                    } else if (c == '"') {
                        quoted = false;
                    } else {
                        cell.append(c);
                    }
                } else if (c == '"' && cell.length() == 0) {
                    quoted = true;
                    any = true;
                } else if (c == '\t') {
                    row.add(cell.toString());
                    cell.setLength(0);
                    any = true;
                } else if (c == '\n' || c == '\r') {
                    if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') {
                        i++;
                    }
                    if (any || cell.length() > 0) {
                        row.add(cell.toString());
                        rows.add(row);
                    }
                    row = new ArrayList<>();
                    cell.setLength(0);
                    any = false;
                } else {
                    cell.append(c);
                    any = true;
                }
            }
            if (any || cell.length() > 0) {
                row.add(cell.toString());
                rows.add(row);
            }
            return rows;
        }
    }
}
