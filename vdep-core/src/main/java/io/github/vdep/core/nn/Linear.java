package io.github.vdep.core.nn;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.ops.F;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** A fully connected layer, weight [out, in] (PyTorch layout), optional bias [out]. */
public final class Linear extends Module {
    private final Parameter weight;
    private final Parameter bias;

    public Linear(long in, long out, boolean bias, DataType dtype) {
        this.weight = registerParameter("weight", Nd4j.zeros(dtype, out, in));
        this.bias = bias ? registerParameter("bias", Nd4j.zeros(dtype, out)) : null;
    }

    public Tensor forward(Tensor x) {
        return F.linear(x, weight, bias);
    }

    public Parameter weight() {
        return weight;
    }

    /** The bias, or null. */
    public Parameter bias() {
        return bias;
    }

    /** Normal(0, std) weights and zero bias (Hugging Face's {@code initializer_range} scheme). */
    public void initNormal(java.util.SplittableRandom rng, double std) {
        weight.load(Init.normal(rng, std, weight.dataType(), weight.shape()));
        if (bias != null) {
            bias.value().assign(0);
        }
    }

    /** PyTorch's nn.Linear default: uniform(+-1/sqrt(in)) for weight and bias. */
    public void initDefault(java.util.SplittableRandom rng) {
        double bound = 1.0 / Math.sqrt(weight.size(1));
        weight.load(Init.uniform(rng, bound, weight.dataType(), weight.shape()));
        if (bias != null) {
            bias.load(Init.uniform(rng, bound, bias.dataType(), bias.shape()));
        }
    }
}
