package io.github.vdep.examples.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.vdep.examples.demo.Scene.SceneObject;
import io.github.vdep.train.data.VicunaV1Template;
import io.github.vdep.train.data.WordLevelTokenizerBuilder;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * The demo's synthetic data set in LLaVA JSON format with real PNG files: each scene gets a
 * caption record ("describe the image .") and a question-answer record (colour, shape, size,
 * count or position), both in the {@code vicuna_v1} conversation layout; a fixed held-out split;
 * and a word-level tokenizer.json covering every word. Deterministic for a seed.
 */
public final class DemoDataset {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where the generated files are. */
    public record Files(Path dir, Path images, Path train, Path test, Path tokenizer, int vocabSize) {
    }

    private DemoDataset() {
    }

    /**
     * Writes {@code trainScenes + testScenes} scenes under {@code dir}: images/, train.json, test.json
     * (question-answer and caption records interleaved) and tokenizer.json.
     */
    public static Files generate(Path dir, int trainScenes, int testScenes, int imageSize, long seed) {
        try {
            Path images = dir.resolve("images");
            java.nio.file.Files.createDirectories(images);
            SceneGenerator gen = new SceneGenerator(imageSize);
            SplittableRandom rng = new SplittableRandom(seed);
            ArrayNode train = JSON.createArrayNode();
            ArrayNode test = JSON.createArrayNode();
            WordLevelTokenizerBuilder vocab = new WordLevelTokenizerBuilder();
            vocab.addText(VicunaV1Template.SYSTEM + " USER: ASSISTANT: describe the image .\n");
            for (String word : List.of("one", "two", "left", "right", "middle", "colour", "shape", "size", "what", "is", "the", "how", "many",
                    "shapes", "are", "there", "on", "or", "in", "of")) {
                vocab.addWord(word);
            }
            SceneGenerator.SHAPES.forEach(vocab::addWord);
            SceneGenerator.COLOUR_NAMES.forEach(vocab::addWord);
            SceneGenerator.SIZES.forEach(vocab::addWord);
            for (int i = 0; i < trainScenes + testScenes; i++) {
                Scene scene = gen.sample(rng);
                BufferedImage img = gen.render(scene, rng);
                String file = String.format("%06d.png", i);
                ImageIO.write(img, "png", images.resolve(file).toFile());
                ArrayNode target = i < trainScenes ? train : test;
                String[] qa = question(scene, rng);
                target.add(record(String.format("qa-%06d", i), "images/" + file, qa[0], qa[1]));
                target.add(record(String.format("cap-%06d", i), "images/" + file, "describe the image .", scene.caption()));
                vocab.addText(qa[0]).addText(qa[1]).addText(scene.caption());
            }
            Path trainFile = dir.resolve("train.json");
            Path testFile = dir.resolve("test.json");
            JSON.writerWithDefaultPrettyPrinter().writeValue(trainFile.toFile(), train);
            JSON.writerWithDefaultPrettyPrinter().writeValue(testFile.toFile(), test);
            Path tokenizer = dir.resolve("tokenizer.json");
            vocab.write(tokenizer);
            return new Files(dir, images, trainFile, testFile, tokenizer, vocab.vocabulary().size());
        } catch (IOException e) {
            throw new UncheckedIOException("writing the demo data set under " + dir + " failed", e);
        }
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

    /** One question with a one-word answer about the scene. */
    static String[] question(Scene scene, SplittableRandom rng) {
        List<SceneObject> objs = scene.objects();
        List<String[]> options = new ArrayList<>();
        options.add(new String[] {"how many shapes are there ?", objs.size() == 1 ? "one" : "two"});
        for (SceneObject o : objs) {
            boolean uniqueShape = objs.stream().filter(x -> x.shape().equals(o.shape())).count() == 1;
            if (uniqueShape) {
                options.add(new String[] {"what colour is the " + o.shape() + " ?", o.colour()});
                options.add(new String[] {"what size is the " + o.shape() + " ?", o.size()});
            }
            if (objs.size() == 2) {
                options.add(new String[] {"what shape is on the " + o.position() + " ?", o.shape()});
                options.add(new String[] {"what colour is the shape on the " + o.position() + " ?", o.colour()});
            }
        }
        return options.get(rng.nextInt(options.size()));
    }
}
