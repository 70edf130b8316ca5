package io.github.vdep.train.benchmark;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * LLaVA's question files ({@code llava_*.jsonl}: {@code question_id}, {@code image}, {@code text}
 * with LLaVA-1.5's instruction already appended, optional {@code category}), read as
 * {@code model_vqa_loader.py} reads them.
 */
final class LlavaQuestionFile {

    /** A question and the line it came from. */
    record Entry(BenchmarkQuestion question, JsonNode json) {
    }

    private LlavaQuestionFile() {
    }

    /**
     * @param file        the question file
     * @param imageFolder the folder the images are relative to
     * @param bad         collects malformed lines
     * @param textField   the field holding the question ({@code text}; RealWorldQA's {@code question})
     * @return the questions in file order
     */
    static List<Entry> read(Path file, Path imageFolder, BadInput bad, String textField) {
        List<Entry> out = new ArrayList<>();
        for (BenchmarkFiles.Line line : BenchmarkFiles.readJsonl(file, bad)) {
            JsonNode id = BenchmarkFiles.field(line, "question_id", file, bad);
            JsonNode text = id == null ? null : BenchmarkFiles.field(line, textField, file, bad);
            if (id == null || text == null) {
                continue;
            }
            JsonNode image = line.json().get("image");
            Path img = image == null || image.isNull() ? null : imageFolder.resolve(image.asText());
            BenchmarkQuestion q = BenchmarkQuestion.of(id, text.asText(), img);
            out.add(new Entry(q, line.json()));
        }
        return out;
    }

    static List<Entry> read(Path file, Path imageFolder, BadInput bad) {
        return read(file, imageFolder, bad, "text");
    }

    /** The questions of entries. */
    static List<BenchmarkQuestion> questions(List<Entry> entries) {
        return entries.stream().map(Entry::question).toList();
    }
}
