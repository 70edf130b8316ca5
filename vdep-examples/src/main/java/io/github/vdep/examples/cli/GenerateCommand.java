package io.github.vdep.examples.cli;

import io.github.vdep.train.data.ConversationTemplate;
import io.github.vdep.train.data.Templates;
import io.github.vdep.train.data.image.ImageAspect;
import io.github.vdep.train.infer.Answers;
import io.github.vdep.train.infer.GenerationConfig;
import io.github.vdep.train.infer.GenerationResult;
import io.github.vdep.train.infer.Generator;
import io.github.vdep.train.infer.ImageInput;
import io.github.vdep.train.infer.InferenceSession;
import io.github.vdep.train.infer.Prompt;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code vdep generate}: answers one question about one image. The answer goes to stdout, the
 * progress bar to stderr.
 */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Answer a question about an image (greedy, or nucleus sampling with --top-p/--temperature).")
public final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "llava-hf model directory (config.json, safetensors, tokenizer.json)")
    Path model;
    @Option(names = "--image", description = "image file (omit for a text-only question)")
    Path image;
    @Option(names = "--prompt", required = true, description = "the question")
    String prompt;
    @Option(names = "--tokenizer", description = "tokenizer.json (default: the model directory's)")
    Path tokenizer;
    @Option(names = "--template", defaultValue = "vicuna_v1", description = "vicuna_v1 or plain (default ${DEFAULT-VALUE})")
    String template;
    @Option(names = "--image-aspect", defaultValue = "pad", description = "pad or crop (default ${DEFAULT-VALUE})")
    String imageAspect;
    @Option(names = "--max-new-tokens", defaultValue = "128", description = "longest answer in tokens (default ${DEFAULT-VALUE})")
    int maxNewTokens;
    @Option(names = "--top-p", description = "sample from the smallest token set with this much probability, in (0, 1]")
    Double topP;
    @Option(names = "--temperature", description = "sampling temperature (default 1 when sampling; 0 means greedy)")
    Double temperature;
    @Option(names = "--seed", defaultValue = "0", description = "sampling seed (default ${DEFAULT-VALUE})")
    long seed;

    @Mixin
    DeviceOption device;

    @Mixin
    PrecisionOption precision;

    @Override
    public Integer call() {
        device.device(); // checked before anything else
        precision.precision(device.device()); // FP32 is what runs; bf16 is refused in one line
        ConversationTemplate tpl = Templates.byName(template);
        ImageAspect aspect = aspect(imageAspect);
        settings(-1); // option errors before the model loads
        try (InferenceSession session = InferenceSession.open(model, tokenizer, aspect, device.device())) {
            Prompt p = session.prompts(tpl).build(prompt, image != null);
            INDArray pixels = image == null ? null : ImageInput.load(session.images(), image).pixelValues();
            GenerationConfig config = settings(session.tokenizer().eosId());
            ProgressBar bar = new ProgressBar(System.err, "generate", config.maxNewTokens());
            int[] count = {0};
            GenerationResult result = new Generator(session.model()).generate(p.toInputs(pixels), config, t -> bar.update(++count[0], ""));
            if (count[0] < config.maxNewTokens()) {
                bar.update(config.maxNewTokens(), "(" + result.stopReason().name().toLowerCase(java.util.Locale.ROOT) + ")");
            }
            System.out.println(Answers.decode(session.tokenizer(), result.tokens(), session.model().imageTokenIndex()));
        }
        return 0;
    }

    /** Parses {@code --image-aspect}. */
    static ImageAspect aspect(String value) {
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "pad" -> ImageAspect.PAD;
            case "crop" -> ImageAspect.CROP;
            default -> throw new IllegalArgumentException("--image-aspect must be pad or crop, got '" + value + "'");
        };
    }

    /** The decoding settings these options describe (validated before the model loads). */
    GenerationConfig settings(int eosId) {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("--max-new-tokens must be at least 1, got " + maxNewTokens);
        }
        boolean greedy = (topP == null && temperature == null) || (temperature != null && temperature == 0);
        if (greedy) {
            return GenerationConfig.greedy(maxNewTokens, eosId);
        }
        double p = topP == null ? 1.0 : topP;
        double t = temperature == null ? 1.0 : temperature;
        if (!(p > 0 && p <= 1)) {
            throw new IllegalArgumentException("--top-p must be in (0, 1], got " + p);
        }
        if (!(t > 0)) {
            throw new IllegalArgumentException("--temperature must be positive (or 0 for greedy), got " + t);
        }
        return GenerationConfig.topP(maxNewTokens, p, t, seed, eosId);
    }
}
