package io.github.vdep.core.nn;

import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Deterministic parameter initialisation from a Java RNG (independent of ND4J's native RNG and
 * of thread counts), so that a seed always gives the same model.
 */
public final class Init {
    private Init() {
    }

    /** Normal(0, std) of the given shape. */
    public static INDArray normal(SplittableRandom rng, double std, DataType dtype, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        double[] data = new double[Math.toIntExact(n)];
        for (int i = 0; i < data.length; i += 2) {
            // Box-Muller: two normals per pair of uniforms
            double u1 = 1.0 - rng.nextDouble();
            double u2 = rng.nextDouble();
            double r = Math.sqrt(-2.0 * Math.log(u1));
            data[i] = std * r * Math.cos(2 * Math.PI * u2);
            if (i + 1 < data.length) {
                data[i + 1] = std * r * Math.sin(2 * Math.PI * u2);
            }
        }
        return Nd4j.createFromArray(data).reshape(shape).castTo(dtype);
    }

    /** Uniform(-bound, bound) of the given shape (PyTorch's default Linear init uses bound 1/sqrt(in)). */
    public static INDArray uniform(SplittableRandom rng, double bound, DataType dtype, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        double[] data = new double[Math.toIntExact(n)];
        for (int i = 0; i < data.length; i++) {
            data[i] = (2 * rng.nextDouble() - 1) * bound;
        }
        return Nd4j.createFromArray(data).reshape(shape).castTo(dtype);
    }
}
