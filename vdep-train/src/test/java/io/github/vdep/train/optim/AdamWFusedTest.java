package io.github.vdep.train.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.vdep.core.autograd.Parameter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** The one-pass AdamW update against the formula, in float (a large, chunked array) and double. */
class AdamWFusedTest {
    @Test
    void fusedUpdateFollowsTorchAdamW() {
        // the native kernel where it is built, and the Java loop
        boolean before = io.github.vdep.core.ops.NativeKernels.active();
        try {
            for (boolean nativeKernels : new boolean[] {true, false}) {
                io.github.vdep.core.ops.NativeKernels.setEnabled(nativeKernels && before);
                check();
            }
        } finally {
            io.github.vdep.core.ops.NativeKernels.setEnabled(before);
        }
    }

    private static void check() {
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            int n = 200_004; // several chunks, ragged end (28572 x 7)
            SplittableRandom rng = new SplittableRandom(5);
            double[] w0 = new double[n];
            double[] g = new double[n];
            for (int i = 0; i < n; i++) {
                w0[i] = rng.nextDouble() * 2 - 1;
                g[i] = (rng.nextDouble() * 2 - 1) * (i % 7 == 0 ? 1e-6 : 1.0);
            }
            Parameter p = new Parameter("w", Nd4j.createFromArray(w0).reshape(n / 7, 7).castTo(type).dup('c'));
            Parameter b = new Parameter("b", Nd4j.createFromArray(new double[] {0.5, -0.5}).castTo(type));
            Map<String, Parameter> params = new LinkedHashMap<>();
            params.put("w", p);
            params.put("b", b);
            double lr = 1e-2;
            double wd = 0.1;
            AdamW opt = new AdamW(params, 0.9, 0.999, 1e-8, wd);
            double[] w = w0.clone();
            double[] m = new double[n];
            double[] v = new double[n];
            for (int step = 1; step <= 3; step++) {
                p.zeroGrad();
                p.accumulateGrad(Nd4j.createFromArray(g).reshape(n / 7, 7).castTo(type));
                b.zeroGrad();
                b.accumulateGrad(Nd4j.createFromArray(new double[] {1, -1}).castTo(type));
                opt.step(lr);
                double bc1 = 1 - Math.pow(0.9, step);
                double bc2 = 1 - Math.pow(0.999, step);
                for (int i = 0; i < n; i++) {
                    w[i] *= 1 - lr * wd;
                    m[i] = 0.9 * m[i] + 0.1 * g[i];
                    v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
                    w[i] -= lr / bc1 * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + 1e-8);
                }
            }
            double[] got = p.value().castTo(DataType.DOUBLE).dup('c').data().asDouble();
            double tol = type == DataType.FLOAT ? 2e-6 : 1e-12;
            for (int i = 0; i < n; i++) {
                assertEquals(w[i], got[i], tol, type + " element " + i);
            }
            // a rank-1 parameter gets no weight decay: three steps of (almost) -lr * sign(g)
            assertEquals(0.5 - 3 * lr, b.value().getDouble(0), 1e-5, type.toString());
        }
    }
}
