package io.github.vdep.train.optim;

import io.github.vdep.core.autograd.Parameter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.api.ops.impl.transforms.floating.Sqrt;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * AdamW with decoupled weight decay, as {@code torch.optim.AdamW}: p -= lr * wd * p, then the
 * bias-corrected Adam update. Weight decay applies only to parameters of rank >= 2 (matrices
 * and embeddings), never to norms and biases.
 */
public final class AdamW implements Optimizer {
    private final Map<String, Parameter> params;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final Map<String, INDArray> m = new LinkedHashMap<>();
    private final Map<String, INDArray> v = new LinkedHashMap<>();
    private final Map<String, Long> steps = new LinkedHashMap<>();
    private final Map<DataType, INDArray> scratch = new java.util.EnumMap<>(DataType.class);

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
            INDArray g = p.grad();
            if (g == null) {
                continue;
            }
            String name = e.getKey();
            long t = steps.merge(name, 1L, Long::sum);
            INDArray mt = m.computeIfAbsent(name, k -> p.value().ulike().assign(0));
            INDArray vt = v.computeIfAbsent(name, k -> p.value().ulike().assign(0));
            INDArray w = p.value();
            if (weightDecay != 0 && w.rank() >= 2) {
                w.muli(1.0 - lr * weightDecay);
            }
            double bc1 = 1.0 - Math.pow(beta1, t);
            double bc2 = 1.0 - Math.pow(beta2, t);
            if (io.github.vdep.core.ops.NativeKernels.adamWUpdate(w, g, mt, vt, beta1, beta2, eps, lr / bc1, Math.sqrt(bc2))) {
                continue; // one vectorised native pass
            }
            if (FusedAdamW.applies(w, g, mt, vt)) {
                // one pass over w, g, m, v instead of ten array operations
                FusedAdamW.update(w, g, mt, vt, beta1, beta2, eps, lr / bc1, Math.sqrt(bc2));
                continue;
            }
            // all in place, through one scratch buffer reused across parameters and steps
            INDArray s = scratch(w);
            mt.muli(beta1).addi(g.mul(1.0 - beta1, s));
            vt.muli(beta2).addi(g.mul(g, s).muli(1.0 - beta2));
            // denom = sqrt(v) / sqrt(bc2) + eps; p -= (lr / bc1) * m / denom
            Nd4j.exec(new Sqrt(vt, s));
            s.divi(Math.sqrt(bc2)).addi(eps);
            w.subi(s.rdivi(mt).muli(lr / bc1));
        }
    }

    /** A scratch array shaped like {@code like}: a view of one flat buffer per data type. */
    private INDArray scratch(INDArray like) {
        INDArray flat = scratch.get(like.dataType());
        if (flat == null || flat.length() < like.length()) {
            long max = like.length();
            for (Parameter p : params.values()) {
                if (p.dataType() == like.dataType()) {
                    max = Math.max(max, p.value().length());
                }
            }
            flat = Nd4j.createUninitialized(like.dataType(), max);
            scratch.put(like.dataType(), flat);
        }
        INDArray part = flat.length() == like.length() ? flat : flat.get(NDArrayIndex.interval(0, like.length()));
        return part.reshape('c', like.shape());
    }

    @Override
    public Map<String, INDArray> state() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        m.forEach((k, a) -> out.put("exp_avg." + k, a));
        v.forEach((k, a) -> out.put("exp_avg_sq." + k, a));
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

    private static INDArray checked(String key, INDArray a, Parameter p) {
        if (!Arrays.equals(a.shape(), p.shape())) {
            throw new IllegalArgumentException("optimizer state '" + key + "' has shape " + Arrays.toString(a.shape())
                    + " but the parameter has " + Arrays.toString(p.shape()));
        }
        return a.castTo(p.dataType()).dup('c');
    }

    @Override
    public String name() {
        return "adamw";
    }
}
