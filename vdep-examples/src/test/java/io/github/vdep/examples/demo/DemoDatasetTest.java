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
        DemoDataset.Files a = DemoDataset.generate(dir.resolve("a"), 12, 4, 48, 7);
        DemoDataset.Files b = DemoDataset.generate(dir.resolve("b"), 12, 4, 48, 7);
        DemoDataset.Files c = DemoDataset.generate(dir.resolve("c"), 12, 4, 48, 8);
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
        DemoDataset.Files d = DemoDataset.generate(dir, 20, 5, 48, 1);
        List<ConversationRecord> train = DataFiles.read(d.train());
        List<ConversationRecord> test = DataFiles.read(d.test());
        // count and presence always, colour and position when the scene allows one
        assertTrue(train.size() >= 40 && train.size() <= 80, "questions: " + train.size());
        assertEquals(20, train.stream().filter(r -> DemoDataset.type(r.id()).equals("count")).count());
        assertEquals(5, test.stream().filter(r -> DemoDataset.type(r.id()).equals("presence")).count());
        List<DemoDataset.LabelledImage> labelled = DemoDataset.readLabelledImages(d.testScenes());
        assertEquals(5, labelled.size());
        assertTrue(labelled.stream().allMatch(l -> l.patchLabels().length == 36));
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
        SceneGenerator gen = new SceneGenerator(48);
        SplittableRandom rng = new SplittableRandom(3);
        int yes = 0;
        int presence = 0;
        for (int i = 0; i < 400; i++) {
            Scene s = gen.sample(rng);
            for (String[] qa : DemoDataset.questions(s, rng)) {
                switch (qa[0]) {
                    case "count" -> assertEquals(List.of("one", "two", "three").get(s.objects().size() - 1), qa[2]);
                    case "colour" -> {
                        String shape = qa[1].split(" ")[4];
                        assertEquals(1, s.objects().stream().filter(o -> o.shape().equals(shape)).count(), qa[1]);
                        assertEquals(s.objects().stream().filter(o -> o.shape().equals(shape)).findFirst().orElseThrow().colour(), qa[2]);
                    }
                    case "position" -> {
                        String[] w = qa[1].split(" ");
                        assertEquals(s.objects().stream().filter(o -> o.colour().equals(w[3]) && o.shape().equals(w[4])).findFirst().orElseThrow().position(), qa[2]);
                    }
                    case "presence" -> {
                        String[] w = qa[1].split(" ");
                        assertEquals(s.contains(w[3], w[4]) ? "yes" : "no", qa[2]);
                        presence++;
                        yes += qa[2].equals("yes") ? 1 : 0;
                    }
                    default -> throw new AssertionError(qa[0]);
                }
            }
        }
        assertEquals(400, presence);
        assertTrue(Math.abs(yes / 400.0 - 0.5) < 0.08, "about half the objects asked about are absent: " + yes);
    }

    @Test
    void patchLabelsFollowTheObjects() {
        SceneGenerator gen = new SceneGenerator(48);
        SplittableRandom rng = new SplittableRandom(9);
        for (int i = 0; i < 50; i++) {
            Scene s = gen.sample(rng);
            int[][] layout = gen.layout(s, rng);
            int[] labels = gen.patchLabels(s, layout, 8);
            for (int k = 0; k < s.objects().size(); k++) {
                Scene.SceneObject o = s.objects().get(k);
                int cls = 1 + SceneGenerator.COLOUR_NAMES.indexOf(o.colour()) * 3 + SceneGenerator.SHAPES.indexOf(o.shape());
                long patches = java.util.Arrays.stream(labels).filter(l -> l == cls).count();
                assertTrue(patches >= 2, "an object covers several patches: " + patches);
                // its patches lie in its slot's third of the grid (columns 0-1, 2-3 or 4-5), give or take the jitter
                int slot = SceneGenerator.POSITIONS.indexOf(o.position());
                for (int p = 0; p < labels.length; p++) {
                    if (labels[p] == cls && s.objects().stream().filter(x -> x.colour().equals(o.colour()) && x.shape().equals(o.shape())).count() == 1) {
                        assertTrue(Math.abs(p % 6 - (2 * slot + 0.5)) <= 1.5, "patch column " + p % 6 + " for slot " + slot);
                    }
                }
            }
        }
    }
}
