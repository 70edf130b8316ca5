package io.github.vdep.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.train.data.image.ClipImageProcessor;
import io.github.vdep.train.data.image.ImageAspect;
import io.github.vdep.train.data.image.ImageProcessorConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class LlavaDataLoaderTest {

    static final int PATCHES = 4;
    static final int SIZE = 16;

    @TempDir
    static Path dir;
    static Path images;
    static HfTokenizer tok;
    static int imageId;
    static ClipImageProcessor processor;
    static List<ConversationRecord> records;

    static final String[] ANSWERS = {"It is a red cat.", "Yes", "Because of light!", "no", "Tell me more",
        "A cat.", "It is home.", "hello world", "Where are we?", "Thanks"};

    @BeforeAll
    static void setUp() {
        tok = DataTestSupport.wordLevelTokenizer(dir);
        imageId = tok.tokenId("<image>").getAsInt();
        processor = new ClipImageProcessor(ImageProcessorConfig.clip(SIZE), ImageAspect.PAD);
        images = dir.resolve("images");
        records = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            if (i % 2 == 0) {
                String file = "sub/r" + i + ".png";
                DataTestSupport.writePng(images.resolve(file), 12 + 3 * i, 20 - i, i);
                records.add(DataTestSupport.imageRecord("r" + i, file, "What is this?", ANSWERS[i]));
            } else {
                records.add(DataTestSupport.textRecord("r" + i, "Why is the sky blue?", ANSWERS[i]));
            }
        }
    }

    @AfterAll
    static void tearDown() {
        tok.close();
    }

    static DataLoaderConfig config(int batch) {
        return DataLoaderConfig.of(batch, new EncodingConfig(imageId, PATCHES, 256)).withShuffle(true, 7);
    }

    static LlavaDataLoader loader(List<ConversationRecord> recs, DataLoaderConfig cfg, DataPosition start) {
        return loader(recs, cfg, start, new HostileTokenizer(tok));
    }

    static LlavaDataLoader loader(List<ConversationRecord> recs, DataLoaderConfig cfg, DataPosition start, TextTokenizer tokenizer) {
        return new LlavaDataLoader(recs, tokenizer, VicunaV1Template.INSTANCE, processor, images, cfg, start);
    }

    static List<Batch> take(LlavaDataLoader l, int n) {
        List<Batch> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(l.next());
        }
        return out;
    }

    static void assertSameBatches(List<Batch> expected, List<Batch> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            Batch a = expected.get(i);
            Batch b = actual.get(i);
            String where = "batch " + i;
            assertEquals(a.sampleIds(), b.sampleIds(), where);
            assertEquals(a.position(), b.position(), where);
            assertEquals(a.inputIds(), b.inputIds(), where);
            assertEquals(a.attentionMask(), b.attentionMask(), where);
            assertEquals(a.labels(), b.labels(), where);
            assertEquals(a.pixelValues(), b.pixelValues(), where);
            assertArrayEquals(a.imageSample(), b.imageSample(), where);
        }
    }

    static List<String> expectedOrder(int size, long seed, int epoch) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            idx.add(i);
        }
        Collections.shuffle(idx, new Random(seed + epoch));
        return idx.stream().map(i -> "r" + i).toList();
    }

    @Test
    void shuffledOrderIsDeterministicPerSeedAndEpoch() {
        List<String> seen = new ArrayList<>();
        try (LlavaDataLoader l = loader(records, config(3), DataPosition.START)) {
            for (Batch b : take(l, 8)) {
                seen.addAll(b.sampleIds());
            }
        }
        List<String> expected = new ArrayList<>(expectedOrder(10, 7, 0));
        expected.addAll(expectedOrder(10, 7, 1));
        assertEquals(expected, seen);
        assertNotEquals(expectedOrder(10, 7, 0), expectedOrder(10, 7, 1));
        try (LlavaDataLoader l = loader(records, config(3).withShuffle(false, 7), DataPosition.START)) {
            assertEquals(List.of("r0", "r1", "r2"), l.next().sampleIds());
        }
    }

    @Test
    void batchesStopAtEpochBoundaries() {
        try (LlavaDataLoader l = loader(records, config(3), DataPosition.START)) {
            assertEquals(10, l.epochSize());
            List<DataPosition> positions = take(l, 6).stream().map(Batch::position).toList();
            assertEquals(List.of(new DataPosition(0, 3), new DataPosition(0, 6), new DataPosition(0, 9),
                    new DataPosition(0, 10), new DataPosition(1, 3), new DataPosition(1, 6)), positions);
            assertEquals(1, l.epoch());
            assertEquals(new DataPosition(1, 6), l.position());
        }
        try (LlavaDataLoader l = loader(records, config(3), DataPosition.START)) {
            assertEquals(1, take(l, 4).get(3).size(), "the last batch of an epoch is smaller");
        }
    }

    @Test
    void collationShapesPaddingAndImages() {
        try (LlavaDataLoader l = loader(records, config(4).withShuffle(false, 0), DataPosition.START)) {
            Batch b = l.next(); // r0 (image), r1, r2 (image), r3
            assertEquals(List.of("r0", "r1", "r2", "r3"), b.sampleIds());
            assertEquals(DataType.LONG, b.inputIds().dataType());
            assertEquals(DataType.LONG, b.attentionMask().dataType());
            assertEquals(DataType.LONG, b.labels().dataType());
            assertEquals(DataType.FLOAT, b.pixelValues().dataType());
            assertArrayEquals(new long[] {2, 3, SIZE, SIZE}, b.pixelValues().shape());
            assertArrayEquals(new int[] {0, 2}, b.imageSample());
            SampleEncoder enc = new SampleEncoder(tok, VicunaV1Template.INSTANCE,
                    new EncodingConfig(imageId, PATCHES, 256), images);
            int longest = 0;
            for (int i = 0; i < 4; i++) {
                longest = Math.max(longest, enc.encode(records.get(i)).length());
            }
            assertArrayEquals(new long[] {4, longest}, b.inputIds().shape());
            for (int i = 0; i < 4; i++) {
                EncodedSample s = enc.encode(records.get(i));
                long[] ids = b.inputIds().getRow(i).toLongVector();
                long[] mask = b.attentionMask().getRow(i).toLongVector();
                long[] labels = b.labels().getRow(i).toLongVector();
                for (int t = 0; t < longest; t++) {
                    boolean real = t < s.length();
                    assertEquals(real ? s.inputIds()[t] : tok.padId(), ids[t], "ids " + i + "," + t);
                    assertEquals(real ? 1 : 0, mask[t], "mask " + i + "," + t);
                    assertEquals(real ? s.labels()[t] : -100, labels[t], "labels " + i + "," + t);
                }
            }
            INDArray expected0 = processor.processToTensor(ClipImageProcessor.load(images.resolve("sub/r0.png")));
            assertEquals(expected0, b.pixelValues().get(org.nd4j.linalg.indexing.NDArrayIndex.point(0)));
            assertEquals(b.labels().neq(-100).castTo(DataType.LONG).sumNumber().longValue(), b.supervisedTokens());
        }
    }

    @Test
    void textOnlyDataNeedsNoImageProcessor() {
        List<ConversationRecord> text = records.stream().filter(r -> !r.hasImage()).toList();
        try (LlavaDataLoader l = new LlavaDataLoader(text, tok, VicunaV1Template.INSTANCE, null, null, config(2),
                DataPosition.START)) {
            Batch b = l.next();
            assertNull(b.pixelValues());
            assertEquals(0, b.imageSample().length);
        }
        try (LlavaDataLoader l = new LlavaDataLoader(records, tok, VicunaV1Template.INSTANCE, null, images,
                config(10).withShuffle(false, 0), DataPosition.START)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, l::next);
            assertTrue(e.getMessage().contains("'r0'") && e.getMessage().contains("no image processor"), e.getMessage());
        }
    }

    @Test
    void resumesExactlyFromADataPosition() {
        List<ConversationRecord> withBad = new ArrayList<>(records);
        withBad.add(new ConversationRecord("bad", "missing.png", List.of(new Turn("human", "<image>"),
                new Turn("gpt", "cat"))));
        List<Batch> full;
        try (LlavaDataLoader l = loader(withBad, config(3), DataPosition.START)) {
            full = take(l, 9);
        }
        for (int k : new int[] {0, 2, 3, 5}) {
            try (LlavaDataLoader l = loader(withBad, config(3), full.get(k).position())) {
                assertSameBatches(full.subList(k + 1, full.size()), take(l, full.size() - k - 1));
            }
        }
        try (LlavaDataLoader l = loader(withBad, config(3), new DataPosition(0, withBad.size()))) {
            List<String> epoch1 = new ArrayList<>();
            for (int i : BatchProducer.epochOrder(withBad.size(), true, 7, 1)) {
                if (!withBad.get(i).id().equals("bad")) {
                    epoch1.add(withBad.get(i).id());
                }
            }
            Batch b = l.next();
            assertEquals(epoch1.subList(0, 3), b.sampleIds(), "resuming at the end of an epoch starts the next one");
            assertEquals(1, b.position().epoch());
        }
        assertThrows(IllegalArgumentException.class, () -> loader(withBad, config(3), new DataPosition(0, 12)));
    }

    @Test
    void prefetchAndWorkersDoNotChangeTheBatches() {
        List<ConversationRecord> withBad = new ArrayList<>(records);
        withBad.add(3, new ConversationRecord("bad", null, List.of(new Turn("human", "x"), new Turn("human", "y"))));
        List<Batch> reference;
        long skipped;
        try (LlavaDataLoader l = loader(withBad, config(3).withPrefetch(0, 0), DataPosition.START)) {
            reference = take(l, 9);
            skipped = l.badRecords().total();
        }
        assertTrue(skipped >= 2, "once in each of epochs 0 and 1");
        int[][] settings = {{0, 3}, {1, 0}, {2, 1}, {4, 3}};
        for (int[] s : settings) {
            try (LlavaDataLoader l = loader(withBad, config(3).withPrefetch(s[0], s[1]), DataPosition.START)) {
                assertSameBatches(reference, take(l, 9));
                assertEquals(skipped, l.badRecords().total(), "counted as the batches are delivered");
            }
        }
    }

    @Test
    void closeStopsTheBackgroundThreads() throws InterruptedException {
        LlavaDataLoader l = loader(records, config(2).withPrefetch(2, 2), DataPosition.START);
        l.next();
        assertTrue(threadAlive("vdep-data-prefetch"));
        List<Thread> workers = threads("vdep-data-worker-");
        assertFalse(workers.isEmpty(), "the loader runs worker threads");
        l.close();
        assertFalse(threadAlive("vdep-data-prefetch"));
        // close() interrupts the pool; its threads must end promptly
        for (Thread t : workers) {
            t.join(10_000);
            assertFalse(t.isAlive(), t.getName() + " still runs 10 s after close()");
        }
        assertFalse(l.hasNext());
        assertThrows(IllegalStateException.class, l::next);
        l.close();
    }

    private static List<Thread> threads(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().startsWith(prefix)).toList();
    }

    private static boolean threadAlive(String prefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.isAlive() && t.getName().startsWith(prefix));
    }

    /** One record per bad-record reason, and which reason it should be counted under. */
    static Map<String, BadRecordReason> badRecords(List<ConversationRecord> out) throws IOException {
        Path garbage = images.resolve("garbage.png");
        Files.write(garbage, new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        out.add(new ConversationRecord("malformed", null, List.of(), "no 'conversations'"));
        out.add(new ConversationRecord("speaker", null, List.of(new Turn("human", "hi"), new Turn("bot", "x"))));
        out.add(new ConversationRecord("missing", "sub/none.png", List.of(new Turn("human", "<image>"),
                new Turn("gpt", "cat"))));
        out.add(new ConversationRecord("undecodable", "garbage.png", List.of(new Turn("human", "<image>"),
                new Turn("gpt", "cat"))));
        out.add(new ConversationRecord("mismatch", null, List.of(new Turn("human", "<image>"),
                new Turn("gpt", "cat"))));
        out.add(new ConversationRecord("structure", null, List.of(new Turn("human", "hi"), new Turn("human", "x"),
                new Turn("gpt", "cat"))));
        // a decompression bomb: a small PNG declaring 40000 x 40000 pixels
        DataTestSupport.writePngHeaderOnly(images.resolve("bomb.png"), 40000, 40000);
        out.add(new ConversationRecord("bomb", "bomb.png", List.of(new Turn("human", "<image>"), new Turn("gpt", "cat"))));
        out.add(new ConversationRecord("tokenizer", null, List.of(new Turn("human", "hi " + HostileTokenizer.FAILS),
                new Turn("gpt", "cat"))));
        out.add(new ConversationRecord("nothing", null, List.of(new Turn("human", "hi"), new Turn("gpt", ""))));
        // The image follows a long first round, beyond the maximum length of 60 used below.
        out.add(new ConversationRecord("cut", "sub/r0.png", List.of(new Turn("human", "What is this?"),
                new Turn("gpt", "It is a red cat. It is a red cat. It is a red cat. It is a red cat."),
                new Turn("human", "<image>"), new Turn("gpt", "Yes"))));
        return Map.of("malformed", BadRecordReason.MALFORMED, "speaker", BadRecordReason.MALFORMED,
                "missing", BadRecordReason.MISSING_IMAGE, "undecodable", BadRecordReason.UNDECODABLE_IMAGE,
                "mismatch", BadRecordReason.PLACEHOLDER_MISMATCH, "structure", BadRecordReason.TEMPLATE_STRUCTURE,
                "nothing", BadRecordReason.NOTHING_SUPERVISED, "cut", BadRecordReason.IMAGE_TRUNCATED,
                "bomb", BadRecordReason.IMAGE_TOO_LARGE, "tokenizer", BadRecordReason.TOKENIZATION);
    }

    static DataLoaderConfig badConfig(OnBadRecord policy, int prefetch) {
        return DataLoaderConfig.of(4, new EncodingConfig(imageId, PATCHES, 60)).withShuffle(false, 0)
                .withOnBadRecord(policy).withPrefetch(prefetch, prefetch);
    }

    @Test
    void skipCountsEveryBadRecordReason() throws IOException {
        List<ConversationRecord> bad = new ArrayList<>();
        badRecords(bad);
        List<ConversationRecord> all = new ArrayList<>();
        for (int i = 0; i < bad.size(); i++) {
            all.add(bad.get(i));
            all.add(records.get(i));
        }
        DataLoaderConfig cfg = DataLoaderConfig.of(10, new EncodingConfig(imageId, PATCHES, 60)).withShuffle(false, 0)
                .withOnBadRecord(OnBadRecord.SKIP).withPrefetch(0, 0);
        try (LlavaDataLoader l = loader(all, cfg, DataPosition.START)) {
            Batch b = l.next();
            assertEquals(List.of("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9"), b.sampleIds(),
                    "bad records are dropped and replaced by the next good ones");
            assertEquals(new DataPosition(0, 20), b.position());
            BadRecordStats stats = l.badRecords();
            assertEquals(10, stats.total());
            assertEquals(2, stats.count(BadRecordReason.MALFORMED));
            for (BadRecordReason r : BadRecordReason.values()) {
                // an unexpected failure has no record of its own here: unexpectedFailuresAreBadRecordsToo
                if (r != BadRecordReason.MALFORMED && r != BadRecordReason.PREPARATION_FAILED) {
                    assertEquals(1, stats.count(r), r.label());
                }
            }
            assertEquals(9, stats.byReason().size());
            assertTrue(stats.summary().startsWith("10 bad records skipped"), stats.summary());
            assertTrue(stats.summary().contains("missing image file 1 (e.g. missing)"), stats.summary());
        }
    }

    @Test
    void unexpectedFailuresAreBadRecordsToo() {
        HostileTokenizer broken = new HostileTokenizer(tok);
        DataLoaderConfig cfg = badConfig(OnBadRecord.SKIP, 0);
        try (LlavaDataLoader l = loader(records.subList(0, 3), cfg, DataPosition.START, broken)) {
            broken.broken = true;
            IllegalStateException e = assertThrows(IllegalStateException.class, l::next);
            assertTrue(e.getMessage().contains("None of the 3 records is usable") && e.getMessage().contains("preparation failed 3"),
                    e.getMessage());
        }
        HostileTokenizer failing = new HostileTokenizer(tok);
        try (LlavaDataLoader l = loader(records.subList(0, 3), badConfig(OnBadRecord.FAIL, 0), DataPosition.START, failing)) {
            failing.broken = true;
            BadRecordException e = assertThrows(BadRecordException.class, l::next);
            assertEquals(BadRecordReason.PREPARATION_FAILED.label(), e.reason());
            assertTrue(e.getMessage().contains("an unexpected failure"), e.getMessage());
        }
    }

    @Test
    void imagesAboveThePixelLimitAreRefusedFromTheirHeader() throws IOException {
        // r0's image is 12 x 20: a limit of 240 pixels takes it, 239 refuses it
        List<ConversationRecord> one = List.of(records.get(0));
        try (LlavaDataLoader l = loader(one, badConfig(OnBadRecord.FAIL, 0).withMaxImagePixels(240), DataPosition.START)) {
            assertEquals(List.of("r0"), l.next().sampleIds());
        }
        try (LlavaDataLoader l = loader(one, badConfig(OnBadRecord.FAIL, 0).withMaxImagePixels(239), DataPosition.START)) {
            BadRecordException e = assertThrows(BadRecordException.class, l::next);
            assertEquals(BadRecordReason.IMAGE_TOO_LARGE.label(), e.reason());
            assertTrue(e.getMessage().contains("12x20 = 240 pixels, more than the limit of 239"), e.getMessage());
        }
        assertEquals(89_478_485L, DataLoaderConfig.of(1, new EncodingConfig(imageId, PATCHES, 60)).maxImagePixels(), "Pillow's default");
    }

    @Test
    void failNamesTheRecordAndReason() throws IOException {
        List<ConversationRecord> bad = new ArrayList<>();
        Map<String, BadRecordReason> expected = badRecords(bad);
        for (ConversationRecord r : bad) {
            for (int prefetch : new int[] {0, 2}) {
                List<ConversationRecord> two = List.of(records.get(1), r);
                try (LlavaDataLoader l = loader(two, badConfig(OnBadRecord.FAIL, prefetch), DataPosition.START)) {
                    BadRecordException e = assertThrows(BadRecordException.class, l::next);
                    assertEquals(r.id(), e.id());
                    assertEquals(expected.get(r.id()).label(), e.reason());
                    assertTrue(e.getMessage().contains("'" + r.id() + "'")
                            && e.getMessage().contains(expected.get(r.id()).label()), e.getMessage());
                    assertThrows(BadRecordException.class, l::next, "the loader stays failed");
                }
            }
        }
    }

    @Test
    void aDatasetWithoutUsableRecordsFails() {
        List<ConversationRecord> bad = List.of(new ConversationRecord("x", null, List.of(), "no 'conversations'"));
        try (LlavaDataLoader l = loader(bad, config(2), DataPosition.START)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, l::next);
            assertTrue(e.getMessage().contains("None of the 1 records is usable"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> loader(List.of(), config(2), DataPosition.START));
    }

    @Test
    void validatorPrePass() throws IOException {
        List<ConversationRecord> all = new ArrayList<>(records);
        badRecords(all);
        ValidationReport report = DataValidator.validate(all, VicunaV1Template.INSTANCE, OnBadRecord.SKIP, images);
        assertEquals(20, report.records());
        // Cheap checks only: decoding, size, tokenization and truncation problems are left to the loader.
        assertEquals(5, report.bad().total());
        assertEquals(1, report.bad().count(BadRecordReason.MISSING_IMAGE));
        assertEquals(2, report.bad().count(BadRecordReason.MALFORMED));
        assertEquals(15, report.usable());
        assertEquals(8, report.withImage(), "r0, r2, r4, r6, r8, undecodable, bomb, cut");
        BadRecordException e = assertThrows(BadRecordException.class,
                () -> DataValidator.validate(all, VicunaV1Template.INSTANCE, OnBadRecord.FAIL, images));
        assertEquals("malformed", e.id());
        assertEquals(4, DataValidator.validate(all, VicunaV1Template.INSTANCE, OnBadRecord.SKIP, null).bad().total());
    }

    static {
        Nd4j.getRandom(); // load the backend once, outside the timed parts of the tests
    }
}
