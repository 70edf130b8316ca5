package io.github.vdep.core.testing;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.ops.F;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Finite-difference gradient checking in double precision. The checked scalar is
 * sum(f() * R) for a fixed random R, so every output element's gradient path is exercised.
 */
public final class GradCheck {
    private GradCheck() {
    }

    /** Random double-precision leaf tensor with entries uniform in (-1, 1), seeded. */
    public static Tensor leaf(long seed, long... shape) {
        return Tensor.leaf(random(seed, shape));
    }

    /** Random double array uniform in (-1, 1). */
    public static INDArray random(long seed, long... shape) {
        SplittableRandom rng = new SplittableRandom(seed);
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        double[] d = new double[(int) n];
        for (int i = 0; i < d.length; i++) {
            d[i] = rng.nextDouble() * 2 - 1;
        }
        return Nd4j.createFromArray(d).reshape(shape);
    }

    /** Checks all elements with eps 1e-6 and relative tolerance 1e-6. */
    public static void check(String what, Supplier<Tensor> f, List<? extends Tensor> inputs) {
        check(what, f, inputs, 1e-6, 1e-6, Integer.MAX_VALUE);
    }

    /**
     * @param maxPerInput at most this many elements checked per input (spread evenly), for big inputs
     */
    public static void check(String what, Supplier<Tensor> f, List<? extends Tensor> inputs, double eps, double tol, int maxPerInput) {
        for (Tensor t : inputs) {
            if (t.dataType() != DataType.DOUBLE) {
                throw new IllegalArgumentException("gradient checks run in double precision");
            }
            t.zeroGrad();
        }
        INDArray r;
        try (Tape tape = Tape.record()) {
            Tensor out = f.get();
            r = random(99, out.shape());
            tape.backward(F.sum(F.mul(out, Tensor.constant(r))));
        }
        for (int ti = 0; ti < inputs.size(); ti++) {
            Tensor t = inputs.get(ti);
            if (!t.requiresGrad()) {
                continue;
            }
            INDArray analytic = t.grad();
            assertNotNull(analytic, what + ": input " + ti + " got no gradient");
            INDArray flat = t.value().reshape(t.value().length());
            INDArray gflat = analytic.reshape(analytic.length());
            long n = flat.length();
            long step = Math.max(1, n / Math.min(n, maxPerInput));
            for (long j = 0; j < n; j += step) {
                double orig = flat.getDouble(j);
                flat.putScalar(j, orig + eps);
                double plus = value(f, r);
                flat.putScalar(j, orig - eps);
                double minus = value(f, r);
                flat.putScalar(j, orig);
                double numeric = (plus - minus) / (2 * eps);
                double a = gflat.getDouble(j);
                double err = Math.abs(a - numeric) / Math.max(1.0, Math.max(Math.abs(a), Math.abs(numeric)));
                if (err > tol) {
                    fail(what + ": input " + ti + " element " + j + ": analytic " + a + " vs numeric " + numeric + " (error " + err + ")");
                }
            }
        }
    }

    private static double value(Supplier<Tensor> f, INDArray r) {
        return Tape.noGrad(() -> f.get().value().mul(r).sumNumber().doubleValue());
    }
}
