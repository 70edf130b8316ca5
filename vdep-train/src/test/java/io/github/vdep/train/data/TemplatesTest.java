package io.github.vdep.train.data;

import static io.github.vdep.train.data.DataTestSupport.concat;
import static io.github.vdep.train.data.DataTestSupport.ids;
import static io.github.vdep.train.data.DataTestSupport.repeat;
import static io.github.vdep.train.data.DataTestSupport.words;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Token ids and label masks of both templates, hand-computed with the word-level test tokenizer. */
class TemplatesTest {

    static final int N = 3; // patches per image
    static final String IMG = "<image>";
    static final String X = null; // marks an unsupervised position in label lists

    /** Vicuna's system prompt as the word-level tokenizer splits it. */
    static final List<String> SYSTEM = words("A", "chat", "between", "a", "curious", "user", "and", "an", "artificial",
            "intelligence", "assistant", ".", "The", "assistant", "gives", "helpful", ",", "detailed", ",", "and",
            "polite", "answers", "to", "the", "user", "'", "s", "questions", ".");

    @TempDir
    static Path dir;
    static HfTokenizer tok;
    static Map<String, Integer> vocab;
    static SampleEncoder vicuna;
    static SampleEncoder plain;

    @BeforeAll
    static void setUp() {
        WordLevelTokenizerBuilder b = DataTestSupport.wordLevel();
        vocab = b.vocabulary();
        tok = HfTokenizer.load(b.write(dir.resolve("tokenizer.json")));
        EncodingConfig cfg = new EncodingConfig(vocab.get(IMG), N, 512);
        vicuna = new SampleEncoder(tok, Templates.byName("vicuna_v1"), cfg, Path.of("/images"));
        plain = new SampleEncoder(tok, Templates.byName("plain"), cfg, Path.of("/images"));
    }

    @AfterAll
    static void tearDown() {
        tok.close();
    }

    /** Expected labels: the token's id where the list has a token, -100 where it has {@link #X}. */
    static int[] labels(List<String> supervisedOrNull) {
        int[] out = new int[supervisedOrNull.size()];
        for (int i = 0; i < out.length; i++) {
            String t = supervisedOrNull.get(i);
            out[i] = t == null ? EncodedSample.IGNORE_INDEX : vocab.get(t);
        }
        return out;
    }

    static List<String> unsupervised(int n) {
        return repeat(X, n);
    }

    @Test
    void byName() {
        assertSame(PlainTemplate.INSTANCE, Templates.byName("plain"));
        assertSame(VicunaV1Template.INSTANCE, Templates.byName("vicuna_v1"));
        assertSame(VicunaV1Template.INSTANCE, Templates.byName("v1"));
        assertThrows(IllegalArgumentException.class, () -> Templates.byName("llama_2"));
    }

    @Test
    void plainTemplate() {
        ConversationRecord r = DataTestSupport.imageRecord("p1", "00453/004539375.jpg", "Describe the image briefly.",
                "A red cat.");
        assertEquals(IMG + "A red cat.\n", PlainTemplate.INSTANCE.render(r).text());
        EncodedSample s = plain.encode(r);
        List<String> answer = words("A", "red", "cat", ".", "\n");
        assertArrayEquals(ids(vocab, concat(words("<s>"), repeat(IMG, N), answer)), s.inputIds());
        assertArrayEquals(labels(concat(unsupervised(1 + N), answer)), s.labels());
        assertTrue(s.hasImage());
        assertEquals(Path.of("/images/00453/004539375.jpg"), s.imagePath());
        assertEquals("p1", s.id());
    }

    @Test
    void plainTemplateStructure() {
        ConversationRecord three = new ConversationRecord("t", "a.png", List.of(new Turn("human", IMG),
                new Turn("gpt", "a"), new Turn("human", "b")));
        assertReason(BadRecordReason.TEMPLATE_STRUCTURE, () -> plain.encode(three));
        ConversationRecord textOnly = DataTestSupport.textRecord("t", "What is this?", "A cat.");
        assertReason(BadRecordReason.TEMPLATE_STRUCTURE, () -> plain.encode(textOnly));
        ConversationRecord imageInAnswer = new ConversationRecord("t", "a.png", List.of(new Turn("human", "Describe"),
                new Turn("gpt", IMG + " a cat")));
        assertReason(BadRecordReason.TEMPLATE_STRUCTURE, () -> plain.encode(imageInAnswer));
    }

