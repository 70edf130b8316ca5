package io.github.vdep.train.infer;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.llava.DecodeOptions;
import io.github.vdep.core.llava.LlavaInputs;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.ops.F;
import io.github.vdep.models.llama.KvCache;
import io.github.vdep.models.llama.LlamaForCausalLM;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Greedy decoding of several prompts at once with the KV cache: the prompts are left-padded to a
 * common length (padding masked out as keys), prefilled together, then extended one token per
 * step for all of them until each has produced EOS or {@code maxNewTokens} tokens.
 *
 * <p>Left padding shifts a prompt's positions by its padding; LLaMA's rotary attention depends only
 * on position differences, so each sequence's logits equal those of {@link Generator} alone up to
 * float rounding (the rotation tables at other absolute positions, and batched matrix products).
 * Requires a {@link LlamaForCausalLM}. Runs without recording. Not thread-safe.
 */
public final class BatchedGreedyGenerator {

    private final LlavaModel model;
    private final LlamaForCausalLM lm;

    /**
     * @param model the model
     * @throws IllegalArgumentException if its language model is not a {@link LlamaForCausalLM}
     */
    public BatchedGreedyGenerator(LlavaModel model) {
        this.model = Objects.requireNonNull(model, "model");
        if (!(model.languageModel() instanceof LlamaForCausalLM llama)) {
            throw new IllegalArgumentException("batched generation needs a LLaMA language model with a KV cache, got "
                    + model.languageModel().getClass().getSimpleName());
        }
        this.lm = llama;
    }

    /** @return the number of positions the model holds */
    public int context() {
        return lm.config().maxPositionEmbeddings();
    }

    /**
     * @param prompts      the prompts (each unpadded, at least a BOS token)
     * @param pixels       each prompt's pixel values [1, 3, H, W], or null for a text-only prompt
     * @param maxNewTokens the most tokens per answer
     * @param eosId        the end-of-sequence id (not included in the answers)
     * @return each prompt's new tokens, in order
     * @throws IllegalArgumentException if the padded prompts and answers would not fit the context
     */
    public List<int[]> generate(List<Prompt> prompts, List<INDArray> pixels, int maxNewTokens, int eosId) {
        if (prompts.isEmpty() || prompts.size() != pixels.size()) {
            throw new IllegalArgumentException("need one pixel entry (or null) per prompt, got " + prompts.size() + " prompts and " + pixels.size());
        }
        int longest = prompts.stream().mapToInt(Prompt::length).max().orElseThrow();
        if (longest + maxNewTokens > context()) {
            throw new IllegalArgumentException("the longest prompt (" + longest + " tokens) and " + maxNewTokens
                    + " new tokens do not fit the context of " + context());
        }
        return Tape.noGrad(() -> run(prompts, pixels, longest, maxNewTokens, eosId));
    }

    private List<int[]> run(List<Prompt> prompts, List<INDArray> pixels, int longest, int maxNewTokens, int eosId) {
        int b = prompts.size();
        long[][] ids = new long[b][longest];
        float[][] mask = new float[b][longest];
        for (int i = 0; i < b; i++) {
            int[] p = prompts.get(i).inputIds();
            int pad = longest - p.length;
            for (int j = 0; j < p.length; j++) {
                ids[i][pad + j] = p[j];
                mask[i][pad + j] = 1;
            }
        }
        List<INDArray> images = new ArrayList<>();
        pixels.stream().filter(Objects::nonNull).forEach(images::add);
        INDArray pix = images.isEmpty() ? null : images.size() == 1 ? images.get(0) : Nd4j.concat(0, images.toArray(INDArray[]::new));
        INDArray attention = Nd4j.createFromArray(mask);
        Tensor embeds = model.embedInputs(new LlavaInputs(Nd4j.createFromArray(ids), attention, pix));
        KvCache cache = new KvCache(lm.numLayers());
        double[][] logits = lastLogits(lm.decode(embeds, attention, DecodeOptions.DEFAULT, cache).hidden(), b);

        List<List<Integer>> out = new ArrayList<>();
        boolean[] done = new boolean[b];
        for (int i = 0; i < b; i++) {
            out.add(new ArrayList<>());
        }
        int active = b;
        for (int step = 0; ; step++) {
            long[][] next = new long[b][1];
            for (int i = 0; i < b; i++) {
                if (done[i]) {
                    continue; // a finished row is fed token 0; its outputs are ignored and rows never see each other
                }
                int token = TokenSampler.argmax(logits[i]);
                next[i][0] = token;
                if (token == eosId) {
                    next[i][0] = 0;
                    done[i] = true;
                    active--;
                } else {
                    out.get(i).add(token);
                    if (out.get(i).size() == maxNewTokens) {
                        done[i] = true;
                        active--;
                    }
                }
            }
            if (active == 0) {
                break;
            }
            attention = Nd4j.concat(1, attention, Nd4j.ones(attention.dataType(), b, 1));
            Tensor e = lm.embedTokens(Nd4j.createFromArray(next));
            logits = lastLogits(lm.decode(e, attention, DecodeOptions.DEFAULT, cache).hidden(), b);
        }
        List<int[]> result = new ArrayList<>();
        out.forEach(l -> result.add(l.stream().mapToInt(Integer::intValue).toArray()));
        return result;
    }

    /** Logits [B][vocab] of the last position of {@code hidden} [B, T, H]. */
    private double[][] lastLogits(Tensor hidden, int b) {
        long t = hidden.size(1);
        INDArray logits = lm.logits(F.slice(hidden, 1, t - 1, t)).value();
        INDArray flat = logits.reshape('c', b, logits.length() / b);
        double[][] rows = new double[b][];
        for (int i = 0; i < b; i++) {
            rows[i] = flat.getRow(i).toDoubleVector();
        }
        return rows;
    }
}
