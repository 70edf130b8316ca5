package io.github.vdep.core.ops;

import static io.github.vdep.core.testing.GradCheck.check;
import static io.github.vdep.core.testing.GradCheck.leaf;
import static io.github.vdep.core.testing.GradCheck.random;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The one-pass norm kernels ({@code RowKernels}) with enough rows to be split over threads: their
 * gradients by finite differences, and their float results against the array-operation path that
 * views (which the kernels do not take) go through.
 */
class NormKernelsTest {

    @AfterEach
    void restore() {
        NativeKernels.setEnabled(true);
    }

    @Test
    void gradientsWithRowsSplitOverThreads() {
        // 150 rows: several row ranges whenever ND4J has more than one thread; native kernels and Java loops
        for (boolean nativeKernels : new boolean[] {true, false}) {
            NativeKernels.setEnabled(nativeKernels);
            Tensor x = leaf(11, 150, 6), w = leaf(12, 6), b = leaf(13, 6);
            check("rmsNorm 150 rows, native=" + nativeKernels, () -> F.rmsNorm(x, w, 1e-5), List.of(x, w), 1e-6, 1e-6, 120);
            check("layerNorm 150 rows, native=" + nativeKernels, () -> F.layerNorm(x, w, b, 1e-5), List.of(x, w, b), 1e-6, 1e-6, 120);
        }
    }

    @Test
    void floatKernelsMatchTheArrayOperationPath() {
        // widths on and off the native kernels' 8-float blocks; native kernels and Java loops
        for (int c : new int[] {48, 45}) {
            for (boolean nativeKernels : new boolean[] {true, false}) {
                NativeKernels.setEnabled(nativeKernels);
                INDArray whole = random(21, 300, c).castTo(DataType.FLOAT).mul(3).addi(0.5);
                INDArray w = random(22, c).castTo(DataType.FLOAT).addi(1);
                INDArray bias = random(23, c).castTo(DataType.FLOAT);
                INDArray g = random(24, 300, c).castTo(DataType.FLOAT);
                String what = " C=" + c + " native=" + nativeKernels;
                compare("rmsNorm" + what, whole, g, (in, p) -> F.rmsNorm(in, p[0], 1e-6), new INDArray[] {w});
                compare("layerNorm" + what, whole, g, (in, p) -> F.layerNorm(in, p[0], p[1], 1e-5), new INDArray[] {w, bias});
            }
        }
    }

    private interface Norm {
        Tensor apply(Tensor x, Tensor[] params);
    }

    /** Forward and all gradients of a whole array (kernel path) against a column view of a wider one (array-operation path). */
    private static void compare(String what, INDArray x, INDArray g, Norm norm, INDArray[] params) {
        INDArray wide = Nd4j.zeros(DataType.FLOAT, x.size(0), x.size(1) + 5);
        wide.get(NDArrayIndex.all(), NDArrayIndex.interval(2, 2 + x.size(1))).assign(x);
        INDArray view = wide.get(NDArrayIndex.all(), NDArrayIndex.interval(2, 2 + x.size(1)));
        assertTrue(!Shapes.isWhole(view) && Shapes.isWhole(x), "the two inputs must take different paths");
        Function<INDArray, INDArray[]> run = input -> {
            Tensor in = Tensor.leaf(input);
            Tensor[] ps = new Tensor[params.length];
            for (int i = 0; i < ps.length; i++) {
                ps[i] = Tensor.leaf(params[i].dup());
            }
            INDArray y;
            try (Tape tape = Tape.record()) {
                Tensor out = norm.apply(in, ps);
                y = out.value().dup();
                tape.backward(out, g);
            }
            INDArray[] res = new INDArray[2 + ps.length];
            res[0] = y;
            res[1] = in.grad().dup();
            for (int i = 0; i < ps.length; i++) {
                res[2 + i] = ps[i].grad().dup();
            }
            return res;
        };
        INDArray[] kernel = run.apply(x);
        INDArray[] reference = run.apply(view);
        String[] names = {"output", "input gradient", "weight gradient", "bias gradient"};
        for (int i = 0; i < kernel.length; i++) {
            double scale = reference[i].norm2Number().doubleValue();
            double err = kernel[i].sub(reference[i]).norm2Number().doubleValue();
            assertTrue(err <= 2e-6 * scale, what + " " + names[i] + ": relative L2 error " + err / scale);
        }
    }
}
