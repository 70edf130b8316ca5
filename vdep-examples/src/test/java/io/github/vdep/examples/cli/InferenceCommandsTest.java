package io.github.vdep.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.models.clip.ClipVisionConfig;
import io.github.vdep.models.hf.LlavaCheckpoint;
import io.github.vdep.models.llama.LlamaConfig;
import io.github.vdep.models.llava.LlavaConfig;
import io.github.vdep.models.llava.LlavaModels;
import io.github.vdep.train.data.VicunaV1Template;
import io.github.vdep.train.data.WordLevelTokenizerBuilder;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

/** {@code vdep generate}, {@code vdep eval} and {@code vdep attention-map} on a tiny random model. */
class InferenceCommandsTest {
    @TempDir
    static Path dir;
    static Path model;
    static Path image;
    static Path data;

    /** A tiny random llava-hf directory (56 px images, 16 patches, 2 LLM layers) with a word-level tokenizer. */
    @BeforeAll
    static void setUp() throws Exception {
        model = Files.createDirectories(dir.resolve("tiny-llava"));
        WordLevelTokenizerBuilder words = new WordLevelTokenizerBuilder()
                .addText(VicunaV1Template.SYSTEM + " USER: ASSISTANT: what is in the image ? a red cat blue sky yes no 2")
                .addWord("\n");
        words.write(model.resolve("tokenizer.json"));
        int vocab = words.vocabulary().size();
        LlavaConfig config = LlavaConfig.of(LlamaConfig.of(vocab, 16, 32, 2, 4, 2, 256),
                ClipVisionConfig.of(16, 32, 2, 2, 56, 14), WordLevelTokenizerBuilder.SPECIAL_TOKENS.indexOf("<image>"));
        LlavaModel m = LlavaModels.random(config, DataType.FLOAT, 9);
        LlavaCheckpoint.save(m, config, model);

        Path images = Files.createDirectories(dir.resolve("images"));
        image = images.resolve("photo.png");
        SplittableRandom rng = new SplittableRandom(4);
        BufferedImage img = new BufferedImage(48, 40, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 40; y++) {
            for (int x = 0; x < 48; x++) {
                img.setRGB(x, y, rng.nextInt(1 << 24));
            }
        }
        ImageIO.write(img, "png", image.toFile());
        data = images.resolve("questions.json");
        Files.writeString(data, """
                [{"id": "1", "image": "photo.png", "conversations": [{"from": "human", "value": "<image>\\nwhat is in the image?"}, {"from": "gpt", "value": "a red cat"}]},
                 {"id": "2", "image": "photo.png", "conversations": [{"from": "human", "value": "is the sky blue?\\n<image>"}, {"from": "gpt", "value": "yes"}]},
                 {"id": "3", "image": "gone.png", "conversations": [{"from": "human", "value": "<image>\\nwhat?"}, {"from": "gpt", "value": "no"}]}]
                """);
    }

    /** Runs the CLI with stdout and stderr captured. */
    private static String[] run(int expectedExit, String... args) {
        return CapturedRun.expect(expectedExit, args);
    }

    /** The answer line of {@code vdep generate}'s stdout (test logging also goes there, timestamped). */
    private static String answer(String... args) {
        List<String> lines = run(0, args)[0].lines().filter(l -> !l.matches("^\\d\\d:\\d\\d:\\d\\d.*")).toList();
        assertEquals(1, lines.size(), lines.toString());
        return lines.get(0);
    }

    @Test
    void generatePrintsAReproducibleAnswer() {
        String m = model.toString();
        String img = image.toString();
        String greedy = answer("generate", "--model", m, "--image", img, "--prompt", "what is in the image?", "--max-new-tokens", "5");
        assertFalse(greedy.contains("<s>") || greedy.contains("<image>"), greedy);
        // --device cpu is the default, spelled out
        assertEquals(greedy, answer("generate", "--model", m, "--image", img, "--prompt", "what is in the image?", "--max-new-tokens", "5",
                "--device", "cpu"));
        assertEquals(greedy, answer("generate", "--model", m, "--image", img, "--prompt", "what is in the image?", "--max-new-tokens", "5"));
        // p -> 0 is greedy; a seeded sample is reproducible
        assertEquals(greedy, answer("generate", "--model", m, "--image", img, "--prompt", "what is in the image?", "--max-new-tokens", "5",
                "--top-p", "1e-9", "--seed", "3"));
        String[] sampleArgs = {"generate", "--model", m, "--image", img, "--prompt", "what is in the image?",
                "--max-new-tokens", "6", "--top-p", "0.9", "--temperature", "1.5", "--seed", "11"};
        assertEquals(answer(sampleArgs), answer(sampleArgs));
        // text-only and plain prompts work too
        answer("generate", "--model", m, "--prompt", "is the sky blue?", "--max-new-tokens", "3");
        answer("generate", "--model", m, "--image", img, "--prompt", "", "--template", "plain", "--max-new-tokens", "3");
    }

