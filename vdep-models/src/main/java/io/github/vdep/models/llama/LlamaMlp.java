package io.github.vdep.models.llama;

import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.nn.Linear;
import io.github.vdep.core.nn.Module;
import io.github.vdep.core.ops.F;
import org.nd4j.linalg.api.buffer.DataType;

/** SwiGLU feed-forward: down(silu(gate(x)) * up(x)), no biases. */
public final class LlamaMlp extends Module {
    private final Linear gate;
    private final Linear up;
    private final Linear down;

    public LlamaMlp(LlamaConfig c, DataType dtype) {
        this.gate = registerModule("gate_proj", new Linear(c.hiddenSize(), c.intermediateSize(), false, dtype));
        this.up = registerModule("up_proj", new Linear(c.hiddenSize(), c.intermediateSize(), false, dtype));
        this.down = registerModule("down_proj", new Linear(c.intermediateSize(), c.hiddenSize(), false, dtype));
    }

    public Tensor forward(Tensor x) {
        return down.forward(F.swiglu(gate.forward(x), up.forward(x)));
    }
}
