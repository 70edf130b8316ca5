package io.github.vdep.models.llama;

import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.nn.Module;
import io.github.vdep.core.nn.RmsNorm;
import io.github.vdep.core.ops.F;
import io.github.vdep.core.ops.RopeTables;
import java.util.function.Consumer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A pre-RMSNorm LLaMA block: attention and SwiGLU MLP, each with a residual connection. */
public final class LlamaDecoderLayer extends Module {
    private final LlamaAttention attention;
    private final LlamaMlp mlp;
    private final RmsNorm inputNorm;
    private final RmsNorm postAttentionNorm;

    public LlamaDecoderLayer(LlamaConfig c, DataType dtype) {
        this.attention = registerModule("self_attn", new LlamaAttention(c, dtype));
        this.mlp = registerModule("mlp", new LlamaMlp(c, dtype));
        this.inputNorm = registerModule("input_layernorm", new RmsNorm(c.hiddenSize(), c.rmsNormEps(), dtype));
        this.postAttentionNorm = registerModule("post_attention_layernorm", new RmsNorm(c.hiddenSize(), c.rmsNormEps(), dtype));
    }

    public Tensor forward(Tensor x, RopeTables rope, INDArray keyMask, LayerKvCache cache, Consumer<INDArray> probs) {
        Tensor h = F.add(x, attention.forward(inputNorm.forward(x), rope, keyMask, cache, probs));
        return F.add(h, mlp.forward(postAttentionNorm.forward(h)));
    }
}
