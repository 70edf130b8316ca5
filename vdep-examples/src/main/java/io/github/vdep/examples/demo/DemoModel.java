package io.github.vdep.examples.demo;

import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.models.clip.ClipVisionConfig;
import io.github.vdep.models.hf.LlavaCheckpoint;
import io.github.vdep.models.llama.LlamaConfig;
import io.github.vdep.models.llava.LlavaConfig;
import io.github.vdep.models.llava.LlavaModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The demo's tiny LLaVA: a 2-layer CLIP-style tower on 48x48 images (36 patches of 8x8), an
 * mlp2x_gelu projector and a 2-layer LLaMA over the demo vocabulary, randomly initialised (the
 * demo replaces the tower's weights with pretrained ones) and saved as a llava-hf directory
 * (config.json, model.safetensors, tokenizer.json, preprocessor_config.json) so that every
 * other command can load it.
 */
public final class DemoModel {
    public static final int IMAGE_SIZE = 48;
    /** Patch size of the vision tower: a 6x6 grid of 36 image tokens. */
    public static final int PATCH = 8;
    /** The word-level tokenizer's {@code <image>} id. */
    public static final int IMAGE_TOKEN_INDEX = 4;

    private DemoModel() {
    }

    public static LlavaConfig config(int vocabSize) {
        ClipVisionConfig vision = ClipVisionConfig.of(64, 128, 2, 4, IMAGE_SIZE, PATCH);
        LlamaConfig text = LlamaConfig.of(vocabSize, 128, 256, 2, 4, 2, 512);
        return LlavaConfig.of(text, vision, IMAGE_TOKEN_INDEX);
    }

    /** Creates and saves the initial model; returns the directory. */
    public static Path create(Path dir, Path tokenizer, int vocabSize, long seed) throws IOException {
        return create(dir, tokenizer, vocabSize, seed, java.util.Map.of());
    }

    /** A new randomly initialised model (not saved). */
    public static LlavaModel random(int vocabSize, long seed) {
        return LlavaModels.random(config(vocabSize), DataType.FLOAT, seed);
    }

    /**
     * Creates and saves the initial model of a seed with the given (pretrained) weights in place
     * of the random ones, e.g. the vision tower's; returns the directory.
     */
    public static Path create(Path dir, Path tokenizer, int vocabSize, long seed, java.util.Map<String, org.nd4j.linalg.api.ndarray.INDArray> weights)
            throws IOException {
        LlavaConfig config = config(vocabSize);
        LlavaModel model = LlavaModels.random(config, DataType.FLOAT, seed);
        var named = model.namedParameters();
        weights.forEach((name, w) -> {
            if (!named.containsKey(name)) {
                throw new IllegalArgumentException("the demo model has no parameter " + name);
            }
            named.get(name).load(w);
        });
        LlavaCheckpoint.save(model, config, dir);
        Files.copy(tokenizer, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(dir.resolve("preprocessor_config.json"), preprocessorConfig(IMAGE_SIZE));
        return dir;
    }

    /** A CLIPImageProcessor config for square images of {@code size} pixels (OpenAI CLIP mean and std). */
    static String preprocessorConfig(int size) {
        return String.format(Locale.ROOT, """
                {
                  "image_processor_type": "CLIPImageProcessor",
                  "crop_size": {"height": %d, "width": %d},
                  "size": {"shortest_edge": %d},
                  "do_resize": true,
                  "do_center_crop": true,
                  "do_rescale": true,
                  "do_normalize": true,
                  "do_convert_rgb": true,
                  "rescale_factor": 0.00392156862745098,
                  "resample": 3,
                  "image_mean": [0.48145466, 0.4578275, 0.40821073],
                  "image_std": [0.26862954, 0.26130258, 0.27577711]
                }
                """, size, size, size);
    }
}