    @Test
    void vicunaSingleRoundWithImage() {
        ConversationRecord r = DataTestSupport.imageRecord("v1", "cat.png", "What is this?", "It is a cat.");
        String text = VicunaV1Template.INSTANCE.render(r).text();
        assertEquals(VicunaV1Template.SYSTEM + " USER: <image>\nWhat is this? ASSISTANT: It is a cat.</s>", text);
        EncodedSample s = vicuna.encode(r);
        List<String> prompt = concat(words("<s>"), SYSTEM, words("USER", ":"), repeat(IMG, N),
                words("\n", "What", "is", "this", "?", "ASSISTANT", ":"));
        List<String> answer = words("It", "is", "a", "cat", ".", "</s>");
        assertArrayEquals(ids(vocab, concat(prompt, answer)), s.inputIds());
        assertArrayEquals(labels(concat(unsupervised(prompt.size()), answer)), s.labels());
        assertEquals(tok.eosId(), s.labels()[s.labels().length - 1], "the EOS after the answer is supervised");
    }

    @Test
    void vicunaMultiRound() {
        ConversationRecord r = new ConversationRecord("m", "cat.png", List.of(
                new Turn("human", "<image>\nWhat is this?"), new Turn("gpt", "A cat."),
                new Turn("human", "Why is the sky blue?"), new Turn("gpt", "Because of light!"),
                new Turn("human", "Thanks"), new Turn("gpt", "Yes")));
        assertEquals(VicunaV1Template.SYSTEM + " USER: <image>\nWhat is this? ASSISTANT: A cat.</s>"
                + "USER: Why is the sky blue? ASSISTANT: Because of light!</s>USER: Thanks ASSISTANT: Yes</s>",
                VicunaV1Template.INSTANCE.render(r).text());
        EncodedSample s = vicuna.encode(r);
        List<String> p1 = concat(words("<s>"), SYSTEM, words("USER", ":"), repeat(IMG, N),
                words("\n", "What", "is", "this", "?", "ASSISTANT", ":"));
        List<String> a1 = words("A", "cat", ".", "</s>");
        List<String> p2 = words("USER", ":", "Why", "is", "the", "sky", "blue", "?", "ASSISTANT", ":");
        List<String> a2 = words("Because", "of", "light", "!", "</s>");
        List<String> p3 = words("USER", ":", "Thanks", "ASSISTANT", ":");
        List<String> a3 = words("Yes", "</s>");
        assertArrayEquals(ids(vocab, concat(p1, a1, p2, a2, p3, a3)), s.inputIds());
        assertArrayEquals(labels(concat(unsupervised(p1.size()), a1, unsupervised(p2.size()), a2,
                unsupervised(p3.size()), a3)), s.labels());
    }

    @Test
    void vicunaTextOnly() {
        ConversationRecord r = DataTestSupport.textRecord("t", "Where are we?", "home");
        EncodedSample s = vicuna.encode(r);
        List<String> prompt = concat(words("<s>"), SYSTEM, words("USER", ":", "Where", "are", "we", "?", "ASSISTANT",
                ":"));
        List<String> answer = words("home", "</s>");
        assertArrayEquals(ids(vocab, concat(prompt, answer)), s.inputIds());
        assertArrayEquals(labels(concat(unsupervised(prompt.size()), answer)), s.labels());
        assertFalse(s.hasImage());
        assertNull(s.imagePath());
    }

    @Test
    void vicunaSkipsALeadingGptTurnAndRequiresAlternation() {
        ConversationRecord lead = new ConversationRecord("l", null, List.of(new Turn("gpt", "hello"),
                new Turn("human", "Where are we?"), new Turn("gpt", "home")));
        assertArrayEquals(vicuna.encode(DataTestSupport.textRecord("x", "Where are we?", "home")).inputIds(),
                vicuna.encode(lead).inputIds());
        ConversationRecord twoHumans = new ConversationRecord("h", null, List.of(new Turn("human", "hello"),
                new Turn("human", "world"), new Turn("gpt", "home")));
        BadRecordException e = assertReason(BadRecordReason.TEMPLATE_STRUCTURE, () -> vicuna.encode(twoHumans));
        assertEquals("h", e.id());
        assertTrue(e.getMessage().contains("alternate"), e.getMessage());
        ConversationRecord imageInAnswer = new ConversationRecord("g", "a.png", List.of(new Turn("human", "What?"),
                new Turn("gpt", "<image>")));
        assertReason(BadRecordReason.TEMPLATE_STRUCTURE, () -> vicuna.encode(imageInAnswer));
        ConversationRecord imageInSkippedTurn = new ConversationRecord("s", "a.png", List.of(
                new Turn("gpt", "<image>"), new Turn("human", "What?"), new Turn("gpt", "cat")));
        assertReason(BadRecordReason.TEMPLATE_STRUCTURE, () -> vicuna.encode(imageInSkippedTurn));
    }

    @Test
    void imageIsMovedToTheFrontLikePreprocessMultimodal() {
        assertEquals("<image>\nWhat is this?", VicunaV1Template.moveImageToFront("What is this?\n<image>"));
        assertEquals("<image>\nWhat is this?", VicunaV1Template.moveImageToFront("  What is <image>this?  "));
        assertEquals("<image>", VicunaV1Template.moveImageToFront("<image>\n"));
        assertEquals("<image>\nhi", VicunaV1Template.moveImageToFront("\u00a0<image>hi\u00a0"),
                "Python's strip removes non-breaking spaces");
    }

