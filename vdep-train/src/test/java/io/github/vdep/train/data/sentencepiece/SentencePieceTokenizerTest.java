package io.github.vdep.train.data.sentencepiece;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.vdep.train.data.TokenSpans;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Against python3-sentencepiece (scripts/fixtures/make_sentencepiece_fixture.py): the pieces of
 * the ModelProto, plain SentencePiece encoding and decoding, and Hugging Face's slow
 * LlamaTokenizer with legacy true and false, on the whole corpus.
 */
class SentencePieceTokenizerTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Path DIR = resource("sentencepiece");

    @TempDir
    Path tmp;

    static Path resource(String name) {
        try {
            return Path.of(SentencePieceTokenizerTest.class.getClassLoader().getResource(name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode read(String name) throws IOException {
        return JSON.readTree(DIR.resolve(name).toFile());
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    /** A copy of the fixture directory with tokenizer_config.json edited. */
    Path withConfig(String name, Consumer<ObjectNode> edit) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        for (String f : new String[] {"tokenizer.model", "special_tokens_map.json"}) {
            Files.copy(DIR.resolve(f), dir.resolve(f));
        }
        ObjectNode config = (ObjectNode) read("tokenizer_config.json");
        edit.accept(config);
        JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), config);
        return dir;
    }

    @Test
    void readsEveryPieceOfTheModelProto() throws IOException {
        SentencePieceModel model = SentencePieceModel.load(DIR.resolve("tokenizer.model"));
        JsonNode pieces = read("pieces.json");
        assertEquals(pieces.size(), model.size());
        assertTrue(model.byteFallback());
        assertTrue(model.addDummyPrefix());
        for (JsonNode p : pieces) {
            int id = p.get("id").asInt();
            assertEquals(p.get("piece").asText(), model.piece(id), "piece " + id);
            assertEquals((float) p.get("score").asDouble(), model.score(id), 0f, "score " + id);
            assertEquals(p.get("kind").asText().toUpperCase(java.util.Locale.ROOT), model.kind(id).name(), "kind " + id);
        }
    }

    @Test
    void plainEncodingAndDecodingEqualSentencePiece() throws IOException {
        SentencePieceModel model = SentencePieceModel.load(DIR.resolve("tokenizer.model"));
        for (JsonNode rec : read("encodings.json")) {
            String text = rec.get("text").asText();
            int[] ids = model.encode(text, true).stream().mapToInt(SentencePieceModel.Piece::id).toArray();
            assertArrayEquals(ints(rec.get("sp")), ids, () -> "sp.encode(" + text + ")");
            assertEquals(rec.get("sp_decoded").asText(), model.decode(ids, true), () -> "sp.decode of " + text);
        }
    }

    @Test
    void legacyFalseFromTheConfigEqualsTransformers() throws IOException {
        SentencePieceTokenizer tok = SentencePieceTokenizer.load(DIR);
        assertFalse(tok.legacy());
        assertCorpus(tok, "legacy_false");
    }

    @Test
    void legacyTrueAndAbsentEqualTransformers() throws IOException {
        SentencePieceTokenizer explicit = SentencePieceTokenizer.load(withConfig("true", c -> c.put("legacy", true)));
        assertTrue(explicit.legacy());
        assertCorpus(explicit, "legacy_true");
        SentencePieceTokenizer absent = SentencePieceTokenizer.load(withConfig("absent", c -> c.remove("legacy")).resolve("tokenizer.model"));
        assertTrue(absent.legacy(), "transformers treats a missing legacy as true");
        assertCorpus(absent, "legacy_true");
        SentencePieceTokenizer nulled = SentencePieceTokenizer.load(withConfig("null", c -> c.putNull("legacy")));
        assertTrue(nulled.legacy());
    }

    private static void assertCorpus(SentencePieceTokenizer tok, String key) throws IOException {
        int checked = 0;
        for (JsonNode rec : read("encodings.json")) {
            String text = rec.get("text").asText();
            TokenSpans spans = tok.encodeWithOffsets(text);
            assertArrayEquals(ints(rec.get(key)), spans.ids(), () -> key + " of '" + text + "'");
            assertArrayEquals(spans.ids(), tok.encode(text));
            int prev = 0;
            for (int i = 0; i < spans.size(); i++) {
                assertTrue(spans.starts()[i] >= prev - 4 && spans.starts()[i] <= spans.ends()[i] && spans.ends()[i] <= text.length(),
                        key + ": bad span " + i + " of '" + text + "'");
                prev = spans.ends()[i];
            }
            checked++;
        }
        assertEquals(read("encodings.json").size(), checked);
    }

    @Test
    void specialTokensAndOffsets() throws IOException {
        SentencePieceTokenizer tok = SentencePieceTokenizer.load(withConfig("eos", c -> c.put("add_eos_token", true).put("legacy", true)));
        assertEquals(1, tok.bosId());
        assertEquals(2, tok.eosId());
        assertEquals(0, tok.padId(), "no pad_token: LLaVA pads with unk");
        assertEquals(420, tok.vocabSize());
        int[] plain = tok.encode("Hello world");
        int[] full = tok.encodeWithSpecialTokens("Hello world");
        assertEquals(plain.length + 2, full.length);
        assertEquals(1, full[0]);
        assertEquals(2, full[full.length - 1]);
        assertArrayEquals(new int[] {2}, tok.encode("</s>"), "vicuna_v1's sep2 must be one EOS");
        assertEquals(2, tok.tokenId("</s>").getAsInt());
        assertTrue(tok.tokenId("<image>").isEmpty());
        // offsets: "</s>" in "answer</s>USER" covers exactly its four characters
        String text = "answer</s>USER: next";
        TokenSpans spans = tok.encodeWithOffsets(text);
        int eosAt = -1;
        for (int i = 0; i < spans.size(); i++) {
            if (spans.ids()[i] == 2) {
                eosAt = i;
            }
        }
        assertEquals(6, spans.starts()[eosAt]);
        assertEquals(10, spans.ends()[eosAt]);
        assertEquals("answer</s> USER: next", tok.decode(spans.ids()).replace("</s>▁", "</s> "));
    }

    @Test
    void addedTokensFromTheConfigAreRecognised() throws IOException {
        Path dir = withConfig("added", c -> ((ObjectNode) c.get("added_tokens_decoder")).set("420",
                JSON.createObjectNode().put("content", "<image>").put("special", true)));
        SentencePieceTokenizer tok = SentencePieceTokenizer.load(dir);
        assertEquals(421, tok.vocabSize());
        assertEquals(420, tok.tokenId("<image>").getAsInt());
        int[] ids = tok.encode("look <image> here");
        assertTrue(java.util.Arrays.stream(ids).anyMatch(i -> i == 420), java.util.Arrays.toString(ids));
    }

    @Test
    void unsupportedOrBrokenModelsAreRefusedByName() throws IOException {
        Path junk = Files.write(tmp.resolve("tokenizer.model"), new byte[] {0x0a, 0x7f, 0x01});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SentencePieceModel.load(junk));
        assertTrue(e.getMessage().contains("tokenizer.model"), e.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> SentencePieceModel.load(tmp.resolve("none.model")));
        assertTrue(missing.getMessage().contains("none.model"), missing.getMessage());
    }
}
