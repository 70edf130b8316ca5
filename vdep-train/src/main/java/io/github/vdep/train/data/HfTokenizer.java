package io.github.vdep.train.data;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.vdep.train.data.tokenizerjson.Encoding;
import io.github.vdep.train.data.tokenizerjson.TokenizerJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link TextTokenizer} over a Hugging Face {@code tokenizer.json}, read and run in plain Java
 * by {@link TokenizerJson} (no native library: it loads on any JVM, whatever the glibc). Ids,
 * offsets and decoded text equal those of Hugging Face's Rust {@code tokenizers} library for the
 * supported components; a file using any other component is refused when loaded, with a message
 * naming the file and the component.
 *
 * <p>Texts are encoded without the post-processor's special tokens, never truncated or padded.
 *
 * <p>Special tokens: explicit {@link SpecialTokenIds} win; otherwise the {@code bos_token},
 * {@code eos_token} and {@code pad_token} of a {@code tokenizer_config.json} beside the
 * {@code tokenizer.json}; otherwise {@code <s>}, {@code </s>} and {@code <pad>} (falling back to
 * the unknown token {@code <unk>}, as LLaVA pads Vicuna with it).
 *
 * <p>Thread-safe. {@link #close()} only marks it closed (there is nothing native to free).
 */
public final class HfTokenizer implements TextTokenizer, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HfTokenizer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path file;
    private final TokenizerJson tokenizer;
    private final Map<String, Integer> vocab;
    private final int vocabSize;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private volatile boolean closed;

    private HfTokenizer(Path file, TokenizerJson tokenizer, Map<String, Integer> vocab, int vocabSize,
            int bosId, int eosId, int padId) {
        this.file = file;
        this.tokenizer = tokenizer;
        this.vocab = vocab;
        this.vocabSize = vocabSize;
        this.bosId = bosId;
        this.eosId = eosId;
        this.padId = padId;
    }

    /**
     * Loads a {@code tokenizer.json} with special tokens found as described in the class comment.
     *
     * @param tokenizerJson the {@code tokenizer.json} file, or a folder holding it
     * @return the tokenizer
     * @throws IllegalArgumentException if the file is not a usable tokenizer (the message names it)
     * @throws UncheckedIOException     if it cannot be read
     */
    public static HfTokenizer load(Path tokenizerJson) {
        return load(tokenizerJson, SpecialTokenIds.AUTO);
    }

    /**
     * Loads a {@code tokenizer.json}.
     *
     * @param tokenizerJson the {@code tokenizer.json} file, or a folder holding it
     * @param special       explicit special token ids (empty values are looked up)
     * @return the tokenizer
     * @throws IllegalArgumentException if the file is not a usable tokenizer or a special token
     *                                  cannot be found (the message names the file)
     * @throws UncheckedIOException     if it cannot be read
     */
    public static HfTokenizer load(Path tokenizerJson, SpecialTokenIds special) {
        Objects.requireNonNull(tokenizerJson, "tokenizerJson");
        Objects.requireNonNull(special, "special");
        Path file = Files.isDirectory(tokenizerJson) ? tokenizerJson.resolve("tokenizer.json") : tokenizerJson;
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("Tokenizer file not found: " + file);
        }
        JsonNode root = readJson(file);
        TokenizerJson hf = TokenizerJson.of(file, root);
        Map<String, Integer> vocab = hf.vocab();
        int maxId = -1;
        for (int id : vocab.values()) {
            maxId = Math.max(maxId, id);
        }
        JsonNode config = readConfig(file.resolveSibling("tokenizer_config.json"));
        int bos = special.bos().isPresent() ? special.bos().getAsInt()
                : require(vocab, file, "BOS", tokenName(config, "bos_token", "<s>"));
        int eos = special.eos().isPresent() ? special.eos().getAsInt()
                : require(vocab, file, "EOS", tokenName(config, "eos_token", "</s>"));
        int pad = special.pad().isPresent() ? special.pad().getAsInt() : padId(vocab, config, eos);

        LOG.info("Loaded tokenizer {} ({} ids; bos={}, eos={}, pad={})", file, maxId + 1, bos, eos, pad);
        return new HfTokenizer(file, hf, vocab, maxId + 1, bos, eos, pad);
    }

    private static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw new IllegalArgumentException("Invalid JSON in tokenizer " + file
                    + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr())
                    + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read tokenizer " + file + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode readConfig(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        JsonNode node = readJson(file);
        return node != null && node.isObject() ? node : null;
    }

    /** A special token's name from tokenizer_config.json (a string or {"content": ...}), else the default. */
    private static String tokenName(JsonNode config, String key, String fallback) {
        if (config == null) {
            return fallback;
        }
        JsonNode n = config.get(key);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (n.isTextual()) {
            return n.textValue();
        }
        if (n.isObject() && n.hasNonNull("content")) {
            return n.get("content").asText();
        }
        return fallback;
    }

    private static int padId(Map<String, Integer> vocab, JsonNode config, int eos) {
        String configured = tokenName(config, "pad_token", null);
        if (configured != null && vocab.containsKey(configured)) {
            return vocab.get(configured);
        }
        if (vocab.containsKey("<pad>")) {
            return vocab.get("<pad>");
        }
        String unk = tokenName(config, "unk_token", "<unk>");
        if (vocab.containsKey(unk)) {
            return vocab.get(unk);
        }
        return eos;
    }

    private static int require(Map<String, Integer> vocab, Path file, String what, String token) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new IllegalArgumentException("Tokenizer " + file + " has no " + what + " token '" + token
                    + "'; give its id explicitly (SpecialTokenIds)");
        }
        return id;
    }

    /** @return the {@code tokenizer.json} this tokenizer was loaded from */
    public Path file() {
        return file;
    }

    @Override
    public int[] encode(String text) {
        return encoding(text).ids();
    }

    @Override
    public TokenSpans encodeWithOffsets(String text) {
        Encoding e = encoding(text);
        return new TokenSpans(e.ids(), e.starts(), e.ends());
    }

    /**
     * Encodes a text as the Rust library does with {@code add_special_tokens} (the
     * post-processor's template, such as LLaMA's BOS).
     *
     * @param text              the text
     * @param addSpecialTokens  whether to apply the post-processor's special tokens
     * @return ids, token strings and UTF-16 ranges into {@code text}
     */
    public Encoding encode(String text, boolean addSpecialTokens) {
        Objects.requireNonNull(text, "text");
        checkOpen();
        return tokenizer.encode(text, addSpecialTokens);
    }

    private Encoding encoding(String text) {
        return encode(text, false);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("Tokenizer " + file + " is closed");
        }
    }

    @Override
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * Decodes ids as the Rust library does; ids without a token are left out.
     *
     * @param ids               token ids
     * @param skipSpecialTokens whether to leave out the special added tokens
     * @return the text
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        Objects.requireNonNull(ids, "ids");
        checkOpen();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0) {
                throw new IllegalArgumentException("Cannot decode negative id " + ids[i] + " at position " + i);
            }
        }
        return tokenizer.decode(ids, skipSpecialTokens);
    }

    @Override
    public int bosId() {
        return bosId;
    }

    @Override
    public int eosId() {
        return eosId;
    }

    @Override
    public int padId() {
        return padId;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public OptionalInt tokenId(String token) {
        Integer id = vocab.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** Marks the tokenizer closed; later calls fail. */
    @Override
    public void close() {
        closed = true;
    }
}
