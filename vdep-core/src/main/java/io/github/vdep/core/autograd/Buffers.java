package io.github.vdep.core.autograd;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.indexer.DoubleIndexer;
import org.bytedeco.javacpp.indexer.FloatIndexer;
import org.bytedeco.javacpp.indexer.Indexer;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Prompt release of native memory. ND4J arrays live off the Java heap and are otherwise freed
 * only when the garbage collector finds their Java wrappers unreachable, which can be many steps
 * later: a training step then keeps allocating fresh memory (page faults, zeroing) and the
 * process grows to several times its working set. Primitives release the temporaries they own
 * as soon as they are done with them.
 */
public final class Buffers {
    /**
     * Buffers at least this large are kept for reuse when released: the C allocator maps and
     * unmaps them each time, and faulting tens of megabytes of fresh pages in costs ~100 ms.
     */
    static final long POOL_MIN_BYTES = 16L << 20;
    /** At most this much memory is kept (oldest first out). */
    static final long POOL_MAX_BYTES = 1L << 30;

    private static final Map<String, ArrayDeque<DataBuffer>> POOL = new HashMap<>();
    private static final Set<DataBuffer> POOLED = Collections.newSetFromMap(new IdentityHashMap<>());
    private static final ArrayDeque<DataBuffer> AGE = new ArrayDeque<>();
    private static long pooledBytes;

    private Buffers() {
    }

    /**
     * An uninitialised row-major array; large ones come from buffers released earlier. Callers
     * must write every element.
     */
    public static INDArray allocate(DataType type, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n * type.width() >= POOL_MIN_BYTES) {
            DataBuffer b = take(type, n);
            if (b != null) {
                return Nd4j.create(b, shape, Nd4j.getStrides(shape, 'c'), 0, 'c');
            }
        }
        if (RAW_MEMORY && n > 0 && (type == DataType.FLOAT || type == DataType.DOUBLE) && withinJavaCppBudget(n * type.width())) {
            // ND4J zero-fills every buffer it allocates, createUninitialized included: at the
            // `small` preset that was about 1 GB of memset a step. JavaCPP's allocation does not.
            Pointer p = type == DataType.FLOAT ? new RawFloats(n) : new RawDoubles(n);
            Indexer indexer = type == DataType.FLOAT ? FloatIndexer.create((FloatPointer) p) : DoubleIndexer.create((DoublePointer) p);
            return Nd4j.create(Nd4j.createBuffer(p, type, n, indexer), shape, Nd4j.getStrides(shape, 'c'), 0, 'c');
        }
        return Nd4j.createUninitialized(type, shape);
    }

    /** Whether {@link #allocate} may hand out JavaCPP memory wrapped in an ND4J buffer (CPU backend only). */
    private static final boolean RAW_MEMORY = Nd4j.getBackend().getClass().getName().contains(".cpu.")
            && !"false".equals(System.getProperty("vdep.rawBuffers"));

    /**
     * Uninitialised native memory owned by JavaCPP; the ND4J buffer wrapping it keeps it
     * reachable. Freed by {@link #free} when released, else by JavaCPP once unreachable.
     */
    private static final class RawFloats extends FloatPointer {
        RawFloats(long n) {
            super(n);
        }
    }

    private static final class RawDoubles extends DoublePointer {
        RawDoubles(long n) {
            super(n);
        }
    }

    /**
     * JavaCPP counts the memory it allocates against {@code org.bytedeco.javacpp.maxbytes} (by
     * default the Java heap's size) and refuses past it; ND4J's own buffers are not counted. So
     * this memory is used only while it stays under half of that budget, and ND4J's allocation
     * serves the rest: a large model never fails here where ND4J alone would not have.
     */
    private static boolean withinJavaCppBudget(long bytes) {
        long max = Pointer.maxBytes();
        return max <= 0 || Pointer.totalBytes() + bytes <= max / 2;
    }

    /** Closes the buffer and frees its memory now. */
    private static void free(DataBuffer b) {
        Pointer p = b.pointer();
        b.close();
        deallocateIfRaw(p);
    }

    /** ND4J's close leaves memory it did not allocate alone: free {@link #allocate}'s own. */
    private static void deallocateIfRaw(Pointer p) {
        if (p instanceof RawFloats || p instanceof RawDoubles) {
            p.deallocate();
        }
    }

    /**
     * Frees the memory behind {@code a} now (large buffers are kept for {@link #allocate}). Only
     * for arrays the caller owns outright: freshly allocated by it and not shared with anything
     * still in use (a full-length reshape of such an array counts as the array itself). Partial
     * views, and arrays already released, are left alone. Using a released array afterwards is
     * an error: it fails with an exception, or (for a large, recycled buffer) reads other data.
     */
    public static void release(INDArray a) {
        if (a == null || a.wasClosed()) {
            return;
        }
        DataBuffer owner;
        if (a.closeable()) {
            owner = a.data();
        } else {
            // a reshape of an owned array: its buffer is a view of the whole original buffer
            DataBuffer base = a.data().originalDataBuffer();
            if (base == null || base == a.data() || base.length() != a.length() || base.wasClosed() || !base.closeable()) {
                return;
            }
            owner = base;
        }
        if (owner.length() * owner.getElementSize() >= POOL_MIN_BYTES && offer(owner)) {
            return;
        }
        if (owner == a.data()) {
            Pointer p = owner.pointer();
            a.close();
            deallocateIfRaw(p);
        } else {
            free(owner);
        }
    }

    private static synchronized DataBuffer take(DataType type, long length) {
        ArrayDeque<DataBuffer> q = POOL.get(type + ":" + length);
        DataBuffer b = q == null ? null : q.pollFirst();
        if (b != null) {
            POOLED.remove(b);
            AGE.remove(b);
            pooledBytes -= length * type.width();
        }
        return b;
    }

    private static synchronized boolean offer(DataBuffer b) {
        if (POOLED.contains(b)) {
            return true; // released twice: already kept
        }
        long bytes = b.length() * b.getElementSize();
        if (bytes > POOL_MAX_BYTES) {
            return false;
        }
        while (pooledBytes + bytes > POOL_MAX_BYTES && !AGE.isEmpty()) {
            DataBuffer old = AGE.pollFirst();
            POOL.get(old.dataType() + ":" + old.length()).remove(old);
            POOLED.remove(old);
            pooledBytes -= old.length() * old.getElementSize();
            free(old);
        }
        POOL.computeIfAbsent(b.dataType() + ":" + b.length(), k -> new ArrayDeque<>()).addFirst(b);
        POOLED.add(b);
        AGE.addLast(b);
        pooledBytes += bytes;
        return true;
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
