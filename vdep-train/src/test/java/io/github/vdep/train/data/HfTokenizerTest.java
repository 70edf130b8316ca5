package io.github.vdep.train.data;

import static io.github.vdep.train.data.DataTestSupport.ids;
import static io.github.vdep.train.data.DataTestSupport.words;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfTokenizerTest {

    @TempDir
    Path dir;

    private HfTokenizer tok;
    private Map<String, Integer> vocab;

    @BeforeEach
    void setUp() {
        WordLevelTokenizerBuilder b = DataTestSupport.wordLevel();
        vocab = b.vocabulary();
        tok = HfTokenizer.load(b.write(dir.resolve("tokenizer.json")));
    }

    @AfterEach
    void tearDown() {
        tok.close();
    }

    @Test
    void builderLaysOutTheSpecialTokensFirst() {
        assertEquals(List.of("<unk>", "<s>", "</s>", "<pad>", "<image>"), vocab.keySet().stream().limit(5).toList());
        assertEquals(0, vocab.get("<unk>"));
        assertEquals(4, vocab.get("<image>"));
        assertEquals(5, vocab.get("A"), "then the words in order of first appearance");
        assertEquals(vocab.size(), tok.vocabSize());
        assertThrows(IllegalArgumentException.class, () -> new WordLevelTokenizerBuilder().addWord("two words"));
    }

    @Test
    void builderPiecesMatchTheRustPreTokenizer() {
        String text = "A chat, between <image>\n\n a user's questions.</s>USER: \u00e9t\u00e9 \uD83D\uDE00!";
        List<String> pieces = WordLevelTokenizerBuilder.pieces(text);
        assertEquals(List.of("A", "chat", ",", "between", "<image>", "\n", "\n", "a", "user", "'", "s", "questions",
                ".", "</s>", "USER", ":", "\u00e9t\u00e9", "\uD83D\uDE00!"), pieces);
        int[] expected = pieces.stream().mapToInt(p -> vocab.getOrDefault(p, 0)).toArray();
        assertArrayEquals(expected, tok.encode(text));
    }

    @Test
    void specialTokenIds() {
        assertEquals(1, tok.bosId());
        assertEquals(2, tok.eosId());
        assertEquals(3, tok.padId());
        assertEquals(OptionalInt.of(4), tok.tokenId("<image>"));
        assertEquals(OptionalInt.empty(), tok.tokenId("nonexistent"));
        HfTokenizer explicit = HfTokenizer.load(dir.resolve("tokenizer.json"), SpecialTokenIds.of(7, 8, 9));
        try {
            assertEquals(7, explicit.bosId());
            assertEquals(8, explicit.eosId());
            assertEquals(9, explicit.padId());
        } finally {
            explicit.close();
        }
    }

    @Test
    void tokenizerConfigNamesThePadToken(@TempDir Path other) throws IOException {
        DataTestSupport.wordLevel().write(other.resolve("tokenizer.json"));
        Files.writeString(other.resolve("tokenizer_config.json"),
                "{\"bos_token\": {\"content\": \"<s>\"}, \"eos_token\": \"</s>\", \"pad_token\": \"<unk>\"}");
        try (HfTokenizer t = HfTokenizer.load(other)) {
            assertEquals(0, t.padId());
            assertEquals(1, t.bosId());
        }
    }

    @Test
    void encodesWordsPunctuationNewlinesAndSpecialTokens() {
        assertArrayEquals(ids(vocab, words("What", "is", "this", "?", "\n", "It", "is", "a", "cat", ".", "</s>", "USER",
                ":")), tok.encode("What is this?\nIt is a cat.</s>USER:"));
        assertArrayEquals(new int[] {vocab.get("<image>"), 0, vocab.get("cat")}, tok.encode("<image> zebra cat"));
        assertArrayEquals(new int[0], tok.encode(""));
    }

    @Test
    void offsetsAreJavaCharIndices() {
        String text = "\uD83D\uDE00 \u00e9t\u00e9\ncat";
        TokenSpans s = tok.encodeWithOffsets(text);
        assertArrayEquals(ids(vocab, words("\uD83D\uDE00", "\u00e9t\u00e9", "\n", "cat")), s.ids());
        assertArrayEquals(new int[] {0, 3, 6, 7}, s.starts());
        assertArrayEquals(new int[] {2, 6, 7, 10}, s.ends());
    }

    @Test
    void doesNotTruncateLongTexts() {
        String text = "hello world ".repeat(1500);
        assertEquals(3000, tok.encode(text).length, "texts are never truncated (tokenizer.json truncation is ignored)");
    }

    @Test
    void decodeKeepsSpecialTokens() {
        assertEquals("It is </s>", tok.decode(ids(vocab, words("It", "is", "</s>"))));
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {-100}));
    }

    @Test
    void bpeTokenizerAddsLlamaStyleLeadingSpacePerText() {
        Map<String, Integer> v = DataTestSupport.bpeVocab();
        try (HfTokenizer bpe = HfTokenizer.load(DataTestSupport.writeBpeTokenizer(dir))) {
            assertArrayEquals(ids(v, words("\u2581hello", "\u2581world")), bpe.encode("hello world"));
            // Every separately encoded text gets the "▁" prefix, so a chunk starting with a newline
            // begins with a lone "▁" (as LLaMA's tokenizer does after <image> in LLaVA).
            assertArrayEquals(ids(v, words("\u2581", "<0x0A>", "h", "e", "ll", "o")), bpe.encode("\nhello"));
            assertArrayEquals(ids(v, words("\u2581hello", "</s>", "\u2581world")), bpe.encode("hello</s>world"));
            TokenSpans s = bpe.encodeWithOffsets("hello world");
            assertArrayEquals(new int[] {0, 5}, s.starts(), "the second token's range includes its space");
            assertEquals("hello world", bpe.decode(bpe.encode("hello world")));
            assertEquals(1, bpe.bosId());
            assertEquals(0, bpe.padId(), "no <pad>: the unknown token pads, as LLaVA does for Vicuna");
        }
    }

    @Test
    void badFilesAreNamed() throws IOException {
        Path notJson = Files.writeString(dir.resolve("broken.json"), "{\"model\": ");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.load(notJson));
        assertTrue(e.getMessage().contains("broken.json"), e.getMessage());
        Path noVocab = Files.writeString(dir.resolve("novocab.json"), "{\"model\": {\"type\": \"BPE\"}}");
        e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.load(noVocab));
        assertTrue(e.getMessage().contains("novocab.json"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.load(dir.resolve("missing.json")));
        assertTrue(e.getMessage().contains("missing.json"), e.getMessage());
    }

    @Test
    void unsupportedComponentsAreRefusedInOneLineNamingFileAndType() throws IOException {
        String bpe = Files.readString(DataTestSupport.writeBpeTokenizer(dir));
        String[][] cases = {
            {"unigram.json", bpe.replace("\"type\":\"BPE\"", "\"type\":\"Unigram\""), "model type 'Unigram'"},
            {"bert-normalizer.json", bpe.replace("\"normalizer\":{\"type\":\"Sequence\"", "\"normalizer\":{\"type\":\"BertNormalizer\""),
                "normalizer type 'BertNormalizer'"},
            {"char-delimiter.json", bpe.replace("\"pre_tokenizer\":null", "\"pre_tokenizer\":{\"type\":\"CharDelimiterSplit\"}"),
                "pre_tokenizer type 'CharDelimiterSplit'"},
            {"roberta.json", bpe.replace("\"post_processor\":null", "\"post_processor\":{\"type\":\"RobertaProcessing\"}"),
                "post_processor type 'RobertaProcessing'"},
            {"ctc.json", bpe.replace("\"decoder\":{\"type\":\"Sequence\"", "\"decoder\":{\"type\":\"CTC\""), "decoder type 'CTC'"},
            {"dropout.json", bpe.replace("\"dropout\":null", "\"dropout\":0.1"), "BPE dropout 0.1"},
        };
        for (String[] c : cases) {
            assertTrue(!c[1].equals(bpe), c[0] + ": the edit applies");
            Path file = Files.writeString(dir.resolve(c[0]), c[1]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.load(file));
            assertTrue(e.getMessage().contains(c[0]) && e.getMessage().contains(c[2]) && !e.getMessage().contains("\n"),
                    c[0] + ": " + e.getMessage());
        }
    }

    @Test
    void closedTokenizerRefusesWork() {
        tok.close();
        tok.close();
        assertThrows(IllegalStateException.class, () -> tok.encode("cat"));
    }
}
