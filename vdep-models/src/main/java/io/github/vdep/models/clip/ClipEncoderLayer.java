package io.github.vdep.models.clip;

import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.nn.LayerNorm;
import io.github.vdep.core.nn.Module;
import io.github.vdep.core.ops.F;
import org.nd4j.linalg.api.buffer.DataType;

/** A pre-LayerNorm transformer block of the CLIP vision encoder. */
public final class ClipEncoderLayer extends Module {
    private final ClipAttention attention;
    private final LayerNorm norm1;
    private final ClipMlp mlp;
    private final LayerNorm norm2;

    public ClipEncoderLayer(ClipVisionConfig c, DataType dtype) {
        this.attention = registerModule("self_attn", new ClipAttention(c, dtype));
        this.norm1 = registerModule("layer_norm1", new LayerNorm(c.hiddenSize(), c.layerNormEps(), dtype));
        this.mlp = registerModule("mlp", new ClipMlp(c, dtype));
        this.norm2 = registerModule("layer_norm2", new LayerNorm(c.hiddenSize(), c.layerNormEps(), dtype));
    }

    public Tensor forward(Tensor x) {
        Tensor h = F.add(x, attention.forward(norm1.forward(x)));
        return F.add(h, mlp.forward(norm2.forward(h)));
    }
}
