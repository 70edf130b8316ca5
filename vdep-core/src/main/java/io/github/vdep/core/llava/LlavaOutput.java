package io.github.vdep.core.llava;

import io.github.vdep.core.autograd.Tensor;
import java.util.Map;

/**
 * The result of a LLaVA forward pass.
 *
 * @param logits [B, T, vocab], or null when not requested
 * @param hidden final-norm hidden states [B, T, H]
 * @param imageFeatures projected image embeddings [numImages, N, H] (the tokens fed to the LM), or null
 * @param imageRows for image i, the flat row indices (b * T + t) of its N positions, in order
 * @param layerOutputs outputs of requested decoder blocks (1-based), each [B, T, H]
 */
public record LlavaOutput(Tensor logits, Tensor hidden, Tensor imageFeatures, int[][] imageRows, Map<Integer, Tensor> layerOutputs) {
}
