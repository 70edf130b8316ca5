package io.github.vdep.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataFilesTest {

    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    @Test
    void readsLlavaJsonList() throws IOException {
        Path f = write("data.json", """
                [
                  {"id": "004539375", "image": "00453/004539375.jpg", "conversations": [
                    {"from": "human", "value": "Render a clear and concise summary of the photo.\\n<image>"},
                    {"from": "gpt", "value": "select luxury furniture 3 - inch gel memory foam mattress topper"}]},
                  {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]},
                  {"id": 17, "image": null, "conversations": []}
                ]
                """);
        List<ConversationRecord> records = DataFiles.read(f);
        assertEquals(3, records.size());
        ConversationRecord r0 = records.get(0);
        assertEquals("004539375", r0.id());
        assertEquals("00453/004539375.jpg", r0.image());
        assertEquals(2, r0.conversations().size());
        assertEquals(new Turn("human", "Render a clear and concise summary of the photo.\n<image>"),
                r0.conversations().get(0));
        assertFalse(r0.isMalformed());
        ConversationRecord r1 = records.get(1);
        assertEquals("1", r1.id(), "a record without id gets its index");
        assertNull(r1.image());
        assertFalse(r1.hasImage());
        assertEquals("17", records.get(2).id());
        assertFalse(records.get(2).hasImage());
    }

    @Test
    void readsJsonLinesIgnoringBlankLines() throws IOException {
        Path f = write("data.jsonl", """
                {"id": "a", "image": "x.png", "conversations": [{"from": "human", "value": "<image>"}, {"from": "gpt", "value": "A"}]}

                {"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "B"}]}
                   \t
                {"id": "c", "conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "C"}]}
                """);
        List<ConversationRecord> records = DataFiles.read(f);
        assertEquals(List.of("a", "1", "c"), records.stream().map(ConversationRecord::id).toList());
        assertEquals("x.png", records.get(0).image());
        assertEquals("B", records.get(1).conversations().get(1).value());
    }

    @Test
    void malformedJsonNamesFileAndLine() throws IOException {
        Path f = write("bad.json", """
                [
                  {"id": "a", "conversations": []},
                  {"id": "b", "conversations": [}
                ]
                """);
        DataFormatException e = assertThrows(DataFormatException.class, () -> DataFiles.read(f));
        assertEquals(3, e.line());
        assertEquals(f, e.file());
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());
    }

    @Test
    void malformedJsonLinesNamesTheLine() throws IOException {
        Path f = write("bad.jsonl", "{\"id\": \"a\", \"conversations\": []}\n\n{\"id\": \"b\", \"conversations\": [\n{}\n");
        DataFormatException e = assertThrows(DataFormatException.class, () -> DataFiles.read(f));
        assertEquals(3, e.line());
        assertTrue(e.getMessage().contains("bad.jsonl") && e.getMessage().contains("line 3"), e.getMessage());
    }

    @Test
    void trailingGarbageOnAJsonLineIsAnError() throws IOException {
        Path f = write("bad.jsonl", "{\"id\": \"a\", \"conversations\": []} x\n");
        assertEquals(1, assertThrows(DataFormatException.class, () -> DataFiles.read(f)).line());
    }

    @Test
    void notAListIsAFileError() throws IOException {
        Path f = write("obj.json", "\n  {\"id\": \"a\", \"conversations\": []}\n");
        DataFormatException e = assertThrows(DataFormatException.class, () -> DataFiles.read(f));
        assertEquals(2, e.line());
        assertTrue(e.getMessage().contains("expected a JSON list"), e.getMessage());
    }

    @Test
    void unclosedListAndTrailingContentAreFileErrors() throws IOException {
        Path unclosed = write("unclosed.json", "[\n{\"id\": \"a\", \"conversations\": []},\n");
        assertThrows(DataFormatException.class, () -> DataFiles.read(unclosed));
        Path trailing = write("trailing.json", "[]\n[]\n");
        DataFormatException e = assertThrows(DataFormatException.class, () -> DataFiles.read(trailing));
        assertEquals(2, e.line());
        Path empty = write("empty.json", "  \n");
        assertThrows(DataFormatException.class, () -> DataFiles.read(empty));
    }

    @Test
    void missingFileIsAFileError() {
        DataFormatException e = assertThrows(DataFormatException.class, () -> DataFiles.read(dir.resolve("nope.json")));
        assertTrue(e.getMessage().contains("nope.json"), e.getMessage());
    }

    @Test
    void structuralProblemsMakeTheRecordBadNotTheFile() throws IOException {
        Path f = write("odd.json", """
                [
                  {"id": "no-conv"},
                  {"id": "conv-string", "conversations": "hi"},
                  {"id": "no-from", "conversations": [{"value": "x"}]},
                  {"id": "num-value", "conversations": [{"from": "human", "value": 3}]},
                  {"id": "image-list", "image": ["a.jpg", "b.jpg"], "conversations": []},
                  {"id": ["x"], "conversations": []},
                  42,
                  {"id": "ok", "conversations": [{"from": "robot", "value": "x"}]}
                ]
                """);
        List<ConversationRecord> records = DataFiles.read(f);
        assertEquals(8, records.size());
        for (int i = 0; i < 7; i++) {
            assertTrue(records.get(i).isMalformed(), "record " + i);
        }
        assertEquals("no 'conversations'", records.get(0).defect());
        assertTrue(records.get(2).defect().contains("turn 0 has no string 'from'"), records.get(2).defect());
        assertTrue(records.get(3).defect().contains("'value'"), records.get(3).defect());
        assertTrue(records.get(4).defect().contains("'image' must be a string"), records.get(4).defect());
        assertEquals("5", records.get(5).id(), "an unusable id falls back to the index");
        assertEquals("6", records.get(6).id());
        // Unknown speakers are found when the record is checked, not when it is read.
        assertFalse(records.get(7).isMalformed());
    }
}
