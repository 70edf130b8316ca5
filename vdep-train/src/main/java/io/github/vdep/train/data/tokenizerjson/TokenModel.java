package io.github.vdep.train.data.tokenizerjson;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Map;

/** The {@code model} of {@code tokenizer.json}: turns one pre-tokenized piece into tokens. */
interface TokenModel {

    /** Tokens of one piece: ids and UTF-16 ranges within the piece. */
    final class Tokens {
        final NormalizedText.IntList ids = new NormalizedText.IntList(16);
        final NormalizedText.IntList starts = new NormalizedText.IntList(16);
        final NormalizedText.IntList ends = new NormalizedText.IntList(16);

        void add(int id, int start, int end) {
            ids.add(id);
            starts.add(start);
            ends.add(end);
        }
    }

    /**
     * @param piece a non-empty piece
     * @param out   where its tokens go
     * @throws IllegalArgumentException if the piece cannot be tokenised (no unknown token)
     */
    void tokenize(String piece, Tokens out);

    /** @return the token of an id, or null */
    String idToToken(int id);

    /** @return the model's vocabulary (token to id) */
    Map<String, Integer> vocab();

    /**
     * Reads a model.
     *
     * @param file the tokenizer file (for messages)
     * @param node the JSON object
     * @return the model
     * @throws IllegalArgumentException for an unsupported or malformed one
     */
    static TokenModel parse(Path file, JsonNode node) {
        if (node == null || !node.isObject()) {
            throw Components.invalid(file, "model", "missing");
        }
        String type = node.hasNonNull("type") ? node.get("type").asText()
                : node.has("merges") ? "BPE" : node.has("continuing_subword_prefix") ? "WordPiece" : "WordLevel";
        return switch (type) {
            case "BPE" -> BpeModel.parse(file, node);
            case "WordLevel" -> WordLevelModel.parse(file, node);
            case "WordPiece" -> WordPieceModel.parse(file, node);
            default -> throw Components.unsupported(file, "model", node);
        };
    }

    /** Reads {@code vocab}: an object of token to id. */
    static Map<String, Integer> vocabObject(Path file, JsonNode node) {
        JsonNode v = node.get("vocab");
        if (v == null || !v.isObject()) {
            throw Components.invalid(file, "model", "no model.vocab object");
        }
        Map<String, Integer> vocab = new java.util.HashMap<>(v.size() * 2);
        v.properties().forEach(e -> {
            if (!e.getValue().canConvertToInt()) {
                throw Components.invalid(file, "model", "vocab id of '" + e.getKey() + "' is not an integer");
            }
            vocab.put(e.getKey(), e.getValue().asInt());
        });
        return vocab;
    }

    /** The reverse of a vocabulary. */
    static String[] reverse(Map<String, Integer> vocab) {
        int max = -1;
        for (int id : vocab.values()) {
            max = Math.max(max, id);
        }
        String[] r = new String[max + 1];
        vocab.forEach((k, id) -> {
            if (id >= 0) {
                r[id] = k;
            }
        });
        return r;
    }
}
