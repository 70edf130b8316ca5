package io.github.vdep.train.benchmark;

import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.models.llama.LlamaForCausalLM;
import io.github.vdep.train.data.ConversationTemplate;
import io.github.vdep.train.data.EncodingConfig;
import io.github.vdep.train.data.TextTokenizer;
import io.github.vdep.train.data.image.ClipImageProcessor;
import io.github.vdep.train.data.image.ImageDecodeException;
import io.github.vdep.train.infer.Answers;
import io.github.vdep.train.infer.BatchedGreedyGenerator;
import io.github.vdep.train.infer.GenerationConfig;
import io.github.vdep.train.infer.Generator;
import io.github.vdep.train.infer.ImageInput;
import io.github.vdep.train.infer.Prompt;
import io.github.vdep.train.infer.PromptBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Answers a benchmark's questions with a model as LLaVA's {@code model_vqa_loader.py} does: the
 * conversation template's prompt with the image first ({@code "<image>\n" + question}), greedy
 * decoding with the KV cache, the decoded answer stripped. Questions are answered in batches of
 * {@code batchSize} ({@link BatchedGreedyGenerator}: left-padded prompts, equal to one at a time up
 * to float rounding) or one at a time ({@link Generator}, as LLaVA's loader, which asserts a batch
 * size of 1) when {@code batchSize} is 1 or a batch would not fit the context. A question whose image is
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
    private final BatchedGreedyGenerator batched;
    private final int batchSize;
    private final int context;

    /**
     * @param model        the model
     * @param tokenizer    its tokenizer
     * @param template     the conversation template ({@code vicuna_v1} for LLaVA-1.5)
     * @param images       the image processor
     * @param maxNewTokens the longest answer in tokens (LLaVA's loader: 128)
     * @param batchSize    questions decoded together (1: one at a time)
     */
    public BenchmarkRunner(LlavaModel model, TextTokenizer tokenizer, ConversationTemplate template, ClipImageProcessor images, int maxNewTokens,
            int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be at least 1, got " + batchSize);
        }
        this.model = Objects.requireNonNull(model, "model");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.images = Objects.requireNonNull(images, "images");
        this.context = model.languageModel() instanceof LlamaForCausalLM llama ? llama.config().maxPositionEmbeddings() : Integer.MAX_VALUE;
        this.prompts = new PromptBuilder(tokenizer, template, new EncodingConfig(model.imageTokenIndex(), model.visionTower().numPatches(), context));
        this.generation = GenerationConfig.greedy(maxNewTokens, tokenizer.eosId());
        this.generator = new Generator(model);
        this.batchSize = batchSize;
        this.batched = batchSize > 1 && model.languageModel() instanceof LlamaForCausalLM ? new BatchedGreedyGenerator(model) : null;
    }

    /** A question ready to decode. */
    private record Ready(BenchmarkQuestion question, Prompt prompt, INDArray pixels) {
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
        List<Ready> batch = new ArrayList<>();
        int done = 0;
        for (int i = 0; i < n; i++) {
            Ready r = prepare(questions.get(i), set.bad());
            if (r != null) {
                batch.add(r);
            }
            if (batch.size() == batchSize || i == n - 1) {
                decode(batch, out);
                batch.clear();
                for (int k = done; k <= i; k++) {
                    listener.onQuestion(k + 1, n);
                }
                done = i + 1;
            }
        }
        return out;
    }

    /** Decodes a batch (together when it fits the context, else one by one) into {@code out}, in order. */
    private void decode(List<Ready> batch, Map<String, AnswerLine> out) {
        if (batch.isEmpty()) {
            return;
        }
        int longest = batch.stream().mapToInt(r -> r.prompt().length()).max().orElseThrow();
        List<int[]> tokens = new ArrayList<>();
        if (batched != null && batch.size() > 1 && longest + generation.maxNewTokens() <= context) {
            tokens = batched.generate(batch.stream().map(Ready::prompt).toList(), batch.stream().map(Ready::pixels).toList(),
                    generation.maxNewTokens(), generation.eosTokenId());
        } else {
            for (Ready r : batch) {
                tokens.add(generator.generate(r.prompt().toInputs(r.pixels()), generation).tokens());
            }
        }
        for (int i = 0; i < batch.size(); i++) {
            BenchmarkQuestion q = batch.get(i).question();
            String text = PyText.strip(Answers.decode(tokenizer, tokens.get(i), model.imageTokenIndex()));
            out.put(q.key(), new AnswerLine(q.questionId(), q.recorded(), text));
        }
    }

    /** The question's prompt and pixels, or null after counting why it cannot be asked. */
    private Ready prepare(BenchmarkQuestion q, BadInput bad) {
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
        return new Ready(q, prompt, pixels);
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
