package io.github.vdep.core.llava;

import io.github.vdep.core.autograd.Tensor;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A decoder-only language model split at the points LLaVA needs: embeddings, blocks, LM head. */
public interface CausalLanguageModel {
    /** Token embeddings [B, T, hidden] of integer ids [B, T]. */
    Tensor embedTokens(INDArray inputIds);

    /**
     * Runs the decoder blocks and the final norm over input embeddings.
     *
     * @param inputsEmbeds [B, T, hidden]
     * @param attentionMask null, or [B, T] with 0 at padding
     */
    DecoderOutput decode(Tensor inputsEmbeds, INDArray attentionMask, DecodeOptions options);

    /** Next-token logits [B, T, vocab] from final hidden states. */
    Tensor logits(Tensor hidden);

    int hiddenSize();

    int vocabSize();

    int numLayers();

    /**
     * Sets which activations the decoder recomputes in the backward pass (applies while a tape
     * records). The default supports only {@link Recompute#NONE}: a model that keeps everything.
     *
     * @throws UnsupportedOperationException for a mode this model does not implement
     */
    default void setRecompute(Recompute mode) {
        if (mode != Recompute.NONE) {
            throw new UnsupportedOperationException("--recompute " + mode.label() + ": " + getClass().getSimpleName()
                    + " does not support activation recomputation");
        }
    }
}
