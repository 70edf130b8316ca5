package io.github.vdep.train.infer;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.llava.CausalLanguageModel;
import io.github.vdep.core.llava.DecodeOptions;
import io.github.vdep.core.llava.LlavaInputs;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.ops.F;
import io.github.vdep.models.llama.KvCache;
import io.github.vdep.models.llama.LlamaForCausalLM;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Autoregressive generation with a {@link LlavaModel}, one sequence at a time.
 *
 * <p>The prompt (image placeholders already expanded, see {@link PromptBuilder}) is embedded with
 * the image features spliced in exactly as {@link LlavaModel#forward} does
 * ({@link LlavaModel#embedInputs}) and prefilled through the decoder; each new token is then fed
 * alone against the {@link KvCache} (when the language model is a {@link LlamaForCausalLM}; any
 * other {@link CausalLanguageModel} is re-run over the whole sequence every step). Runs without
 * recording: an active {@link Tape} is suspended for the call.
 *
 * <p>Not thread-safe (the model's arrays are shared); use one generator per thread and model.
 */
public final class Generator {

    private final LlavaModel model;

    /**
     * @param model the model (its parameters are read, never changed)
     */
    public Generator(LlavaModel model) {
        this.model = Objects.requireNonNull(model, "model");
    }

    /** @return the model */
    public LlavaModel model() {
        return model;
    }

    /**
     * Generates a continuation of a prompt.
     *
     * @param prompt one sequence ([1, T] ids, no padding) with its image(s), if any
     * @param config decoding settings
     * @return the new tokens and why generation stopped
     * @throws IllegalArgumentException if the prompt is not a single unpadded sequence, its image
     *                                  tokens do not match its images, or it does not fit the
     *                                  model's context
     */
    public GenerationResult generate(LlavaInputs prompt, GenerationConfig config) {
        return generate(prompt, config, t -> { });
    }

    /**
     * As {@link #generate(LlavaInputs, GenerationConfig)}, handing each token to {@code onToken}
     * as soon as it is chosen (the final EOS is not handed on).
     *
     * @param prompt  one sequence with its image(s)
     * @param config  decoding settings
     * @param onToken receives the generated ids in order (for streaming)
     * @return the new tokens and why generation stopped
     */
    public GenerationResult generate(LlavaInputs prompt, GenerationConfig config, IntConsumer onToken) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(onToken, "onToken");
        if (prompt.batchSize() != 1) {
            throw new IllegalArgumentException("generation takes one sequence at a time, got a batch of " + prompt.batchSize());
        }
        if (prompt.attentionMask() != null && prompt.attentionMask().minNumber().doubleValue() == 0) {
            throw new IllegalArgumentException("the prompt must not be padded (its attention mask has zeros)");
        }
        if (prompt.length() == 0) {
            throw new IllegalArgumentException("the prompt is empty (it needs at least a BOS token)");
        }
        int context = contextLength();
        if (prompt.length() >= context) {
            throw new IllegalArgumentException("the prompt has " + prompt.length() + " tokens but the model's context holds "
                    + context + " positions, leaving no room for an answer");
        }
        return Tape.noGrad(() -> run(prompt, config, context, onToken));
    }

    private GenerationResult run(LlavaInputs prompt, GenerationConfig config, int context, IntConsumer onToken) {
        CausalLanguageModel lm = model.languageModel();
        Tensor promptEmbeds = model.embedInputs(prompt);
        SplittableRandom rng = new SplittableRandom(config.seed());
        Stepper stepper = config.useKvCache() && lm instanceof LlamaForCausalLM llama
                ? new CachedStepper(llama, promptEmbeds)
                : new FullStepper(lm, promptEmbeds);
        int[] out = new int[config.maxNewTokens()];
        int n = 0;
        double[] logits = stepper.first();
        while (true) {
            int token = config.sample()
                    ? TokenSampler.sampleTopP(logits, config.topP(), config.temperature(), rng)
                    : TokenSampler.argmax(logits);
            if (token == config.eosTokenId()) {
                return result(out, n, GenerationResult.StopReason.EOS);
            }
            out[n++] = token;
            onToken.accept(token);
            if (n == config.maxNewTokens()) {
                return result(out, n, GenerationResult.StopReason.MAX_NEW_TOKENS);
            }
            if (prompt.length() + n >= context) {
                return result(out, n, GenerationResult.StopReason.CONTEXT_FULL);
            }
            logits = stepper.next(token);
        }
    }

    private static GenerationResult result(int[] out, int n, GenerationResult.StopReason reason) {
        return new GenerationResult(java.util.Arrays.copyOf(out, n), reason);
    }

    /** The language model's maximum number of positions (unbounded when it does not say). */
    private int contextLength() {
        return model.languageModel() instanceof LlamaForCausalLM llama ? llama.config().maxPositionEmbeddings() : Integer.MAX_VALUE;
    }

    /** Logits [vocab] of the last position of {@code hidden} [1, T, H]. */
    static double[] lastLogits(CausalLanguageModel lm, Tensor hidden) {
        long t = hidden.size(1);
        Tensor last = F.slice(hidden, 1, t - 1, t);
        INDArray logits = lm.logits(last).to(Device.CPU).value(); // sampling reads the last position on the host
        return logits.reshape(logits.length()).toDoubleVector();
    }

    static INDArray ids(int... tokens) {
        long[][] a = new long[1][tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            a[0][i] = tokens[i];
        }
        return Nd4j.createFromArray(a);
    }

    /** Produces next-token logits: first for the prompt, then after each appended token. */
    private interface Stepper {
        double[] first();

        double[] next(int token);
    }

    /** Prefill once, then one position per step against the KV cache. */
    private static final class CachedStepper implements Stepper {
        private final LlamaForCausalLM lm;
        private final Tensor promptEmbeds;
        private final KvCache cache;

        CachedStepper(LlamaForCausalLM lm, Tensor promptEmbeds) {
            this.lm = lm;
            this.promptEmbeds = promptEmbeds;
            this.cache = new KvCache(lm.numLayers());
        }

        @Override
        public double[] first() {
            return lastLogits(lm, lm.decode(promptEmbeds, null, DecodeOptions.DEFAULT, cache).hidden());
        }

        @Override
        public double[] next(int token) {
            Tensor e = lm.embedTokens(ids(token));
            return lastLogits(lm, lm.decode(e, null, DecodeOptions.DEFAULT, cache).hidden());
        }
    }

    /** No cache: the prompt embeddings plus all generated tokens' embeddings, decoded in full each step. */
    private static final class FullStepper implements Stepper {
        private final CausalLanguageModel lm;
        private Tensor embeds;

        FullStepper(CausalLanguageModel lm, Tensor promptEmbeds) {
            this.lm = lm;
            this.embeds = promptEmbeds;
        }

        @Override
        public double[] first() {
            return lastLogits(lm, lm.decode(embeds, null, DecodeOptions.DEFAULT).hidden());
        }

        @Override
        public double[] next(int token) {
            embeds = F.concat(1, embeds, lm.embedTokens(ids(token)));
            return lastLogits(lm, lm.decode(embeds, null, DecodeOptions.DEFAULT).hidden());
        }
    }
}
