package io.github.vdep.core.nn;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.ops.F;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** Layer normalisation over the last dimension (weight ones, bias zeros initially). */
public final class LayerNorm extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final double eps;

    public LayerNorm(long dim, double eps, DataType dtype) {
        this.weight = registerParameter("weight", Nd4j.ones(dtype, dim));
        this.bias = registerParameter("bias", Nd4j.zeros(dtype, dim));
        this.eps = eps;
    }

    public Tensor forward(Tensor x) {
        return F.layerNorm(x, weight, bias, eps);
    }
}
