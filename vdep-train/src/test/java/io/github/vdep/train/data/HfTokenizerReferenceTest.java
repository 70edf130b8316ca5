package io.github.vdep.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.vdep.train.data.tokenizerjson.Encoding;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The pure-Java {@code tokenizer.json} reader against Hugging Face's Rust {@code tokenizers}
 * (DJL 0.38.0, test scope): on every tokenizer the tests build or ship and on variants that use each
 * supported component, every corpus text gives the same ids, token strings, offsets (with and
 * without the post-processor's special tokens), and the same decoding of those ids, with and
 * without special tokens. Where DJL's native library cannot load (glibc older than 2.34) the cases
 * are reported as skipped, with the reason; vdep itself needs no native library for tokenizing.
 */
class HfTokenizerReferenceTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Path RES = resource("tokenizer-json");
    static final String LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    @TempDir
    static Path tmp;

    static List<String> corpus;

    static {
        // DJL would otherwise look for a CUDA build of its library on machines with CUDA.
        if (System.getenv("RUST_FLAVOR") == null && System.getProperty("RUST_FLAVOR") == null) {
            System.setProperty("RUST_FLAVOR", "cpu");
        }
    }

    static Path resource(String name) {
        try {
            return Path.of(HfTokenizerReferenceTest.class.getClassLoader().getResource(name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Why the Rust library cannot load here (its native library needs glibc 2.34), or null. */
    static String rustUnavailable;

    @BeforeAll
    static void loadRustLibrary() throws IOException {
        Path probe = DataTestSupport.wordLevel().write(Files.createDirectories(tmp).resolve("probe.json"));
        try (HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(probe, Map.of())) {
            rustUnavailable = null;
        } catch (LinkageError e) {
            rustUnavailable = e.toString();
        } catch (RuntimeException e) {
            if (!(e.getCause() instanceof LinkageError)) {
                throw e;
            }
            rustUnavailable = e.getCause().toString();
        }
    }

    @BeforeAll
    static void readCorpus() throws IOException {
        corpus = new ArrayList<>();
        JSON.readTree(RES.resolve("corpus.json").toFile()).forEach(n -> corpus.add(n.asText()));
        // The LLaVA system prompt and the test corpora of the data tests.
        corpus.add(VicunaV1Template.SYSTEM + " USER: <image>\nWhat is this? ASSISTANT: It is a red cat.</s>");
        corpus.add(DataTestSupport.CORPUS);
        corpus.add("A chat, between <image>\n\n a user's questions.</s>USER: \u00e9t\u00e9 \uD83D\uDE00!");
        corpus.addAll(randomTexts(Integer.getInteger("tokenizer.fuzz", 200), Long.getLong("tokenizer.seed", 42)));
    }

    /** Seeded random texts built from awkward pieces: words, spaces, tabs, marks, jamo, emoji, special tokens. */
    static List<String> randomTexts(int count, long seed) {
        String[] pieces = {"the", "cat", "USER", "ASSISTANT:", " ", " ", "  ", "   ", "\t", "\n", "\r\n", "</s>", "<s>",
            "<unk>", "<image>", "<|endoftext|>", "[CLS]", "0", "42", "3.14", "1,000", "\u0661\u0662", "\uFF12", "!", "?!",
            "...", "'s", "'re", "don't", "\u00e9", "e\u0301", "\u00c5", "A\u030a", "\u1100\u1161\u11a8", "\uAC00",
            "\u6771\u4eac", "\u3002", "\uD83D\uDE00", "\uD83D\uDC4D\uD83C\uDFFD", "\u200d", "\u2764\ufe0f",
            "\uD83C\uDDEB\uD83C\uDDF7", "\u00a0", "\u3000", "\u2581", "\u0120", "##", "<0x0A>", "\ufb01",
            "\u0130", "\u03a3", "\u00df", "_", "-", "\u2014", "\u00ab", "Hello", "WORLD", "na\u00efve",
            "\u0928\u092e\u0938\u094d\u0924\u0947", "\u0645\u0631\u062d\u0628\u0627", "\uD835\uDD18",
            "\u0301", "x", "qz", "\u00bd", "\u00b2", "\u24b6", "\u216b", "\u0323", "\u0345", "\u05b0", "\u0e01\u0e34",
            "\u1e0b\u0323", "q\u0307\u0323", "\u1100", "\u1161", "\u11a8", "\u00c7\u0301"};
        java.util.Random random = new java.util.Random(seed);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            StringBuilder sb = new StringBuilder();
            int n = 1 + random.nextInt(12);
            for (int k = 0; k < n; k++) {
                sb.append(pieces[random.nextInt(pieces.length)]);
            }
            out.add(sb.toString());
        }
        return out;
    }

    static Stream<Arguments> tokenizers() throws IOException {
        Files.createDirectories(tmp);
        Map<String, Path> all = new LinkedHashMap<>();
        // (a) what the tests build
        all.put("word-level builder", DataTestSupport.wordLevel().write(tmp.resolve("word-level.json")));
        all.put("word-level demo-style builder", new WordLevelTokenizerBuilder().addText(VicunaV1Template.SYSTEM)
                .write(tmp.resolve("word-level-small.json")));
        Path bpeDir = Files.createDirectories(tmp.resolve("bpe-test"));
        all.put("DataTestSupport BPE", DataTestSupport.writeBpeTokenizer(bpeDir));
        // (b) LLaMA/Vicuna
        all.put("llama legacy", RES.resolve("llama-legacy.json"));
        all.put("llama metaspace first", RES.resolve("llama-metaspace.json"));
        variant(all, "llama metaspace always split", "llama-metaspace.json", r -> {
            ((ObjectNode) r.get("pre_tokenizer")).put("prepend_scheme", "always").put("split", true);
            r.set("decoder", JSON.createObjectNode().put("type", "Metaspace").put("replacement", "\u2581")
                    .put("prepend_scheme", "always").put("split", true));
        });
        variant(all, "llama metaspace never", "llama-metaspace.json", r -> {
            ((ObjectNode) r.get("pre_tokenizer")).put("prepend_scheme", "never").put("split", true);
            r.set("decoder", JSON.createObjectNode().put("type", "Metaspace").put("replacement", "\u2581")
                    .put("prepend_scheme", "never").put("split", true));
        });
        variant(all, "llama legacy add_prefix_space metaspace", "llama-metaspace.json", r -> {
            ObjectNode p = (ObjectNode) r.get("pre_tokenizer");
            p.remove("prepend_scheme");
            p.put("add_prefix_space", true);
        });
        variant(all, "llama added tokens", "llama-legacy.json", r -> {
            int next = r.get("model").get("vocab").size();
            ArrayNode added = (ArrayNode) r.get("added_tokens");
            added.add(addedToken(next, "<image>", true, false, false, false, false));
            added.add(addedToken(next + 1, "USER", false, true, false, false, true));
            added.add(addedToken(next + 2, "ASSISTANT:", false, false, true, true, false));
            added.add(addedToken(next + 3, "<|im_start|>", true, false, true, true, false));
            added.add(addedToken(next + 4, "cat", false, false, false, false, true));
        });
        variant(all, "llama ignore_merges, no byte fallback, unfused unk", "llama-legacy.json", r -> {
            ((ObjectNode) r.get("model")).put("ignore_merges", true).put("byte_fallback", false).put("fuse_unk", false);
        });
        variant(all, "llama no byte fallback, fused unk", "llama-legacy.json", r -> {
            ((ObjectNode) r.get("model")).put("byte_fallback", false);
        });
        variant(all, "llama pairs as merges", "llama-legacy.json", r -> {
            ArrayNode pairs = JSON.createArrayNode();
            r.get("model").get("merges").forEach(m -> pairs.add(JSON.createArrayNode()
                    .add(m.asText().split(" ")[0]).add(m.asText().split(" ")[1])));
            ((ObjectNode) r.get("model")).set("merges", pairs);
        });
        // (c) GPT-2 style byte-level BPE
        all.put("gpt2", RES.resolve("gpt2.json"));
        variant(all, "gpt2 prefix space, trimmed offsets", "gpt2.json", r -> {
            ((ObjectNode) r.get("pre_tokenizer")).put("add_prefix_space", true);
            ((ObjectNode) r.get("post_processor")).put("trim_offsets", true);
        });
        variant(all, "gpt2 trimmed offsets without prefix space", "gpt2.json", r -> {
            ((ObjectNode) r.get("post_processor")).put("trim_offsets", true).put("add_prefix_space", false);
        });
        variant(all, "llama-3 style split + byte level", "gpt2.json", r -> r.set("pre_tokenizer", sequence(
                split(regex(LLAMA3_SPLIT), "Isolated", false), byteLevel(false))));
        for (String behavior : List.of("Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous")) {
            for (boolean invert : new boolean[] {false, true}) {
                variant(all, "split regex " + behavior + (invert ? " inverted" : ""), "gpt2.json",
                        r -> r.set("pre_tokenizer", sequence(split(regex("\\s+|\\p{P}"), behavior, invert),
                                byteLevel(false))));
            }
            variant(all, "split string " + behavior, "gpt2.json",
                    r -> r.set("pre_tokenizer", sequence(split(string(" "), behavior, false), byteLevel(false))));
        }
        variant(all, "whitespace, digits, punctuation", "gpt2.json", r -> r.set("pre_tokenizer", sequence(
                JSON.createObjectNode().put("type", "Whitespace"),
                JSON.createObjectNode().put("type", "Digits").put("individual_digits", false),
                JSON.createObjectNode().put("type", "Punctuation").put("behavior", "MergedWithPrevious"),
                byteLevel(false))));
        variant(all, "byte level without regex", "gpt2.json", r -> r.set("pre_tokenizer", byteLevel(false)));
        for (String form : List.of("NFC", "NFD", "NFKC", "NFKD")) {
            variant(all, "normalizer " + form + " + lowercase", "gpt2.json", r -> r.set("normalizer",
                    normalizers(JSON.createObjectNode().put("type", form), JSON.createObjectNode().put("type", "Lowercase"))));
        }
        variant(all, "normalizer strip, replace regex, prepend", "gpt2.json", r -> {
            ObjectNode replace = JSON.createObjectNode().put("type", "Replace").put("content", " ");
            replace.set("pattern", regex("\\s{2,}"));
            r.set("normalizer", normalizers(
                    JSON.createObjectNode().put("type", "Strip").put("strip_left", true).put("strip_right", false),
                    replace, JSON.createObjectNode().put("type", "Prepend").put("prepend", "\u0120")));
        });
        variant(all, "normalizer strip right", "gpt2.json", r -> r.set("normalizer",
                JSON.createObjectNode().put("type", "Strip").put("strip_left", false).put("strip_right", true)));
        all.put("wordpiece", RES.resolve("wordpiece.json"));
        variant(all, "wordpiece bert pre-tokenizer", "wordpiece.json",
                r -> r.set("pre_tokenizer", JSON.createObjectNode().put("type", "BertPreTokenizer")));
        all.put("bpe end_of_word_suffix", RES.resolve("bpe-suffix.json"));
        all.put("bpe continuing_subword_prefix", RES.resolve("bpe-prefix.json"));
        return all.entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tokenizers")
    void equalsHuggingFaceTokenizers(String name, Path file) throws IOException {
        Assumptions.assumeTrue(rustUnavailable == null, "The reference, Hugging Face's Rust tokenizers (DJL 0.38.0), "
                + "cannot load on this machine (its native library needs glibc 2.34): " + rustUnavailable);
        try (HfTokenizer java = HfTokenizer.load(file, SpecialTokenIds.of(0, 0, 0));
                HuggingFaceTokenizer rust = HuggingFaceTokenizer.newInstance(file,
                        Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"))) {
            int checked = 0;
            for (String text : corpus) {
                for (boolean special : new boolean[] {false, true}) {
                    ai.djl.huggingface.tokenizers.Encoding r = rust.encode(text, special, false);
                    Encoding j = java.encode(text, special);
                    String what = name + (special ? " (special tokens)" : "") + " on '" + text + "'";
                    assertArrayEquals(r.getIds(), Arrays.stream(j.ids()).asLongStream().toArray(), what + ": ids");
                    assertArrayEquals(r.getTokens(), j.tokens(), what + ": tokens");
                    assertArrayEquals(utf16(text, r.getCharTokenSpans(), true), j.starts(), what + ": starts");
                    assertArrayEquals(utf16(text, r.getCharTokenSpans(), false), j.ends(), what + ": ends");
                    long[] ids = r.getIds();
                    assertEquals(rust.decode(ids, false), java.decode(j.ids()), what + ": decode");
                    assertEquals(rust.decode(ids, true), java.decode(j.ids(), true), what + ": decode skipping special");
                    checked++;
                }
                TokenSpans spans = java.encodeWithOffsets(text);
                assertArrayEquals(java.encode(text), spans.ids());
            }
            assertTrue(checked >= 2 * 40, "the corpus was encoded");
        }
    }

    /** DJL's code point spans as UTF-16 starts or ends. */
    private static int[] utf16(String text, CharSpan[] spans, boolean starts) {
        int[] out = new int[spans.length];
        for (int i = 0; i < spans.length; i++) {
            if (spans[i] == null) { // a token the post-processor added: Rust's range is (0, 0)
                out[i] = 0;
                continue;
            }
            int cp = starts ? spans[i].getStart() : spans[i].getEnd();
            int cps = text.codePointCount(0, text.length());
            out[i] = cp >= cps ? text.length() : text.offsetByCodePoints(0, cp);
        }
        return out;
    }

    private static void variant(Map<String, Path> all, String name, String base, Consumer<ObjectNode> edit)
            throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(RES.resolve(base).toFile());
        edit.accept(root);
        Path file = tmp.resolve(name.replaceAll("[^A-Za-z0-9]+", "-") + ".json");
        JSON.writeValue(file.toFile(), root);
        all.put(name, file);
    }

    private static ObjectNode addedToken(int id, String content, boolean special, boolean singleWord, boolean lstrip,
            boolean rstrip, boolean normalized) {
        return JSON.createObjectNode().put("id", id).put("content", content).put("single_word", singleWord)
                .put("lstrip", lstrip).put("rstrip", rstrip).put("normalized", normalized).put("special", special);
    }

    private static ObjectNode sequence(JsonNode... parts) {
        ObjectNode s = JSON.createObjectNode().put("type", "Sequence");
        s.putArray("pretokenizers").addAll(Arrays.asList(parts));
        return s;
    }

    private static ObjectNode normalizers(JsonNode... parts) {
        ObjectNode s = JSON.createObjectNode().put("type", "Sequence");
        s.putArray("normalizers").addAll(Arrays.asList(parts));
        return s;
    }

    private static ObjectNode split(JsonNode pattern, String behavior, boolean invert) {
        ObjectNode s = JSON.createObjectNode().put("type", "Split");
        s.set("pattern", pattern);
        return s.put("behavior", behavior).put("invert", invert);
    }

    private static ObjectNode regex(String r) {
        return JSON.createObjectNode().put("Regex", r);
    }

    private static ObjectNode string(String r) {
        return JSON.createObjectNode().put("String", r);
    }

    private static ObjectNode byteLevel(boolean useRegex) {
        return JSON.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true)
                .put("use_regex", useRegex);
    }
}
