package io.github.vdep.train.optim;

import io.github.vdep.core.autograd.Parameter;
import java.util.Collection;
import io.github.vdep.core.backend.Backends;

/** Global-norm gradient utilities ({@code torch.nn.utils.clip_grad_norm_} semantics). */
public final class GradientClipping {
    private GradientClipping() {
    }

    /** The L2 norm over all gradients (NaN or infinite if any gradient is). */
    public static double globalNorm(Collection<Parameter> params) {
        double sum = 0;
        for (Parameter p : params) {
            if (p.hasGrad()) {
                sum += Backends.of("gradient norm", p).gradSquaredSum(p);
            }
        }
        return Math.sqrt(sum);
    }

    /** Scales all gradients by max / (norm + 1e-6) when that is below 1; returns the norm before. */
    public static double clip(Collection<Parameter> params, double maxNorm) {
        double norm = globalNorm(params);
        if (maxNorm > 0) {
            double scale = maxNorm / (norm + 1e-6);
            if (scale < 1) {
                for (Parameter p : params) {
                    if (p.hasGrad()) {
                        Backends.of("gradient clipping", p).scaleGrad(p, scale);
                    }
                }
            }
        }
        return norm;
    }
}
