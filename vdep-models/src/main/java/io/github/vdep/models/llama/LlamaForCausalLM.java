package io.github.vdep.models.llama;

import io.github.vdep.core.autograd.Checkpoint;
import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.llava.CausalLanguageModel;
import io.github.vdep.core.llava.DecodeOptions;
import io.github.vdep.core.llava.DecoderOutput;
import io.github.vdep.core.llava.Recompute;
import io.github.vdep.core.nn.Embedding;
import io.github.vdep.core.nn.Init;
import io.github.vdep.core.nn.Linear;
import io.github.vdep.core.nn.Module;
import io.github.vdep.core.nn.ModuleList;
import io.github.vdep.core.nn.RmsNorm;
import io.github.vdep.core.ops.F;
import io.github.vdep.core.ops.RopeTables;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Hugging Face's {@code LlamaForCausalLM}: token embeddings, pre-norm decoder blocks with RoPE
 * and grouped-query attention, a final RMSNorm and an LM head (untied, or tied to the
 * embeddings when {@code tie_word_embeddings}). Parameters are named {@code model.*} and
 * {@code lm_head.weight} as in its checkpoints.
 */
public final class LlamaForCausalLM extends Module implements CausalLanguageModel {
    private final LlamaConfig config;
    private final Body model;
    private final Linear lmHead;
    private final DataType dtype;
    private Recompute recompute = Recompute.NONE;

    public LlamaForCausalLM(LlamaConfig config, DataType dtype) {
        this.config = config;
        this.dtype = dtype;
        this.model = registerModule("model", new Body(config, dtype));
        this.lmHead = config.tieWordEmbeddings() ? null : registerModule("lm_head", new Linear(config.hiddenSize(), config.vocabSize(), false, dtype));
    }

    public LlamaConfig config() {
        return config;
    }

    /** The embedding table [vocab, hidden]. */
    public Parameter embedTokensWeight() {
        return model.embedTokens.weight();
    }

    @Override
    public Tensor embedTokens(INDArray inputIds) {
        return model.embedTokens.forward(inputIds);
    }

    @Override
    public DecoderOutput decode(Tensor inputsEmbeds, INDArray attentionMask, DecodeOptions options) {
        return decode(inputsEmbeds, attentionMask, options, null);
    }

    /**
     * As {@link #decode(Tensor, INDArray, DecodeOptions)}, continuing from {@code cache} (positions
     * start at its length; the attention mask, if any, covers cached and new positions).
     */
    public DecoderOutput decode(Tensor inputsEmbeds, INDArray attentionMask, DecodeOptions options, KvCache cache) {
        int t = (int) inputsEmbeds.size(1);
        int offset = cache == null ? 0 : (int) cache.length();
        if (offset + t > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence of " + (offset + t) + " positions exceeds max_position_embeddings " + config.maxPositionEmbeddings());
        }
        RopeTables rope = RopeTables.compute(config.headDim(), config.ropeTheta(), offset, t, inputsEmbeds.dataType());
        INDArray keyMask = attentionMask == null || attentionMask.minNumber().doubleValue() != 0 ? null : attentionMask;
        Map<Integer, Tensor> kept = new LinkedHashMap<>();
        Tensor h = inputsEmbeds;
        // recomputation is for training: a KV cache or an attention-map sink keeps every layer as it is
        boolean recomputeLayers = recompute == Recompute.LAYERS && cache == null && options.attentionSink() == null;
        for (int i = 0; i < model.layers.size(); i++) {
            final int layer = i;
            LlamaDecoderLayer block = model.layers.get(i);
            if (recomputeLayers) {
                Tensor x = h;
                h = Checkpoint.run(() -> block.forward(x, rope, keyMask, null, null));
            } else {
                h = block.forward(h, rope, keyMask, cache == null ? null : cache.layer(i),
                        options.attentionSink() == null ? null : p -> options.attentionSink().accept(layer, p));
            }
            if (options.keepLayers().contains(i + 1)) {
                kept.put(i + 1, h);
            }
        }
        return new DecoderOutput(model.norm.forward(h), kept);
    }

    @Override
    public Tensor logits(Tensor hidden) {
        return F.linear(hidden, lmHead != null ? lmHead.weight() : model.embedTokens.weight(), null);
    }

    /** {@link Recompute#LAYERS}: each decoder layer keeps only its input and is recomputed in the backward pass. */
    @Override
    public void setRecompute(Recompute mode) {
        this.recompute = java.util.Objects.requireNonNull(mode, "mode");
    }

    public Recompute recompute() {
        return recompute;
    }

    @Override
    public int hiddenSize() {
        return config.hiddenSize();
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    @Override
    public int numLayers() {
        return config.numHiddenLayers();
    }

    public DataType dataType() {
        return dtype;
    }

    /** Hugging Face's LLaMA init: normal(0, std) for matrices and embeddings, ones for norms. */
    public void initialize(long seed, double std) {
        SplittableRandom rng = new SplittableRandom(seed);
        namedParameters().forEach((name, p) -> {
            if (name.endsWith("norm.weight")) {
                p.value().assign(1);
            } else if (name.endsWith(".bias")) {
                p.value().assign(0);
            } else {
                p.load(Init.normal(rng, std, p.dataType(), p.shape()));
            }
        });
    }

    static final class Body extends Module {
        final Embedding embedTokens;
        final ModuleList<LlamaDecoderLayer> layers;
        final RmsNorm norm;

        Body(LlamaConfig c, DataType dtype) {
            this.embedTokens = registerModule("embed_tokens", new Embedding(c.vocabSize(), c.hiddenSize(), dtype));
            this.layers = registerModule("layers", new ModuleList<>());
            for (int i = 0; i < c.numHiddenLayers(); i++) {
                layers.add(new LlamaDecoderLayer(c, dtype));
            }
            this.norm = registerModule("norm", new RmsNorm(c.hiddenSize(), c.rmsNormEps(), dtype));
        }
    }
}
