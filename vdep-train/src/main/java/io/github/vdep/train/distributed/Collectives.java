package io.github.vdep.train.distributed;

import io.github.vdep.core.device.DeviceStorage;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The collective operations data-parallel training needs, over all ranks of the job. Every rank
 * must make the same calls in the same order (they are collective). {@link SingleProcess} is the
 * one-rank implementation (every operation the identity); {@link MpiCollectives} runs them over
 * MPI on host memory; {@link NcclCollectives} sums and broadcasts device memory (a model on a
 * GPU) with NCCL and leaves the rest to MPI. {@link Launch#connect} picks one; see docs/distributed.md.
 */
public interface Collectives extends AutoCloseable {
    /** This process's rank, 0 to {@code size() - 1}. */
    int rank();

    /** The number of ranks. */
    int size();

    /** How the job was launched and over what, for logs ("single process", "mpirun, Open MPI v4.1.4"). */
    String description();

    /** Sums the arrays element-wise over the ranks, in place (all float or double, whole, row-major). */
    void sumInPlace(List<INDArray> arrays);

    /** Sums the values over the ranks, in place. */
    void sum(double[] values);

    /** The element-wise minimum over the ranks, in place. */
    void min(long[] values);

    /** The element-wise maximum over the ranks, in place. */
    void max(long[] values);

    /**
     * Sums device memory over the ranks, in place: the gradients of a model on this rank's GPU
     * (dense, row-major, float32). Only collectives for that device can (NCCL for {@code cuda});
     * the others fail in one line unless {@code buffers} is empty.
     */
    default void sumOnDevice(List<DeviceStorage> buffers) {
        if (!buffers.isEmpty()) {
            throw hostOnly(buffers.get(0));
        }
    }

    /** Copies rank {@code root}'s device buffers into every rank's (the initial weights of a model on a GPU); as {@link #sumOnDevice}. */
    default void broadcastOnDevice(List<DeviceStorage> buffers, int root) {
        if (!buffers.isEmpty()) {
            throw hostOnly(buffers.get(0));
        }
    }

    private DistributedException hostOnly(DeviceStorage s) {
        return new DistributedException("rank " + rank() + ": the collectives (" + description() + ") work on host memory, not on " + s.device()
                + ": a model on a GPU needs NCCL (--ddp-backend nccl, the default with --device cuda)");
    }

    /** Copies rank {@code root}'s arrays into every rank's (same shapes and types everywhere). */
    void broadcast(List<INDArray> arrays, int root);

    /** Waits until every rank has arrived. */
    void barrier();

    /** Seconds spent in collective operations so far (waiting for slower ranks included). */
    double seconds();

    /** Ends the whole job after a failure on this rank (the other ranks would wait forever). */
    void abort(int exitCode);

    /** Leaves the job cleanly (every rank calls it at the end). */
    @Override
    void close();
}
