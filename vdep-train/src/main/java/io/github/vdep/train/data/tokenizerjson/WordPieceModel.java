package io.github.vdep.train.data.tokenizerjson;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Map;

/** The WordPiece model (BERT): greedy longest-match-first, continuations prefixed with {@code ##}. */
final class WordPieceModel implements TokenModel {

    private final Path file;
    private final Map<String, Integer> vocab;
    private final String[] reverse;
    private final String unk;
    private final String prefix;
    private final int maxChars;

    private WordPieceModel(Path file, Map<String, Integer> vocab, String unk, String prefix, int maxChars) {
        this.file = file;
        this.vocab = vocab;
        this.reverse = TokenModel.reverse(vocab);
        this.unk = unk;
        this.prefix = prefix;
        this.maxChars = maxChars;
    }

    static WordPieceModel parse(Path file, JsonNode node) {
        return new WordPieceModel(file, TokenModel.vocabObject(file, node), node.path("unk_token").asText("[UNK]"),
                node.path("continuing_subword_prefix").asText("##"), node.path("max_input_chars_per_word").asInt(100));
    }

    @Override
    public void tokenize(String piece, Tokens out) {
        if (piece.codePointCount(0, piece.length()) > maxChars) {
            out.add(unkId(), 0, piece.length());
            return;
        }
        int start = 0;
        Tokens local = new Tokens();
        while (start < piece.length()) {
            int end = piece.length();
            boolean found = false;
            while (start < end) {
                String sub = start > 0 ? prefix + piece.substring(start, end) : piece.substring(start, end);
                Integer id = vocab.get(sub);
                if (id != null) {
                    local.add(id, start, end);
                    found = true;
                    break;
                }
                end -= Character.charCount(piece.codePointBefore(end));
            }
            if (!found) {
                out.add(unkId(), 0, piece.length());
                return;
            }
            start = end;
        }
        for (int i = 0; i < local.ids.size(); i++) {
            out.add(local.ids.get(i), local.starts.get(i), local.ends.get(i));
        }
    }

    private int unkId() {
        Integer id = vocab.get(unk);
        if (id == null) {
            throw new IllegalArgumentException("Tokenizer " + file + ": the unknown token '" + unk + "' is missing");
        }
        return id;
    }

    @Override
    public String idToToken(int id) {
        return id >= 0 && id < reverse.length ? reverse[id] : null;
    }

    @Override
    public Map<String, Integer> vocab() {
        return vocab;
    }
}
