package io.github.vdep.models.llama;

import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.ops.F;

/**
 * One layer's cached keys and values for incremental decoding (inference only), token-major
 * [B, S, kvHeads, headDim] as the projections produce them, on the model's device.
 */
public final class LayerKvCache {
    private Tensor keys;
    private Tensor values;

    Tensor appendKeys(Tensor k) {
        keys = keys == null ? F.detach(k) : F.concat(1, keys, F.detach(k));
        return keys;
    }

    Tensor appendValues(Tensor v) {
        values = values == null ? F.detach(v) : F.concat(1, values, F.detach(v));
        return values;
    }

    /** Cached positions. */
    public long length() {
        return keys == null ? 0 : keys.size(1);
    }
}
