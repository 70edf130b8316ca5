package io.github.vdep.train.distributed;

import io.github.vdep.core.cuda.NcclApi;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.FloatPointer;

/**
 * A host emulation of NCCL for ranks that are threads of one process, over the emulated CUDA
 * device (HostCudaApi, whose device addresses are host addresses): communicators meet by their
 * unique id, as NCCL's do, so ranks that were given different ids never meet and time out; an
 * all-reduce sums every rank's buffer in rank order, in place. It checks the Java side of the
 * NCCL path (ids, addresses, counts, order of calls); NCCL itself only a GPU run checks.
 */
public class HostNcclApi implements NcclApi {
    private static final Map<String, Group> GROUPS = new ConcurrentHashMap<>();
    private static final List<Communicator> COMMS = new ArrayList<>();

    /** Calls seen, over all ranks (for tests to check the path was taken). */
    public final AtomicInteger uniqueIds = new AtomicInteger();
    public final AtomicInteger allReduces = new AtomicInteger();
    public final AtomicLong allReducedElements = new AtomicLong();
    public final AtomicInteger broadcasts = new AtomicInteger();
    public final AtomicInteger destroyed = new AtomicInteger();
    private final Random random = new java.security.SecureRandom();

    private static final class Group {
        final int size;
        final CyclicBarrier barrier;
        final Object[] slots;

        Group(int size) {
            this.size = size;
            this.barrier = new CyclicBarrier(size);
            this.slots = new Object[size];
        }

        void await() {
            try {
                barrier.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
                throw new IllegalStateException("emulated NCCL: the other ranks did not arrive: " + e, e);
            }
        }

        Object[] gather(int rank, Object mine) {
            slots[rank] = mine;
            await();
            Object[] all = slots.clone();
            await();
            return all;
        }
    }

    private record Communicator(Group group, int rank) {
    }

    @Override
    public String unavailableReason() {
        return null;
    }

    @Override
    public int version() {
        return 23007;
    }

    @Override
    public synchronized byte[] uniqueId() {
        uniqueIds.incrementAndGet();
        byte[] id = new byte[UNIQUE_ID_BYTES];
        random.nextBytes(id);
        return id;
    }

    /** How many communicator groups (distinct unique ids) have been created so far. */
    public static int groups() {
        return GROUPS.size();
    }

    @Override
    public long initRank(int ranks, byte[] uniqueId, int rank) {
        if (uniqueId.length != UNIQUE_ID_BYTES || rank < 0 || rank >= ranks) {
            throw new IllegalArgumentException("emulated ncclCommInitRank: bad arguments " + ranks + ", " + rank);
        }
        Group g = GROUPS.computeIfAbsent(Base64.getEncoder().encodeToString(uniqueId), k -> new Group(ranks));
        if (g.size != ranks) {
            throw new IllegalArgumentException("emulated ncclCommInitRank: " + ranks + " ranks for a communicator of " + g.size);
        }
        g.gather(rank, null); // ncclCommInitRank returns when every rank has joined
        synchronized (COMMS) {
            COMMS.add(new Communicator(g, rank));
            return COMMS.size(); // handles start at 1 (0 is no communicator)
        }
    }

    private static Communicator comm(long handle) {
        synchronized (COMMS) {
            return COMMS.get((int) handle - 1);
        }
    }

    private static FloatPointer floats(long where, long n) {
        return new FloatPointer() {
            {
                this.address = where;
                this.limit = n;
                this.capacity = n;
            }
        };
    }

    private static float[] read(long address, long n) {
        float[] v = new float[Math.toIntExact(n)];
        floats(address, n).get(v);
        return v;
    }

    @Override
    public void allReduceSum(long handle, long[] addresses, long[] counts, int type) {
        if (type != FLOAT32) {
            throw new IllegalArgumentException("emulated NCCL sums float32 only");
        }
        Communicator c = comm(handle);
        List<float[]> mine = new ArrayList<>();
        for (int i = 0; i < addresses.length; i++) {
            mine.add(read(addresses[i], counts[i]));
            allReducedElements.addAndGet(counts[i]);
        }
        allReduces.incrementAndGet();
        Object[] all = c.group.gather(c.rank, mine);
        for (int i = 0; i < addresses.length; i++) {
            float[] total = new float[(int) counts[i]];
            for (Object o : all) {
                float[] v = ((List<?>) o).get(i) instanceof float[] f ? f : null;
                if (v.length != total.length) {
                    throw new IllegalStateException("emulated ncclAllReduce: rank " + c.rank + " has " + total.length + " elements, another " + v.length);
                }
                for (int j = 0; j < total.length; j++) {
                    total[j] += v[j];
                }
            }
            floats(addresses[i], counts[i]).put(total);
        }
    }

    @Override
    public void broadcast(long handle, long[] addresses, long[] counts, int type, int root) {
        Communicator c = comm(handle);
        List<float[]> mine = new ArrayList<>();
        for (int i = 0; i < addresses.length; i++) {
            mine.add(read(addresses[i], counts[i]));
        }
        broadcasts.incrementAndGet();
        Object[] all = c.group.gather(c.rank, mine);
        List<?> from = (List<?>) all[root];
        for (int i = 0; i < addresses.length; i++) {
            float[] v = (float[]) from.get(i);
            floats(addresses[i], counts[i]).put(Arrays.copyOf(v, (int) counts[i]));
        }
    }

    @Override
    public void synchronize() {
        // the emulation runs each operation to its end when called
    }

    @Override
    public String asyncError(long comm) {
        return null;
    }

    @Override
    public void abort(long comm) {
        comm(comm).group.barrier.reset();
    }

    @Override
    public void destroy(long comm) {
        destroyed.incrementAndGet();
    }
}
