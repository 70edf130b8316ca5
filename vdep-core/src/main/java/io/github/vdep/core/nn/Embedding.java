package io.github.vdep.core.nn;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.ops.F;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** A lookup table [num, dim]. */
public final class Embedding extends Module {
    private final Parameter weight;

    public Embedding(long num, long dim, DataType dtype) {
        this.weight = registerParameter("weight", Nd4j.zeros(dtype, num, dim));
    }

    /** ids of any integer shape give [...ids, dim]. */
    public Tensor forward(INDArray ids) {
        return F.embedding(weight, ids);
    }

    public Parameter weight() {
        return weight;
    }
}
