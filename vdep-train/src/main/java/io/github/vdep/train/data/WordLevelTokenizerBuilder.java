package io.github.vdep.train.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes a small word-level Hugging Face {@code tokenizer.json}, for synthetic data and tests.
 *
 * <p>The vocabulary starts with the special tokens {@code <unk>}=0, {@code <s>}=1,
 * {@code </s>}=2, {@code <pad>}=3, {@code <image>}=4 (all added special tokens, so they are
 * recognised anywhere in a text), followed by the added words in order. The pre-tokenizer splits
 * text into pieces matching {@link #PIECE_REGEX}: a newline, a run of word characters, or a run of
 * other non-space characters; other whitespace is dropped. So {@code "USER: hi\n"} becomes
 * {@code USER}, {@code :}, {@code hi}, {@code \n}. Unknown pieces become {@code <unk>}.
 */
public final class WordLevelTokenizerBuilder {

    /** The special tokens, in id order starting at 0. */
    public static final List<String> SPECIAL_TOKENS = List.of("<unk>", "<s>", "</s>", "<pad>", "<image>");
    /** How text is split into words (Rust regex syntax, also valid for Java with Unicode classes). */
    public static final String PIECE_REGEX = "\\n|\\w+|[^\\w\\s]+";

    private static final Pattern PIECE = Pattern.compile(PIECE_REGEX, Pattern.UNICODE_CHARACTER_CLASS);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Map<String, Integer> vocab = new LinkedHashMap<>();

    /** Starts with the special tokens only. */
    public WordLevelTokenizerBuilder() {
        for (String s : SPECIAL_TOKENS) {
            vocab.put(s, vocab.size());
        }
    }

    /**
     * Adds a word (ignored when already present).
     *
     * @param word one piece as the pre-tokenizer produces it
     * @return this builder
     * @throws IllegalArgumentException if the pre-tokenizer would never produce {@code word}
     */
    public WordLevelTokenizerBuilder addWord(String word) {
        Objects.requireNonNull(word, "word");
        if (!PIECE.matcher(word).matches()) {
            throw new IllegalArgumentException("'" + word + "' is not a single piece of the pre-tokenizer ("
                    + PIECE_REGEX + ")");
        }
        vocab.putIfAbsent(word, vocab.size());
        return this;
    }

    /**
     * Adds several words.
     *
     * @param words the words
     * @return this builder
     */
    public WordLevelTokenizerBuilder addWords(Collection<String> words) {
        words.forEach(this::addWord);
        return this;
    }

    /**
     * Adds every piece of a text, as the pre-tokenizer would split it (special tokens written in
     * the text are not added as words).
     *
     * @param text the text
     * @return this builder
     */
    public WordLevelTokenizerBuilder addText(String text) {
        for (String piece : split(text)) {
            addWord(piece);
        }
        return this;
    }

    /**
     * Splits a text into the pieces this tokenizer turns into one token each, recognising the
     * special tokens first as the Rust library does.
     *
     * @param text the text
     * @return the pieces, special tokens included
     */
    public static List<String> pieces(String text) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            int next = -1;
            String special = null;
            for (String s : SPECIAL_TOKENS) {
                int at = text.indexOf(s, i);
                if (at >= 0 && (next < 0 || at < next)) {
                    next = at;
                    special = s;
                }
            }
            int end = next < 0 ? text.length() : next;
            Matcher m = PIECE.matcher(text.substring(i, end));
            while (m.find()) {
                out.add(m.group());
            }
            if (special == null) {
                break;
            }
            out.add(special);
            i = next + special.length();
        }
        return out;
    }

    private static List<String> split(String text) {
        List<String> out = new ArrayList<>();
        for (String p : pieces(text)) {
            if (!SPECIAL_TOKENS.contains(p)) {
                out.add(p);
            }
        }
        return out;
    }

    /** @return the vocabulary so far (token to id), in id order */
    public Map<String, Integer> vocabulary() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(vocab));
    }

    /** @return the {@code tokenizer.json} text */
    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String s : SPECIAL_TOKENS) {
            ObjectNode t = added.addObject();
            t.put("id", vocab.get(s));
            t.put("content", s);
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Split");
        pre.putObject("pattern").put("Regex", PIECE_REGEX);
        // Inverted: the pieces are what the pattern matches; everything between them is dropped.
        pre.put("behavior", "Removed");
        pre.put("invert", true);
        root.putNull("post_processor");
        root.putNull("decoder");
        ObjectNode model = root.putObject("model");
        model.put("type", "WordLevel");
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        model.put("unk_token", "<unk>");
        try {
            return JSON.writeValueAsString(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes the {@code tokenizer.json}.
     *
     * @param file where to write it (parent folders are created)
     * @return {@code file}
     * @throws UncheckedIOException if it cannot be written
     */
    public Path write(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(file, toJson());
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write tokenizer " + file + ": " + e.getMessage(), e);
        }
    }
}
