package io.github.vdep.models.hf;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Small deterministic test arrays. */
final class TestTensors {

    private TestTensors() {
    }

    /** A 'c'-ordered array holding {@code start, start + 1, ...} in row-major order. */
    static INDArray sequence(DataType type, float start, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] values = new float[(int) n];
        for (int i = 0; i < values.length; i++) {
            values[i] = start + i;
        }
        INDArray floats = Nd4j.create(values, shape, Nd4j.getStrides(shape, 'c'), 'c', DataType.FLOAT);
        return type == DataType.FLOAT ? floats : floats.castTo(type);
    }
}
