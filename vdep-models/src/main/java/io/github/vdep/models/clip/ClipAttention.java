package io.github.vdep.models.clip;

import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.nn.Linear;
import io.github.vdep.core.nn.Module;
import io.github.vdep.core.ops.F;
import org.nd4j.linalg.api.buffer.DataType;

/** CLIP's bidirectional multi-head self-attention (q/k/v/out projections with bias). */
public final class ClipAttention extends Module {
    private final Linear q;
    private final Linear k;
    private final Linear v;
    private final Linear out;
    private final int heads;
    private final int headDim;

    public ClipAttention(ClipVisionConfig c, DataType dtype) {
        int d = c.hiddenSize();
        this.k = registerModule("k_proj", new Linear(d, d, true, dtype));
        this.v = registerModule("v_proj", new Linear(d, d, true, dtype));
        this.q = registerModule("q_proj", new Linear(d, d, true, dtype));
        this.out = registerModule("out_proj", new Linear(d, d, true, dtype));
        this.heads = c.numAttentionHeads();
        this.headDim = c.headDim();
    }

    /** x [B, T, D] to [B, T, D]. */
    public Tensor forward(Tensor x) {
        long b = x.size(0), t = x.size(1);
        // the projections' [B, T, heads, d] layout as it is: no head transposes
        Tensor a = F.attentionTokenMajor(F.reshape(q.forward(x), b, t, heads, headDim), F.reshape(k.forward(x), b, t, heads, headDim),
                F.reshape(v.forward(x), b, t, heads, headDim), false, null, Math.pow(headDim, -0.5), null);
        return out.forward(F.reshape(a, b, t, (long) heads * headDim));
    }
}
