package io.github.vdep.train.infer;

import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.models.hf.LlavaCheckpoint;
import io.github.vdep.models.llava.LlavaConfig;
import io.github.vdep.train.data.ConversationTemplate;
import io.github.vdep.train.data.EncodingConfig;
import io.github.vdep.train.data.HfTokenizer;
import io.github.vdep.train.data.image.ClipImageProcessor;
import io.github.vdep.train.data.image.ImageAspect;
import io.github.vdep.train.data.image.ImageProcessorConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything inference needs from a llava-hf model directory: the model (float32), its
 * {@code tokenizer.json} (or another one), and the image processor of its
 * {@code preprocessor_config.json} (or, without one, the CLIP processor at the vision tower's
 * resolution). Close it to free the tokenizer.
 */
public final class InferenceSession implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(InferenceSession.class);

    private final Path modelDir;
    private final LlavaModel model;
    private final LlavaConfig config;
    private final HfTokenizer tokenizer;
    private final ClipImageProcessor images;

    private InferenceSession(Path modelDir, LlavaModel model, LlavaConfig config, HfTokenizer tokenizer, ClipImageProcessor images) {
        this.modelDir = modelDir;
        this.model = model;
        this.config = config;
        this.tokenizer = tokenizer;
        this.images = images;
    }

    /**
     * Loads a model directory.
     *
     * @param modelDir      a llava-hf directory (config.json, safetensors, tokenizer.json,
     *                      optionally preprocessor_config.json)
     * @param tokenizerFile a {@code tokenizer.json} to use instead of the directory's, or null
     * @param aspect        how non-square images are handled (LLaVA-1.5: {@link ImageAspect#PAD})
     * @return the session
     * @throws io.github.vdep.models.hf.CheckpointException if the model cannot be loaded (the
     *                                                      message names the file)
     * @throws IllegalArgumentException if the tokenizer or preprocessor config is missing or does
     *                                  not suit the model (the message names the file)
     */
    public static InferenceSession open(Path modelDir, Path tokenizerFile, ImageAspect aspect) {
        return open(modelDir, tokenizerFile, aspect, Device.CPU);
    }

    /**
     * As {@link #open(Path, Path, ImageAspect)}, with the model moved to {@code device}
     * ({@code --device}); the device is checked before anything loads.
     *
     * @throws io.github.vdep.core.device.DeviceUnavailableException if the device cannot be used (the message says why)
     */
    public static InferenceSession open(Path modelDir, Path tokenizerFile, ImageAspect aspect, Device device) {
        Objects.requireNonNull(modelDir, "modelDir");
        Backends.require(device);
        Objects.requireNonNull(aspect, "aspect");
        if (!Files.isDirectory(modelDir)) {
            throw new IllegalArgumentException("model directory not found: " + modelDir);
        }
        Path tokFile = tokenizerFile != null ? tokenizerFile : modelDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tokFile)) {
            throw new IllegalArgumentException("tokenizer not found: " + tokFile
                    + (tokenizerFile == null ? " (the model directory has no tokenizer.json; give --tokenizer)" : ""));
        }
        LlavaCheckpoint.Loaded loaded = LlavaCheckpoint.load(modelDir);
        Path pre = modelDir.resolve("preprocessor_config.json");
        ImageProcessorConfig ipc = Files.isRegularFile(pre) ? ImageProcessorConfig.fromFile(pre)
                : ImageProcessorConfig.clip(loaded.config().visionConfig().imageSize());
        int size = loaded.config().visionConfig().imageSize();
        if (ipc.doCenterCrop() && (ipc.cropHeight() != size || ipc.cropWidth() != size)) {
            throw new IllegalArgumentException(pre + " crops images to " + ipc.cropHeight() + "x" + ipc.cropWidth()
                    + " but the vision tower takes " + size + "x" + size);
        }
        HfTokenizer tokenizer = HfTokenizer.load(tokFile);
        int vocab = loaded.model().languageModel().vocabSize();
        if (tokenizer.vocabSize() > vocab) {
            tokenizer.close();
            throw new IllegalArgumentException("tokenizer " + tokFile + " has " + tokenizer.vocabSize()
                    + " ids but the model's vocabulary has only " + vocab);
        }
        LOG.info("inference session: {} (image processor {})", modelDir, Files.isRegularFile(pre) ? pre : "CLIP " + size + " px");
        loaded.model().to(device);
        return new InferenceSession(modelDir, loaded.model(), loaded.config(), tokenizer, new ClipImageProcessor(ipc, aspect));
    }

    /** @return the model directory */
    public Path modelDir() {
        return modelDir;
    }

    /** @return the model */
    public LlavaModel model() {
        return model;
    }

    /** @return the model's config */
    public LlavaConfig config() {
        return config;
    }

    /** @return the tokenizer */
    public HfTokenizer tokenizer() {
        return tokenizer;
    }

    /** @return the image processor */
    public ClipImageProcessor images() {
        return images;
    }

    /** @return image token id, image tokens per image, and the model's context as the maximum length */
    public EncodingConfig encoding() {
        return new EncodingConfig(config.imageTokenIndex(), config.imageSeqLength(), config.textConfig().maxPositionEmbeddings());
    }

    /**
     * @param template the conversation template
     * @return a prompt builder for this model and tokenizer
     */
    public PromptBuilder prompts(ConversationTemplate template) {
        return new PromptBuilder(tokenizer, template, encoding());
    }

    /** Frees the tokenizer. */
    @Override
    public void close() {
        tokenizer.close();
    }
}
