import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.backend.Backend;
import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.backend.MemoryUse;
import io.github.vdep.core.nn.Init;
import io.github.vdep.core.ops.F;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Peak memory and time of one causal attention forward and backward on the CPU, FlashAttention-2
 * (the training path) or materialising the probabilities (the path the attention-maps sink takes,
 * which is what training ran before; docs/performance.md#attention-memory).
 *
 * <pre>
 * java -Xmx2g -cp vdep-examples/target/vdep.jar bench/AttentionMemory.java flash|materialised T HEADS KV_HEADS HEAD_DIM [REPEATS]
 * </pre>
 *
 * Token-major q [1, T, HEADS, HEAD_DIM], k and v [1, T, KV_HEADS, HEAD_DIM], float. Prints the
 * resident set before and its peak during the first pass (Linux), and the median time of REPEATS
 * passes (default 3). Run each setting in its own process: freed native memory may stay with it.
 */
public class AttentionMemory {
    public static void main(String[] args) {
        boolean flash = args[0].equals("flash");
        int t = Integer.parseInt(args[1]);
        int heads = Integer.parseInt(args[2]);
        int kvHeads = Integer.parseInt(args[3]);
        int d = Integer.parseInt(args[4]);
        int repeats = args.length > 5 ? Integer.parseInt(args[5]) : 3;
        SplittableRandom rng = new SplittableRandom(1);
        Tensor q = Tensor.leaf(Init.normal(rng, 1.0, DataType.FLOAT, 1, t, heads, d));
        Tensor k = Tensor.leaf(Init.normal(rng, 1.0, DataType.FLOAT, 1, t, kvHeads, d));
        Tensor v = Tensor.leaf(Init.normal(rng, 1.0, DataType.FLOAT, 1, t, kvHeads, d));
        INDArray dy = Init.normal(rng, 1.0, DataType.FLOAT, 1, t, heads, d);
        q.gradBuffer(); // the input gradients exist in both settings: not part of the difference
        k.gradBuffer();
        v.gradBuffer();
        Backend cpu = Backends.cpu();
        double scale = 1 / Math.sqrt(d);
        double[] seconds = new double[repeats];
        MemoryUse before = null, after = null;
        for (int r = 0; r < repeats; r++) {
            if (r == 0) {
                cpu.resetPeakMemory();
                before = cpu.memoryUse();
            }
            long t0 = System.nanoTime();
            try (Tape tape = Tape.record(true)) {
                // a sink that keeps nothing selects the materialising path
                Tensor y = F.attentionTokenMajor(q, k, v, true, null, scale, flash ? null : p -> { });
                tape.backward(y, dy);
            }
            seconds[r] = (System.nanoTime() - t0) / 1e9;
            if (r == 0) {
                after = cpu.memoryUse();
            }
        }
        java.util.Arrays.sort(seconds);
        System.out.printf(java.util.Locale.ROOT,
                "%s T %d heads %d/%d d %d: probabilities would be %.0f MiB; RSS before %.0f MiB, peak %.0f MiB (+%.0f MiB, %s); forward+backward median %.2f s of %d (grad norm q %.4f)%n",
                flash ? "flash" : "materialised", t, heads, kvHeads, d, (double) heads * t * t * 4 / (1 << 20), before.currentBytes() / 1048576.0,
                after.peakBytes() / 1048576.0, (after.peakBytes() - before.currentBytes()) / 1048576.0, after.measure(), seconds[repeats / 2],
                repeats, q.grad().norm2Number().doubleValue());
    }
}
