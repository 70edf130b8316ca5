package io.github.vdep.train.data.tokenizerjson;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A Hugging Face {@code tokenizer.json} run in plain Java, step for step as the Rust
 * {@code tokenizers} library runs it: added tokens are cut out of the original text, the rest is
 * normalised, pre-tokenized and given to the model; offsets are the original text's UTF-16 ranges.
 *
 * <p>Supported components: models BPE (no dropout), WordLevel, WordPiece; normalizers Sequence,
 * Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase, Strip; pre-tokenizers Sequence, Metaspace,
 * ByteLevel, Split, Whitespace, WhitespaceSplit, Digits, Punctuation, BertPreTokenizer;
 * post-processors TemplateProcessing, ByteLevel, Sequence; decoders Sequence, Replace,
 * ByteFallback, Fuse, Strip, ByteLevel, Metaspace, WordPiece. Any other type is refused when the
 * file is read, with a one-line message naming the file and the type. Truncation and padding
 * settings of the file are ignored (texts are never cut or padded).
 *
 * <p>Immutable and thread-safe.
 */
public final class TokenizerJson {

    private final Path file;
    private final TextNormalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final TokenModel model;
    private final PostProcessor postProcessor;
    private final Decoder decoder;
    private final AddedVocabulary added;
    private final Map<String, Integer> vocab;

    private TokenizerJson(Path file, TextNormalizer normalizer, PreTokenizer preTokenizer, TokenModel model,
            PostProcessor postProcessor, Decoder decoder, AddedVocabulary added) {
        this.file = file;
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.model = model;
        this.postProcessor = postProcessor;
        this.decoder = decoder;
        this.added = added;
        Map<String, Integer> v = new HashMap<>(model.vocab());
        v.putAll(added.ids());
        this.vocab = Map.copyOf(v);
    }

    /**
     * Builds the tokenizer from the parsed {@code tokenizer.json}.
     *
     * @param file the file it came from (named in messages)
     * @param root its JSON
     * @return the tokenizer
     * @throws IllegalArgumentException if a component is unsupported or malformed (one line, naming
     *                                  the file and the component)
     */
    public static TokenizerJson of(Path file, JsonNode root) {
        Objects.requireNonNull(file, "file");
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("Tokenizer " + file + " must hold a JSON object");
        }
        TokenModel model = TokenModel.parse(file, root.get("model"));
        TextNormalizer normalizer = TextNormalizer.parse(file, root.get("normalizer"));
        PreTokenizer pre = PreTokenizer.parse(file, root.get("pre_tokenizer"));
        PostProcessor post = PostProcessor.parse(file, root.get("post_processor"));
        Decoder decoder = Decoder.parse(file, root.get("decoder"));
        AddedVocabulary added = AddedVocabulary.parse(file, root.get("added_tokens"), model, normalizer);
        return new TokenizerJson(file, normalizer, pre, model, post, decoder, added);
    }

    /** @return the file this tokenizer was read from */
    public Path file() {
        return file;
    }

    /** @return the vocabulary, added tokens included (token to id) */
    public Map<String, Integer> vocab() {
        return vocab;
    }

    /**
     * Encodes a text.
     *
     * @param text              the text
     * @param addSpecialTokens  whether the post-processor adds its special tokens (LLaMA's BOS)
     * @return ids, tokens and UTF-16 ranges into {@code text}
     */
    public Encoding encode(String text, boolean addSpecialTokens) {
        Objects.requireNonNull(text, "text");
        Encoding.Builder b = new Encoding.Builder(Math.max(8, text.length() / 3));
        TokenModel.Tokens tokens = new TokenModel.Tokens();
        List<NormalizedText> one = new ArrayList<>(1);
        for (AddedVocabulary.Piece piece : added.extractAndNormalize(text, normalizer)) {
            NormalizedText t = piece.text();
            if (piece.id() >= 0) {
                b.add(piece.id(), t.text(), t.originalStartOf(0), t.originalEndOf(t.text().length()));
                continue;
            }
            List<NormalizedText> parts;
            if (preTokenizer == null) {
                one.clear();
                one.add(t);
                parts = one;
            } else {
                one.clear();
                one.add(t);
                parts = preTokenizer.splitAll(one);
            }
            for (NormalizedText part : parts) {
                String s = part.text();
                if (s.isEmpty()) {
                    continue;
                }
                int mark = tokens.ids.size();
                model.tokenize(s, tokens);
                for (int i = mark; i < tokens.ids.size(); i++) {
                    int id = tokens.ids.get(i);
                    int st = tokens.starts.get(i);
                    int en = tokens.ends.get(i);
                    String tok = model.idToToken(id);
                    if (st < en) {
                        b.add(id, tok, part.originalStartOf(st), part.originalEndOf(en));
                    } else {
                        b.add(id, tok, st, en);
                    }
                }
            }
        }
        Encoding e = b.build();
        return postProcessor == null ? e : postProcessor.process(text, e, addSpecialTokens);
    }

    /**
     * Decodes ids to text: ids without a token are skipped, as in the Rust library.
     *
     * @param ids               the ids
     * @param skipSpecialTokens whether to leave out special added tokens
     * @return the text
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            String t = added.token(id);
            if (t == null) {
                t = model.idToToken(id);
            }
            if (t == null || (skipSpecialTokens && added.isSpecial(t))) {
                continue;
            }
            tokens.add(t);
        }
        if (decoder == null) {
            return String.join(" ", tokens);
        }
        return String.join("", decoder.decodeChain(tokens));
    }
}
