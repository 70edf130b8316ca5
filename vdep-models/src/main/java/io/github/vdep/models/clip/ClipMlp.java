package io.github.vdep.models.clip;

import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.nn.Linear;
import io.github.vdep.core.nn.Module;
import io.github.vdep.core.ops.F;
import org.nd4j.linalg.api.buffer.DataType;

/** CLIP's feed-forward block: fc2(act(fc1(x))), act quick_gelu (or exact gelu). */
public final class ClipMlp extends Module {
    private final Linear fc1;
    private final Linear fc2;
    private final boolean quickGelu;

    public ClipMlp(ClipVisionConfig c, DataType dtype) {
        this.fc1 = registerModule("fc1", new Linear(c.hiddenSize(), c.intermediateSize(), true, dtype));
        this.fc2 = registerModule("fc2", new Linear(c.intermediateSize(), c.hiddenSize(), true, dtype));
        this.quickGelu = c.hiddenAct().equals("quick_gelu");
    }

    public Tensor forward(Tensor x) {
        Tensor h = fc1.forward(x);
        return fc2.forward(quickGelu ? F.quickGelu(h) : F.gelu(h));
    }
}