    @Test
    void generateReportsBadInputsInOneLine() {
        String[] missingImage = run(1, "generate", "--model", model.toString(), "--image", dir.resolve("nope.png").toString(), "--prompt", "hi");
        assertTrue(missingImage[1].contains("nope.png"), missingImage[1]);
        assertFalse(missingImage[1].contains("\tat "), "no stack trace: " + missingImage[1]);
        String[] missingModel = run(1, "generate", "--model", dir.resolve("no-model").toString(), "--prompt", "hi");
        assertTrue(missingModel[1].contains("no-model"), missingModel[1]);
        String[] badTemplate = run(1, "generate", "--model", model.toString(), "--prompt", "hi", "--template", "chatml");
        assertTrue(badTemplate[1].contains("chatml"), badTemplate[1]);
        String[] badTopP = run(1, "generate", "--model", model.toString(), "--prompt", "hi", "--top-p", "1.5");
        assertTrue(badTopP[1].contains("--top-p"), badTopP[1]);
    }

    @Test
    void evalWritesPredictionsAndScores() throws Exception {
        Path out = dir.resolve("eval");
        String[] r = run(0, "eval", "--model", model.toString(), "--data", data.toString(), "--images", data.getParent().toString(),
                "--out", out.toString(), "--max-new-tokens", "4");
        assertTrue(r[0].contains("exact match"), r[0]);
        assertTrue(r[0].contains("perplexity"), r[0]);
        List<String> lines = Files.readAllLines(out.resolve("predictions.jsonl"));
        assertEquals(2, lines.size());
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(lines.get(0));
        assertEquals("1", first.get("id").asText());
        assertEquals("what is in the image?", first.get("question").asText());
        assertEquals("a red cat", first.get("reference").asText());
        assertTrue(first.has("prediction") && first.has("correct"));
        JsonNode scores = json.readTree(out.resolve("scores.json").toFile());
        assertEquals(3, scores.get("records").asInt());
        assertEquals(2, scores.get("evaluated").asInt());
        assertEquals(1, scores.get("skipped_by_reason").get("missing image file").asInt());
        assertEquals(4 + 2, scores.get("supervised_tokens").asInt());
        assertTrue(scores.get("perplexity").asDouble() > 1);

        // --limit, and the default output folder next to the model
        run(0, "eval", "--model", model.toString(), "--data", data.toString(), "--limit", "1", "--max-new-tokens", "2");
        Path defaultOut = dir.resolve("tiny-llava-eval-questions");
        assertEquals(1, json.readTree(defaultOut.resolve("scores.json").toFile()).get("records").asInt());
        assertEquals(defaultOut, EvalCommand.defaultOut(model, data));
    }

    @Test
    void attentionMapWritesOnePngPerLayerAndAGrid() throws Exception {
        Path out = dir.resolve("maps");
        String[] r = run(0, "attention-map", "--model", model.toString(), "--image", image.toString(), "--prompt", "what is in the image?",
                "--out", out.toString(), "--size", "96");
        assertTrue(r[0].contains("2 layers, 4x4 patch grid, 6 question token(s)"), r[0]);
        for (String f : List.of("layer_00.png", "layer_01.png", "layers_grid.png", "attention.json")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        BufferedImage layer = ImageIO.read(out.resolve("layer_01.png").toFile());
        assertEquals(96, layer.getWidth());
        JsonNode values = new ObjectMapper().readTree(out.resolve("attention.json").toFile());
        assertEquals(4, values.get("layers").get(0).get("map").size());
        assertEquals(4, values.get("layers").get(0).get("map").get(0).size());
    }
}
