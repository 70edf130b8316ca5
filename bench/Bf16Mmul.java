import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
public class Bf16Mmul {
    public static void main(String[] a) {
        int n = Integer.parseInt(a[0]);
        for (DataType t : new DataType[] {DataType.FLOAT, DataType.BFLOAT16, DataType.FLOAT, DataType.BFLOAT16}) {
            INDArray x = Nd4j.rand(DataType.FLOAT, n, n).castTo(t), y = Nd4j.rand(DataType.FLOAT, n, n).castTo(t);
            x.mmul(y);
            int reps = 0; long t0 = System.nanoTime();
            while (System.nanoTime() - t0 < 2e9 || reps < 2) { x.mmul(y); reps++; }
            double s = (System.nanoTime() - t0) / 1e9 / reps;
            System.out.printf("%s %dx%d mmul: %.2f ms, %.2f GFLOP/s%n", t, n, n, s * 1e3, 2.0 * n * n * n / s / 1e9);
        }
    }
}
