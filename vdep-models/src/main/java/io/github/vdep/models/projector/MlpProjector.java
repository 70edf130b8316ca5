package io.github.vdep.models.projector;

import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.llava.Projector;
import io.github.vdep.core.nn.Linear;
import io.github.vdep.core.nn.Module;
import io.github.vdep.core.ops.F;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * LLaVA's multimodal projector: {@code linear} (one Linear) or {@code mlpNx_gelu}
 * (Linear(in, H), then N-1 times [GELU, Linear(H, H)]), all with biases. Layers are named
 * {@code linear_1 ... linear_N} as in llava-hf checkpoints ({@code mlp2x_gelu} is the default
 * of LLaVA-1.5 and the only kind llava-hf stores).
 */
public final class MlpProjector extends Module implements Projector {
    private static final Pattern MLP = Pattern.compile("^mlp(\\d+)x_gelu$");

    private final List<Linear> layers = new ArrayList<>();
    private final String type;
    private final int inputDim;
    private final int outputDim;
    private final boolean quickGelu;

    /**
     * @param type {@code linear} or {@code mlpNx_gelu}
     * @param activation {@code gelu} (exact) or {@code quick_gelu}, llava-hf's {@code projector_hidden_act}
     */
    public MlpProjector(String type, int inputDim, int outputDim, String activation, DataType dtype) {
        int depth = depthOf(type);
        if (!activation.equals("gelu") && !activation.equals("quick_gelu")) {
            throw new IllegalArgumentException("unsupported projector_hidden_act '" + activation + "' (gelu or quick_gelu)");
        }
        this.type = type;
        this.inputDim = inputDim;
        this.outputDim = outputDim;
        this.quickGelu = activation.equals("quick_gelu");
        for (int i = 0; i < depth; i++) {
            layers.add(registerModule("linear_" + (i + 1), new Linear(i == 0 ? inputDim : outputDim, outputDim, true, dtype)));
        }
    }

    /** Layer count of a projector type: 1 for {@code linear}, N for {@code mlpNx_gelu}. */
    public static int depthOf(String type) {
        if (type.equals("linear")) {
            return 1;
        }
        Matcher m = MLP.matcher(type);
        if (!m.matches() || Integer.parseInt(m.group(1)) < 1) {
            throw new IllegalArgumentException("unknown projector type '" + type + "' (linear or mlpNx_gelu, e.g. mlp2x_gelu)");
        }
        return Integer.parseInt(m.group(1));
    }

    public String type() {
        return type;
    }

    public int depth() {
        return layers.size();
    }

    @Override
    public Tensor project(Tensor features) {
        Tensor h = layers.get(0).forward(features);
        for (int i = 1; i < layers.size(); i++) {
            h = layers.get(i).forward(quickGelu ? F.quickGelu(h) : F.gelu(h));
        }
        return h;
    }

    @Override
    public int inputDim() {
        return inputDim;
    }

    @Override
    public int outputDim() {
        return outputDim;
    }

    /** PyTorch's default nn.Linear initialisation (what LLaVA's builder gets), seeded. */
    public void initialize(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (Linear l : layers) {
            l.initDefault(rng);
        }
    }
}
