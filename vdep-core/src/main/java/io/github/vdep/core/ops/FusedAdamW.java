package io.github.vdep.core.ops;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The AdamW moment and parameter update as one pass over the arrays' memory (read g, m, v, w;
 * write m, v, w), in the arrays' precision and in torch.optim.AdamW's order of operations:
 * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; w -= stepSize m / (sqrt(v) / sqrt(bc2) + eps).
 * ND4J's elementwise operations would take ten passes and a scratch buffer. Large arrays are
 * split over ND4J's thread count.
 */
final class FusedAdamW {
    private static final int CHUNK = 1 << 16;

    private FusedAdamW() {
    }

    /** Whether all four are whole row-major float or double arrays of one type and length. */
    static boolean applies(INDArray w, INDArray g, INDArray m, INDArray v) {
        DataType t = w.dataType();
        if ((t != DataType.FLOAT && t != DataType.DOUBLE) || w.length() > Integer.MAX_VALUE) {
            return false;
        }
        for (INDArray a : new INDArray[] {w, g, m, v}) {
            if (a.dataType() != t || a.length() != w.length() || !whole(a)) {
                return false;
            }
        }
        return true;
    }

    private static boolean whole(INDArray a) {
        if (a.ordering() != 'c' || a.offset() != 0 || !Shape.hasDefaultStridesForShape(a) || a.data().length() != a.length()) {
            return false;
        }
        org.nd4j.linalg.api.buffer.DataBuffer base = a.data().originalDataBuffer();
        return base == null || base == a.data() || base.length() == a.length();
    }

    static void update(INDArray w, INDArray g, INDArray m, INDArray v, double beta1, double beta2, double eps, double stepSize, double bc2Sqrt) {
        int n = (int) w.length();
        int chunks = (n + CHUNK - 1) / CHUNK;
        int threads = Math.max(1, Math.min(Nd4j.getEnvironment().maxThreads(), Runtime.getRuntime().availableProcessors()));
        if (w.dataType() == DataType.FLOAT) {
            FloatBuffer wb = w.data().asNioFloat();
            FloatBuffer gb = g.data().asNioFloat();
            FloatBuffer mb = m.data().asNioFloat();
            FloatBuffer vb = v.data().asNioFloat();
            float b1 = (float) beta1;
            float c1 = (float) (1.0 - beta1);
            float b2 = (float) beta2;
            float c2 = (float) (1.0 - beta2);
            float e = (float) eps;
            float step = (float) stepSize;
            float bc = (float) bc2Sqrt;
            IntStream range = IntStream.range(0, chunks);
            (threads > 1 && chunks > 1 ? range.parallel() : range).forEach(c -> {
                int end = Math.min(n, (c + 1) * CHUNK);
                for (int i = c * CHUNK; i < end; i++) {
                    float gi = gb.get(i);
                    float mi = mb.get(i) * b1 + gi * c1;
                    float vi = vb.get(i) * b2 + gi * gi * c2;
                    mb.put(i, mi);
                    vb.put(i, vi);
                    wb.put(i, wb.get(i) - step * (mi / ((float) Math.sqrt(vi) / bc + e)));
                }
            });
        } else {
            DoubleBuffer wb = w.data().asNioDouble();
            DoubleBuffer gb = g.data().asNioDouble();
            DoubleBuffer mb = m.data().asNioDouble();
            DoubleBuffer vb = v.data().asNioDouble();
            double c1 = 1.0 - beta1;
            double c2 = 1.0 - beta2;
            IntStream range = IntStream.range(0, chunks);
            (threads > 1 && chunks > 1 ? range.parallel() : range).forEach(c -> {
                int end = Math.min(n, (c + 1) * CHUNK);
                for (int i = c * CHUNK; i < end; i++) {
                    double gi = gb.get(i);
                    double mi = mb.get(i) * beta1 + gi * c1;
                    double vi = vb.get(i) * beta2 + gi * gi * c2;
                    mb.put(i, mi);
                    vb.put(i, vi);
                    wb.put(i, wb.get(i) - stepSize * (mi / (Math.sqrt(vi) / bc2Sqrt + eps)));
                }
            });
        }
    }
}
