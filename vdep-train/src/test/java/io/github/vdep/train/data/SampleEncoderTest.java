package io.github.vdep.train.data;

import static io.github.vdep.train.data.TemplatesTest.assertReason;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Placeholder expansion and truncation. */
class SampleEncoderTest {

    @TempDir
    static Path dir;
    static HfTokenizer tok;
    static int image;

    @BeforeAll
    static void setUp() {
        tok = DataTestSupport.wordLevelTokenizer(dir);
        image = tok.tokenId("<image>").getAsInt();
    }

    @AfterAll
    static void tearDown() {
        tok.close();
    }

    static SampleEncoder plain(int patches, int maxLength) {
        return new SampleEncoder(tok, PlainTemplate.INSTANCE, new EncodingConfig(image, patches, maxLength), null);
    }

    // plain: <s>, image x patches, "A red cat . \n" (5 tokens)
    static final ConversationRecord CAPTION = DataTestSupport.imageRecord("c", "cat.png", "Describe", "A red cat.");

    @Test
    void expandsThePlaceholderToNumPatchesImageTokens() {
        EncodedSample s = plain(576, 2048).encode(CAPTION);
        assertEquals(1 + 576 + 5, s.length());
        assertEquals(tok.bosId(), s.inputIds()[0]);
        for (int i = 1; i <= 576; i++) {
            assertEquals(image, s.inputIds()[i]);
            assertEquals(EncodedSample.IGNORE_INDEX, s.labels()[i]);
        }
        assertEquals(5, s.supervisedCount());
        EncodedSample other = new SampleEncoder(tok, PlainTemplate.INSTANCE, new EncodingConfig(32000, 2, 64), null)
                .encode(CAPTION);
        assertArrayEquals(new int[] {32000, 32000}, Arrays.copyOfRange(other.inputIds(), 1, 3));
        assertEquals(Path.of("cat.png"), other.imagePath(), "without an image folder the path is taken as it is");
    }

    @Test
    void noTruncationAtExactlyMaxLength() {
        EncodedSample s = plain(4, 10).encode(CAPTION);
        assertEquals(10, s.length());
        assertEquals(5, s.supervisedCount());
    }

    @Test
    void truncatesAtTheEnd() {
        EncodedSample full = plain(4, 10).encode(CAPTION);
        EncodedSample cut = plain(4, 7).encode(CAPTION);
        assertEquals(7, cut.length());
        assertArrayEquals(Arrays.copyOf(full.inputIds(), 7), cut.inputIds());
        assertArrayEquals(Arrays.copyOf(full.labels(), 7), cut.labels());
        assertEquals(2, cut.supervisedCount());
    }

    @Test
    void aVeryLongConversationIsTokenisedOnlyAsFarAsTheMaximumLength() {
        // about 1.2 million characters of answer; 64 tokens are kept
        String answer = "It is a red cat . ".repeat(70_000);
        ConversationRecord record = DataTestSupport.imageRecord("long", "cat.png", "Describe", answer);
        HostileTokenizer recording = new HostileTokenizer(tok);
        EncodedSample cut = new SampleEncoder(recording, PlainTemplate.INSTANCE, new EncodingConfig(image, 4, 64), null).encode(record);
        assertTrue(recording.longest < 10_000, "the tokenizer saw " + recording.longest + " characters at once");
        // the same tokens as tokenising everything and cutting afterwards
        EncodedSample whole = plain(4, Integer.MAX_VALUE).encode(record);
        assertTrue(whole.length() > 300_000);
        assertArrayEquals(Arrays.copyOf(whole.inputIds(), 64), cut.inputIds());
        assertArrayEquals(Arrays.copyOf(whole.labels(), 64), cut.labels());
    }

    @Test
    void aLongConversationWhoseImageComesTooLateIsBadWithoutTokenisingEverything() {
        ConversationRecord record = new ConversationRecord("late", "cat.png", List.of(new Turn("human", "What is this ? ".repeat(50_000)),
                new Turn("gpt", "cat"), new Turn("human", "<image>"), new Turn("gpt", "red")));
        HostileTokenizer recording = new HostileTokenizer(tok);
        BadRecordException e = assertReason(BadRecordReason.IMAGE_TRUNCATED,
                () -> new SampleEncoder(recording, VicunaV1Template.INSTANCE, new EncodingConfig(image, 4, 64), null).encode(record));
        assertTrue(e.getMessage().contains("removes the image placeholder") && e.getMessage().contains("of more than 64"), e.getMessage());
        assertTrue(recording.longest < 10_000, "the tokenizer saw " + recording.longest + " characters at once");
    }

    @Test
    void truncationInsideTheImageRunMakesTheRecordBad() {
        BadRecordException e = assertReason(BadRecordReason.IMAGE_TRUNCATED, () -> plain(4, 3).encode(CAPTION));
        assertTrue(e.getMessage().contains("truncation at 3 cuts the image placeholder"), e.getMessage());
        assertEquals("c", e.id());
    }

    @Test
    void truncationBeforeTheImageMakesTheRecordBad() {
        SampleEncoder vicuna = new SampleEncoder(tok, VicunaV1Template.INSTANCE, new EncodingConfig(image, 4, 20), null);
        ConversationRecord late = new ConversationRecord("late", "a.png", List.of(new Turn("human", "hello"),
                new Turn("gpt", "world"), new Turn("human", "<image>"), new Turn("gpt", "cat")));
        BadRecordException e = assertReason(BadRecordReason.IMAGE_TRUNCATED, () -> vicuna.encode(late));
        assertTrue(e.getMessage().contains("removes the image placeholder"), e.getMessage());
    }

    @Test
    void truncationRightAfterTheImageLeavesNothingSupervised() {
        BadRecordException e = assertReason(BadRecordReason.NOTHING_SUPERVISED, () -> plain(4, 5).encode(CAPTION));
        assertTrue(e.getMessage().contains("after truncation at 5"), e.getMessage());
    }

    @Test
    void truncatedTextOnlySampleWithoutAnswerIsBad() {
        SampleEncoder vicuna = new SampleEncoder(tok, VicunaV1Template.INSTANCE, new EncodingConfig(image, 4, 8), null);
        assertReason(BadRecordReason.NOTHING_SUPERVISED,
                () -> vicuna.encode(DataTestSupport.textRecord("t", "hello", "world")));
    }

    @Test
    void configIsValidated() {
        assertThrows(IllegalArgumentException.class, () -> new EncodingConfig(-200, 576, 2048));
        assertThrows(IllegalArgumentException.class, () -> new EncodingConfig(32000, 0, 2048));
        assertThrows(IllegalArgumentException.class, () -> new EncodingConfig(32000, 576, 1));
    }

    @Test
    void vicunaChecksThatTheTokenizerKnowsEos() {
        HfTokenizer wrongEos = HfTokenizer.load(dir.resolve("tokenizer.json"), SpecialTokenIds.of(1, 3, 3));
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SampleEncoder(
                    wrongEos, VicunaV1Template.INSTANCE, new EncodingConfig(image, 4, 64), null));
            assertTrue(e.getMessage().contains("</s>"), e.getMessage());
        } finally {
            wrongEos.close();
        }
    }
}
