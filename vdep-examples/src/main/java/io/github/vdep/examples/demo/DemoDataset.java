package io.github.vdep.examples.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.vdep.examples.demo.Scene.SceneObject;
import io.github.vdep.train.data.VicunaV1Template;
import io.github.vdep.train.data.WordLevelTokenizerBuilder;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * The demo's synthetic data set in LLaVA JSON format with real PNG files. Every scene gets up to
 * four questions whose answers need the image: {@code count} (how many shapes), {@code colour}
 * (the colour of a named shape), {@code position} (where a named object is: left, middle or
 * right) and {@code presence} (is there a given object; absent in half the questions, POPE-style).
 * Record ids are {@code TYPE-NNNNNN}. A fixed held-out split, {@code test-scenes.json} (the
 * held-out images' patch labels, for the probes), and a word-level tokenizer.json covering every
 * word. Deterministic for a seed.
 */
public final class DemoDataset {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The question types, in report order. */
    public static final List<String> TYPES = List.of("count", "colour", "position", "presence");

    /** Where the generated files are. */
    public record Files(Path dir, Path images, Path train, Path test, Path testScenes, Path tokenizer, int vocabSize) {
    }

    /** A held-out image and what is in each of its patches ({@link SceneGenerator#patchLabels}). */
    public record LabelledImage(String image, int[] patchLabels) {
    }

    private DemoDataset() {
    }

    /** Writes {@code trainScenes + testScenes} scenes under {@code dir}, with 8-pixel patch labels for the held-out ones. */
    public static Files generate(Path dir, int trainScenes, int testScenes, int imageSize, long seed) {
        try {
            Path images = dir.resolve("images");
            java.nio.file.Files.createDirectories(images);
            SceneGenerator gen = new SceneGenerator(imageSize);
            SplittableRandom rng = new SplittableRandom(seed);
            ArrayNode train = JSON.createArrayNode();
            ArrayNode test = JSON.createArrayNode();
            ArrayNode heldScenes = JSON.createArrayNode();
            WordLevelTokenizerBuilder vocab = new WordLevelTokenizerBuilder();
            vocab.addText(VicunaV1Template.SYSTEM + " USER: ASSISTANT: how many shapes are there ? what colour is the where is there a yes no\n");
            for (String word : List.of("one", "two", "three")) {
                vocab.addWord(word);
            }
            SceneGenerator.SHAPES.forEach(vocab::addWord);
            SceneGenerator.COLOUR_NAMES.forEach(vocab::addWord);
            SceneGenerator.POSITIONS.forEach(vocab::addWord);
            for (int i = 0; i < trainScenes + testScenes; i++) {
                Scene scene = gen.sample(rng);
                int[][] layout = gen.layout(scene, rng);
                BufferedImage img = gen.render(scene, layout);
                String file = String.format("%06d.png", i);
                ImageIO.write(img, "png", images.resolve(file).toFile());
                boolean held = i >= trainScenes;
                for (String[] qa : questions(scene, rng)) {
                    (held ? test : train).add(record(String.format("%s-%06d", qa[0], i), "images/" + file, qa[1], qa[2]));
                    vocab.addText(qa[1]).addText(qa[2]);
                }
                if (held) {
                    ObjectNode s = heldScenes.addObject();
                    s.put("image", "images/" + file);
                    ArrayNode labels = s.putArray("patch_labels");
                    for (int l : gen.patchLabels(scene, layout, DemoModel.PATCH)) {
                        labels.add(l);
                    }
                }
            }
            Path trainFile = dir.resolve("train.json");
            Path testFile = dir.resolve("test.json");
            Path scenesFile = dir.resolve("test-scenes.json");
            JSON.writerWithDefaultPrettyPrinter().writeValue(trainFile.toFile(), train);
            JSON.writerWithDefaultPrettyPrinter().writeValue(testFile.toFile(), test);
            JSON.writeValue(scenesFile.toFile(), heldScenes);
            Path tokenizer = dir.resolve("tokenizer.json");
            vocab.write(tokenizer);
            return new Files(dir, images, trainFile, testFile, scenesFile, tokenizer, vocab.vocabulary().size());
        } catch (IOException e) {
            throw new UncheckedIOException("writing the demo data set under " + dir + " failed", e);
        }
    }

    /** Reads {@code test-scenes.json}. */
    public static List<LabelledImage> readLabelledImages(Path file) throws IOException {
        List<LabelledImage> out = new ArrayList<>();
        for (JsonNode n : JSON.readTree(file.toFile())) {
            JsonNode l = n.get("patch_labels");
            int[] labels = new int[l.size()];
            for (int i = 0; i < labels.length; i++) {
                labels[i] = l.get(i).asInt();
            }
            out.add(new LabelledImage(n.get("image").asText(), labels));
        }
        return out;
    }

    /** The question type of a record id ({@code TYPE-NNNNNN}). */
    public static String type(String id) {
        int dash = id.indexOf('-');
        return dash < 0 ? id : id.substring(0, dash);
    }

    private static ObjectNode record(String id, String image, String question, String answer) {
        ObjectNode r = JSON.createObjectNode();
        r.put("id", id);
        r.put("image", image);
        ArrayNode turns = r.putArray("conversations");
        turns.addObject().put("from", "human").put("value", "<image>\n" + question);
        turns.addObject().put("from", "gpt").put("value", answer);
        return r;
    }

    /** The scene's questions as {type, question, answer}: count always, the others when the scene allows one. */
    static List<String[]> questions(Scene scene, SplittableRandom rng) {
        List<SceneObject> objs = scene.objects();
        List<String[]> out = new ArrayList<>();
        out.add(new String[] {"count", "how many shapes are there ?", List.of("one", "two", "three").get(objs.size() - 1)});
        List<SceneObject> uniqueShape = objs.stream().filter(o -> objs.stream().filter(x -> x.shape().equals(o.shape())).count() == 1).toList();
        if (!uniqueShape.isEmpty()) {
            SceneObject o = uniqueShape.get(rng.nextInt(uniqueShape.size()));
            out.add(new String[] {"colour", "what colour is the " + o.shape() + " ?", o.colour()});
        }
        List<SceneObject> unique = objs.stream().filter(o -> objs.stream().filter(x -> x.shape().equals(o.shape()) && x.colour().equals(o.colour())).count() == 1)
                .toList();
        if (!unique.isEmpty()) {
            SceneObject o = unique.get(rng.nextInt(unique.size()));
            out.add(new String[] {"position", "where is the " + o.colour() + " " + o.shape() + " ?", o.position()});
        }
        if (rng.nextBoolean()) {
            SceneObject o = objs.get(rng.nextInt(objs.size()));
            out.add(new String[] {"presence", "is there a " + o.colour() + " " + o.shape() + " ?", "yes"});
        } else {
            String colour;
            String shape;
            do {
                colour = SceneGenerator.COLOUR_NAMES.get(rng.nextInt(SceneGenerator.COLOUR_NAMES.size()));
                shape = SceneGenerator.SHAPES.get(rng.nextInt(SceneGenerator.SHAPES.size()));
            } while (scene.contains(colour, shape));
            out.add(new String[] {"presence", "is there a " + colour + " " + shape + " ?", "no"});
        }
        return out;
    }
}
