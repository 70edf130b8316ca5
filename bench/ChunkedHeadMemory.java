import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.backend.Backend;
import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.backend.MemoryUse;
import io.github.vdep.core.nn.Init;
import io.github.vdep.core.ops.ChunkedCrossEntropy;
import io.github.vdep.core.ops.F;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Peak memory of one LM head + cross-entropy forward and backward, chunked or not (docs/performance.md#memory).
 *
 * <pre>
 * java -Xmx2g -cp vdep-examples/target/vdep.jar bench/ChunkedHeadMemory.java ROWS HIDDEN VOCAB CHUNK_ROWS
 * </pre>
 *
 * Prints the process's resident set before, and its peak during, the pass (Linux), and the loss.
 * Run each setting in its own process: freed native memory may stay with the process.
 */
public class ChunkedHeadMemory {
    public static void main(String[] args) {
        int rows = Integer.parseInt(args[0]);
        int hidden = Integer.parseInt(args[1]);
        int vocab = Integer.parseInt(args[2]);
        int chunk = Integer.parseInt(args[3]);
        SplittableRandom rng = new SplittableRandom(1);
        Tensor x = Tensor.leaf(Init.normal(rng, 1.0, DataType.FLOAT, rows, hidden));
        Tensor w = Tensor.leaf(Init.normal(rng, 0.02, DataType.FLOAT, vocab, hidden));
        int[] targets = new int[rows];
        for (int i = 0; i < rows; i++) {
            targets[i] = rng.nextInt(vocab);
        }
        w.gradBuffer(); // the weight gradient exists in both settings: not part of the difference
        x.gradBuffer();
        Backend cpu = Backends.cpu();
        cpu.resetPeakMemory();
        MemoryUse before = cpu.memoryUse();
        long t0 = System.nanoTime();
        double loss;
        try (Tape tape = Tape.record(true)) {
            Tensor l = ChunkedCrossEntropy.apply(x, h -> F.linear(h, w, null), targets, chunk);
            loss = l.item();
            tape.backward(l);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        MemoryUse after = cpu.memoryUse();
        System.out.printf(java.util.Locale.ROOT,
                "rows %d hidden %d vocab %d chunk %d: logits %.0f MiB; RSS before %.0f MiB, peak %.0f MiB (+%.0f MiB, %s); loss %.6f; %.1f s%n",
                rows, hidden, vocab, chunk, rows * (double) vocab * 4 / (1 << 20), before.currentBytes() / 1048576.0, after.peakBytes() / 1048576.0,
                (after.peakBytes() - before.currentBytes()) / 1048576.0, after.measure(), loss, seconds);
    }
}
