package io.github.vdep.train.data.tokenizerjson;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Map;

/** The WordLevel model: each piece is one vocabulary entry, or the unknown token. */
final class WordLevelModel implements TokenModel {

    private final Path file;
    private final Map<String, Integer> vocab;
    private final String[] reverse;
    private final String unk;

    private WordLevelModel(Path file, Map<String, Integer> vocab, String unk) {
        this.file = file;
        this.vocab = vocab;
        this.reverse = TokenModel.reverse(vocab);
        this.unk = unk;
    }

    static WordLevelModel parse(Path file, JsonNode node) {
        return new WordLevelModel(file, TokenModel.vocabObject(file, node), node.path("unk_token").asText("<unk>"));
    }

    @Override
    public void tokenize(String piece, Tokens out) {
        Integer id = vocab.get(piece);
        if (id == null) {
            id = vocab.get(unk);
            if (id == null) {
                throw new IllegalArgumentException("Tokenizer " + file + ": '" + piece
                        + "' is not in the vocabulary and the unknown token '" + unk + "' is missing");
            }
        }
        out.add(id, 0, piece.length());
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
