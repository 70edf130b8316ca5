package io.github.vdep.train.data;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads LLaVA conversation data: a JSON list of records ({@code [{...}, ...]}, LLaVA's own
 * format) or JSON Lines (a file named {@code *.jsonl}: one record object per line, blank lines
 * ignored).
 *
 * <p>A file that is not valid JSON (or not a list) fails at once with a
 * {@link DataFormatException} naming the file and line. A parseable record that does not have the
 * expected shape is returned with {@link ConversationRecord#defect()} set instead, so that the
 * bad-record policy decides about it. The JSON list is read in a streaming fashion (one record
 * tree at a time), so only the records themselves are held in memory.
 */
public final class DataFiles {

    private static final Logger LOG = LoggerFactory.getLogger(DataFiles.class);
    /** Reads one record at a time from the stream of a JSON list. */
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Reads one line of JSON Lines, which must hold exactly one value. */
    private static final ObjectMapper JSON_LINE = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private DataFiles() {
    }

    /**
     * Reads a data file; {@code .jsonl} files as JSON Lines, anything else as a JSON list.
     *
     * @param file the data file
     * @return the records in file order
     * @throws DataFormatException if the file is missing, unreadable or not valid JSON of the
     *                             expected layout (the message names the file and line)
     */
    public static List<ConversationRecord> read(Path file) {
        Objects.requireNonNull(file, "file");
        if (!Files.exists(file)) {
            throw new DataFormatException(file, -1, -1, "file does not exist", null);
        }
        if (!Files.isRegularFile(file)) {
            throw new DataFormatException(file, -1, -1, "not a regular file", null);
        }
        boolean jsonl = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jsonl");
        List<ConversationRecord> records = jsonl ? readJsonLines(file) : readJsonList(file);
        LOG.info("Read {} records from {}", records.size(), file);
        return records;
    }

    /**
     * Reads a JSON list of records.
     *
     * @param file the data file
     * @return the records in file order
     * @throws DataFormatException as {@link #read(Path)}
     */
    public static List<ConversationRecord> readJsonList(Path file) {
        List<ConversationRecord> records = new ArrayList<>();
        try (InputStream in = Files.newInputStream(file);
                JsonParser p = JSON.getFactory().createParser(in)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw new DataFormatException(file, 1, 1, "the file is empty (expected a JSON list of records)", null);
            }
            if (t != JsonToken.START_ARRAY) {
                JsonLocation at = p.currentTokenLocation();
                throw new DataFormatException(file, at.getLineNr(), at.getColumnNr(),
                        "expected a JSON list of records ('['), found " + describe(t)
                                + " (JSON Lines files must be named *.jsonl)", null);
            }
            while (true) {
                t = p.nextToken();
                if (t == JsonToken.END_ARRAY) {
                    break;
                }
                if (t == null) {
                    JsonLocation at = p.currentLocation();
                    throw new DataFormatException(file, at.getLineNr(), at.getColumnNr(),
                            "unexpected end of file: the list of records is not closed", null);
                }
                JsonNode node = JSON.readTree(p);
                records.add(toRecord(node, records.size()));
            }
            t = p.nextToken();
            if (t != null) {
                JsonLocation at = p.currentTokenLocation();
                throw new DataFormatException(file, at.getLineNr(), at.getColumnNr(),
                        "unexpected content after the list of records: " + describe(t), null);
            }
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw new DataFormatException(file, at == null ? -1 : at.getLineNr(), at == null ? -1 : at.getColumnNr(),
                    "invalid JSON: " + e.getOriginalMessage(), e);
        } catch (NoSuchFileException e) {
            throw new DataFormatException(file, -1, -1, "file does not exist", e);
        } catch (IOException e) {
            throw new DataFormatException(file, -1, -1, "cannot read the file: " + e, e);
        }
        return records;
    }

    /**
     * Reads a JSON Lines file: one record object per line; blank lines are ignored.
     *
     * @param file the data file
     * @return the records in file order
     * @throws DataFormatException as {@link #read(Path)}
     */
    public static List<ConversationRecord> readJsonLines(Path file) {
        List<ConversationRecord> records = new ArrayList<>();
        long lineNo = 0;
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = reader.readLine()) != null) {
                lineNo++;
                if (lineNo == 1 && line.startsWith("\uFEFF")) {
                    line = line.substring(1);
                }
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON_LINE.readTree(line);
                } catch (JsonProcessingException e) {
                    JsonLocation at = e.getLocation();
                    throw new DataFormatException(file, lineNo, at == null ? -1 : at.getColumnNr(),
                            "invalid JSON: " + e.getOriginalMessage(), e);
                }
                records.add(toRecord(node, records.size()));
            }
        } catch (CharacterCodingException e) {
            throw new DataFormatException(file, lineNo + 1, -1, "the file is not valid UTF-8", e);
        } catch (NoSuchFileException e) {
            throw new DataFormatException(file, -1, -1, "file does not exist", e);
        } catch (IOException e) {
            throw new DataFormatException(file, lineNo > 0 ? lineNo : -1, -1, "cannot read the file: " + e, e);
        }
        return records;
    }

    /**
     * Maps one parsed JSON value onto a record; shape problems become the record's defect.
     *
     * @param node  the JSON value of the record
     * @param index the record's 0-based index in its file (its id when it has none)
     * @return the record
     */
    public static ConversationRecord toRecord(JsonNode node, int index) {
        String fallbackId = Integer.toString(index);
        if (node == null || !node.isObject()) {
            return new ConversationRecord(fallbackId, null, List.of(),
                    "record is not a JSON object but " + kind(node));
        }
        String id = fallbackId;
        JsonNode idNode = node.get("id");
        if (idNode != null && !idNode.isNull()) {
            if (idNode.isTextual() || idNode.isNumber()) {
                id = idNode.asText();
            } else {
                return new ConversationRecord(fallbackId, null, List.of(),
                        "'id' must be a string or a number, got " + kind(idNode));
            }
        }
        String image = null;
        JsonNode imageNode = node.get("image");
        if (imageNode != null && !imageNode.isNull()) {
            if (!imageNode.isTextual()) {
                return new ConversationRecord(id, null, List.of(),
                        "'image' must be a string (one image file), got " + kind(imageNode));
            }
            image = imageNode.textValue();
            if (image.isBlank()) {
                return new ConversationRecord(id, null, List.of(), "'image' is empty");
            }
        }
        JsonNode conv = node.get("conversations");
        if (conv == null || conv.isNull()) {
            return new ConversationRecord(id, image, List.of(), "no 'conversations'");
        }
        if (!conv.isArray()) {
            return new ConversationRecord(id, image, List.of(),
                    "'conversations' must be a list, got " + kind(conv));
        }
        List<Turn> turns = new ArrayList<>(conv.size());
        for (int i = 0; i < conv.size(); i++) {
            JsonNode turn = conv.get(i);
            if (!turn.isObject()) {
                return new ConversationRecord(id, image, List.of(),
                        "turn " + i + " is not a JSON object but " + kind(turn));
            }
            JsonNode from = turn.get("from");
            if (from == null || !from.isTextual()) {
                return new ConversationRecord(id, image, List.of(),
                        "turn " + i + " has no string 'from'" + (from == null ? "" : " (got " + kind(from) + ")"));
            }
            JsonNode value = turn.get("value");
            if (value == null || !value.isTextual()) {
                return new ConversationRecord(id, image, List.of(),
                        "turn " + i + " has no string 'value'" + (value == null ? "" : " (got " + kind(value) + ")"));
            }
            turns.add(new Turn(from.textValue(), value.textValue()));
        }
        return new ConversationRecord(id, image, turns, null);
    }

    private static String kind(JsonNode n) {
        if (n == null || n.isMissingNode()) {
            return "nothing";
        }
        return switch (n.getNodeType()) {
            case ARRAY -> "a list";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> n.getNodeType().toString().toLowerCase(Locale.ROOT);
        };
    }

    private static String describe(JsonToken t) {
        return switch (t) {
            case START_OBJECT -> "an object ('{')";
            case START_ARRAY -> "a list ('[')";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.toString();
        };
    }
}
