package io.github.vdep.core.nn;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.ops.F;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** Root-mean-square normalisation over the last dimension (weight ones initially). */
public final class RmsNorm extends Module {
    private final Parameter weight;
    private final double eps;

    public RmsNorm(long dim, double eps, DataType dtype) {
        this.weight = registerParameter("weight", Nd4j.ones(dtype, dim));
        this.eps = eps;
    }

    public Tensor forward(Tensor x) {
        return F.rmsNorm(x, weight, eps);
    }
}