    @Test
    void emptyMessagesFollowGetPrompt() {
        ConversationRecord r = new ConversationRecord("e", null, List.of(new Turn("human", "hello"), new Turn("gpt", ""),
                new Turn("human", "world"), new Turn("gpt", "Yes")));
        assertEquals(VicunaV1Template.SYSTEM + " USER: hello ASSISTANT:USER: world ASSISTANT: Yes</s>",
                VicunaV1Template.INSTANCE.render(r).text());
        assertEquals(2, vicuna.encode(r).supervisedCount());
        ConversationRecord noAnswer = new ConversationRecord("n", null, List.of(new Turn("human", "hello"),
                new Turn("gpt", "")));
        assertReason(BadRecordReason.NOTHING_SUPERVISED, () -> vicuna.encode(noAnswer));
    }

    @Test
    void placeholderCountMustMatchTheImage() {
        ConversationRecord textWithPlaceholder = new ConversationRecord("a", null, List.of(new Turn("human", IMG + "hi"),
                new Turn("gpt", "cat")));
        assertReason(BadRecordReason.PLACEHOLDER_MISMATCH, () -> vicuna.encode(textWithPlaceholder));
        ConversationRecord imageWithout = DataTestSupport.textRecord("b", "hi", "cat");
        ConversationRecord imageWithoutPlaceholder = new ConversationRecord("b", "b.png", imageWithout.conversations());
        assertReason(BadRecordReason.PLACEHOLDER_MISMATCH, () -> vicuna.encode(imageWithoutPlaceholder));
        ConversationRecord two = new ConversationRecord("c", "c.png", List.of(new Turn("human", IMG + IMG),
                new Turn("gpt", "cat")));
        assertReason(BadRecordReason.PLACEHOLDER_MISMATCH, () -> plain.encode(two));
    }

    @Test
    void malformedRecordsAndUnknownSpeakers() {
        ConversationRecord defect = new ConversationRecord("d", null, List.of(), "no 'conversations'");
        BadRecordException e = assertReason(BadRecordReason.MALFORMED, () -> vicuna.encode(defect));
        assertTrue(e.getMessage().contains("no 'conversations'"), e.getMessage());
        ConversationRecord robot = new ConversationRecord("r", null, List.of(new Turn("human", "hi"),
                new Turn("robot", "cat")));
        e = assertReason(BadRecordReason.MALFORMED, () -> vicuna.encode(robot));
        assertTrue(e.getMessage().contains("robot"), e.getMessage());
    }

    @Test
    void vicunaWithLlamaStyleBpeReproducesTokenizerImageToken() {
        Map<String, Integer> v = DataTestSupport.bpeVocab();
        try (HfTokenizer bpe = HfTokenizer.load(DataTestSupport.writeBpeTokenizer(dir))) {
            int image = 999;
            SampleEncoder enc = new SampleEncoder(bpe, new VicunaV1Template("hello"),
                    new EncodingConfig(image, 2, 512), null);
            ConversationRecord r = new ConversationRecord("b", "x.png", List.of(new Turn("human", "hello <image>"),
                    new Turn("gpt", "hello world")));
            // Prompt "hello USER: <image>\nhello ASSISTANT: hello world</s>" in two chunks, each with its own
            // leading "▁"; the first ends with the lone "▁" of "USER: ".
            List<String> chunk1 = words("\u2581hello", "\u2581", "U", "S", "E", "R", ":", "\u2581");
            List<String> chunk2Prompt = words("\u2581", "<0x0A>", "h", "e", "ll", "o", "\u2581", "A", "S", "S", "I", "S",
                    "T", "A", "N", "T", ":");
            List<String> answer = words("\u2581hello", "\u2581world", "</s>");
            EncodedSample s = enc.encode(r);
            int[] expected = concatIds(new int[] {1}, ids(v, chunk1), new int[] {image, image}, ids(v, chunk2Prompt),
                    ids(v, answer));
            assertArrayEquals(expected, s.inputIds());
            int[] expectedLabels = new int[expected.length];
            java.util.Arrays.fill(expectedLabels, EncodedSample.IGNORE_INDEX);
            int[] a = ids(v, answer);
            System.arraycopy(a, 0, expectedLabels, expected.length - a.length, a.length);
            assertArrayEquals(expectedLabels, s.labels(), "exactly the answer tokens and </s>, as LLaVA's arithmetic");
        }
    }

    static int[] concatIds(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] out = new int[n];
        int o = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }

    static BadRecordException assertReason(BadRecordReason reason, org.junit.jupiter.api.function.Executable call) {
        BadRecordException e = assertThrows(BadRecordException.class, call);
        assertEquals(reason.label(), e.reason(), e.getMessage());
        return e;
    }
}
