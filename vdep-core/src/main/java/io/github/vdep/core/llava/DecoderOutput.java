package io.github.vdep.core.llava;

import io.github.vdep.core.autograd.Tensor;
import java.util.Map;

/**
 * @param hidden final-norm hidden states [B, T, H] (the input of the LM head)
 * @param layerOutputs outputs of the requested blocks, keyed by 1-based block index
 */
public record DecoderOutput(Tensor hidden, Map<Integer, Tensor> layerOutputs) {
}
