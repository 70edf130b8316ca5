package io.github.vdep.core.autograd;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Prompt release of native memory. ND4J arrays live off the Java heap and are otherwise freed
 * only when the garbage collector finds their Java wrappers unreachable, which can be many steps
 * later: a training step then keeps allocating fresh memory (page faults, zeroing) and the
 * process grows to several times its working set. Primitives release the temporaries they own
 * as soon as they are done with them.
 */
public final class Buffers {
    private Buffers() {
    }

    /**
     * Frees the memory behind {@code a} now. Only for arrays the caller owns outright: freshly
     * allocated by it and not shared with anything still in use (a full-length reshape of such an
     * array counts as the array itself). Partial views, and arrays already released, are left
     * alone. Using a released array afterwards fails with an exception.
     */
    public static void release(INDArray a) {
        if (a == null || a.wasClosed()) {
            return;
        }
        if (a.closeable()) {
            a.close();
            return;
        }
        // a reshape of an owned array: its buffer is a view of the whole original buffer
        DataBuffer base = a.data().originalDataBuffer();
        if (base != null && base != a.data() && base.length() == a.length() && !base.wasClosed() && base.closeable()) {
            base.close();
        }
    }

    /** Whether two arrays use the same memory (one is the other, a reshape or a view of it, or both views of one buffer). */
    public static boolean sharesMemory(INDArray a, INDArray b) {
        if (a == b || a.data() == b.data()) {
            return true;
        }
        org.nd4j.linalg.api.buffer.DataBuffer ba = a.data().originalDataBuffer();
        org.nd4j.linalg.api.buffer.DataBuffer bb = b.data().originalDataBuffer();
        return ba == b.data() || bb == a.data() || (ba != null && ba == bb);
    }

    /** {@link #release(INDArray)} for each array (nulls skipped). */
    public static void release(INDArray... arrays) {
        for (INDArray a : arrays) {
            release(a);
        }
    }
}
