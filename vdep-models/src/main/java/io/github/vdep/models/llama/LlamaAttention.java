package io.github.vdep.models.llama;

import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.nn.Linear;
import io.github.vdep.core.nn.Module;
import io.github.vdep.core.ops.F;
import io.github.vdep.core.ops.RopeTables;
import java.util.function.Consumer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Causal grouped-query self-attention with rotary embeddings. */
public final class LlamaAttention extends Module {
    private final Linear q;
    private final Linear k;
    private final Linear v;
    private final Linear o;
    private final int heads;
    private final int kvHeads;
    private final int headDim;

    public LlamaAttention(LlamaConfig c, DataType dtype) {
        this.heads = c.numAttentionHeads();
        this.kvHeads = c.numKeyValueHeads();
        this.headDim = c.headDim();
        boolean bias = c.attentionBias();
        this.q = registerModule("q_proj", new Linear(c.hiddenSize(), (long) heads * headDim, bias, dtype));
        this.k = registerModule("k_proj", new Linear(c.hiddenSize(), (long) kvHeads * headDim, bias, dtype));
        this.v = registerModule("v_proj", new Linear(c.hiddenSize(), (long) kvHeads * headDim, bias, dtype));
        this.o = registerModule("o_proj", new Linear((long) heads * headDim, c.hiddenSize(), bias, dtype));
    }

    /**
     * @param x [B, T, hidden]
     * @param rope tables for the T positions
     * @param keyMask null or [B, S] (S = cached + T)
     * @param cache null, or this layer's KV cache (appended to; keys before T come from it)
     */
    public Tensor forward(Tensor x, RopeTables rope, INDArray keyMask, LayerKvCache cache, Consumer<INDArray> probs) {
        long b = x.size(0), t = x.size(1);
        // the projections' [B, T, heads, d] layout as it is: no head transposes
        Tensor qt = F.ropeTokenMajor(F.reshape(q.forward(x), b, t, heads, headDim), rope);
        Tensor kt = F.ropeTokenMajor(F.reshape(k.forward(x), b, t, kvHeads, headDim), rope);
        Tensor vt = F.reshape(v.forward(x), b, t, kvHeads, headDim);
        if (cache != null) {
            kt = cache.appendKeys(kt);
            vt = cache.appendValues(vt);
        }
        Tensor a = F.attentionTokenMajor(qt, kt, vt, true, keyMask, Math.pow(headDim, -0.5), probs);
        return o.forward(F.reshape(a, b, t, (long) heads * headDim));
    }
}
