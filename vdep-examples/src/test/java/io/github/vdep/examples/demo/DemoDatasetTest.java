package io.github.vdep.examples.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.train.data.ConversationRecord;
import io.github.vdep.train.data.DataFiles;
import io.github.vdep.train.data.HfTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoDatasetTest {
    @TempDir
    Path dir;

    @Test
    void sameSeedSameFilesOtherSeedOtherScenes() throws Exception {
        DemoDataset.Files a = DemoDataset.generate(dir.resolve("a"), 12, 4, 32, 7);
        DemoDataset.Files b = DemoDataset.generate(dir.resolve("b"), 12, 4, 32, 7);
        DemoDataset.Files c = DemoDataset.generate(dir.resolve("c"), 12, 4, 32, 8);
        assertEquals(Files.readString(a.train()), Files.readString(b.train()));
        assertEquals(Files.readString(a.test()), Files.readString(b.test()));
        assertEquals(Files.readString(a.tokenizer()), Files.readString(b.tokenizer()));
        for (int i = 0; i < 16; i++) {
            String f = String.format("%06d.png", i);
            assertArrayEquals(Files.readAllBytes(a.images().resolve(f)), Files.readAllBytes(b.images().resolve(f)), f);
        }
        assertNotEquals(Files.readString(a.train()), Files.readString(c.train()));
    }

    @Test
    void recordsAreLlavaShapedSplitAndCoveredByTheVocabulary() throws Exception {
        DemoDataset.Files d = DemoDataset.generate(dir, 20, 5, 32, 1);
        List<ConversationRecord> train = DataFiles.read(d.train());
        List<ConversationRecord> test = DataFiles.read(d.test());
        assertEquals(40, train.size());
        assertEquals(10, test.size());
        assertTrue(train.stream().allMatch(r -> r.hasImage() && r.conversations().get(0).value().startsWith("<image>\n")));
        assertTrue(test.stream().noneMatch(t -> train.stream().anyMatch(r -> r.image().equals(t.image()))), "held-out images are not trained on");
        try (HfTokenizer tok = HfTokenizer.load(d.tokenizer())) {
            int unk = tok.tokenId("<unk>").orElseThrow();
            for (ConversationRecord r : train) {
                for (var turn : r.conversations()) {
                    for (int id : tok.encode(turn.value().replace("<image>", ""))) {
                        assertNotEquals(unk, id, "unknown word in " + turn.value());
                    }
                }
            }
        }
    }

    @Test
    void questionsAreAnsweredByTheScene() {
        SceneGenerator gen = new SceneGenerator(32);
        SplittableRandom rng = new SplittableRandom(3);
        for (int i = 0; i < 200; i++) {
            Scene s = gen.sample(rng);
            String[] qa = DemoDataset.question(s, rng);
            if (qa[0].startsWith("how many")) {
                assertEquals(s.objects().size() == 1 ? "one" : "two", qa[1]);
            } else if (qa[0].startsWith("what colour is the shape on the")) {
                String side = qa[0].contains("left") ? "left" : "right";
                assertEquals(s.objects().stream().filter(o -> o.position().equals(side)).findFirst().orElseThrow().colour(), qa[1]);
            }
            assertTrue(!qa[1].isBlank());
        }
    }
}
