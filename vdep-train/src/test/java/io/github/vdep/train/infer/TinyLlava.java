package io.github.vdep.train.infer;

import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.models.clip.ClipVisionConfig;
import io.github.vdep.models.llama.LlamaConfig;
import io.github.vdep.models.llava.LlavaConfig;
import io.github.vdep.models.llava.LlavaModels;
import io.github.vdep.train.data.EncodingConfig;
import io.github.vdep.train.data.HfTokenizer;
import io.github.vdep.train.data.VicunaV1Template;
import io.github.vdep.train.data.WordLevelTokenizerBuilder;
import io.github.vdep.train.data.image.ClipImageProcessor;
import io.github.vdep.train.data.image.ImageAspect;
import io.github.vdep.train.data.image.ImageProcessorConfig;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A tiny random LLaVA (CLIP 56 px / patch 14: a 4x4 grid of 16 image tokens; a 2-layer LLaMA) and
 * a word-level tokenizer, for inference and evaluation tests.
 */
public final class TinyLlava {
    /** The image token id: the word-level tokenizer's {@code <image>}. */
    public static final int IMAGE_TOKEN = 4;
    /** Image side in pixels. */
    public static final int IMAGE_SIZE = 56;
    /** Words the tokenizer knows besides the template's. */
    public static final String WORDS = "what is in the image ? a red cat dog two 2 describe it . blue sky on mat yes no";

    private TinyLlava() {
    }

    /** The LLaVA config: vocab 96, max 256 positions. */
    public static LlavaConfig config(int maxPositions) {
        LlamaConfig text = LlamaConfig.of(96, 16, 32, 2, 4, 2, maxPositions);
        ClipVisionConfig vision = ClipVisionConfig.of(16, 32, 2, 2, IMAGE_SIZE, 14);
        return LlavaConfig.of(text, vision, IMAGE_TOKEN);
    }

    /** A random model. */
    public static LlavaModel model(DataType dtype, long seed) {
        return LlavaModels.random(config(256), dtype, seed);
    }

    /** Writes the word-level tokenizer.json and loads it. */
    public static HfTokenizer tokenizer(Path dir) {
        Path file = new WordLevelTokenizerBuilder()
                .addText(VicunaV1Template.SYSTEM + " USER: ASSISTANT: " + WORDS)
                .addWord("\n")
                .write(dir.resolve("tokenizer.json"));
        return HfTokenizer.load(file);
    }

    /** Image token id, 16 patches, 256 positions. */
    public static EncodingConfig encoding() {
        return new EncodingConfig(IMAGE_TOKEN, 16, 256);
    }

    /** CLIP processing at the tower's resolution, LLaVA's padding to a square. */
    public static ClipImageProcessor processor() {
        return new ClipImageProcessor(ImageProcessorConfig.clip(IMAGE_SIZE), ImageAspect.PAD);
    }

    /** Writes a random-coloured PNG. */
    public static Path image(Path file, int width, int height, long seed) throws IOException {
        SplittableRandom rng = new SplittableRandom(seed);
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                img.setRGB(x, y, rng.nextInt(1 << 24));
            }
        }
        ImageIO.write(img, "png", file.toFile());
        return file;
    }
}
