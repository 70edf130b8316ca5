package io.github.vdep.train.optim;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.backend.Backends;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Plain stochastic gradient descent (optionally with decoupled weight decay on matrices). */
public final class Sgd implements Optimizer {
    private final Map<String, Parameter> params;
    private final double weightDecay;

    public Sgd(Map<String, Parameter> params, double weightDecay) {
        this.params = new LinkedHashMap<>(params);
        this.weightDecay = weightDecay;
    }

    @Override
    public void step(double lr) {
        for (Parameter p : params.values()) {
            if (p.hasGrad()) {
                Backends.of("sgd", p).sgd(p, lr, p.rank() >= 2 ? weightDecay : 0);
            }
        }
    }

    @Override
    public Map<String, INDArray> state() {
        return Map.of();
    }

    @Override
    public void loadState(Map<String, INDArray> state) {
        if (!state.isEmpty()) {
            throw new IllegalArgumentException("SGD keeps no state, but the checkpoint has " + state.keySet().iterator().next());
        }
    }

    @Override
    public String name() {
        return "sgd";
    }
}
