package io.github.vdep.train.benchmark;

import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.models.llama.LlamaForCausalLM;
import io.github.vdep.train.data.ConversationTemplate;
import io.github.vdep.train.data.EncodingConfig;
import io.github.vdep.train.data.TextTokenizer;
import io.github.vdep.train.data.image.ClipImageProcessor;
import io.github.vdep.train.data.image.ImageDecodeException;
import io.github.vdep.train.infer.Answers;
import io.github.vdep.train.infer.GenerationConfig;
import io.github.vdep.train.infer.GenerationResult;
import io.github.vdep.train.infer.Generator;
import io.github.vdep.train.infer.ImageInput;
import io.github.vdep.train.infer.Prompt;
import io.github.vdep.train.infer.PromptBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Answers a benchmark's questions with a model as LLaVA's {@code model_vqa_loader.py} does: the
 * conversation template's prompt with the image first ({@code "<image>\n" + question}), greedy
 * decoding with the KV cache ({@link Generator}), the decoded answer stripped. Questions are
 * answered one at a time (LLaVA's loader asserts a batch size of 1). A question whose image is
 * missing or undecodable, or whose prompt does not fit the context, is counted in
 * {@link BadInput} and left unanswered (scored as an empty answer).
 */
public final class BenchmarkRunner {

    /** Follows a run question by question. */
    @FunctionalInterface
    public interface Listener {
        /** Called after each question, answered or not. */
        void onQuestion(int done, int total);
    }

    private final LlavaModel model;
    private final TextTokenizer tokenizer;
    private final PromptBuilder prompts;
    private final ClipImageProcessor images;
    private final GenerationConfig generation;
    private final Generator generator;
    private final int context;

    /**
     * @param model        the model
     * @param tokenizer    its tokenizer
     * @param template     the conversation template ({@code vicuna_v1} for LLaVA-1.5)
     * @param images       the image processor
     * @param maxNewTokens the longest answer in tokens (LLaVA's loader: 128)
     */
    public BenchmarkRunner(LlavaModel model, TextTokenizer tokenizer, ConversationTemplate template, ClipImageProcessor images, int maxNewTokens) {
        this.model = Objects.requireNonNull(model, "model");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.images = Objects.requireNonNull(images, "images");
        this.context = model.languageModel() instanceof LlamaForCausalLM llama ? llama.config().maxPositionEmbeddings() : Integer.MAX_VALUE;
        this.prompts = new PromptBuilder(tokenizer, template, new EncodingConfig(model.imageTokenIndex(), model.visionTower().numPatches(), context));
        this.generation = GenerationConfig.greedy(maxNewTokens, tokenizer.eosId());
        this.generator = new Generator(model);
    }

    /**
     * @param set      the loaded benchmark
     * @param limit    answer only the first {@code limit} questions (0: all); the rest count as unanswered
     * @param listener informed after each question
     * @return answers by question key, in question order
     */
    public Map<String, AnswerLine> answer(LoadedBenchmark set, int limit, Listener listener) {
        List<BenchmarkQuestion> questions = set.questions();
        int n = limit > 0 ? Math.min(limit, questions.size()) : questions.size();
        Map<String, AnswerLine> out = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            BenchmarkQuestion q = questions.get(i);
            String text = answer(q, set.bad());
            if (text != null) {
                out.put(q.key(), new AnswerLine(q.questionId(), q.recorded(), text));
            }
            listener.onQuestion(i + 1, n);
        }
        return out;
    }

    /** One answer, or null after counting why there is none. */
    private String answer(BenchmarkQuestion q, BadInput bad) {
        INDArray pixels = null;
        if (q.image() != null) {
            if (!Files.isRegularFile(q.image())) {
                bad.add(BadInput.MISSING_IMAGE, q.key(), "question " + q.questionId() + ": image " + q.image() + " not found");
                return null;
            }
            try {
                pixels = ImageInput.load(images, q.image()).pixelValues();
            } catch (ImageDecodeException e) {
                bad.add(BadInput.UNDECODABLE_IMAGE, q.key(), "question " + q.questionId() + ": " + e.getMessage());
                return null;
            }
        } else if (q.imageBase64() != null) {
            pixels = decodeBase64(q, bad);
            if (pixels == null) {
                return null;
            }
        }
        Prompt prompt = prompts.build(q.prompt(), q.hasImage());
        if (prompt.length() >= context) {
            bad.add(BadInput.PROMPT_TOO_LONG, q.key(), "question " + q.questionId() + ": the prompt has " + prompt.length()
                    + " tokens, the model's context " + context);
            return null;
        }
        GenerationResult result = generator.generate(prompt.toInputs(pixels), generation);
        return PyText.strip(Answers.decode(tokenizer, result.tokens(), model.imageTokenIndex()));
    }

    private INDArray decodeBase64(BenchmarkQuestion q, BadInput bad) {
        byte[] bytes;
        try {
            bytes = Base64.getMimeDecoder().decode(q.imageBase64());
        } catch (IllegalArgumentException e) {
            bad.add(BadInput.UNDECODABLE_IMAGE, q.key(), "question " + q.questionId() + ": the image is not valid base64");
            return null;
        }
        Path tmp = null;
        try {
            tmp = Files.createTempFile("vdep-bench-", ".img");
            Files.write(tmp, bytes);
            return ImageInput.load(images, tmp).pixelValues();
        } catch (ImageDecodeException e) {
            bad.add(BadInput.UNDECODABLE_IMAGE, q.key(), "question " + q.questionId() + ": the base64 image cannot be decoded");
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a temporary image file: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // a leftover temporary file is harmless
                }
            }
        }
    }
}
