package io.github.vdep.core.ops;

import static io.github.vdep.core.testing.GradCheck.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** The direct OpenBLAS gemm against ND4J's matrix product, every transpose and beta, float and double. */
class GemmTest {

    @Test
    void matchesNd4jForEveryTransposeAndBeta() {
        assertTrue(Gemm.directAvailable(), "the CPU backend with OpenBLAS takes the direct path");
        long before = Gemm.directCalls();
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            INDArray a = random(1, 13, 7).castTo(type);
            INDArray b = random(2, 7, 11).castTo(type);
            INDArray c0 = random(3, 13, 11).castTo(type);
            INDArray expected = a.mmul(b).muli(0.5).addi(c0.mul(2.0));
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    INDArray aa = ta ? a.transpose().dup('c') : a;
                    INDArray bb = tb ? b.transpose().dup('c') : b;
                    INDArray c = c0.dup('c');
                    Gemm.gemm(aa, bb, c, ta, tb, 0.5, 2.0);
                    double tol = type == DataType.FLOAT ? 1e-5 : 1e-12;
                    assertEquals(0.0, c.sub(expected).amaxNumber().doubleValue(), tol, type + " transA=" + ta + " transB=" + tb);
                }
            }
            // beta = 0 ignores what c held, even NaN
            INDArray c = c0.dup('c').assign(Double.NaN);
            Gemm.gemm(a, b, c, false, false, 1.0, 0.0);
            assertEquals(0.0, c.sub(a.mmul(b)).amaxNumber().doubleValue(), 1e-5, type + " beta 0");
        }
        assertEquals(10, Gemm.directCalls() - before, "each product above ran on the direct path");
    }

    @Test
    void viewsGoThroughNd4jAndShapesAreChecked() {
        INDArray wide = random(4, 13, 9).castTo(DataType.FLOAT);
        INDArray a = wide.get(NDArrayIndex.all(), NDArrayIndex.interval(1, 8)); // a column view: not whole
        INDArray b = random(5, 7, 11).castTo(DataType.FLOAT);
        INDArray c = random(6, 13, 11).castTo(DataType.FLOAT);
        long before = Gemm.directCalls();
        Gemm.gemm(a, b, c, false, false, 1.0, 0.0);
        assertEquals(before, Gemm.directCalls(), "a view is not handed to OpenBLAS");
        assertEquals(0.0, c.sub(a.dup('c').mmul(b)).amaxNumber().doubleValue(), 1e-5);
        INDArray wrong = random(7, 6, 11).castTo(DataType.FLOAT);
        assertThrows(IllegalArgumentException.class, () -> Gemm.gemm(random(8, 13, 7).castTo(DataType.FLOAT), wrong, c, false, false, 1.0, 0.0));
    }
}
