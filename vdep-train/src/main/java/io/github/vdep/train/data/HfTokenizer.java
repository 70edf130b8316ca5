package io.github.vdep.train.data;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link TextTokenizer} over a Hugging Face {@code tokenizer.json}, run by the Rust
 * {@code tokenizers} library through DJL's {@link HuggingFaceTokenizer}.
 *
 * <p>DJL is used with {@code addSpecialTokens=false}, {@code truncation=false} and
 * {@code padding=false}: DJL otherwise truncates every text to 512 tokens. Its native library
 * ships inside the {@code ai.djl.huggingface:tokenizers} jar for the CPU (linux-x86_64,
 * linux-aarch64, osx-aarch64, win-x86_64) and is extracted to {@code ~/.djl.ai/tokenizers} (or
 * {@code $DJL_CACHE_DIR}); on a machine with CUDA, DJL would instead try to download a CUDA
 * build from {@code publish.djl.ai}, so this class sets the system property
 * {@code RUST_FLAVOR=cpu} unless {@code RUST_FLAVOR} or {@code RUST_LIBRARY_PATH} is already set
 * (as an environment variable or system property). Tokenisation never needs the GPU.
 *
 * <p>Special tokens: explicit {@link SpecialTokenIds} win; otherwise the {@code bos_token},
 * {@code eos_token} and {@code pad_token} of a {@code tokenizer_config.json} beside the
 * {@code tokenizer.json}; otherwise {@code <s>}, {@code </s>} and {@code <pad>} (falling back to
 * the unknown token {@code <unk>}, as LLaVA pads Vicuna with it).
 *
 * <p>Thread-safe for encoding and decoding; close it once, when no other thread uses it.
 */
public final class HfTokenizer implements TextTokenizer, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HfTokenizer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> DJL_OPTIONS = Map.of(
            "addSpecialTokens", "false",
            "truncation", "false",
            "padding", "false");

    static {
        configureNativeLibrary();
    }

    private final Path file;
    private final HuggingFaceTokenizer tokenizer;
    private final Map<String, Integer> vocab;
    private final int vocabSize;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private volatile boolean closed;

    private HfTokenizer(Path file, HuggingFaceTokenizer tokenizer, Map<String, Integer> vocab, int vocabSize,
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
     * Makes DJL use the CPU build of the tokenizers library that its jar carries, so nothing is
     * downloaded at run time. Does nothing when the user chose a flavour or a library path.
     */
    static void configureNativeLibrary() {
        if (isSet("RUST_FLAVOR") || isSet("RUST_LIBRARY_PATH")) {
            return;
        }
        System.setProperty("RUST_FLAVOR", "cpu");
    }

    private static boolean isSet(String key) {
        String env = System.getenv(key);
        return (env != null && !env.isEmpty()) || System.getProperty(key) != null;
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
        Map<String, Integer> vocab = vocabulary(root, file);
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

        HuggingFaceTokenizer hf = open(file);
        LOG.info("Loaded tokenizer {} ({} ids; bos={}, eos={}, pad={})", file, maxId + 1, bos, eos, pad);
        return new HfTokenizer(file, hf, Map.copyOf(vocab), maxId + 1, bos, eos, pad);
    }

    private static HuggingFaceTokenizer open(Path file) {
        try {
            return HuggingFaceTokenizer.newInstance(file, DJL_OPTIONS);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read tokenizer " + file + ": " + e.getMessage(), e);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new IllegalStateException("Cannot load the Hugging Face tokenizers native library (DJL "
                    + "ai.djl.huggingface:tokenizers) for " + file + ": " + e.getMessage()
                    + ". The jar carries CPU builds for linux-x86_64/aarch64, osx-aarch64 and win-x86_64; set "
                    + "RUST_LIBRARY_PATH to a libtokenizers built for this platform otherwise.", e);
        } catch (RuntimeException e) {
            // The Rust side reports malformed files as plain runtime exceptions.
            throw new IllegalArgumentException("Cannot load tokenizer " + file + ": " + e.getMessage(), e);
        }
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

    /** Vocabulary of the model (BPE, WordLevel, WordPiece: an object; Unigram: a list) and the added tokens. */
    private static Map<String, Integer> vocabulary(JsonNode root, Path file) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("Tokenizer " + file + " must hold a JSON object");
        }
        Map<String, Integer> vocab = new HashMap<>();
        JsonNode model = root.path("model");
        JsonNode v = model.path("vocab");
        if (v.isObject()) {
            v.fields().forEachRemaining(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        } else if (v.isArray()) {
            for (int i = 0; i < v.size(); i++) {
                JsonNode entry = v.get(i);
                vocab.put(entry.isArray() ? entry.path(0).asText() : entry.asText(), i);
            }
        } else {
            throw new IllegalArgumentException("Tokenizer " + file + " has no model.vocab");
        }
        for (JsonNode added : root.path("added_tokens")) {
            if (added.hasNonNull("content") && added.hasNonNull("id")) {
                vocab.put(added.get("content").asText(), added.get("id").asInt());
            }
        }
        return vocab;
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
        Encoding e = encoding(text);
        return toInts(e.getIds());
    }

    @Override
    public TokenSpans encodeWithOffsets(String text) {
        Encoding e = encoding(text);
        int[] ids = toInts(e.getIds());
        CharSpan[] spans = e.getCharTokenSpans();
        int[] starts = new int[ids.length];
        int[] ends = new int[ids.length];
        // The Rust library counts Unicode code points; Java strings index UTF-16 units.
        int[] cpToChar = codePointToCharIndex(text);
        int prevEnd = 0;
        for (int i = 0; i < ids.length; i++) {
            CharSpan s = spans == null || i >= spans.length ? null : spans[i];
            if (s == null) {
                starts[i] = prevEnd;
                ends[i] = prevEnd;
            } else {
                starts[i] = toCharIndex(cpToChar, s.getStart(), text.length());
                ends[i] = Math.max(starts[i], toCharIndex(cpToChar, s.getEnd(), text.length()));
            }
            prevEnd = ends[i];
        }
        return new TokenSpans(ids, starts, ends);
    }

    private Encoding encoding(String text) {
        Objects.requireNonNull(text, "text");
        if (closed) {
            throw new IllegalStateException("Tokenizer " + file + " is closed");
        }
        return tokenizer.encode(text, false, false);
    }

    private static int[] codePointToCharIndex(String text) {
        int cps = text.codePointCount(0, text.length());
        if (cps == text.length()) {
            return null;
        }
        int[] map = new int[cps + 1];
        int ci = 0;
        for (int cp = 0; cp < cps; cp++) {
            map[cp] = ci;
            ci += Character.charCount(text.codePointAt(ci));
        }
        map[cps] = text.length();
        return map;
    }

    private static int toCharIndex(int[] cpToChar, int cp, int length) {
        if (cp <= 0) {
            return 0;
        }
        if (cpToChar == null) {
            return Math.min(cp, length);
        }
        return cp >= cpToChar.length ? length : cpToChar[cp];
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        Objects.requireNonNull(ids, "ids");
        if (closed) {
            throw new IllegalStateException("Tokenizer " + file + " is closed");
        }
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0) {
                throw new IllegalArgumentException("Cannot decode negative id " + ids[i] + " at position " + i);
            }
            l[i] = ids[i];
        }
        return tokenizer.decode(l, false);
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

    /** Frees the native tokenizer; later calls fail. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            tokenizer.close();
        }
    }
}
