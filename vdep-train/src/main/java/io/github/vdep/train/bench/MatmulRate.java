package io.github.vdep.train.bench;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The float32 matrix-multiply rate of this process: {@code Nd4j.gemm} of two n x n matrices. */
public final class MatmulRate {
    private MatmulRate() {
    }

    /**
     * Median GFLOP/s over {@code trials} timed trials (each at least ~0.2 s of gemms) after a
     * short warm-up.
     */
    public static double measure(int n, int trials) {
        INDArray a = Nd4j.rand(DataType.FLOAT, n, n).subi(0.5);
        INDArray b = Nd4j.rand(DataType.FLOAT, n, n).subi(0.5);
        INDArray c = Nd4j.create(DataType.FLOAT, n, n);
        double flops = 2.0 * n * n * n;
        long start = System.nanoTime();
        int warm = 0;
        while (warm < 2 || System.nanoTime() - start < 100_000_000L) {
            Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
            warm++;
        }
        double perCall = (System.nanoTime() - start) / 1e9 / warm;
        int reps = Math.max(1, (int) Math.ceil(0.2 / perCall));
        double[] rates = new double[trials];
        for (int t = 0; t < trials; t++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
            }
            double s = (System.nanoTime() - t0) / 1e9;
            rates[t] = flops * reps / s / 1e9;
        }
        Arrays.sort(rates);
        return rates[trials / 2];
    }
}
