package io.github.vdep.models.llama;

import io.github.vdep.core.autograd.Tensor;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** One layer's cached keys and values [B, kvHeads, S, headDim] for incremental decoding (inference only). */
public final class LayerKvCache {
    private INDArray keys;
    private INDArray values;

    Tensor appendKeys(Tensor k) {
        keys = keys == null ? k.value() : Nd4j.concat(2, keys, k.value());
        return Tensor.constant(keys);
    }

    Tensor appendValues(Tensor v) {
        values = values == null ? v.value() : Nd4j.concat(2, values, v.value());
        return Tensor.constant(values);
    }

    /** Cached positions. */
    public long length() {
        return keys == null ? 0 : keys.size(2);
    }
}
