package io.github.vdep.train.optim;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.backend.Backend;
import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.device.Device;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * AdamW with decoupled weight decay, as {@code torch.optim.AdamW}: p -= lr * wd * p, then the
 * bias-corrected Adam update. Weight decay applies only to parameters of rank >= 2 (matrices
 * and embeddings), never to norms and biases. The update itself is the backend's of each
 * parameter's device (one fused pass on the CPU).
 */
public final class AdamW implements Optimizer {
    private final Map<String, Parameter> params;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    /** First and second moments, on each parameter's device. */
    private final Map<String, Tensor> m = new LinkedHashMap<>();
    private final Map<String, Tensor> v = new LinkedHashMap<>();
    private final Map<String, Long> steps = new LinkedHashMap<>();

    /** @param params the trainable parameters by name */
    public AdamW(Map<String, Parameter> params, double beta1, double beta2, double eps, double weightDecay) {
        this.params = new LinkedHashMap<>(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    @Override
    public void step(double lr) {
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            Parameter p = e.getValue();
            if (!p.hasGrad()) {
                continue;
            }
            String name = e.getKey();
            Backend backend = Backends.of("adamw", p);
            long t = steps.merge(name, 1L, Long::sum);
            Tensor mt = m.computeIfAbsent(name, k -> backend.zerosLike(p));
            Tensor vt = v.computeIfAbsent(name, k -> backend.zerosLike(p));
            backend.adamW(p, mt, vt, beta1, beta2, eps, lr, p.rank() >= 2 ? weightDecay : 0, t);
        }
    }

    @Override
    public Map<String, INDArray> state() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        // saving copies device moments back to the host
        m.forEach((k, a) -> out.put("exp_avg." + k, a.to(Device.CPU).value()));
        v.forEach((k, a) -> out.put("exp_avg_sq." + k, a.to(Device.CPU).value()));
        steps.forEach((k, s) -> out.put("step." + k, Nd4j.scalar(DataType.LONG, s).reshape(1)));
        return out;
    }

    @Override
    public void loadState(Map<String, INDArray> state) {
        m.clear();
        v.clear();
        steps.clear();
        for (Map.Entry<String, INDArray> e : state.entrySet()) {
            String key = e.getKey();
            int dot = key.indexOf('.');
            String kind = dot < 0 ? key : key.substring(0, dot);
            String name = dot < 0 ? "" : key.substring(dot + 1);
            Parameter p = params.get(name);
            if (p == null) {
                throw new IllegalArgumentException("optimizer state entry '" + key + "' names no trainable parameter");
            }
            switch (kind) {
                case "exp_avg" -> m.put(name, checked(key, e.getValue(), p));
                case "exp_avg_sq" -> v.put(name, checked(key, e.getValue(), p));
                case "step" -> steps.put(name, e.getValue().getLong(0));
                default -> throw new IllegalArgumentException("unknown optimizer state entry '" + key + "'");
            }
        }
    }

    /** The saved moment as a tensor on the parameter's device, in its type. */
    private static Tensor checked(String key, INDArray a, Parameter p) {
        if (!Arrays.equals(a.shape(), p.shape())) {
            throw new IllegalArgumentException("optimizer state '" + key + "' has shape " + Arrays.toString(a.shape())
                    + " but the parameter has " + Arrays.toString(p.shape()));
        }
        return Tensor.constant(a.castTo(p.dataType()).dup('c')).to(p.device());
    }

    @Override
    public String name() {
        return "adamw";
    }
}
