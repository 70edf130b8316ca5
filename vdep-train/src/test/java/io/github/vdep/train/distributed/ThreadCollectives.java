package io.github.vdep.train.distributed;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Host collectives for ranks that are threads of one process (tests): what MPI does for the
 * NCCL collectives (the unique id, step statistics, barriers), with the same results. Each
 * operation gathers copies of every rank's data and combines them in rank order, so every rank
 * gets the same bits. A rank that does not arrive within 60 s fails the operation.
 */
public final class ThreadCollectives implements Collectives {
    /** The ranks' meeting point. */
    public static final class World {
        final int size;
        final CyclicBarrier barrier;
        final Object[] slots;

        public World(int size) {
            this.size = size;
            this.barrier = new CyclicBarrier(size);
            this.slots = new Object[size];
        }
    }

    private final World world;
    private final int rank;

    public ThreadCollectives(World world, int rank) {
        this.world = world;
        this.rank = rank;
    }

    private void await() {
        try {
            world.barrier.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
            throw new IllegalStateException("rank " + rank + ": the other ranks did not arrive: " + e, e);
        }
    }

    /** Every rank's {@code mine}, in rank order. */
    private Object[] gather(Object mine) {
        world.slots[rank] = mine;
        await();
        Object[] all = world.slots.clone();
        await();
        return all;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return world.size;
    }

    @Override
    public String description() {
        return "threads";
    }

    @Override
    public void sumInPlace(List<INDArray> arrays) {
        List<INDArray> copies = new ArrayList<>();
        arrays.forEach(a -> copies.add(a.dup()));
        Object[] all = gather(copies);
        for (int i = 0; i < arrays.size(); i++) {
            INDArray total = null;
            for (Object o : all) {
                INDArray a = ((List<?>) o).get(i) instanceof INDArray x ? x : null;
                total = total == null ? a.dup() : total.addi(a);
            }
            arrays.get(i).assign(total);
        }
    }

    @Override
    public void sum(double[] values) {
        Object[] all = gather(values.clone());
        java.util.Arrays.fill(values, 0);
        for (Object o : all) {
            double[] v = (double[]) o;
            for (int i = 0; i < values.length; i++) {
                values[i] += v[i];
            }
        }
    }

    @Override
    public void min(long[] values) {
        Object[] all = gather(values.clone());
        for (Object o : all) {
            long[] v = (long[]) o;
            for (int i = 0; i < values.length; i++) {
                values[i] = Math.min(values[i], v[i]);
            }
        }
    }

    @Override
    public void max(long[] values) {
        Object[] all = gather(values.clone());
        for (Object o : all) {
            long[] v = (long[]) o;
            for (int i = 0; i < values.length; i++) {
                values[i] = Math.max(values[i], v[i]);
            }
        }
    }

    @Override
    public void broadcast(List<INDArray> arrays, int root) {
        List<INDArray> copies = new ArrayList<>();
        arrays.forEach(a -> copies.add(a.dup()));
        Object[] all = gather(copies);
        List<?> from = (List<?>) all[root];
        for (int i = 0; i < arrays.size(); i++) {
            arrays.get(i).assign((INDArray) from.get(i));
        }
    }

    @Override
    public void barrier() {
        gather(null);
    }

    @Override
    public double seconds() {
        return 0;
    }

    @Override
    public void abort(int exitCode) {
        world.barrier.reset();
    }

    @Override
    public void close() {
        barrier();
    }
}
